//! The one place Lectern configures the AWS SDKs: every client (DynamoDB in `lectern-web`, S3 in
//! `lectern-files`, SQS in the payments function, moto's clients in the tests) gets its HTTP client
//! from here.
//!
//! The SDKs' default HTTPS client trusts the platform's roots, and on Linux that means reading
//! `/etc/ssl/certs/ca-certificates.crt` and every file of `/etc/ssl/certs` and parsing them while
//! the first client is built: with the DynamoDB settings that doubled a function's init CPU
//! (docs/performance.md, "Why init is over budget"). This client is the same one (hyper and rustls on
//! aws-lc, the SDK's own `aws-smithy-http-client`), with a trust store that holds only the Amazon
//! Trust Services roots compiled into the binary ([`roots`]), so nothing is read from disk for TLS,
//! at start-up or at the first request. The SDK crates are built without `default-https-client`, so
//! a client built without this one fails when it is built instead of scanning the store.
//!
//! Emulators (moto, the local S3 endpoint) are plain `http://` and need no roots. An `https://`
//! endpoint whose certificate does not chain to an Amazon root is refused.

pub mod roots;
pub mod secrets;

use std::sync::OnceLock;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The trust store of every AWS client: the Amazon roots, and not the platform's.
pub fn trust_store() -> TrustStore {
    roots::AMAZON_ROOTS.iter().fold(
        TrustStore::empty().with_native_roots(false),
        |store, pem| store.with_pem_certificate(pem.as_bytes()),
    )
}

/// The HTTP client of every AWS client in the process: one, so that they share its connection
/// pools. Building it reads nothing; the SDK builds its TLS configuration from [`trust_store`] when a
/// client is built (the five roots are parsed then, from memory).
pub fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let context = TlsContext::builder()
                .with_trust_store(trust_store())
                .build()
                .expect("a TLS context with a trust store is valid");
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::rustls(CryptoMode::AwsLc))
                .tls_context(context)
                .build_https()
        })
        .clone()
}

/// The SDK configuration from the environment (region, credentials: in Lambda, its variables), with
/// [`http_client`]; `endpoint` points every client built from it elsewhere (an emulator). Makes no
/// network call. The environment is read once per process: a function that builds several clients
/// (DynamoDB and SQS, DynamoDB and S3) shares one configuration, its credentials cache included.
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    static BASE: tokio::sync::OnceCell<SdkConfig> = tokio::sync::OnceCell::const_new();
    let base = BASE
        .get_or_init(|| loader(|name| std::env::var(name).ok()).load())
        .await;
    match endpoint {
        Some(endpoint) => base.to_builder().endpoint_url(endpoint).build(),
        None => base.clone(),
    }
}

/// The configuration loader for an environment (`var` reads one variable).
///
/// Lambda puts the function's region and its role's credentials in the environment
/// (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and those are
/// the first places the SDK's default chains look. Building the chains costs more than what they
/// find: the credentials chain builds an STS client for web identity (its endpoint rules parsed from
/// JSON, its HTTPS connector validated) and an instance-metadata client, and the region chain another
/// metadata client. Where the variables are set, the loader is given them directly and builds no
/// chain; elsewhere (a laptop with profiles or SSO) the default chains run as usual.
fn loader(var: impl Fn(&str) -> Option<String>) -> ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
    if let Some(region) = var("AWS_REGION").filter(|r| !r.is_empty()) {
        loader = loader.region(Region::new(region));
    }
    let has = |name| var(name).is_some_and(|v| !v.is_empty());
    if has("AWS_ACCESS_KEY_ID") && has("AWS_SECRET_ACCESS_KEY") {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::Duration;

    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use sha2::{Digest, Sha256};

    use super::*;

    /// The SHA-256 fingerprints <https://www.amazontrust.com/repository/> publishes, in the order of
    /// [`roots::AMAZON_ROOTS`].
    const PUBLISHED_FINGERPRINTS: [&str; 5] = [
        "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
        "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
        "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
        "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
        "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
    ];

    #[test]
    fn every_root_is_one_certificate_with_its_published_fingerprint() {
        for (pem, fingerprint) in roots::AMAZON_ROOTS.iter().zip(PUBLISHED_FINGERPRINTS) {
            let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("valid PEM");
            assert_eq!(certs.len(), 1);
            let digest: String = Sha256::digest(certs[0].as_ref())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(digest, fingerprint);
        }
    }

    #[test]
    fn the_roots_make_a_rustls_store_of_five_anchors() {
        // What the SDK does with the trust store's PEMs when it builds a connector (it panics on
        // one it cannot parse or add).
        let mut store = rustls::RootCertStore::empty();
        for pem in roots::AMAZON_ROOTS {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                store.add(cert.expect("valid PEM")).expect("a usable root");
            }
        }
        assert_eq!(store.len(), 5);
    }

    #[test]
    fn the_trust_store_holds_the_five_roots_and_not_the_platform() {
        // `TrustStore` has no accessors; its `Debug` shows both fields.
        let debug = format!("{:?}", trust_store());
        assert!(debug.contains("enable_native_roots: false"), "{debug}");
        assert_eq!(debug.matches("CertificatePEM(").count(), 5, "{debug}");
    }

    #[tokio::test]
    async fn the_config_carries_the_client_and_the_endpoint() {
        let config = sdk_config(Some("http://127.0.0.1:9")).await;
        assert!(config.http_client().is_some());
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:9"));
        assert!(sdk_config(None).await.endpoint_url().is_none());
        // One environment read per process: the clients share the credentials provider.
        let other = sdk_config(Some("http://127.0.0.1:10")).await;
        assert_eq!(other.endpoint_url(), Some("http://127.0.0.1:10"));
        assert_eq!(
            format!("{:?}", other.credentials_provider()),
            format!("{:?}", config.credentials_provider())
        );
    }

    fn environment(
        vars: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    /// Lambda's variables are used as they are: the region, and the environment credentials
    /// provider instead of the default chain.
    #[tokio::test]
    async fn lambda_variables_skip_the_default_chains() {
        let config = loader(environment(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ]))
        .load()
        .await;
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        let provider = format!("{:?}", config.credentials_provider());
        assert!(
            provider.contains("EnvironmentVariableCredentialsProvider"),
            "{provider}"
        );
        assert!(!provider.contains("DefaultCredentialsChain"), "{provider}");
    }

    /// Without credentials in the environment (a laptop with profiles or SSO) the default chain
    /// looks for them; an access key without its secret is not taken for credentials either.
    #[tokio::test]
    async fn without_both_keys_the_default_chain_stays() {
        for vars in [
            &[("AWS_REGION", "eu-west-1")][..],
            &[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ][..],
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", ""),
            ][..],
        ] {
            let config = loader(environment(vars)).load().await;
            let provider = format!("{:?}", config.credentials_provider());
            assert!(
                provider.contains("DefaultCredentialsChain"),
                "{vars:?}: {provider}"
            );
        }
    }

    /// Without `default-https-client` in the SDK crates, this proves the client speaks TLS to an
    /// `https://` endpoint: the server reads a TLS handshake record (a ClientHello). The handshake
    /// then fails, as it must: nothing here has an Amazon certificate.
    #[tokio::test]
    async fn an_https_endpoint_gets_a_tls_client_hello() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut header = [0u8; 6];
            socket.read_exact(&mut header).unwrap();
            header
        });
        let config = aws_sdk_sqs::config::Builder::from(
            &sdk_config(Some(&format!("https://127.0.0.1:{port}"))).await,
        )
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "x", "y", None, None, "test",
        ))
        .retry_config(aws_sdk_sqs::config::retry::RetryConfig::disabled())
        .build();
        let client = aws_sdk_sqs::Client::from_conf(config);
        assert!(client.list_queues().send().await.is_err());
        let header = server.join().unwrap();
        // A handshake record (22), TLS major version 3, then a ClientHello (1).
        assert_eq!((header[0], header[1], header[5]), (22, 3, 1));
    }
}

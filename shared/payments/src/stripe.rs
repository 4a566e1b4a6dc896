//! The Stripe provider: PaymentIntents and refunds over Stripe's REST API (form-encoded requests,
//! JSON answers), with a pinned API version, idempotency keys on every POST, short timeouts, and
//! Stripe's errors sorted into "refused" and "retry later".

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::de::DeserializeOwned;

use crate::provider::{
    CreateIntent, CreateRefund, Intent, PaymentProvider, ProviderError, Refund,
    check_idempotency_key, is_object_id,
};
use crate::wire::{ErrorBody, PaymentIntentObject, RefundObject};

/// The Stripe API version every request pins (`Stripe-Version`), and that built events carry: the
/// shapes this crate reads are those of this version, whatever the account's default is.
pub const STRIPE_API_VERSION: &str = "2024-06-20";

/// Where Stripe's API lives.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";

/// How long to wait for a TCP connection to Stripe.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one whole request may take (connection, TLS, answer). Stripe answers in well under a
/// second; a Lambda behind API Gateway has 30 s in all, so a stuck call must fail early enough to
/// answer 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A pooled connection idle this long is dropped rather than reused: after a Lambda sandbox thaws,
/// an old connection is likely closed at Stripe's end.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Stripe's REST API as a [`PaymentProvider`]. Cheap to clone (the connection pool is shared);
/// build it once at cold start. Construction does no I/O.
///
/// HTTP is the hyper client and hyper-rustls connector that the AWS SDKs already link, so a
/// function that also talks to SQS or DynamoDB carries no second HTTP or TLS stack.
#[derive(Clone)]
pub struct StripeClient {
    http: HttpClient,
    base_url: Arc<str>,
    /// `Bearer {secret key}`, marked sensitive.
    authorization: HeaderValue,
    request_timeout: Duration,
}

impl fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeClient")
            .field("base_url", &self.base_url)
            .field("secret_key", &"<redacted>")
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

impl StripeClient {
    /// A client for `base_url` (default [`DEFAULT_BASE_URL`]) authenticating with `secret_key`
    /// (`sk_…` or a restricted `rk_…` key), with the default timeouts. Fails only on a key that
    /// cannot be sent in a header or a base URL that is not http(s).
    pub fn new(secret_key: String, base_url: Option<String>) -> anyhow::Result<StripeClient> {
        StripeClient::with_timeouts(secret_key, base_url, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    /// [`StripeClient::new`] with other timeouts (tests use short ones).
    pub fn with_timeouts(
        secret_key: String,
        base_url: Option<String>,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> anyhow::Result<StripeClient> {
        let base_url = base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = base_url.trim_end_matches('/');
        let parsed: Uri = base_url
            .parse()
            .with_context(|| format!("the Stripe base URL {base_url:?} is not a URL"))?;
        anyhow::ensure!(
            matches!(parsed.scheme_str(), Some("https" | "http")) && parsed.host().is_some(),
            "the Stripe base URL {base_url:?} is not an http(s) URL"
        );

        // The error of `from_str` does not include the value, so the key cannot leak through it.
        let mut authorization = HeaderValue::from_str(&format!("Bearer {secret_key}"))
            .context("the Stripe secret key has characters a header cannot carry")?;
        authorization.set_sensitive(true);

        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            // http only for a fake Stripe in tests and local runs; Stripe itself is https.
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .build(https);
        Ok(StripeClient {
            http,
            base_url: Arc::from(base_url),
            authorization,
            request_timeout,
        })
    }

    /// POSTs a form with an idempotency key, so that Stripe answers a retry with the first result.
    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        idempotency_key: &str,
        form: &[(String, String)],
    ) -> Result<T, ProviderError> {
        check_idempotency_key(idempotency_key)?;
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(Method::POST, path, Some(idempotency_key), body)
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
        body: String,
    ) -> Result<T, ProviderError> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_url))
            .header(AUTHORIZATION, self.authorization.clone())
            .header("stripe-version", STRIPE_API_VERSION)
            .header(
                USER_AGENT,
                concat!("lectern-payments/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(key) = idempotency_key {
            request = request
                .header("idempotency-key", key)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        // Paths are built from checked ids and keys, so this only fails on a bug; it is still a
        // refusal rather than a panic.
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ProviderError::invalid("invalid_request", e.to_string()))?;

        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| unavailable(e, format!("calling Stripe {path}")))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| unavailable(e, format!("reading Stripe's answer to {path}")))?
                .to_bytes();
            Ok::<_, ProviderError>((parts.status, parts.headers, body))
        };
        let (status, headers, body) = tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|elapsed| {
                unavailable(elapsed, format!("waiting for Stripe's answer to {path}"))
            })??;
        answer(status, &headers, &body, path)
    }
}

/// Sorts Stripe's answer: the object, a refusal, or a failure worth retrying.
fn answer<T: DeserializeOwned>(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
) -> Result<T, ProviderError> {
    let request_id = header_text(headers, "request-id");
    if status.is_success() {
        // A 2xx we cannot read is Stripe's or the network's fault; the POSTs are idempotent, so a
        // retry is safe and gets the same object.
        return serde_json::from_slice(body).map_err(|e| {
            unavailable(
                e,
                format!("Stripe answered {path} with a body that is not the expected object"),
            )
        });
    }

    let detail = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let retryable = status == StatusCode::TOO_MANY_REQUESTS
        || !status.is_client_error()
        // Stripe marks transient 4xx (such as a 409 for a request still running with the same
        // idempotency key) with `Stripe-Should-Retry: true`.
        || header_text(headers, "stripe-should-retry").as_deref() == Some("true");
    tracing::debug!(
        path,
        status = status.as_u16(),
        request_id = request_id.as_deref(),
        retryable,
        "Stripe refused a request"
    );
    if retryable {
        let what = detail
            .and_then(|d| d.message.or(d.code).or(d.kind))
            .unwrap_or_default();
        return Err(ProviderError::Unavailable(anyhow::anyhow!(
            "Stripe answered {path} with HTTP {status} (request {}): {what}",
            request_id.as_deref().unwrap_or("without id")
        )));
    }
    let (code, message) = match detail {
        Some(d) => {
            let message = match (d.message, d.decline_code) {
                (Some(message), _) => message,
                (None, Some(decline)) => format!("The card was declined ({decline})."),
                (None, None) => format!("Stripe refused the request with HTTP {status}"),
            };
            (d.code.or(d.kind), message)
        }
        None => (
            None,
            format!("Stripe refused the request with HTTP {status}"),
        ),
    };
    Err(ProviderError::Rejected {
        status: status.as_u16(),
        code,
        message,
    })
}

#[async_trait]
impl PaymentProvider for StripeClient {
    fn name(&self) -> &'static str {
        "stripe"
    }

    #[tracing::instrument(skip_all, fields(amount = request.amount, currency = %request.currency))]
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, ProviderError> {
        let mut form = vec![
            ("amount".to_owned(), request.amount.to_string()),
            ("currency".to_owned(), request.currency.to_ascii_lowercase()),
            (
                "automatic_payment_methods[enabled]".to_owned(),
                "true".to_owned(),
            ),
        ];
        if let Some(description) = &request.description {
            form.push(("description".to_owned(), description.clone()));
        }
        push_metadata(&mut form, &request.metadata);
        let object: PaymentIntentObject = self
            .post("/v1/payment_intents", &request.idempotency_key, &form)
            .await?;
        Ok(object.into())
    }

    #[tracing::instrument(skip(self))]
    async fn retrieve_intent(&self, id: &str) -> Result<Intent, ProviderError> {
        // No such object can exist, and the id must not reshape the URL path.
        if !is_object_id(id) {
            return Err(ProviderError::missing("payment_intent", id));
        }
        let path = format!("/v1/payment_intents/{id}");
        let object: PaymentIntentObject =
            self.send(Method::GET, &path, None, String::new()).await?;
        Ok(object.into())
    }

    #[tracing::instrument(skip_all, fields(payment_intent = %request.payment_intent, amount = request.amount))]
    async fn refund(&self, request: &CreateRefund) -> Result<Refund, ProviderError> {
        let mut form = vec![("payment_intent".to_owned(), request.payment_intent.clone())];
        if let Some(amount) = request.amount {
            form.push(("amount".to_owned(), amount.to_string()));
        }
        push_metadata(&mut form, &request.metadata);
        let object: RefundObject = self
            .post("/v1/refunds", &request.idempotency_key, &form)
            .await?;
        Ok(object.into())
    }
}

/// Stripe's form encoding of a map: `metadata[key]=value`.
fn push_metadata(
    form: &mut Vec<(String, String)>,
    metadata: &std::collections::BTreeMap<String, String>,
) {
    form.extend(
        metadata
            .iter()
            .map(|(key, value)| (format!("metadata[{key}]"), value.clone())),
    );
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn unavailable(
    error: impl std::error::Error + Send + Sync + 'static,
    context: String,
) -> ProviderError {
    ProviderError::Unavailable(anyhow::Error::new(error).context(context))
}

/// rustls on aws-lc-rs (the crypto provider the AWS SDKs already link, so a function carries one
/// crypto library, not ring as well) trusting Mozilla's roots compiled into the binary (no scan of
/// the system's certificate store at cold start). No ALPN: the connector speaks HTTP/1.1 only.
fn tls_config() -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("configuring TLS for the Stripe client")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret_key() {
        let client = StripeClient::new("sk_test_supersecret".into(), None).unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(shown.contains("api.stripe.com"), "{shown}");
    }

    #[test]
    fn a_key_with_a_newline_is_refused_without_echoing_it() {
        let error = StripeClient::new("sk_test_abc\nX".into(), None).unwrap_err();
        assert!(!format!("{error:#}").contains("sk_test_abc"), "{error:#}");
    }

    #[test]
    fn a_base_url_must_be_http() {
        assert!(StripeClient::new("sk_test_1".into(), Some("ftp://example.com".into())).is_err());
        assert!(StripeClient::new("sk_test_1".into(), Some("not a url".into())).is_err());
        assert!(StripeClient::new("sk_test_1".into(), Some("http://127.0.0.1:1/".into())).is_ok());
    }
}

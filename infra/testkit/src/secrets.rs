//! A fake of AWS Secrets Manager on loopback: `GetSecretValue` over the AWS JSON 1.1 protocol, for the
//! tests of `lectern_aws::secrets` and the bench's cold starts with the template's settings.
//!
//! It checks what it receives as Secrets Manager would before answering: the operation
//! (`X-Amz-Target`), the JSON content type, a SigV4 `Authorization` whose credential scope names the
//! `secretsmanager` service, and a `SecretId`; and it records every request it accepted.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A request the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRead {
    pub secret_id: String,
    /// The access key id of the request's signature.
    pub access_key: String,
    /// The region of the signature's credential scope.
    pub region: String,
}

/// A running fake; it stops when dropped.
pub struct FakeSecretsManager {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    reads: Arc<Mutex<Vec<SecretRead>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSecretsManager {
    fn drop(&mut self) {
        self._server.abort();
    }
}

#[derive(Clone)]
struct Fake {
    secrets: Arc<BTreeMap<String, String>>,
    reads: Arc<Mutex<Vec<SecretRead>>>,
}

impl FakeSecretsManager {
    /// Serves `secrets` (ARN or name → string) on a free loopback port, on the current runtime.
    pub async fn start(secrets: BTreeMap<String, String>) -> anyhow::Result<FakeSecretsManager> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let reads = Arc::new(Mutex::new(Vec::new()));
        let fake = Fake {
            secrets: Arc::new(secrets),
            reads: reads.clone(),
        };
        let app = Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let fake = fake.clone();
            async move { fake.answer(&headers, &body) }
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeSecretsManager {
            endpoint,
            reads,
            _server: server,
        })
    }

    /// The requests accepted so far, in order.
    pub fn reads(&self) -> Vec<SecretRead> {
        self.reads.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// An error as the AWS JSON protocols answer it.
fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
        json!({"__type": kind, "message": message}).to_string(),
    )
        .into_response()
}

impl Fake {
    fn answer(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        };
        if text("x-amz-target") != "secretsmanager.GetSecretValue" {
            return error(
                StatusCode::BAD_REQUEST,
                "UnknownOperationException",
                "only GetSecretValue is served",
            );
        }
        if text("content-type") != "application/x-amz-json-1.1" {
            return error(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                "expected application/x-amz-json-1.1",
            );
        }
        // `AWS4-HMAC-SHA256 Credential=AKID/20261203/eu-west-1/secretsmanager/aws4_request, ...`
        let scope: Vec<&str> = text("authorization")
            .strip_prefix("AWS4-HMAC-SHA256 Credential=")
            .and_then(|rest| rest.split(',').next())
            .map(|credential| credential.split('/').collect())
            .unwrap_or_default();
        let signed = scope.len() == 5
            && scope[3] == "secretsmanager"
            && scope[4] == "aws4_request"
            && text("authorization").contains("Signature=");
        if !signed {
            return error(
                StatusCode::FORBIDDEN,
                "IncompleteSignatureException",
                "the request is not signed for secretsmanager with SigV4",
            );
        }
        let secret_id = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|b| b["SecretId"].as_str().map(str::to_owned));
        let Some(secret_id) = secret_id else {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterException",
                "SecretId is required",
            );
        };
        let Some(value) = self.secrets.get(&secret_id) else {
            return error(
                StatusCode::BAD_REQUEST,
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
            );
        };
        if let Ok(mut reads) = self.reads.lock() {
            reads.push(SecretRead {
                secret_id: secret_id.clone(),
                access_key: scope[0].to_owned(),
                region: scope[2].to_owned(),
            });
        }
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
            json!({
                "ARN": secret_id,
                "Name": secret_id.rsplit(':').next().unwrap_or(&secret_id),
                "SecretString": value,
                "VersionId": "00000000-0000-4000-8000-000000000000",
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": 1.7e9,
            })
            .to_string(),
        )
            .into_response()
    }
}

//! Feeding real API Gateway events to a router as Lambda would: parsed by `lambda_http`'s own parser,
//! with a Lambda context carrying an invocation request id.

use axum::body::Body;
use http_body_util::BodyExt;
use lambda_http::Context;
use tower::ServiceExt;

/// A state on a fresh SQLite store and a fresh key in a temporary folder, configured otherwise from
/// the environment as a function's cold start would be.
pub fn sqlite_state() -> (tempfile::TempDir, lectern_web::AppState) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut config = lectern_web::Config::from_env().expect("the test environment's configuration");
    config.keys = lectern_web::state::KeySource::LocalFile(dir.path().join("jwt.pem"));
    let table =
        lectern_store::sqlite::SqliteTable::open(&dir.path().join("t.db")).expect("a SQLite store");
    let state =
        lectern_web::AppState::with_table(&config, std::sync::Arc::new(table)).expect("a state");
    (dir, state)
}

/// The request id the Lambda context carries in [`send_event`].
pub const LAMBDA_REQUEST_ID: &str = "lambda-request-1";

/// Sends one event (the JSON of an API Gateway v2 request) and returns status, headers and JSON body.
pub async fn send_event(
    router: &axum::Router,
    event: &str,
) -> (u16, http::HeaderMap, serde_json::Value) {
    let request = lambda_http::request::from_str(event).expect("a valid API Gateway event");
    let (parts, body) = request.into_parts();
    let mut request = http::Request::from_parts(parts, Body::from(body.to_vec()));
    let mut context = Context::default();
    context.request_id = LAMBDA_REQUEST_ID.into();
    request.extensions_mut().insert(context);
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, headers, body)
}

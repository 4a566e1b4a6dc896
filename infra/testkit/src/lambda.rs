//! Feeding real API Gateway events to a router as Lambda would: parsed by `lambda_http`'s own parser,
//! with a Lambda context carrying an invocation request id; and the state, configuration and access
//! tokens such tests give a function.

use axum::body::Body;
use http_body_util::BodyExt;
use lambda_http::Context;
use lectern_domain::UserId;
use lectern_domain::user::UserRole;
use tower::ServiceExt;

/// A state on a fresh SQLite store and a fresh key in a temporary folder, configured otherwise from
/// the environment as a function's cold start would be.
pub fn sqlite_state() -> (tempfile::TempDir, lectern_web::AppState) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = sqlite_config(dir.path());
    let table =
        lectern_store::sqlite::SqliteTable::open(&dir.path().join("t.db")).expect("a SQLite store");
    let state =
        lectern_web::AppState::with_table(&config, std::sync::Arc::new(table)).expect("a state");
    (dir, state)
}

/// The environment's configuration with everything local kept in `dir`: the signing key, the
/// SQLite store (`t.db`, where local queues go too) and the data folder (generated secrets).
pub fn sqlite_config(dir: &std::path::Path) -> lectern_web::Config {
    let mut config = lectern_web::Config::from_env().expect("the test environment's configuration");
    config.keys = lectern_web::state::KeySource::LocalFile(dir.join("jwt.pem"));
    config.data_dir = dir.to_path_buf();
    config.store = lectern_web::state::StoreConfig::Sqlite {
        path: dir.join("t.db"),
    };
    config
}

/// An access token the state's issuer signs for a new user of the default tenant, and the user's id.
pub fn access_token(state: &lectern_web::AppState, role: UserRole) -> (UserId, String) {
    let user = UserId::new();
    let issuer = state.issuer.as_ref().expect("a state that signs tokens");
    let (token, _) = issuer
        .issue(user, state.tenants.default_tenant(), role)
        .expect("a signed token");
    (user, token)
}

/// The event (the JSON of an API Gateway v2 request) with this bearer token.
pub fn with_bearer(event: &str, token: &str) -> String {
    let mut event: serde_json::Value = serde_json::from_str(event).expect("an event");
    event["headers"]["authorization"] = format!("Bearer {token}").into();
    event.to_string()
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

//! Router tests: real API Gateway v2 events from `events/` go through `lambda_http`'s own parser into
//! the auth function's router, as in Lambda.

use lectern_testkit::lambda::{LAMBDA_REQUEST_ID, send_event as send, sqlite_state};

async fn router() -> (tempfile::TempDir, axum::Router) {
    let (dir, state) = sqlite_state();
    (dir, auth_function::router(state).unwrap())
}

#[tokio::test]
async fn a_register_then_signin_event_pair_creates_and_signs_in_the_user() {
    let (_dir, router) = router().await;
    let (status, headers, body) =
        send(&router, include_str!("../../../events/auth-register.json")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["username"], "ada");
    assert_eq!(
        headers["x-request-id"], LAMBDA_REQUEST_ID,
        "the Lambda request id is the request id"
    );
    let (status, _, body) = send(&router, include_str!("../../../events/auth-signin.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokenType"], "Bearer");
}

#[tokio::test]
async fn an_anonymous_check_event_is_a_401_carrying_the_lambda_request_id() {
    let (_dir, router) = router().await;
    let (status, _, body) = send(
        &router,
        include_str!("../../../events/auth-check-anonymous.json"),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["requestId"], LAMBDA_REQUEST_ID);
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn the_jwks_event_returns_the_key_set() {
    let (_dir, router) = router().await;
    let (status, headers, body) =
        send(&router, include_str!("../../../events/auth-jwks.json")).await;
    assert_eq!(status, 200);
    assert_eq!(body["keys"][0]["crv"], "Ed25519");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
}

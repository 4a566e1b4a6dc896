//! Router tests: real API Gateway v2 events from `events/` go through `lambda_http`'s own parser into
//! the users function's router, as in Lambda.

use lectern_testkit::lambda::{send_event as send, sqlite_state};

async fn router() -> (tempfile::TempDir, axum::Router) {
    let (dir, state) = sqlite_state();
    (dir, users_function::router(state))
}

#[tokio::test]
async fn a_list_users_event_with_a_forged_token_is_a_401() {
    let (_dir, router) = router().await;
    let (status, _, body) = send(&router, include_str!("../../../events/users-list.json")).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn a_check_username_event_answers_availability() {
    let (_dir, router) = router().await;
    let (status, _, body) = send(
        &router,
        include_str!("../../../events/users-check-username.json"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["available"], true);
}

//! Router tests: real API Gateway v2 events from `events/` go through `lambda_http`'s own parser into
//! the courses function's router, as in Lambda.

use lectern_testkit::lambda::{send_event as send, sqlite_state};

async fn router() -> (tempfile::TempDir, axum::Router) {
    let (dir, state) = sqlite_state();
    (dir, courses_function::router(state))
}

#[tokio::test]
async fn a_get_event_for_an_unknown_course_is_a_json_404() {
    let (_dir, router) = router().await;
    let (status, _, body) = send(&router, include_str!("../../../events/courses-get.json")).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn a_catalog_event_with_filters_lists_an_empty_catalog() {
    let (_dir, router) = router().await;
    let (status, _, body) = send(&router, include_str!("../../../events/courses-list.json")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], serde_json::json!([]));
    assert_eq!(body["pagination"]["limit"], 5);
    assert_eq!(body["pagination"]["totalCount"], 0);
}

//! Router tests: real API Gateway v2 events from `events/` go through `lambda_http`'s own parser into
//! the files function's router, as in Lambda.

use lectern_testkit::lambda::{send_event as send, sqlite_state};

#[tokio::test]
async fn a_categories_event_lists_every_purpose_with_its_limits() {
    let (_dir, state) = sqlite_state();
    let router = files_function::router(state);
    let (status, _, body) = send(
        &router,
        include_str!("../../../events/files-categories.json"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let categories = body["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 5);
    assert_eq!(categories[0]["purpose"], "avatar");
}

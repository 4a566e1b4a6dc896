//! Router tests: real API Gateway v2 events from `events/` go through `lambda_http`'s own parser into
//! the auth function's router, as in Lambda.

use std::sync::Arc;

use lectern_testkit::lambda::send_event as send;

async fn router() -> (tempfile::TempDir, axum::Router) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = lectern_web::Config::from_env().unwrap();
    config.keys = lectern_web::state::KeySource::LocalFile(dir.path().join("jwt.pem"));
    let table = lectern_store::sqlite::SqliteTable::open(&dir.path().join("t.db")).unwrap();
    let state = lectern_web::AppState::with_table(&config, Arc::new(table)).unwrap();
    (dir, courses_function::router(state))
}

#[tokio::test]
async fn a_get_event_for_an_unknown_course_is_a_json_404() {
    let (_dir, router) = router().await;
    let (status, _, body) = send(&router, include_str!("../../../events/courses-get.json")).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
}

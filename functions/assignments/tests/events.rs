//! Router tests: real API Gateway v2 events from `events/` go through `lambda_http`'s own parser into
//! the assignments function's router, as in Lambda.

use lectern_domain::user::UserRole;
use lectern_testkit::lambda::{
    LAMBDA_REQUEST_ID, access_token, send_event as send, sqlite_state, with_bearer,
};

const COURSE_ASSIGNMENTS: &str = include_str!("../../../events/assignments-course.json");
const MY_ASSIGNMENTS: &str = include_str!("../../../events/assignments-mine.json");

#[tokio::test]
async fn a_course_assignments_event_with_a_forged_token_is_a_401() {
    // GIVEN the function WHEN the sample event (its token signed by no one) arrives
    let (_dir, state) = sqlite_state();
    let router = assignments_function::router(state);
    let (status, _, body) = send(&router, COURSE_ASSIGNMENTS).await;

    // THEN it is refused in the one error shape, with the invocation's request id
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthorized");
    assert_eq!(body["requestId"], LAMBDA_REQUEST_ID);
}

#[tokio::test]
async fn a_course_assignments_event_for_a_course_that_does_not_exist_is_a_json_404() {
    // GIVEN a student's valid token in the sample event, whose course the store does not hold
    let (_dir, state) = sqlite_state();
    let (_, token) = access_token(&state, UserRole::Student);
    let router = assignments_function::router(state);

    // WHEN it arrives
    let (status, _, body) = send(&router, &with_bearer(COURSE_ASSIGNMENTS, &token)).await;

    // THEN the path's course id was read and named no course
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["error"], "course not found");
}

#[tokio::test]
async fn a_my_assignments_event_lists_nothing_for_a_student_enrolled_nowhere() {
    // GIVEN a student enrolled in no course
    let (_dir, state) = sqlite_state();
    let (_, token) = access_token(&state, UserRole::Student);
    let router = assignments_function::router(state);

    // WHEN the sample event arrives with their token
    let (status, _, body) = send(&router, &with_bearer(MY_ASSIGNMENTS, &token)).await;

    // THEN the page is empty, and the last one
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], serde_json::json!([]));
    assert!(body.get("nextCursor").is_none(), "{body}");
}

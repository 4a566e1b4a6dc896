//! The assignments route group: instructors set assignments and grade them; enrolled students start,
//! submit (with confirmed files) and read their grades.
//!
//! Contract: seed 002 `AssignmentDetails`, `AssignmentSubmission`, `SubmissionStatus`,
//! `POST /api/assignments/submit`, `GET /api/courses/[courseId]/assignments`, `GET /api/grades/[userId]`;
//! issue "Assignments, submissions, grading" (§Assignments, §Submissions, §Grading, §Authorization);
//! under `/api/v1`.
//!
//! # Layout
//! - [`access`]: who the caller is to a course or assignment (manager, student, neither → 403/404).
//! - [`views`]: the response shapes.
//! - [`assignments`]: create, replace, delete; a course's assignments, the caller's assignments,
//!   assignment details.
//! - [`submissions`]: start, submit (attempts, lateness, files), an assignment's submissions.
//! - [`grades`]: grade and regrade, a course's grade log, a student's grade report.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod access;
pub mod assignments;
pub mod grades;
pub mod submissions;
pub mod views;

use axum::Router;
use lectern_web::AppState;

lectern_web::route_group! {
    "/api/v1/courses/{courseId}/assignments" => {
        POST => assignments::create_assignment,
        GET => assignments::course_assignments,
    },
    "/api/v1/assignments" => { GET => assignments::my_assignments },
    "/api/v1/assignments/{assignmentId}" => {
        GET => assignments::get_assignment,
        PUT => assignments::replace_assignment,
        DELETE => assignments::delete_assignment,
    },
    "/api/v1/assignments/{assignmentId}/start" => { POST => submissions::start },
    "/api/v1/assignments/submit" => { POST => submissions::submit },
    "/api/v1/assignments/{assignmentId}/submissions" => { GET => submissions::list_submissions },
    "/api/v1/assignments/{assignmentId}/grade" => { POST => grades::grade },
    "/api/v1/courses/{courseId}/grade-log" => { GET => grades::grade_log },
    "/api/v1/grades/{userId}" => { GET => grades::report },
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let routes = lectern_web::idempotency::layer(plain_routes(), &state);
    lectern_web::finish(lectern_web::limits::layer(routes, &state).with_state(state))
}

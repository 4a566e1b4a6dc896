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
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this group, described for OpenAPI.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            assignments::create_assignment,
            assignments::course_assignments
        ))
        .routes(routes!(assignments::my_assignments))
        .routes(routes!(
            assignments::get_assignment,
            assignments::replace_assignment,
            assignments::delete_assignment
        ))
        .routes(routes!(submissions::start))
        .routes(routes!(submissions::submit))
        .routes(routes!(submissions::list_submissions))
        .routes(routes!(grades::grade))
        .routes(routes!(grades::grade_log))
        .routes(routes!(grades::report))
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let (routes, _api) = routes().split_for_parts();
    lectern_web::finish(routes.with_state(state))
}

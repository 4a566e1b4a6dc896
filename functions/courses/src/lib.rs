//! The courses route group: instructors build courses, publish them, and students read published ones.
//!
//! Contract: seed 002 "COURSES" (`CourseDetails`, `CourseCategory`, `DifficultyLevel`), under
//! `/api/v1`. This slice covers a course's own lifecycle (create, read, update, publish, delete); the
//! catalog list, lessons, prerequisites, enrollment, ratings and quizzes follow.
//!
//! # Layout
//! - [`handlers`]: create, read, update, publish, delete.
//! - [`quizzes`]: quizzes of a course: create, read, delete; attempts: start, submit (graded); results.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod handlers;
pub mod quizzes;

use axum::Router;
use lectern_web::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this group, described for OpenAPI.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_course))
        .routes(routes!(
            handlers::get_course,
            handlers::update_course,
            handlers::delete_course
        ))
        .routes(routes!(handlers::publish_course))
        .merge(quizzes::routes())
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let (routes, _api) = routes().split_for_parts();
    lectern_web::finish(routes.with_state(state))
}

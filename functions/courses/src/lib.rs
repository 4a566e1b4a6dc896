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

pub mod details;
pub mod enrollment;
pub mod handlers;
pub mod lessons;
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
            details::get_course,
            handlers::update_course,
            handlers::delete_course
        ))
        .routes(routes!(handlers::publish_course))
        .routes(routes!(details::statistics))
        .routes(routes!(enrollment::enroll, enrollment::unenroll))
        .routes(routes!(enrollment::complete_lesson))
        .routes(routes!(enrollment::progress))
        .routes(routes!(enrollment::students))
        .routes(routes!(lessons::create_lesson, lessons::list_lessons))
        .routes(routes!(
            lessons::get_lesson,
            lessons::update_lesson,
            lessons::delete_lesson
        ))
        .routes(routes!(lessons::reorder_lessons))
        .merge(quizzes::routes())
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let (routes, _api) = routes().split_for_parts();
    lectern_web::finish(routes.with_state(state))
}

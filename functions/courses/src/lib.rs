//! The courses route group: instructors build courses, publish them, and students read published ones.
//!
//! Contract: seed 002 "COURSES" (`CourseDetails`, `CourseProgress`, `CourseCategory`,
//! `DifficultyLevel`), seed 003 (course duplicate / statistics / students), issue "Courses"; under
//! `/api/v1`.
//!
//! # Layout
//! - [`handlers`]: create, update, publish, delete (cascading, resumable); who may see and manage.
//! - [`catalog`]: the catalog list (filters, search, sort, pages and cursors).
//! - [`duplicate`]: copying a course into a new draft.
//! - [`details`]: the course page (seed `CourseDetails`) and statistics.
//! - [`lessons`]: lessons, their content and their order.
//! - [`enrollment`]: enroll, unenroll, lesson completion, progress, a course's students.
//! - [`prerequisites`]: prerequisite links, cycles refused.
//! - [`ratings`]: ratings and reviews.
//! - [`quizzes`]: quizzes of a course: create, read, delete; attempts: start, submit (graded); results.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod catalog;
pub mod details;
pub mod duplicate;
pub mod enrollment;
pub mod handlers;
pub mod lessons;
pub mod prerequisites;
pub mod quizzes;
pub mod ratings;

use axum::Router;
use lectern_web::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this group, described for OpenAPI.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_course, catalog::list_courses))
        .routes(routes!(
            details::get_course,
            handlers::update_course,
            handlers::delete_course
        ))
        .routes(routes!(handlers::publish_course))
        .routes(routes!(details::statistics))
        .routes(routes!(duplicate::duplicate_course))
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
        .routes(routes!(ratings::rate, ratings::list_ratings))
        .routes(routes!(prerequisites::add_prerequisite))
        .routes(routes!(prerequisites::remove_prerequisite))
        .merge(quizzes::routes())
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let (routes, _api) = routes().split_for_parts();
    lectern_web::finish(routes.with_state(state))
}

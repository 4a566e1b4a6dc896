//! The courses route group: instructors build courses, publish them, and students read published ones.
//!
//! Contract: seed 002 "COURSES" (`CourseDetails`, `CourseProgress`, `CourseCategory`,
//! `DifficultyLevel`), seed 003 (course duplicate / statistics / students), issue "Courses"; under
//! `/api/v1`.
//!
//! # Layout
//! - [`access`]: who may see a course (published, archived for its students, drafts for its
//!   managers; 404 otherwise) and who may manage it; the visible course and course page.
//! - [`views`]: the response shapes several resources show (course, instructor, lesson, rating,
//!   enrollment, linked course).
//! - [`courses`]: create, update, publish, archive and unarchive, delete (cascading, resumable).
//! - [`catalog`]: the catalog list (filters, search, sort, pages and cursors).
//! - [`duplicate`]: copying a course into a new draft.
//! - [`details`]: the course page (seed `CourseDetails`) and statistics.
//! - [`lessons`]: lessons, their content and their order.
//! - [`enrollment`]: enroll, unenroll, lesson completion, progress, a course's students.
//! - [`prerequisites`]: prerequisite links, cycles refused.
//! - [`ratings`]: ratings and reviews.
//! - [`quizzes`]: quizzes of a course: create, read, delete; attempts: start, submit (graded); results.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod access;
pub mod catalog;
pub mod courses;
pub mod details;
pub mod duplicate;
pub mod enrollment;
pub mod lessons;
pub mod prerequisites;
pub mod quizzes;
pub mod ratings;
pub mod views;

use axum::Router;
use lectern_web::AppState;

lectern_web::route_group! {
    "/api/v1/courses" => { GET => catalog::list_courses, POST => courses::create_course },
    "/api/v1/courses/{courseId}" => {
        GET => details::get_course,
        PUT => courses::update_course,
        DELETE => courses::delete_course,
    },
    "/api/v1/courses/{courseId}/publish" => { POST => courses::publish_course },
    "/api/v1/courses/{courseId}/archive" => { POST => courses::archive_course },
    "/api/v1/courses/{courseId}/unarchive" => { POST => courses::unarchive_course },
    "/api/v1/courses/{courseId}/statistics" => { GET => details::statistics },
    "/api/v1/courses/{courseId}/duplicate" => { POST => duplicate::duplicate_course },
    "/api/v1/courses/{courseId}/enroll" => { POST => enrollment::enroll, DELETE => enrollment::unenroll },
    "/api/v1/lessons/complete" => { POST => enrollment::complete_lesson },
    "/api/v1/courses/{courseId}/progress" => { GET => enrollment::progress },
    "/api/v1/courses/{courseId}/students" => { GET => enrollment::students },
    "/api/v1/courses/{courseId}/lessons" => { POST => lessons::create_lesson, GET => lessons::list_lessons },
    "/api/v1/courses/{courseId}/lessons/{lessonId}" => {
        GET => lessons::get_lesson,
        PUT => lessons::update_lesson,
        DELETE => lessons::delete_lesson,
    },
    "/api/v1/courses/{courseId}/lessons/order" => { PUT => lessons::reorder_lessons },
    "/api/v1/courses/{courseId}/ratings" => { POST => ratings::rate, GET => ratings::list_ratings },
    "/api/v1/courses/{courseId}/prerequisites" => { POST => prerequisites::add_prerequisite },
    "/api/v1/courses/{courseId}/prerequisites/{prerequisiteId}" => {
        DELETE => prerequisites::remove_prerequisite,
    },
    "/api/v1/courses/{courseId}/quizzes" => { POST => quizzes::create_quiz },
    "/api/v1/quizzes/{quizId}" => { GET => quizzes::get_quiz, DELETE => quizzes::delete_quiz },
    "/api/v1/quizzes/{quizId}/attempts" => { POST => quizzes::start_attempt },
    "/api/v1/quizzes/{quizId}/attempts/{attemptId}/submit" => { POST => quizzes::submit_attempt },
    "/api/v1/quizzes/{quizId}/results" => { GET => quizzes::quiz_results },
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let routes = lectern_web::idempotency::layer(plain_routes(), &state);
    lectern_web::finish(lectern_web::limits::layer(routes, &state).with_state(state))
}

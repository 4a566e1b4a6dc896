//! The files route group: uploads and downloads through presigned S3 URLs. The API never carries a
//! file's bytes; it decides who may upload to what, checks the upload, and who may download.
//!
//! Contract: issue "Assignments, submissions, grading, and secure files on S3" §Files; seed 003 (file
//! secure_url, bulk permission check, file categories); seed 002 lesson content, media and download;
//! under `/api/v1`.
//!
//! # Layout
//! - [`access`]: who may attach a file to an owner, and who may read or delete a file.
//! - [`handlers`]: ask for an upload, confirm it, metadata, secure URL, bulk permissions, categories,
//!   delete.
//! - [`lessons`]: a lesson's content and media uploads (the same upload path, the lesson's course
//!   found by its id) and its download list.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod access;
pub mod handlers;
pub mod lessons;

use axum::Router;
use lectern_web::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this group, described for OpenAPI.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_upload))
        .routes(routes!(handlers::categories))
        .routes(routes!(handlers::bulk_permissions))
        .routes(routes!(handlers::get_file, handlers::delete_file))
        .routes(routes!(handlers::confirm_upload))
        .routes(routes!(handlers::secure_url))
        .routes(routes!(lessons::upload_content))
        .routes(routes!(lessons::upload_media))
        .routes(routes!(lessons::download))
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let (routes, _api) = routes().split_for_parts();
    lectern_web::finish(routes.with_state(state))
}

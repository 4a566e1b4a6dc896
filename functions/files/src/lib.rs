//! The files route group: uploads and downloads through presigned S3 URLs. The API never carries a
//! file's bytes; it decides who may upload to what, checks the upload, and who may download.
//!
//! Contract: issue "Assignments, submissions, grading, and secure files on S3" §Files; seed 003 (file
//! secure_url, bulk permission check, file categories); seed 002 lesson content, media and download;
//! under `/api/v1`.
//!
//! # Layout
//! - [`access`]: who may attach a file to an owner, and who may read or delete a file.
//! - [`views`]: the response shapes (a file's description, an upload ticket, a download URL).
//! - [`uploads`]: ask for an upload, confirm it. Confirmed files count against their uploader's and
//!   their tenant's storage quotas (`lectern_store::files`).
//! - [`files`]: a file's description, its secure URL, the bulk permission check, deleting it.
//! - [`storage`]: the caller's storage usage, and the file categories with their limits.
//! - [`lessons`]: a lesson's content and media uploads (the same upload path, the lesson's course
//!   found by its id) and its download list.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod access;
pub mod files;
pub mod lessons;
pub mod storage;
pub mod uploads;
pub mod views;

use axum::Router;
use lectern_web::AppState;

lectern_web::route_group! {
    "/api/v1/files" => { POST => uploads::create_upload },
    "/api/v1/files/categories" => { GET => storage::categories },
    "/api/v1/files/usage" => { GET => storage::usage },
    "/api/v1/files/permissions/bulk" => { POST => files::bulk_permissions },
    "/api/v1/files/{fileId}" => { GET => files::get_file, DELETE => files::delete_file },
    "/api/v1/files/{fileId}/confirm" => { POST => uploads::confirm_upload },
    "/api/v1/files/{fileId}/secure-url" => { GET => files::secure_url },
    "/api/v1/lessons/{lessonId}/content" => { POST => lessons::upload_content },
    "/api/v1/lessons/{lessonId}/media" => { POST => lessons::upload_media },
    "/api/v1/lessons/{lessonId}/download" => { GET => lessons::download },
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let routes = lectern_web::idempotency::layer(plain_routes(), &state);
    lectern_web::finish(lectern_web::limits::layer(routes, &state).with_state(state))
}

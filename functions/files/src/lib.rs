//! The files route group: uploads and downloads through presigned S3 URLs. The API never carries a
//! file's bytes; it decides who may upload to what, checks the upload, and who may download.
//!
//! Contract: issue "Assignments, submissions, grading, and secure files on S3" §Files; seed 003 (file
//! secure_url, bulk permission check, file categories); under `/api/v1`.
//!
//! # Layout
//! - [`access`]: who may attach a file to an owner, and who may read or delete a file.
//! - [`handlers`]: ask for an upload, confirm it, metadata, secure URL, bulk permissions, categories,
//!   delete.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod access;
pub mod handlers;

use axum::Router;
use lectern_web::AppState;

lectern_web::route_group! {
    "/api/v1/files" => { POST => handlers::create_upload },
    "/api/v1/files/categories" => { GET => handlers::categories },
    "/api/v1/files/permissions/bulk" => { POST => handlers::bulk_permissions },
    "/api/v1/files/{fileId}" => { GET => handlers::get_file, DELETE => handlers::delete_file },
    "/api/v1/files/{fileId}/confirm" => { POST => handlers::confirm_upload },
    "/api/v1/files/{fileId}/secure-url" => { GET => handlers::secure_url },
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let routes = plain_routes();
    lectern_web::finish(routes.with_state(state))
}

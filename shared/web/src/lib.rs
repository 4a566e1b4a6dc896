//! The HTTP edge every Lambda function shares: one error shape, extractors that parse requests into
//! domain types, request ids and JSON logs, and the configuration read once at cold start.
//!
//! # Layout
//! - [`error`]: `ApiError`, the one place errors become `{"error", "code", "requestId", "details"}`.
//! - [`extract`]: `Json` and `Query` extractors whose rejections name the field at fault.
//! - [`auth`]: `AuthUser`, `MaybeAuthUser`, `RequireRole<R>`, and the tenant of anonymous calls.
//! - [`request`]: request ids (the Lambda invocation's, or generated), the request's log span.
//! - [`pagination`]: `limit` + `cursor` page parameters and the page envelope.
//! - [`state`]: `AppState` and its configuration from the environment.
//! - [`telemetry`]: JSON logs through `tracing`.
//! - [`views`]: API shapes several route groups return (`UserView`, the `{message, data}` envelope).
//! - [`finish`]: wraps a function's routes with fallbacks, limits and the request layer.

pub mod auth;
pub mod error;
pub mod extract;
pub mod pagination;
pub mod request;
pub mod state;
pub mod telemetry;
pub mod views;

pub use auth::{Admin, AnyRole, AuthUser, Instructor, MaybeAuthUser, RequireRole, Tenant};
pub use error::{ApiError, ApiResult, ErrorBody};
pub use extract::{Json, Query};
pub use lectern_auth::TokenConfig;
pub use state::{AppState, Config, Tenants};

use axum::Router;
use axum::extract::DefaultBodyLimit;

/// Largest request body accepted: 1 MiB. Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Turns a group's routes into a servable app: JSON 404 and 405 fallbacks, the body limit, and the
/// request layer (id, span, log line). Called once per app, after all route groups are merged, because
/// axum refuses to merge two routers that both have fallbacks.
pub fn finish(routes: Router) -> Router {
    routes
        .fallback(error::not_found_fallback)
        .method_not_allowed_fallback(error::method_not_allowed_fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(request::request_layer))
}

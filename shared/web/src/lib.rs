//! The HTTP edge every HTTP Lambda function shares: one error shape, extractors that parse requests
//! into domain types, request ids, pagination, and the limits, idempotency and conditional layers.
//! Start-up (configuration, secrets, logs, opening the store, the allocator) is `lectern_runtime`'s,
//! which the queue workers use without this crate; [`AppState`] is built from its pieces.
//!
//! # Layout
//! - [`error`]: `ApiError`, the one place errors become `{"error", "code", "requestId", "details"}`.
//! - [`extract`]: `Json` and `Query` extractors whose rejections name the field at fault; `RawBody`.
//! - [`path`]: `Path<CourseId>`, ids from the request path; a malformed one is the resource's 404.
//! - [`conditional`]: entity tags of versioned resources, `If-None-Match` (304) and `If-Match` (412).
//! - [`auth`]: `AuthUser`, `MaybeAuthUser`, `RequireRole<R>`, and the tenant of anonymous calls.
//! - [`request`]: request ids (the Lambda invocation's, or generated), the request's log span, and
//!   `ClientAddress`, where the request came from.
//! - [`limits`]: the rate limits every function's requests meet (one layer, windows in the store),
//!   with the IETF `RateLimit-Policy` / `RateLimit` fields, and the password hashers' pool size.
//! - [`idempotency`]: `Idempotency-Key` on every POST: the first answer kept and repeated, one layer
//!   inside the limits' (a refused request is never kept).
//! - [`pagination`]: `limit` + `cursor` page parameters, the page envelope, and its `Link` header.
//! - [`state`]: `AppState`, built from the runtime's configuration and store.
//! - [`views`]: API shapes several route groups return (`UserView`, the `{message, data}` envelope).
//! - [`openapi`]: `EdgeErrors`, the error responses the shared edge adds to every operation's
//!   description.
//! - [`finish`]: wraps a function's routes with fallbacks, limits and the request layer.
//! - [`path`]: typed path ids (`Path<CourseId>`): a malformed id is the resource's 404.
//! - [`route_group!`]: a route group's route table, declared once.

pub mod auth;
pub mod conditional;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod limits;
pub mod openapi;
pub mod pagination;
pub mod path;
pub mod request;
pub mod state;
pub mod views;

pub use auth::{Admin, AnyRole, AuthUser, Instructor, MaybeAuthUser, RequireRole, Tenant};
pub use conditional::{IfMatch, Tagged};
pub use error::{ApiError, ApiResult, ErrorBody};
pub use extract::{Json, Query, RawBody};
pub use lectern_auth::TokenConfig;
pub use path::{Path, PathId};
pub use request::ClientAddress;
pub use state::{AppState, Config, Tenants};

use axum::Router;
use axum::extract::DefaultBodyLimit;

/// Largest request body accepted: 1 MiB. Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Turns a group's routes into a servable app: JSON 404 and 405 fallbacks, the body limit, conditional
/// GETs (304), pages' `Link` headers, and the request layer (id, span, log line). Called once per app, after all route groups are merged, because
/// axum refuses to merge two routers that both have fallbacks.
pub fn finish(routes: Router) -> Router {
    routes
        .fallback(error::not_found_fallback)
        .method_not_allowed_fallback(error::method_not_allowed_fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(conditional::not_modified))
        .layer(axum::middleware::from_fn(pagination::page_links))
        .layer(axum::middleware::from_fn(request::request_layer))
}

/// Declares a route group's routes once, as a table of paths and the handler of each method, and
/// derives from it:
/// - `routes()`: the routes with their OpenAPI description (the local server, `make openapi`);
/// - `plain_routes()`: the same routes without it, for the Lambda functions, which never serve the
///   description: building it (path items and schemas of every route) costs milliseconds of cold
///   start;
/// - `ROUTE_TABLE`: the (method, path) pairs, which tests check against the description (so that
///   a path written here and the one in a handler's `#[utoipa::path]` cannot drift apart) and
///   against `template.yaml`'s routes (so that API Gateway sends each to the group's function);
/// - `operation_descriptions()`: each operation described alone, for the test that no two types
///   share a schema name.
///
/// The calling crate depends on `axum`, `utoipa` and `utoipa-axum` (as every route group does).
///
/// The routes' state is [`AppState`]. A group whose handlers need none of it starts with
/// `state = ();` and gets `Router<()>`, so that its function does not build an `AppState` (open the
/// store, load the keys) at cold start to serve them; the local server merges it with
/// `routes().with_state(())`.
///
/// ```text
/// lectern_web::route_group! {
///     "/api/v1/files" => { POST => handlers::create_upload },
///     "/api/v1/files/{fileId}" => { GET => handlers::get_file, DELETE => handlers::delete_file },
/// }
/// ```
#[macro_export]
macro_rules! route_group {
    (@state $state:ty; $($path:literal => { $($method:ident => $handler:path),+ $(,)? }),* $(,)?) => {
        /// The routes of this group, described for OpenAPI.
        pub fn routes() -> utoipa_axum::router::OpenApiRouter<$state> {
            utoipa_axum::router::OpenApiRouter::new()
                $(.routes(utoipa_axum::routes!($($handler),+)))*
        }

        /// The routes of this group without their description (what a Lambda function serves).
        pub fn plain_routes() -> axum::Router<$state> {
            axum::Router::new()
                $(.route(
                    $path,
                    axum::routing::MethodRouter::new()
                        $(.on(axum::routing::MethodFilter::$method, $handler))+
                ))*
        }

        /// Every (method, path) of this group.
        pub const ROUTE_TABLE: &[(&str, &str)] = &[$($((stringify!($method), $path)),+),*];

        /// Each operation of this group described alone, as "METHOD path" and its description:
        /// there, every schema name is still its own type's, which a test compares with the merged
        /// description (where a type of the same name from elsewhere would have replaced it).
        pub fn operation_descriptions() -> Vec<(String, utoipa::openapi::OpenApi)> {
            vec![$($((
                format!("{} {}", stringify!($method), $path),
                utoipa_axum::router::OpenApiRouter::<$state>::new()
                    .routes(utoipa_axum::routes!($handler))
                    .split_for_parts()
                    .1,
            )),+),*]
        }
    };
    (state = $state:ty; $($group:tt)*) => {
        $crate::route_group!(@state $state; $($group)*);
    };
    ($($group:tt)*) => {
        $crate::route_group!(@state $crate::AppState; $($group)*);
    };
}

//! The auth route group: accounts come into being here and prove who they are.
//!
//! Contract: seed 002 "Authentication & User Management" (`POST /api/users/register`, sign in, check),
//! under `/api/v1/auth`; the token endpoints follow OAuth conventions (RFC 9700 for refresh rotation).
//!
//! # Layout
//! - [`handlers`]: register, sign in, refresh, sign out, check, and the JWK set.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod handlers;

use axum::Router;
use lectern_web::AppState;

lectern_web::route_group! {
    "/api/v1/auth/register" => { POST => handlers::register },
    "/api/v1/auth/signin" => { POST => handlers::signin },
    "/api/v1/auth/refresh" => { POST => handlers::refresh },
    "/api/v1/auth/signout" => { POST => handlers::signout },
    "/api/v1/auth/check" => { GET => handlers::check },
    "/.well-known/jwks.json" => { GET => handlers::jwks },
    "/api/v1/openapi.json" => { GET => handlers::openapi_document },
}

/// The servable app. Fails when the state cannot sign tokens (no private key configured).
pub fn router(state: AppState) -> anyhow::Result<Router> {
    anyhow::ensure!(
        state.issuer.is_some(),
        "the auth function signs tokens: set LECTERN_JWT_PRIVATE_KEY (or run locally with a data folder)"
    );
    let routes = lectern_web::idempotency::layer(plain_routes(), &state);
    Ok(lectern_web::finish(
        lectern_web::limits::layer(routes, &state).with_state(state),
    ))
}

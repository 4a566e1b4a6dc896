//! The users route group: profiles and preferences for everyone, user administration for admins.
//!
//! Contract: seed 002 "User Profiles", "Profile" (`PUT /api/profile/update`, `/preferences`,
//! `/check-username`) and "User Management & Roles", under `/api/v1`.
//!
//! # Layout
//! - [`profile`]: reading a profile, updating one's own profile and preferences, username checks.
//! - [`admin`]: listing users, changing roles, suspending and unsuspending.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod admin;
pub mod profile;

use axum::Router;
use lectern_web::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this group, described for OpenAPI.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(profile::get_profile))
        .routes(routes!(profile::update_profile))
        .routes(routes!(profile::update_preferences))
        .routes(routes!(profile::check_username))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::set_role))
        .routes(routes!(admin::suspend))
        .routes(routes!(admin::unsuspend))
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let (routes, _api) = routes().split_for_parts();
    lectern_web::finish(routes.with_state(state))
}

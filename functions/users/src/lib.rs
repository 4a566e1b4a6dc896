//! The users route group: profiles and preferences for everyone, user administration for admins.
//!
//! Contract: seed 002 "User Profiles", "Profile" (`PUT /api/profile/update`, `/preferences`,
//! `/check-username`) and "User Management & Roles", under `/api/v1`.
//!
//! # Layout
//! - [`access`]: who a request is about: the caller's own profile, or (admins) another user of the
//!   tenant; malformed ids and other tenants' users are 404.
//! - [`views`]: the response shapes (profile with statistics, preferences, invitations).
//! - [`profile`]: reading a profile, updating one's own profile and preferences, username checks.
//! - [`admin`]: listing users, changing roles, suspending and unsuspending.
//! - [`invitations`]: admins invite an email address to register as a student or an instructor,
//!   list and revoke pending invitations.
//! - `routes` / `router`: the group's routes with their OpenAPI description, and the servable app.

pub mod access;
pub mod admin;
pub mod invitations;
pub mod profile;
pub mod views;

use axum::Router;
use lectern_web::AppState;

lectern_web::route_group! {
    "/api/v1/users" => { GET => admin::list_users },
    "/api/v1/users/{userId}/role" => { PUT => admin::set_role },
    "/api/v1/users/{userId}/suspend" => { POST => admin::suspend },
    "/api/v1/users/{userId}/unsuspend" => { POST => admin::unsuspend },
    "/api/v1/invitations" => {
        POST => invitations::create_invitation,
        GET => invitations::list_invitations,
    },
    "/api/v1/invitations/{invitationId}" => { DELETE => invitations::revoke_invitation },
    "/api/v1/users/{userId}/profile" => { GET => profile::get_profile },
    "/api/v1/profile" => { PUT => profile::update_profile },
    "/api/v1/profile/preferences" => { PUT => profile::update_preferences },
    "/api/v1/profile/check-username" => { POST => profile::check_username },
}

/// The servable app.
pub fn router(state: AppState) -> Router {
    let routes = lectern_web::idempotency::layer(plain_routes(), &state);
    lectern_web::finish(lectern_web::limits::layer(routes, &state).with_state(state))
}

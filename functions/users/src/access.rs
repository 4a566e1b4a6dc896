//! Who a request is about: the caller's own profile (bodies may name only the caller, at the version
//! they read), or, for an admin, another user of their tenant. A user of another tenant, or a
//! malformed id (see `lectern_web::Path`), is no user at all (404).

use lectern_domain::UserId;
use lectern_domain::user::User;
use lectern_store::users::UserRepo;
use lectern_web::{Admin, ApiError, ApiResult, AppState, AuthUser, RequireRole};

/// The caller's own user, as stored.
pub(crate) async fn own_user(state: &AppState, caller: &AuthUser) -> ApiResult<User> {
    UserRepo::new(state.table.clone())
        .get(&caller.tenant, caller.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))
}

/// Refuses a body that names another user (seed 002 bodies carry `userId`) or an outdated `version`.
pub(crate) fn check_target(
    user: &User,
    user_id: Option<&str>,
    version: Option<u64>,
) -> ApiResult<()> {
    if user_id.is_some_and(|id| id != user.id.to_string()) {
        return Err(ApiError::Forbidden(
            "you can only change your own profile".into(),
        ));
    }
    if version.is_some_and(|v| v != user.version) {
        return Err(ApiError::conflict(
            "stale_version",
            format!(
                "the profile is at version {}, not the one you read; read it again",
                user.version
            ),
        ));
    }
    Ok(())
}

/// The target of an admin action: a user of the admin's tenant other than the admin.
pub(crate) async fn target(
    state: &AppState,
    admin: &RequireRole<Admin>,
    id: UserId,
    action: &str,
) -> ApiResult<User> {
    if id == admin.id {
        return Err(ApiError::conflict(
            "own_account",
            format!("admins cannot {action} their own account; ask another admin"),
        ));
    }
    UserRepo::new(state.table.clone())
        .get(&admin.tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))
}

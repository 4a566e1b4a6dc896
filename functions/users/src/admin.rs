//! User administration (admins of the caller's tenant): listing users, changing roles, suspending.
//! Contract: seed 002 "User Management & Roles".

use axum::extract::State;
use lectern_domain::UserId;
use lectern_domain::user::{User, UserRole, UserStatus, now};
use lectern_store::sessions::SessionRepo;
use lectern_store::users::UserRepo;
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::views::{Envelope, UserView};
use lectern_web::{Admin, ApiResult, AppState, ErrorBody, Json, Path, Query, RequireRole};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::access::target;

const TAG: &str = "user administration";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersParams {
    /// Only users with this role.
    pub role: Option<UserRole>,
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Seed 002 `GET /api/users`: the tenant's users, grouped by role, oldest first within a role.
#[utoipa::path(get, path = "/api/v1/users", tag = TAG,
    security(("bearer" = [])),
    params(ListUsersParams),
    responses(
        (status = 200, description = "A page of users", body = Paginated<UserView>),
        (status = 400, description = "A bad role, limit or cursor", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list_users(
    State(state): State<AppState>,
    admin: RequireRole<Admin>,
    Query(params): Query<ListUsersParams>,
) -> ApiResult<Paginated<UserView>> {
    let (limit, cursor) = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .parse()?;
    let page = UserRepo::new(state.table.clone())
        .list(&admin.tenant, params.role, limit, cursor)
        .await?;
    Ok(Paginated {
        data: page.users.iter().map(UserView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    pub role: UserRole,
}

/// Seed 002 `PUT /api/users/[userId]/role`. The user's next token refresh carries the new role.
#[utoipa::path(put, path = "/api/v1/users/{userId}/role", tag = TAG,
    security(("bearer" = [])),
    params(("userId" = String, Path, description = "The user's id")),
    request_body = SetRoleRequest,
    responses(
        (status = 200, description = "The role was set", body = Envelope<UserView>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in the tenant", body = ErrorBody),
        (status = 409, description = "Your own account, or changed meanwhile", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, admin, body))]
pub async fn set_role(
    State(state): State<AppState>,
    admin: RequireRole<Admin>,
    Path(user_id): Path<UserId>,
    Json(body): Json<SetRoleRequest>,
) -> ApiResult<Json<Envelope<UserView>>> {
    let user = target(&state, &admin, user_id, "change the role of").await?;
    let mut next = user.clone();
    if user.role != body.role {
        next.role = body.role;
        next.version = user.version + 1;
        next.updated_at = now();
        UserRepo::new(state.table.clone())
            .update(&admin.actor(), &user, &next, Vec::new())
            .await?;
        tracing::info!(user_id = %user.id, from = %user.role, to = %next.role, "role changed");
    }
    Ok(Json(Envelope::new(
        "Role updated successfully",
        UserView::from(&next),
    )))
}

/// Sets a user's status; suspending also revokes every session in the same write.
async fn set_status(
    state: &AppState,
    admin: &RequireRole<Admin>,
    user: User,
    status: UserStatus,
) -> ApiResult<User> {
    if user.status == status {
        return Ok(user);
    }
    let mut next = user.clone();
    next.status = status;
    next.version = user.version + 1;
    next.updated_at = now();
    let revocations = match status {
        UserStatus::Suspended => {
            SessionRepo::new(state.table.clone())
                .revoke_all_actions(&user.tenant, user.id, now())
                .await?
        }
        UserStatus::Active => Vec::new(),
    };
    UserRepo::new(state.table.clone())
        .update(&admin.actor(), &user, &next, revocations)
        .await?;
    tracing::info!(user_id = %user.id, status = ?status, "status changed");
    Ok(next)
}

/// Seed 002 `POST /api/users/[userId]/suspend`: the user can no longer sign in or refresh, and every
/// session is revoked. Suspending a suspended user changes nothing.
#[utoipa::path(post, path = "/api/v1/users/{userId}/suspend", tag = TAG,
    security(("bearer" = [])),
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Suspended", body = Envelope<UserView>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in the tenant", body = ErrorBody),
        (status = 409, description = "Your own account, or changed meanwhile", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, admin))]
pub async fn suspend(
    State(state): State<AppState>,
    admin: RequireRole<Admin>,
    Path(user_id): Path<UserId>,
) -> ApiResult<Json<Envelope<UserView>>> {
    let user = target(&state, &admin, user_id, "suspend").await?;
    let user = set_status(&state, &admin, user, UserStatus::Suspended).await?;
    Ok(Json(Envelope::new("User suspended", UserView::from(&user))))
}

/// Lifts a suspension; the user signs in again.
#[utoipa::path(post, path = "/api/v1/users/{userId}/unsuspend", tag = TAG,
    security(("bearer" = [])),
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Active again", body = Envelope<UserView>),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in the tenant", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, admin))]
pub async fn unsuspend(
    State(state): State<AppState>,
    admin: RequireRole<Admin>,
    Path(user_id): Path<UserId>,
) -> ApiResult<Json<Envelope<UserView>>> {
    let user = target(&state, &admin, user_id, "unsuspend").await?;
    let user = set_status(&state, &admin, user, UserStatus::Active).await?;
    Ok(Json(Envelope::new(
        "User unsuspended",
        UserView::from(&user),
    )))
}

//! Who is calling. Handlers take `AuthUser` (a valid bearer token is required), `MaybeAuthUser`
//! (anonymous allowed, a bad token still refused), or `RequireRole<Admin>` and the like; they never
//! read headers themselves. Anonymous calls get their tenant from `Tenant`.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts};
use lectern_auth::TokenError;
use lectern_domain::ids::SessionId;
use lectern_domain::user::UserRole;
use lectern_domain::{TenantId, UserId};
use lectern_store::{Actor, Power};

use crate::error::ApiError;
use crate::state::AppState;

/// The caller, proven by a valid access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub tenant: TenantId,
    pub role: UserRole,
    /// The sign-in session the access token was issued in (absent in tokens issued outside one).
    pub session: Option<SessionId>,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == UserRole::Admin
    }

    /// The caller as the actor of a write that needs `power`: the write's transaction checks that the
    /// account is still active and still holds a role with that power.
    pub fn actor(&self, power: Power) -> Actor {
        Actor::new(self.tenant.clone(), self.id, power)
    }

    /// The caller acting on their own things (any role, active account).
    pub fn member(&self) -> Actor {
        self.actor(Power::Member)
    }

    /// The caller managing something `owner` owns (a course, owned by its instructor): the owner
    /// must still teach (instructor or admin), anyone else still be an admin, when the write lands,
    /// whatever the token says.
    pub fn manager_of(&self, owner: UserId) -> Actor {
        self.actor(if self.id == owner {
            Power::Teaching
        } else {
            Power::Admin
        })
    }
}

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the authorization header is malformed".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthorized(
            "the authorization header must be 'Bearer <access token>'".into(),
        )),
    }
}

fn verify(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
    let claims = state.verifier.verify(token).map_err(|e| match e {
        TokenError::Expired => {
            ApiError::Unauthorized("the access token has expired; refresh it".into())
        }
        _ => ApiError::Unauthorized("the access token is not valid".into()),
    })?;
    if !state.tenants.contains(&claims.tid) {
        return Err(ApiError::Unauthorized(
            "the access token is not valid".into(),
        ));
    }
    let span = tracing::Span::current();
    span.record("tenant", claims.tid.as_str());
    span.record("user_id", tracing::field::display(&claims.sub));
    Ok(AuthUser {
        id: claims.sub,
        tenant: claims.tid,
        role: claims.role,
        session: claims.sid,
    })
}

impl<S> FromRequestParts<S> for AuthUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        let token = bearer(parts)?
            .ok_or_else(|| ApiError::Unauthorized("an access token is required".into()))?;
        verify(&state, token)
    }
}

/// The caller if a token was sent; a token that was sent must be valid.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        match bearer(parts)? {
            Some(token) => verify(&state, token).map(|user| MaybeAuthUser(Some(user))),
            None => Ok(MaybeAuthUser(None)),
        }
    }
}

/// A set of roles an endpoint admits.
pub trait RoleRequirement: Send + Sync + 'static {
    fn admits(role: UserRole) -> bool;
    /// For the 403 message: "this action needs the … role".
    const DESCRIPTION: &'static str;
    /// What the caller's writes need their account to still hold.
    const POWER: Power;
}

/// Admins only.
pub struct Admin;
impl RoleRequirement for Admin {
    fn admits(role: UserRole) -> bool {
        role == UserRole::Admin
    }
    const DESCRIPTION: &'static str = "admin";
    const POWER: Power = Power::Admin;
}

/// Instructors and admins.
pub struct Instructor;
impl RoleRequirement for Instructor {
    fn admits(role: UserRole) -> bool {
        matches!(role, UserRole::Instructor | UserRole::Admin)
    }
    const DESCRIPTION: &'static str = "instructor or admin";
    const POWER: Power = Power::Teaching;
}

/// Any signed-in user (the same as `AuthUser`, for symmetry in signatures).
pub struct AnyRole;
impl RoleRequirement for AnyRole {
    fn admits(_: UserRole) -> bool {
        true
    }
    const DESCRIPTION: &'static str = "any";
    const POWER: Power = Power::Member;
}

/// The caller, who must hold one of `R`'s roles (else 403).
pub struct RequireRole<R: RoleRequirement> {
    pub user: AuthUser,
    _role: PhantomData<R>,
}

impl<R: RoleRequirement> RequireRole<R> {
    /// The caller as the actor of a write that needs the role this endpoint requires.
    pub fn actor(&self) -> Actor {
        self.user.actor(R::POWER)
    }
}

impl<R: RoleRequirement> Deref for RequireRole<R> {
    type Target = AuthUser;
    fn deref(&self) -> &AuthUser {
        &self.user
    }
}

impl<S, R> FromRequestParts<S> for RequireRole<R>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    R: RoleRequirement,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if !R::admits(user.role) {
            return Err(ApiError::Forbidden(format!(
                "this action needs the {} role",
                R::DESCRIPTION
            )));
        }
        Ok(RequireRole {
            user,
            _role: PhantomData,
        })
    }
}

/// The tenant of an anonymous call: the `x-tenant-id` header, or the deployment's default.
#[derive(Debug, Clone)]
pub struct Tenant(pub TenantId);

pub const TENANT_HEADER: &str = "x-tenant-id";

impl<S> FromRequestParts<S> for Tenant
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        let tenant = match parts.headers.get(TENANT_HEADER) {
            None => state.tenants.default_tenant().clone(),
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|id| state.tenants.get(id.trim()))
                .cloned()
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "unknown_tenant",
                        "the x-tenant-id header names no tenant of this deployment",
                    )
                })?,
        };
        tracing::Span::current().record("tenant", tenant.as_str());
        Ok(Tenant(tenant))
    }
}

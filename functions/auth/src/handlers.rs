//! Handlers of the auth route group.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use lectern_auth::invitation::InvitationToken;
use lectern_auth::refresh::RefreshToken;
use lectern_auth::{Jwks, TokenIssuer};
use lectern_domain::invitation::Invitation;
use lectern_domain::user::{
    Email, NewUser, Password, PersonName, RegistrationPolicy, SelfServiceRole, StudyTime, User,
    UserRole, Username, now,
};
use lectern_domain::{FieldErrors, TenantId};
use lectern_store::invitations::{AcceptError, InvitationRepo};
use lectern_store::limits::{RateLimitRepo, RateWindow};
use lectern_store::sessions::{RefreshError, SessionRepo};
use lectern_store::users::{SigninAttempt, SigninLimits, UserRepo, UserWriteError};
use lectern_web::request::ClientAddress;
use lectern_web::views::{Envelope, UserView};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Tenant};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const TAG: &str = "auth";

/// Seed 002 `POST /api/users/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    /// `student` (the default, and the only role one may register with). Instructors are made by an
    /// admin (`PUT /api/v1/users/{userId}/role`): `instructor` here is refused with 403
    /// `role_requires_admin`.
    pub role: Option<SelfServiceRole>,
    pub preferred_study_time: Option<StudyTime>,
    /// The token of an invitation to this email address (`POST /api/v1/invitations`, made by an
    /// admin): registers with the invitation's role, under every registration policy, once.
    /// Required where the tenant's policy is `invite`.
    pub invitation_token: Option<String>,
}

impl RegisterRequest {
    /// The validated registration, or every field's problem at once.
    fn parse(&self) -> Result<(NewUser, Password), FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = errors.check("email", Email::parse(&self.email));
        let password = errors.check("password", Password::parse(&self.password));
        let first_name = errors.check("firstName", PersonName::parse(&self.first_name));
        let last_name = errors.check("lastName", PersonName::parse(&self.last_name));
        let username = errors.check("username", Username::parse(&self.username));
        match (email, password, first_name, last_name, username) {
            (Some(email), Some(password), Some(first_name), Some(last_name), Some(username)) => {
                Ok((
                    NewUser {
                        email,
                        username,
                        first_name,
                        last_name,
                        role: UserRole::Student,
                        preferred_study_time: self.preferred_study_time,
                    },
                    password,
                ))
            }
            _ => Err(errors),
        }
    }
}

/// Creates a student account in the caller's tenant (the `x-tenant-id` header, or the default tenant),
/// or, with an admin's invitation for the address, an account with the invitation's role (student or
/// instructor), using the invitation up. Instructors are never self-made.
///
/// An email already registered is answered 409 `email_taken`, so that clients can send the person to
/// sign in; to keep strangers from probing which emails exist, each client network gets few such
/// answers (`registration_probes`, 10 an hour by default): a unit is taken before the work and given
/// back in the same transaction as the new account, so only registrations that met a taken email
/// count, and past the limit the network's registrations get 429 `rate_limited` until the window
/// ends, whatever the email.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = TAG,
    params(("x-tenant-id" = Option<String>, Header, description = "Tenant; the deployment's default when absent")),
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = Envelope<UserView>),
        (status = 400, description = "Invalid fields (named in `details`)", body = ErrorBody),
        (status = 403, description = "The instructor role was asked for without an invitation (`role_requires_admin`): an admin grants it or invites; the tenant admits other email domains only (`email_domain_not_allowed`) or invited people only (`invitation_required`); or the invitation token is not valid for this address (`invitation_invalid`: used, revoked, expired, or for another email)", body = ErrorBody),
        (status = 409, description = "Email (`email_taken`) or username (`username_taken`) already registered", body = ErrorBody),
        (status = 429, description = "Too many requests from this network (`rate_limited`), or too many registrations that met a taken email (`rate_limited`, policy `registration_probes`)", body = ErrorBody),
        (status = 503, description = "Every password hasher is busy (`server_busy`); retry after `Retry-After`", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn register(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    client: ClientAddress,
    Json(body): Json<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<Envelope<UserView>>)> {
    let (mut new_user, password) = body.parse()?;
    let invitation = match body.invitation_token.as_deref() {
        Some(token) => Some(invitation(&state, &tenant, token, &new_user.email).await?),
        None => None,
    };
    match &invitation {
        Some(invitation) => new_user.role = invitation.role.into(),
        None => {
            if body.role == Some(SelfServiceRole::Instructor) {
                return Err(ApiError::refused(
                    "role_requires_admin",
                    "instructor accounts are granted by an admin: register as a student and ask your admin for the instructor role",
                ));
            }
            match state.tenants.registration(&tenant) {
                RegistrationPolicy::Invite => {
                    return Err(ApiError::refused(
                        "invitation_required",
                        "this organisation admits invited people only: register with the invitation an admin gave you",
                    ));
                }
                policy if !policy.admits(&new_user.email) => {
                    return Err(ApiError::refused(
                        "email_domain_not_allowed",
                        "this organisation admits registrations from its own email domains only",
                    ));
                }
                _ => {}
            }
        }
    }
    let at = now();
    let probe = state
        .limiter
        .take_probe(&tenant, client, at.unix_timestamp())
        .await?;
    let hash = match state.passwords.hash(&password).await {
        Ok(hash) => hash,
        Err(e) => {
            give_back_probe(&state, &probe).await;
            return Err(e.into());
        }
    };
    let user = User::create(tenant, new_user, hash, at);
    let given_back = vec![RateLimitRepo::give_back(&probe)];
    let created = match &invitation {
        Some(invitation) => InvitationRepo::new(state.table.clone())
            .register(&user, invitation, given_back)
            .await
            .map_err(|e| match e {
                AcceptError::InvitationGone => Err(invitation_invalid()),
                AcceptError::User(e) => Ok(e),
            }),
        None => UserRepo::new(state.table.clone())
            .create_with(&user, given_back)
            .await
            .map_err(Ok),
    };
    match created {
        Ok(()) => {}
        // Only a taken email keeps its unit: it is what the limit bounds.
        Err(Ok(e @ UserWriteError::EmailTaken)) => return Err(e.into()),
        Err(e) => {
            give_back_probe(&state, &probe).await;
            return Err(match e {
                Ok(e) => e.into(),
                Err(refused) => refused,
            });
        }
    }
    tracing::info!(user_id = %user.id, role = %user.role, "user registered");
    Ok((
        StatusCode::CREATED,
        Json(Envelope::new(
            "User registered successfully",
            UserView::from(&user),
        )),
    ))
}

/// Gives back the probe unit of a registration that did not meet a taken email (its transaction,
/// which would have, did not commit).
async fn give_back_probe(state: &AppState, probe: &RateWindow) {
    if let Err(error) = state.limiter.windows().give_back_now(probe).await {
        tracing::warn!(?error, "a registration's probe unit was not given back");
    }
}

/// 403 `invitation_invalid`: one answer for a token that is malformed, unknown, used, revoked,
/// expired or for another address, so a token cannot be probed.
fn invitation_invalid() -> ApiError {
    ApiError::refused(
        "invitation_invalid",
        "the invitation is not valid: it was used, revoked or has expired, or it is for another email address",
    )
}

/// The pending invitation a token names, for this address.
async fn invitation(
    state: &AppState,
    tenant: &TenantId,
    token: &str,
    email: &Email,
) -> ApiResult<Invitation> {
    let token = InvitationToken::parse(token).ok_or_else(invitation_invalid)?;
    InvitationRepo::new(state.table.clone())
        .get(tenant, token.id)
        .await?
        .filter(|i| token.matches(&i.secret_hash) && i.is_for(email))
        .ok_or_else(invitation_invalid)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigninRequest {
    pub email: String,
    pub password: String,
}

/// Tokens for a signed-in user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// JWT (EdDSA) to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque; exchange it at `/api/v1/auth/refresh`. Each one works once.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub user: UserView,
}

fn issuer(state: &AppState) -> ApiResult<&TokenIssuer> {
    state
        .issuer
        .as_deref()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("this function has no signing key")))
}

fn tokens(state: &AppState, user: &User, refresh: &RefreshToken) -> ApiResult<TokenResponse> {
    let (access_token, expires_in) = issuer(state)?
        .issue_in_session(user.id, &user.tenant, user.role, Some(refresh.session))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(TokenResponse {
        access_token,
        refresh_token: refresh.expose(),
        expires_in,
        token_type: "Bearer",
        user: UserView::from(user),
    })
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("the email or password is incorrect".into())
}

fn suspended() -> ApiError {
    ApiError::Forbidden("this account is suspended".into())
}

/// The sign-in throttle (docs/security-model.md). Failed sign-ins are counted per email over the
/// current and the previous 15-minute window, and each attempt takes its unit before the password is
/// checked, so concurrent guesses cannot slip past a limit. From one client network (an IPv4
/// address, an IPv6 /64) an email gets 10 failures: enough for a person who mistypes, and a guesser
/// there is stopped without touching the owner, who signs in from elsewhere. From everywhere together
/// an email gets 100 (NIST SP 800-63B §5.2.2's ceiling on consecutive failures): what a distributed
/// guesser meets, and the only limit a stranger can run an account into, with ten networks' worth of
/// guesses every window.
const SIGNIN_LIMITS: SigninLimits = SigninLimits {
    account: 100,
    network: 10,
};
/// The throttling window: 15 minutes.
const SIGNIN_WINDOW_SECS: i64 = 15 * 60;

fn throttled(scope: &str, window: i64, now: i64) -> ApiError {
    // The earliest moment the count can fall: when the current window becomes the previous one and
    // the one before it stops counting.
    let window_end = (window + 1) * SIGNIN_WINDOW_SECS;
    ApiError::TooManyRequests {
        message: format!("too many failed sign-ins {scope}; try again later"),
        retry_after_secs: (window_end - now).max(1) as u64,
    }
}

/// Signs in with email and password. An unknown email and a wrong password get the same answer, after
/// the same work. Failed sign-ins are throttled per email: 10 from one client network and 100 from
/// everywhere within the current and previous 15-minute windows; past either, sign in answers 429
/// (with `Retry-After`, the end of the current window) without checking the password.
#[utoipa::path(post, path = "/api/v1/auth/signin", tag = TAG,
    params(("x-tenant-id" = Option<String>, Header, description = "Tenant; the deployment's default when absent")),
    request_body = SigninRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 403, description = "The account is suspended", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this email, from this network or from everywhere (`too_many_attempts`); or too many requests from this network (`rate_limited`)", body = ErrorBody),
        (status = 503, description = "Every password hasher is busy (`server_busy`); retry after `Retry-After`", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn signin(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    client: ClientAddress,
    Json(body): Json<SigninRequest>,
) -> ApiResult<Json<TokenResponse>> {
    // A malformed email can hold no account: it gets the same answer as a wrong password.
    let Ok(email) = Email::parse(&body.email) else {
        state.passwords.verify_decoy(&body.password).await?;
        return Err(bad_credentials());
    };
    let repo = UserRepo::new(state.table.clone());
    let now = now();
    let now_secs = now.unix_timestamp();
    let window = now_secs.div_euclid(SIGNIN_WINDOW_SECS);
    let attempt = SigninAttempt {
        tenant: tenant.clone(),
        email,
        network: client.network(),
        window,
        // A window's count matters while it is the current or the previous window.
        expires_at: (window + 2) * SIGNIN_WINDOW_SECS,
    };
    let (holder, seen) = repo
        .find_for_signin(&tenant, &attempt.email, window, &attempt.network)
        .await?;
    if seen.network_total() >= SIGNIN_LIMITS.network {
        tracing::warn!(network = %attempt.network, "sign-ins throttled for this email and network");
        return Err(throttled(
            "for this account from your network",
            window,
            now_secs,
        ));
    }
    if seen.account_total() >= SIGNIN_LIMITS.account {
        tracing::warn!("sign-ins throttled for this email from everywhere");
        return Err(throttled("for this account", window, now_secs));
    }
    // The user is read while the attempt is counted: the count must land before the password is
    // checked, not before the user is known.
    let (user, reservation) = tokio::join!(
        async {
            match holder {
                Some(id) => repo.get(&tenant, id).await,
                None => Ok(None),
            }
        },
        repo.reserve_signin(&attempt, &seen, SIGNIN_LIMITS)
    );
    let Some(reservation) = reservation? else {
        // Concurrent attempts took the last units between the read and this one.
        return Err(throttled("for this account", window, now_secs));
    };
    let user = user?;
    let verified = match &user {
        Some(user) => {
            state
                .passwords
                .verify(&body.password, &user.password_hash)
                .await
        }
        None => state.passwords.verify_decoy(&body.password).await,
    };
    let verified = match verified {
        Ok(verified) => verified,
        Err(e) => {
            // The password was not checked: the attempt gives its unit back.
            if let Err(store) = repo.give_back_signin(&reservation).await {
                tracing::warn!(error = ?store, "a sign-in attempt's unit was not given back");
            }
            return Err(e.into());
        }
    };
    // A failure stays counted: its unit was taken above.
    let Some(user) = user.filter(|_| verified) else {
        return Err(bad_credentials());
    };
    if user.is_suspended() {
        return Err(suspended());
    }
    let refresh = SessionRepo::new(state.table.clone())
        .start(
            &tenant,
            user.id,
            now,
            vec![UserRepo::refund_signin(&reservation)],
        )
        .await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(Json(tokens(&state, &user, &refresh)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn known_refresh_token(state: &AppState, value: &str) -> ApiResult<RefreshToken> {
    RefreshToken::parse(value)
        .filter(|t| state.tenants.contains(&t.tenant))
        .ok_or_else(|| ApiError::Unauthorized("the refresh token is not valid".into()))
}

fn refresh_error(error: RefreshError) -> ApiError {
    match error {
        RefreshError::Invalid => ApiError::Unauthorized("the refresh token is not valid".into()),
        RefreshError::Ended => ApiError::Unauthorized(
            "the session has ended (30 days after signing in); sign in again".into(),
        ),
        RefreshError::Reused => {
            ApiError::Unauthorized("the refresh token was already used; sign in again (all sessions of this sign-in were revoked)".into())
        }
        RefreshError::Suspended => suspended(),
        RefreshError::Store(e) => e.into(),
    }
}

/// Exchanges a refresh token for a new access token and a new refresh token. The old refresh token
/// stops working; presenting it again revokes the whole session. A session ends 30 days after its
/// sign-in however often it is refreshed: then refresh answers 401 and the session is deleted.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = TAG,
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token, or a session past its 30 days", body = ErrorBody),
        (status = 403, description = "The account is suspended", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let presented = known_refresh_token(&state, &body.refresh_token)?;
    let (user, next) = SessionRepo::new(state.table.clone())
        .rotate(&presented, now())
        .await
        .map_err(refresh_error)?;
    Ok(Json(tokens(&state, &user, &next)?))
}

/// Signs out: revokes the session the refresh token belongs to (every token rotated from the same sign
/// in). Access tokens already issued expire on their own within 15 minutes.
#[utoipa::path(post, path = "/api/v1/auth/signout", tag = TAG,
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not a refresh token of this deployment", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn signout(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<StatusCode> {
    let presented = known_refresh_token(&state, &body.refresh_token)?;
    SessionRepo::new(state.table.clone())
        .revoke(&presented)
        .await
        .map_err(refresh_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    pub authenticated: bool,
    pub user: UserView,
}

/// Seed 002 `GET /api/auth/check`: whether the bearer token is valid, and whose it is.
#[utoipa::path(get, path = "/api/v1/auth/check", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token is valid", body = CheckResponse),
        (status = 401, description = "No token, or not a valid one", body = ErrorBody),
        (status = 403, description = "The account is suspended", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn check(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<CheckResponse>> {
    let user = UserRepo::new(state.table.clone())
        .get(&caller.tenant, caller.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".into()))?;
    if user.is_suspended() {
        return Err(suspended());
    }
    Ok(Json(CheckResponse {
        authenticated: true,
        user: UserView::from(&user),
    }))
}

/// The public keys that verify access tokens (RFC 7517), for API Gateway JWT authorizers and
/// integrators.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = TAG,
    responses((status = 200, description = "The JWK set", body = Jwks)))]
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.verifier.jwks()),
    )
}

/// The committed OpenAPI document (`docs/openapi.json`); a test keeps it equal to what the code
/// generates.
const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

/// This API's OpenAPI 3.1 description.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = TAG,
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json")))]
pub async fn openapi_document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

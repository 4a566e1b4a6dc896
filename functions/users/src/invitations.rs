//! Invitations (admins of the caller's tenant): invite an email address to register as a student or
//! an instructor, list the pending invitations, revoke one. Contract: issue 22 item 14.
//!
//! There is no mail adapter: the create response carries the token, once, and the admin passes it
//! on; the store keeps only its secret's hash. The invited person registers with it
//! (`POST /api/v1/auth/register`, `invitationToken`) within 7 days, once.

use axum::extract::State;
use axum::http::StatusCode;
use lectern_auth::invitation::InvitationToken;
use lectern_domain::InvitationId;
use lectern_domain::invitation::{INVITATION_LIFETIME, Invitation, InvitedRole};
use lectern_domain::user::{Email, now};
use lectern_store::invitations::InvitationRepo;
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::{
    Admin, ApiError, ApiResult, AppState, ErrorBody, Json, Path, Query, RequireRole,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::views::{CreatedInvitation, InvitationView};

const TAG: &str = "user administration";

/// `POST /invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewInvitation {
    /// Who may register with it.
    pub email: String,
    /// The role they get: `student` or `instructor`.
    pub role: InvitedRole,
}

/// Invites an email address to register with a role (issue 22 item 14). No email is sent: the
/// admin passes the token on.
#[utoipa::path(post, path = "/api/v1/invitations", tag = TAG,
    security(("bearer" = [])),
    request_body = NewInvitation,
    responses(
        (status = 201, description = "Invited; the token is in this response only", body = CreatedInvitation),
        (status = 400, description = "A bad email or role (named in `details`)", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create_invitation(
    State(state): State<AppState>,
    admin: RequireRole<Admin>,
    Json(body): Json<NewInvitation>,
) -> ApiResult<(StatusCode, Json<CreatedInvitation>)> {
    let email =
        Email::parse(&body.email).map_err(|e| ApiError::invalid_field("email", e.to_string()))?;
    let token = InvitationToken::issue();
    let created_at = now();
    let invitation = Invitation {
        id: token.id,
        tenant: admin.tenant.clone(),
        email,
        role: body.role,
        secret_hash: token.secret_hash(),
        invited_by: admin.id,
        created_at,
        expires_at: created_at + INVITATION_LIFETIME,
    };
    InvitationRepo::new(state.table.clone())
        .create(&invitation)
        .await?;
    tracing::info!(invitation_id = %invitation.id, role = ?invitation.role, "invitation created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitation {
            invitation: InvitationView::from(&invitation),
            token: token.expose(),
        }),
    ))
}

/// The tenant's pending invitations (unused, unrevoked, unexpired), newest first.
#[utoipa::path(get, path = "/api/v1/invitations", tag = TAG,
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of pending invitations", body = Paginated<InvitationView>),
        (status = 400, description = "A bad limit or cursor", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn list_invitations(
    State(state): State<AppState>,
    admin: RequireRole<Admin>,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<Paginated<InvitationView>>> {
    let (limit, cursor) = params.parse()?;
    let page = InvitationRepo::new(state.table.clone())
        .pending(&admin.tenant, limit, cursor)
        .await?;
    Ok(Json(Paginated {
        data: page.invitations.iter().map(InvitationView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}

/// Revokes a pending invitation: its token admits no one from now on.
#[utoipa::path(delete, path = "/api/v1/invitations/{invitationId}", tag = TAG,
    security(("bearer" = [])),
    params(("invitationId" = String, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such pending invitation in the admin's tenant", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    admin: RequireRole<Admin>,
    Path(id): Path<InvitationId>,
) -> ApiResult<StatusCode> {
    if InvitationRepo::new(state.table.clone())
        .revoke(&admin.tenant, id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("invitation"))
    }
}

//! Invitations: a tenant's admin invites an email address to register with a role (student or
//! instructor). Contract: issue 22 item 14 (instructor accounts are granted by an admin, by
//! invitation or approval; a tenant may admit invited people only).
//!
//! An invitation is one-time and expires after [`INVITATION_LIFETIME`]; the store keeps only its
//! secret's SHA-256, so the token is shown once, to the admin who creates it (there is no mail
//! adapter: the admin passes it on).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use crate::ids::{InvitationId, TenantId, UserId};
use crate::user::{Email, UserRole};

/// How long an invitation can be used.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);

/// The roles an invitation may grant: admins are made by admins, never by invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitedRole {
    Student,
    Instructor,
}

impl From<InvitedRole> for UserRole {
    fn from(role: InvitedRole) -> UserRole {
        match role {
            InvitedRole::Student => UserRole::Student,
            InvitedRole::Instructor => UserRole::Instructor,
        }
    }
}

/// A pending invitation (used ones are deleted by the registration that uses them, revoked ones by
/// the admin who revokes them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: InvitationId,
    pub tenant: TenantId,
    /// Who may register with it (compared by [`Email::key`]).
    pub email: Email,
    pub role: InvitedRole,
    /// Hex SHA-256 of the token's secret.
    pub secret_hash: String,
    pub invited_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Invitation {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }

    /// Whether `email` is the address invited.
    pub fn is_for(&self, email: &Email) -> bool {
        self.email.key() == email.key()
    }
}

//! Response shapes: profiles, preferences, invitations. Field names are camelCase, as seed 002;
//! timestamps RFC 3339 with milliseconds. (The user itself is `lectern_web::views::UserView`, which
//! the auth routes show too.)

use lectern_domain::invitation::{Invitation, InvitedRole};
use lectern_domain::user::StudyTime;
use lectern_domain::{InvitationId, UserId};
use lectern_web::views::{UserView, timestamp};
use serde::Serialize;
use utoipa::ToSchema;

/// What the platform knows about the user's learning so far (seed 002 `StudentProfile.statistics`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileStatistics {
    pub current_streak: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_learned: Option<String>,
    /// Assignments handed in (submitted or graded), across the courses the user is enrolled in.
    pub total_assignments_submitted: u32,
    /// Percent (one decimal) of the possible points earned on graded assignments, the grade report's
    /// `averageGrade` (`GET /grades/{userId}`); null when nothing is graded.
    pub average_grade: Option<f64>,
}

/// Seed 002 `StudentProfile`: the user with their learning statistics.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    #[serde(flatten)]
    pub user: UserView,
    pub statistics: ProfileStatistics,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileUpdated {
    pub message: String,
    pub user: UserView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesView {
    pub id: UserId,
    pub notification_preference: bool,
    pub preferred_study_time: Option<StudyTime>,
    pub weekly_learning_goal: u32,
    pub version: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesUpdated {
    pub message: String,
    pub user: PreferencesView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsernameAvailability {
    pub available: bool,
}

/// A pending invitation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    pub id: InvitationId,
    pub email: String,
    pub role: InvitedRole,
    pub invited_by: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: String,
}

impl From<&Invitation> for InvitationView {
    fn from(i: &Invitation) -> Self {
        InvitationView {
            id: i.id,
            email: i.email.as_str().to_owned(),
            role: i.role,
            invited_by: i.invited_by,
            created_at: timestamp(i.created_at),
            expires_at: timestamp(i.expires_at),
        }
    }
}

/// A new invitation with its token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInvitation {
    pub invitation: InvitationView,
    /// What the invited person registers with (`invitationToken`). Shown this once: only its hash is
    /// kept, so a lost token is revoked and a new invitation made.
    pub token: String,
}

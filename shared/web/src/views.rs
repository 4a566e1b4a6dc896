//! API shapes more than one route group returns. Field names are camelCase on the wire, as seed 002.

use lectern_domain::UserId;
use lectern_domain::user::{StudyTime, User, UserRole, UserStatus};
use serde::Serialize;
use utoipa::ToSchema;

/// A user as the API shows it (seed 002 register response and `StudentProfile`). Never the password
/// hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub role: UserRole,
    pub status: UserStatus,
    pub avatar_url: Option<String>,
    pub notification_preference: bool,
    pub preferred_study_time: Option<StudyTime>,
    /// Minutes per week.
    pub weekly_learning_goal: u32,
    pub current_streak: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_learned: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
    /// Increases with every change; send it back as `version` to update only what you read.
    pub version: u64,
}

/// RFC 3339 with milliseconds, as the seed's examples (`2024-01-01T00:00:00.000Z`).
pub fn timestamp(t: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        UserView {
            id: user.id,
            email: user.email.as_str().to_owned(),
            first_name: user.first_name.as_str().to_owned(),
            last_name: user.last_name.as_str().to_owned(),
            username: user.username.as_str().to_owned(),
            role: user.role,
            status: user.status,
            avatar_url: user.avatar_url.clone(),
            notification_preference: user.notification_preference,
            preferred_study_time: user.preferred_study_time,
            weekly_learning_goal: user.weekly_learning_goal.minutes(),
            current_streak: user.current_streak,
            last_learned: user.last_learned.map(timestamp),
            created_at: timestamp(user.created_at),
            updated_at: timestamp(user.updated_at),
            version: user.version,
        }
    }
}

/// `{"message", "data"}`: the envelope of seed 002's write responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    pub message: String,
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn new(message: impl Into<String>, data: T) -> Self {
        Envelope {
            message: message.into(),
            data,
        }
    }
}

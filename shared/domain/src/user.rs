//! Users: who they are (role, status), how they like to learn, and the validated values a profile is
//! made of. Contract: seed 002 "Student Profile", `UserRole`, `StudyTime`.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::ids::{TenantId, UserId};
use crate::validation::Invalid;

/// What a user may do on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    Student,
    Instructor,
    Admin,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Student => "student",
            UserRole::Instructor => "instructor",
            UserRole::Admin => "admin",
        }
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roles a registration may name. Only `student` is self-service: an instructor is made by an admin
/// (user administration's role change), and registering as one is refused; admins are made by admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelfServiceRole {
    Student,
    Instructor,
}

impl From<SelfServiceRole> for UserRole {
    fn from(role: SelfServiceRole) -> UserRole {
        match role {
            SelfServiceRole::Student => UserRole::Student,
            SelfServiceRole::Instructor => UserRole::Instructor,
        }
    }
}

/// Who may register in a tenant by themselves (`LECTERN_REGISTRATION`). Registration makes students
/// whatever the policy; instructors and admins are made by admins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RegistrationPolicy {
    /// Anyone with an email address.
    #[default]
    Open,
    /// Only addresses at these domains (lowercase, exact: `uni.edu` admits `a@uni.edu`, not
    /// `a@cs.uni.edu`), e.g. a university's or a company's.
    EmailDomains(Vec<String>),
    /// Only people an admin invited (an invitation admits its address under every policy).
    Invite,
}

impl RegistrationPolicy {
    /// `open`, `invite`, or `domains:` followed by `|`-separated domains.
    pub fn parse(value: &str) -> Result<RegistrationPolicy, String> {
        let value = value.trim();
        if value == "open" {
            return Ok(RegistrationPolicy::Open);
        }
        if value == "invite" {
            return Ok(RegistrationPolicy::Invite);
        }
        let Some(list) = value.strip_prefix("domains:") else {
            return Err(format!(
                "{value:?} is not a registration policy: use open, invite or domains:a.org|b.org"
            ));
        };
        let domains: Vec<String> = list
            .split('|')
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        if domains.is_empty() || domains.iter().any(|d| !d.contains('.') || d.contains('@')) {
            return Err(format!(
                "{value:?} must name domains such as domains:uni.edu"
            ));
        }
        Ok(RegistrationPolicy::EmailDomains(domains))
    }

    /// Whether someone with this address may register without an invitation.
    pub fn admits(&self, email: &Email) -> bool {
        match self {
            RegistrationPolicy::Open => true,
            RegistrationPolicy::Invite => false,
            RegistrationPolicy::EmailDomains(domains) => {
                let key = email.key();
                key.rsplit_once('@')
                    .is_some_and(|(_, domain)| domains.iter().any(|d| d == domain))
            }
        }
    }
}

/// When a learner prefers to study (seed 002 `StudyTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StudyTime {
    Morning,
    Afternoon,
    Evening,
    Night,
}

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Suspended,
}

/// An email address as the user typed it (trimmed). Uniqueness is by [`Email::key`], its lowercase
/// form, so `Ann@X.org` and `ann@x.org` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        if value.len() > 254
            || !email_address::EmailAddress::is_valid(value)
            || !value.contains('.')
        {
            return Err(Invalid::new("must be a valid email address"));
        }
        Ok(Email(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive form uniqueness is decided on.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A public handle: 3–30 of `A-Z a-z 0-9 _ . -`, starting with a letter or digit. Unique per tenant,
/// case-insensitively ([`Username::key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        let len = value.chars().count();
        let allowed = value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        let starts_well = value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
        if !(3..=30).contains(&len) || !allowed || !starts_well {
            return Err(Invalid::new(
                "must be 3-30 characters of letters, digits, '_', '.' or '-', starting with a letter or digit",
            ));
        }
        Ok(Username(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A first or last name: 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        let len = value.chars().count();
        if !(1..=100).contains(&len) || value.chars().any(char::is_control) {
            return Err(Invalid::new("must be 1-100 characters"));
        }
        Ok(PersonName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed, before hashing. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    /// Bounds the work one request can ask of the hasher.
    pub const MAX_CHARS: usize = 256;

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let len = value.chars().count();
        if len < Self::MIN_CHARS {
            return Err(Invalid::new(format!(
                "must be at least {} characters",
                Self::MIN_CHARS
            )));
        }
        if len > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        Ok(Password(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(**redacted**)")
    }
}

/// Minutes of study a learner aims for each week: 0 to 10,080 (the minutes in a week).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeeklyGoal(u32);

impl WeeklyGoal {
    pub const MAX: u32 = 7 * 24 * 60;

    pub fn parse(minutes: i64) -> Result<Self, Invalid> {
        if (0..=i64::from(Self::MAX)).contains(&minutes) {
            Ok(WeeklyGoal(minutes as u32))
        } else {
            Err(Invalid::new(format!(
                "must be between 0 and {} minutes",
                Self::MAX
            )))
        }
    }

    pub fn minutes(self) -> u32 {
        self.0
    }
}

impl Default for WeeklyGoal {
    /// Two and a half hours, a common starting goal.
    fn default() -> Self {
        WeeklyGoal(150)
    }
}

/// A user as stored. The password hash never leaves the backend: API shapes are built from this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub tenant: TenantId,
    pub email: Email,
    pub username: Username,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub role: UserRole,
    pub status: UserStatus,
    pub avatar_url: Option<String>,
    pub notification_preference: bool,
    pub preferred_study_time: Option<StudyTime>,
    pub weekly_learning_goal: WeeklyGoal,
    pub current_streak: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_learned: Option<OffsetDateTime>,
    /// argon2id PHC string.
    pub password_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Optimistic-locking counter, bumped on every write.
    pub version: u64,
}

/// What registering needs, already validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub username: Username,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub role: UserRole,
    pub preferred_study_time: Option<StudyTime>,
}

impl User {
    /// A new active user, created now.
    pub fn create(
        tenant: TenantId,
        new: NewUser,
        password_hash: String,
        now: OffsetDateTime,
    ) -> User {
        User {
            id: UserId::new(),
            tenant,
            email: new.email,
            username: new.username,
            first_name: new.first_name,
            last_name: new.last_name,
            role: new.role,
            status: UserStatus::Active,
            avatar_url: None,
            notification_preference: true,
            preferred_study_time: new.preferred_study_time,
            weekly_learning_goal: WeeklyGoal::default(),
            current_streak: 0,
            last_learned: None,
            password_hash,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn is_suspended(&self) -> bool {
        self.status == UserStatus::Suspended
    }
}

/// The current time, to the millisecond (the precision the API's timestamps carry).
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_policy_admits_its_domains_exactly() {
        let policy = RegistrationPolicy::parse("domains:Uni.edu| staff.uni.edu").unwrap();
        let admits = |e: &str| policy.admits(&Email::parse(e).unwrap());
        assert!(admits("ada@uni.edu") && admits("Bob@UNI.EDU") && admits("c@staff.uni.edu"));
        assert!(!admits("eve@cs.uni.edu") && !admits("eve@uni.edu.evil.org"));
        assert_eq!(
            RegistrationPolicy::parse("open"),
            Ok(RegistrationPolicy::Open)
        );
        for bad in ["closed", "domains:", "domains:nodot", "domains:a@b.org"] {
            assert!(RegistrationPolicy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_invite_policy_admits_no_one_by_themselves() {
        let policy = RegistrationPolicy::parse(" invite ").unwrap();
        assert_eq!(policy, RegistrationPolicy::Invite);
        assert!(!policy.admits(&Email::parse("ada@uni.edu").unwrap()));
    }
    use proptest::prelude::*;

    #[test]
    fn emails_are_unique_case_insensitively() {
        let a = Email::parse(" Ann@Example.org ").unwrap();
        assert_eq!(a.as_str(), "Ann@Example.org");
        assert_eq!(a.key(), "ann@example.org");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in ["", "ann", "ann@", "@x.org", "ann@localhost", "a b@x.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_follow_the_handle_rules() {
        assert_eq!(Username::parse("John_Doe.1").unwrap().key(), "john_doe.1");
        for bad in ["jo", "_john", "john doe", "jöhn", &"x".repeat(31)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert!(Password::parse("123456789").is_err());
        assert!(Password::parse("1234567890").is_ok());
        assert!(format!("{:?}", Password::parse("secret-password").unwrap()).contains("redacted"));
    }

    #[test]
    fn weekly_goal_is_bounded_by_the_minutes_in_a_week() {
        assert!(WeeklyGoal::parse(-1).is_err());
        assert!(WeeklyGoal::parse(10_081).is_err());
        assert_eq!(WeeklyGoal::parse(300).unwrap().minutes(), 300);
    }

    #[test]
    fn now_has_millisecond_precision() {
        assert_eq!(now().nanosecond() % 1_000_000, 0);
    }

    proptest! {
        #[test]
        fn username_parsing_never_panics_and_keys_are_lowercase(s in "\\PC{0,40}") {
            if let Ok(u) = Username::parse(&s) {
                prop_assert_eq!(u.key(), u.key().to_ascii_lowercase());
            }
        }

        #[test]
        fn email_parsing_never_panics(s in "\\PC{0,80}") {
            let _ = Email::parse(&s);
        }
    }
}

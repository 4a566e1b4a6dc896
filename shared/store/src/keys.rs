//! The single-table key schema: every key builder, and every access pattern they serve.
//!
//! Every partition key starts with `T#{tenant}#`, so no query can reach across tenants: a tenant's data
//! is disjoint from every other's by construction.
//!
//! | Entity | PK | SK | GSI1PK | GSI1SK |
//! |---|---|---|---|---|
//! | User | `T#{t}#USER#{userId}` | `PROFILE` | `T#{t}#USERS` | `ROLE#{role}#{userId}` |
//! | Email claim (unique) | `T#{t}#EMAIL#{lowercase email}` | `CLAIM` | | |
//! | Username claim (unique) | `T#{t}#USERNAME#{lowercase username}` | `CLAIM` | | |
//! | Session (refresh-token family) | `T#{t}#USER#{userId}` | `SESSION#{sessionId}` | | |
//! | Refresh token | `T#{t}#USER#{userId}` | `RTOKEN#{sessionId}#{sha256(secret)}` | | |
//! | Course | `T#{t}#COURSE#{courseId}` | `COURSE` | | |
//! | Failed sign-ins in a window | `T#{t}#EMAIL#{lowercase email}` | `SIGNIN_FAILURES#{window}` | | |
//!
//! | Access pattern | Key condition | Where | Calls |
//! |---|---|---|---|
//! | User by id | PK = user, SK = `PROFILE` | table | 1 get |
//! | User by email (sign in) | email claim + current and previous failure windows → its `userId` → user | table | 1 batch get + 1 get |
//! | Is a username taken | PK = username claim | table | 1 get |
//! | Users of a tenant, optionally by role | GSI1PK = `T#{t}#USERS`, GSI1SK begins_with `ROLE#{role}#` | GSI1 | 1 query |
//! | Refresh: user + session + token | the three keys | table | 1 batch get |
//! | Course by id | PK = course, SK = `COURSE` | table | 1 get |
//! | A user's sessions (suspend revokes them) | PK = user, SK begins_with `SESSION#` | table | 1 query |
//!
//! Uniqueness of emails and usernames is enforced by writing the claim items in the same transaction as
//! the user, each with "must not exist": of two concurrent registrations, one transaction is cancelled.

use lectern_domain::ids::SessionId;
use lectern_domain::user::{Email, UserRole, Username};
use lectern_domain::{CourseId, TenantId, UserId};

use crate::table::Key;

fn tenant(t: &TenantId) -> String {
    format!("T#{t}#")
}

/// The partition of everything that belongs to one user.
pub fn user_pk(t: &TenantId, user: UserId) -> String {
    format!("{}USER#{user}", tenant(t))
}

pub fn user(t: &TenantId, user: UserId) -> Key {
    Key::new(user_pk(t, user), "PROFILE")
}

pub fn email_claim(t: &TenantId, email: &Email) -> Key {
    Key::new(format!("{}EMAIL#{}", tenant(t), email.key()), "CLAIM")
}

/// Failed sign-ins for an email in one throttling window (window = epoch seconds / window length). It
/// lives in the email claim's partition, so sign in reads both in one batch.
pub fn signin_failures(t: &TenantId, email: &Email, window: i64) -> Key {
    Key::new(
        email_claim(t, email).pk,
        format!("SIGNIN_FAILURES#{window}"),
    )
}

pub fn username_claim(t: &TenantId, username: &Username) -> Key {
    Key::new(format!("{}USERNAME#{}", tenant(t), username.key()), "CLAIM")
}

/// GSI1 partition listing a tenant's users.
pub fn users_index_pk(t: &TenantId) -> String {
    format!("{}USERS", tenant(t))
}

/// GSI1 sort key of a user: grouped by role, then by id (UUIDv7, so by creation time).
pub fn users_index_sk(role: UserRole, user: UserId) -> String {
    format!("ROLE#{role}#{user}")
}

/// GSI1 sort-key prefix of the users with one role.
pub fn users_index_role_prefix(role: UserRole) -> String {
    format!("ROLE#{role}#")
}

/// The partition of a course's item collection.
pub fn course_pk(t: &TenantId, course: CourseId) -> String {
    format!("{}COURSE#{course}", tenant(t))
}

pub fn course(t: &TenantId, course: CourseId) -> Key {
    Key::new(course_pk(t, course), "COURSE")
}

pub const SESSION_PREFIX: &str = "SESSION#";

pub fn session(t: &TenantId, user: UserId, session: SessionId) -> Key {
    Key::new(user_pk(t, user), format!("{SESSION_PREFIX}{session}"))
}

pub fn refresh_token(t: &TenantId, user: UserId, session: SessionId, secret_hash: &str) -> Key {
    Key::new(user_pk(t, user), format!("RTOKEN#{session}#{secret_hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_key_starts_with_its_tenant() {
        let t = TenantId::parse("acme").unwrap();
        let u = UserId::new();
        let email = Email::parse("A@b.org").unwrap();
        let name = Username::parse("Ann").unwrap();
        for key in [
            user(&t, u),
            email_claim(&t, &email),
            username_claim(&t, &name),
            session(&t, u, SessionId::new()),
            refresh_token(&t, u, SessionId::new(), "ab"),
        ] {
            assert!(key.pk.starts_with("T#acme#"), "{key:?}");
        }
        assert!(users_index_pk(&t).starts_with("T#acme#"));
    }

    proptest! {
        #[test]
        fn tenants_never_share_a_partition(a in "[a-z0-9][a-z0-9-]{0,31}", b in "[a-z0-9][a-z0-9-]{0,31}") {
            prop_assume!(a != b);
            let (ta, tb) = (TenantId::parse(&a).unwrap(), TenantId::parse(&b).unwrap());
            let u = UserId::new();
            prop_assert_ne!(user(&ta, u).pk, user(&tb, u).pk);
            // No tenant's prefix is a prefix of another's partition keys (the '#' ends the tenant).
            let prefix = format!("T#{a}#");
            prop_assert!(!user(&tb, u).pk.starts_with(&prefix));
        }

        #[test]
        fn a_role_prefix_matches_exactly_that_role(role in prop_oneof![Just(UserRole::Student), Just(UserRole::Instructor), Just(UserRole::Admin)]) {
            let sk = users_index_sk(role, UserId::new());
            for other in [UserRole::Student, UserRole::Instructor, UserRole::Admin] {
                prop_assert_eq!(sk.starts_with(&users_index_role_prefix(other)), other == role);
            }
        }
    }
}

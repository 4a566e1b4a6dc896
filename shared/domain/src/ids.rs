//! Ids. Entity ids are UUIDv7 (time-ordered, so keys built from them sort by creation); tenant ids are
//! short slugs chosen by the operator.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validation::Invalid;

/// A tenant: an isolated school or organisation. Every stored key starts with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    /// 1–32 characters of `a-z`, `0-9` and `-`, not starting with `-`. The alphabet keeps the id safe
    /// inside key strings (no `#`) and inside refresh tokens (no `.`).
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let ok = !value.is_empty()
            && value.len() <= 32
            && !value.starts_with('-')
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(TenantId(value.to_owned()))
        } else {
            Err(Invalid::new("must be 1-32 characters of a-z, 0-9 and '-'"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        TenantId::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> String {
        value.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An entity id: a UUID newtype that reads only a UUID ("must be a UUID" otherwise, in a body as in
/// a stored item), writes itself as the hyphenated text, and describes itself in OpenAPI as a
/// string of format `uuid` with its doc line (one schema per id type, which fields refer to).
macro_rules! uuid_id {
    ($(#[doc = $doc:literal])* $name:ident) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Text;
                impl serde::de::Visitor<'_> for Text {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a UUID")
                    }

                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        $name::parse(value).map_err(|e| E::custom(e.0))
                    }
                }
                deserializer.deserialize_str(Text)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .description(Some(concat!($($doc),*).trim()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                $name(uuid::Uuid::now_v7())
            }

            /// Parses an id from a path or a body; anything but a UUID is invalid.
            pub fn parse(value: &str) -> Result<Self, Invalid> {
                uuid::Uuid::parse_str(value)
                    .map($name)
                    .map_err(|_| Invalid::new("must be a UUID"))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A user (student, instructor or admin) within a tenant.
    UserId
);

uuid_id!(
    /// A course of a tenant's catalog.
    CourseId
);

uuid_id!(
    /// A refresh-token family: every token rotated from one sign-in.
    SessionId
);

uuid_id!(
    /// A lesson of a course.
    LessonId
);

uuid_id!(
    /// A quiz of a course.
    QuizId
);

uuid_id!(
    /// One student's attempt at a quiz.
    AttemptId
);

uuid_id!(
    /// A question of a quiz (unique within its quiz).
    QuestionId
);

uuid_id!(
    /// A student's enrollment in a course (kept across unenrolling and enrolling again).
    EnrollmentId
);

uuid_id!(
    /// A student's rating of a course.
    RatingId
);

uuid_id!(
    /// A file kept in object storage.
    FileId
);

uuid_id!(
    /// An assignment of a course.
    AssignmentId
);

uuid_id!(
    /// A student's submission to an assignment.
    SubmissionId
);

impl SubmissionId {
    /// The id of `student`'s submission to `assignment`, the same at every read: a submission not
    /// started yet is not stored, and the one shown before starting must keep its id once it is
    /// (and keep the page it is shown on unchanged, for its entity tag). A version 8 UUID of the
    /// SHA-256 of both ids.
    pub fn of(assignment: AssignmentId, student: UserId) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(assignment.0.as_bytes())
            .chain_update(student.0.as_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        SubmissionId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }
}

uuid_id!(
    /// A payment for a course.
    PaymentId
);

uuid_id!(
    /// An invoice: the record of what a payment bought.
    InvoiceId
);

uuid_id!(
    /// A notification to a user.
    NotificationId
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tenant_ids_are_slugs() {
        assert!(TenantId::parse("default").is_ok());
        assert!(TenantId::parse("acme-2").is_ok());
        for bad in ["", "-x", "Acme", "a#b", "a.b", &"x".repeat(33)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_parsed_tenant_id_never_holds_a_key_or_token_separator(s in "\\PC{0,40}") {
            if let Ok(t) = TenantId::parse(&s) {
                prop_assert!(!t.as_str().contains('#') && !t.as_str().contains('.'));
            }
        }

        #[test]
        fn user_ids_round_trip_through_their_text(_x in 0u8..10) {
            let id = UserId::new();
            prop_assert_eq!(UserId::parse(&id.to_string()).unwrap(), id);
        }
    }
}

uuid_id!(
    /// An invitation to register in a tenant with a role.
    InvitationId
);

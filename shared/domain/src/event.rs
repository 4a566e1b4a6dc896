//! Domain events: what happened that something outside the write cares about (real-time clients,
//! notifications, webhooks to integrators, analytics, the audit log).
//!
//! A write records its event in its own transaction (the store's outbox), so an event exists exactly
//! when its change does; consumers receive it at least once and are idempotent by [`EventId`]. An
//! event's id is derived from its cause (the entity and the version the write produced), so a write
//! retried after an unknown outcome records the same event, not a twin.
//!
//! The JSON of an event is its [`EventEnvelope`]: `{"id", "tenant", "type", "schemaVersion",
//! "occurredAt", "actor", "subject", "payload"}`. Each type's payload has its own schema version
//! ([`DomainEvent::schema_version`]): a change that removes or changes a field is a new version, and a
//! consumer reads the versions it knows.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::course::Currency;
use crate::ids::{AssignmentId, CourseId, LessonId, PaymentId, SubmissionId, TenantId, UserId};

/// An event's id: `{type}:{cause}`, where the cause names the entity and the state the write left it
/// in, so that every write records a different id and a retried write the same one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    /// The id of the event of type `event_type` caused by `cause` (ids and versions joined by `:`).
    pub fn of(event_type: EventType, cause: &str) -> EventId {
        EventId(format!("{}:{cause}", event_type.as_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The types of events, as consumers subscribe to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    CourseUpdated,
    EnrollmentCreated,
    LessonCompleted,
    AssignmentSubmitted,
    AssignmentGraded,
    PaymentCompleted,
    PaymentRefunded,
    NotificationNew,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::CourseUpdated,
        EventType::EnrollmentCreated,
        EventType::LessonCompleted,
        EventType::AssignmentSubmitted,
        EventType::AssignmentGraded,
        EventType::PaymentCompleted,
        EventType::PaymentRefunded,
        EventType::NotificationNew,
    ];

    /// The type's name on the wire (`course.updated`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CourseUpdated => "course.updated",
            EventType::EnrollmentCreated => "enrollment.created",
            EventType::LessonCompleted => "lesson.completed",
            EventType::AssignmentSubmitted => "assignment.submitted",
            EventType::AssignmentGraded => "assignment.graded",
            EventType::PaymentCompleted => "payment.completed",
            EventType::PaymentRefunded => "payment.refunded",
            EventType::NotificationNew => "notification.new",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event is about: consumers that need order get the events of one subject in the order they
/// were recorded (the store keeps one subject's events in one partition; see `docs/events.md`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Subject {
    Course {
        #[serde(rename = "courseId")]
        course_id: CourseId,
    },
    /// A student's enrollment in a course (enrolling, their progress).
    #[serde(rename_all = "camelCase")]
    Enrollment {
        course_id: CourseId,
        student_id: UserId,
    },
    /// A student's submission to an assignment (submitting, grading).
    #[serde(rename_all = "camelCase")]
    Submission {
        assignment_id: AssignmentId,
        student_id: UserId,
    },
    Payment {
        #[serde(rename = "paymentId")]
        payment_id: PaymentId,
    },
    /// Something addressed to one user (their notifications).
    User {
        #[serde(rename = "userId")]
        user_id: UserId,
    },
}

/// A course's details changed (title, description, price, status, …): `course.updated`, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CourseUpdated {
    pub course_id: CourseId,
    pub instructor_id: UserId,
    pub title: String,
    pub status: crate::course::CourseStatus,
    /// The course's version after the change.
    pub version: u64,
}

/// A student enrolled (or enrolled again) in a course: `enrollment.created`, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentCreated {
    pub course_id: CourseId,
    pub student_id: UserId,
    /// The payment that grants it, when it was bought.
    pub payment_id: Option<PaymentId>,
}

/// A student completed a lesson: `lesson.completed`, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LessonCompleted {
    pub course_id: CourseId,
    pub lesson_id: LessonId,
    pub student_id: UserId,
    /// Whether that completed the course.
    pub course_completed: bool,
}

/// A student handed in a submission: `assignment.submitted`, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentSubmitted {
    pub course_id: CourseId,
    pub assignment_id: AssignmentId,
    pub submission_id: SubmissionId,
    pub student_id: UserId,
    /// Submissions made so far, this one included.
    pub attempt: u32,
    pub late: bool,
}

/// A submission was graded (or its grade changed): `assignment.graded`, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentGraded {
    pub course_id: CourseId,
    pub assignment_id: AssignmentId,
    pub submission_id: SubmissionId,
    pub student_id: UserId,
    pub graded_by: UserId,
    /// `None` for the first grade.
    pub old_grade: Option<f64>,
    pub new_grade: f64,
}

/// A payment settled: `payment.completed` (it went through and entitles its student) or
/// `payment.refunded`, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSettled {
    pub payment_id: PaymentId,
    pub course_id: CourseId,
    pub course_title: String,
    pub student_id: UserId,
    /// In the currency's minor unit.
    pub amount: i64,
    /// What was refunded so far, in the minor unit (0 when none).
    pub refunded_amount: i64,
    pub currency: Currency,
}

/// A notification was written for a user: `notification.new`, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationNew {
    pub notification_id: String,
    pub user_id: UserId,
    pub kind: crate::notification::NotificationKind,
    pub title: String,
}

/// An event: its type and payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum DomainEvent {
    #[serde(rename = "course.updated")]
    CourseUpdated(CourseUpdated),
    #[serde(rename = "enrollment.created")]
    EnrollmentCreated(EnrollmentCreated),
    #[serde(rename = "lesson.completed")]
    LessonCompleted(LessonCompleted),
    #[serde(rename = "assignment.submitted")]
    AssignmentSubmitted(AssignmentSubmitted),
    #[serde(rename = "assignment.graded")]
    AssignmentGraded(AssignmentGraded),
    #[serde(rename = "payment.completed")]
    PaymentCompleted(PaymentSettled),
    #[serde(rename = "payment.refunded")]
    PaymentRefunded(PaymentSettled),
    #[serde(rename = "notification.new")]
    NotificationNew(NotificationNew),
}

impl DomainEvent {
    pub fn event_type(&self) -> EventType {
        match self {
            DomainEvent::CourseUpdated(_) => EventType::CourseUpdated,
            DomainEvent::EnrollmentCreated(_) => EventType::EnrollmentCreated,
            DomainEvent::LessonCompleted(_) => EventType::LessonCompleted,
            DomainEvent::AssignmentSubmitted(_) => EventType::AssignmentSubmitted,
            DomainEvent::AssignmentGraded(_) => EventType::AssignmentGraded,
            DomainEvent::PaymentCompleted(_) => EventType::PaymentCompleted,
            DomainEvent::PaymentRefunded(_) => EventType::PaymentRefunded,
            DomainEvent::NotificationNew(_) => EventType::NotificationNew,
        }
    }

    /// The version of this type's payload schema. Version 1 for every type so far.
    pub fn schema_version(&self) -> u32 {
        1
    }

    /// The subject whose events are delivered in order.
    pub fn subject(&self) -> Subject {
        match self {
            DomainEvent::CourseUpdated(e) => Subject::Course {
                course_id: e.course_id,
            },
            DomainEvent::EnrollmentCreated(EnrollmentCreated {
                course_id,
                student_id,
                ..
            })
            | DomainEvent::LessonCompleted(LessonCompleted {
                course_id,
                student_id,
                ..
            }) => Subject::Enrollment {
                course_id: *course_id,
                student_id: *student_id,
            },
            DomainEvent::AssignmentSubmitted(AssignmentSubmitted {
                assignment_id,
                student_id,
                ..
            })
            | DomainEvent::AssignmentGraded(AssignmentGraded {
                assignment_id,
                student_id,
                ..
            }) => Subject::Submission {
                assignment_id: *assignment_id,
                student_id: *student_id,
            },
            DomainEvent::PaymentCompleted(e) | DomainEvent::PaymentRefunded(e) => {
                Subject::Payment {
                    payment_id: e.payment_id,
                }
            }
            DomainEvent::NotificationNew(e) => Subject::User { user_id: e.user_id },
        }
    }
}

/// An event as it is recorded and delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope {
    pub id: EventId,
    pub tenant: TenantId,
    /// `type` and `payload`.
    #[serde(flatten)]
    pub event: DomainEvent,
    pub schema_version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The signed-in user whose write caused it; `None` when the platform acted (a payment's
    /// settlement).
    pub actor: Option<UserId>,
    pub subject: Subject,
}

impl EventEnvelope {
    /// The envelope of `event`, caused by `cause` (see [`EventId::of`]).
    pub fn new(
        tenant: TenantId,
        event: DomainEvent,
        cause: &str,
        occurred_at: OffsetDateTime,
        actor: Option<UserId>,
    ) -> EventEnvelope {
        EventEnvelope {
            id: EventId::of(event.event_type(), cause),
            tenant,
            schema_version: event.schema_version(),
            subject: event.subject(),
            event,
            occurred_at,
            actor,
        }
    }

    pub fn event_type(&self) -> EventType {
        self.event.event_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course_updated() -> EventEnvelope {
        let course_id = CourseId::new();
        EventEnvelope::new(
            TenantId::parse("acme").unwrap(),
            DomainEvent::CourseUpdated(CourseUpdated {
                course_id,
                instructor_id: UserId::new(),
                title: "Rust".into(),
                status: crate::course::CourseStatus::Published,
                version: 3,
            }),
            &format!("{course_id}:3"),
            OffsetDateTime::UNIX_EPOCH,
            None,
        )
    }

    #[test]
    fn an_envelope_names_its_type_and_version_beside_its_payload() {
        let event = course_updated();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "course.updated");
        assert_eq!(json["schemaVersion"], 1);
        assert_eq!(json["payload"]["title"], "Rust");
        assert_eq!(
            json["subject"]["course"]["courseId"],
            json["payload"]["courseId"]
        );
        assert!(json["id"].as_str().unwrap().starts_with("course.updated:"));
        assert_eq!(
            serde_json::from_value::<EventEnvelope>(json).unwrap(),
            event
        );
    }

    #[test]
    fn the_same_cause_makes_the_same_id() {
        let a = EventId::of(EventType::PaymentCompleted, "p1");
        assert_eq!(a, EventId::of(EventType::PaymentCompleted, "p1"));
        assert_ne!(a, EventId::of(EventType::PaymentRefunded, "p1"));
    }

    #[test]
    fn every_type_has_a_distinct_name() {
        let names: std::collections::BTreeSet<_> =
            EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names.len(), EventType::ALL.len());
    }
}

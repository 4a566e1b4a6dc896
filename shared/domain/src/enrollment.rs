//! Enrollment and progress: a student's membership of a course and what they have done in it.
//! Contract: seed 002 `CourseEnrollment`, `CourseProgress`; issue "Courses" §Enrollment and progress.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::ids::{CourseId, EnrollmentId, LessonId, PaymentId, QuizId, TenantId, UserId};
use crate::lesson::Lesson;

/// Whether a student is in the course now. Unenrolling keeps the record (and its progress), so that
/// enrolling again picks up where the student stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentStatus {
    Active,
    Unenrolled,
}

/// What grants a student their (current or last) enrollment. A settlement of a payment may revoke only
/// an enrollment that the same payment granted, so a late event about an old, refunded payment cannot
/// take away access a newer payment bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Grant {
    /// The course was free when the student enrolled.
    Free,
    /// This payment bought it.
    Payment { payment_id: PaymentId },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrollment {
    pub id: EnrollmentId,
    pub tenant: TenantId,
    pub course_id: CourseId,
    pub student_id: UserId,
    pub status: EnrollmentStatus,
    /// When the current (or last) enrollment began.
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub unenrolled_at: Option<OffsetDateTime>,
    /// Lessons completed, with when.
    #[serde(default)]
    pub completed_lessons: BTreeMap<LessonId, String>,
    /// Quizzes passed, with when.
    #[serde(default)]
    pub passed_quizzes: BTreeMap<QuizId, String>,
    /// When the course was completed (every lesson done and every quiz passed at that moment).
    /// Completion is a fact that stays, like a certificate: lessons added later do not undo it.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_activity: Option<OffsetDateTime>,
    /// What grants the enrollment (absent on enrollments recorded before grants were: see
    /// [`Enrollment::granted_by_payment`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<Grant>,
    pub version: u64,
}

/// Progress through a course, over its current lessons and quizzes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub total_lessons: u32,
    pub completed_lessons: u32,
    pub total_quizzes: u32,
    pub completed_quizzes: u32,
    /// 0–100, one decimal: lessons and quizzes done over lessons and quizzes there are.
    pub completion_percentage: f64,
    /// Minutes of the lessons not yet completed.
    pub estimated_time_remaining: u32,
}

impl Enrollment {
    pub fn new(
        tenant: TenantId,
        course: CourseId,
        student: UserId,
        at: OffsetDateTime,
        grant: Grant,
    ) -> Self {
        Enrollment {
            id: EnrollmentId::new(),
            tenant,
            course_id: course,
            student_id: student,
            status: EnrollmentStatus::Active,
            enrolled_at: at,
            unenrolled_at: None,
            completed_lessons: BTreeMap::new(),
            passed_quizzes: BTreeMap::new(),
            completed_at: None,
            last_activity: Some(at),
            granted_by: Some(grant),
            version: 1,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == EnrollmentStatus::Active
    }

    /// Whether `payment` grants this enrollment. An enrollment recorded before grants were has none;
    /// then the student's current payment for the course (`current`, what their purchase slot points
    /// at) stands for it.
    pub fn granted_by_payment(&self, payment: PaymentId, current: Option<PaymentId>) -> bool {
        match self.granted_by {
            Some(Grant::Payment { payment_id }) => payment_id == payment,
            Some(Grant::Free) => false,
            None => current == Some(payment),
        }
    }

    pub fn is_completed(&self) -> bool {
        self.completed_at.is_some()
    }

    /// When a lesson was completed (RFC 3339), if it was.
    pub fn lesson_completed_at(&self, lesson: LessonId) -> Option<&str> {
        self.completed_lessons.get(&lesson).map(String::as_str)
    }

    /// Progress over the course's current lessons and quizzes (completions of deleted ones do not
    /// count).
    pub fn progress(&self, lessons: &[Lesson], quizzes: &[QuizId]) -> Progress {
        let done: Vec<&Lesson> = lessons
            .iter()
            .filter(|l| self.completed_lessons.contains_key(&l.id))
            .collect();
        let passed = quizzes
            .iter()
            .filter(|q| self.passed_quizzes.contains_key(q))
            .count() as u32;
        let total = lessons.len() + quizzes.len();
        let finished = done.len() + passed as usize;
        let percentage = if total == 0 {
            0.0
        } else {
            (finished as f64 * 1000.0 / total as f64).round() / 10.0
        };
        Progress {
            total_lessons: lessons.len() as u32,
            completed_lessons: done.len() as u32,
            total_quizzes: quizzes.len() as u32,
            completed_quizzes: passed,
            completion_percentage: percentage,
            estimated_time_remaining: lessons
                .iter()
                .filter(|l| !self.completed_lessons.contains_key(&l.id))
                .map(|l| l.estimated_time)
                .sum(),
        }
    }

    /// Whether, with these lessons and quizzes, everything is done (a course with nothing in it is
    /// never completed).
    pub fn has_finished(&self, lessons: &[Lesson], quizzes: &[QuizId]) -> bool {
        let p = self.progress(lessons, quizzes);
        p.total_lessons + p.total_quizzes > 0
            && p.completed_lessons == p.total_lessons
            && p.completed_quizzes == p.total_quizzes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::LessonTitle;

    fn lesson(minutes: u32) -> Lesson {
        let now = OffsetDateTime::UNIX_EPOCH;
        Lesson {
            id: LessonId::new(),
            course_id: CourseId::new(),
            title: LessonTitle::parse("L").unwrap(),
            description: String::new(),
            estimated_time: minutes,
            content_bytes: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    #[test]
    fn progress_counts_current_lessons_and_quizzes() {
        let t = TenantId::parse("default").unwrap();
        let mut e = Enrollment::new(
            t,
            CourseId::new(),
            UserId::new(),
            OffsetDateTime::UNIX_EPOCH,
            Grant::Free,
        );
        let lessons = vec![lesson(10), lesson(20), lesson(30)];
        let quiz = QuizId::new();
        e.completed_lessons.insert(lessons[0].id, "x".into());
        e.completed_lessons
            .insert(LessonId::new(), "deleted lesson".into());
        let p = e.progress(&lessons, &[quiz]);
        assert_eq!((p.completed_lessons, p.total_lessons), (1, 3));
        assert_eq!(p.completion_percentage, 25.0);
        assert_eq!(p.estimated_time_remaining, 50);
        assert!(!e.has_finished(&lessons, &[quiz]));
        for l in &lessons {
            e.completed_lessons.insert(l.id, "x".into());
        }
        e.passed_quizzes.insert(quiz, "x".into());
        assert!(e.has_finished(&lessons, &[quiz]));
        assert!(!e.has_finished(&[], &[]));
    }

    #[test]
    fn only_the_payment_that_granted_an_enrollment_is_its_grant() {
        let t = TenantId::parse("default").unwrap();
        let (old, new) = (PaymentId::new(), PaymentId::new());
        let at = OffsetDateTime::UNIX_EPOCH;
        let paid = Enrollment::new(
            t.clone(),
            CourseId::new(),
            UserId::new(),
            at,
            Grant::Payment { payment_id: new },
        );
        assert!(paid.granted_by_payment(new, None));
        assert!(!paid.granted_by_payment(old, Some(old)));
        let free = Enrollment::new(t, CourseId::new(), UserId::new(), at, Grant::Free);
        assert!(!free.granted_by_payment(new, Some(new)));
        // Recorded before grants were: the student's current payment stands for the grant.
        let mut legacy = paid.clone();
        legacy.granted_by = None;
        assert!(legacy.granted_by_payment(new, Some(new)));
        assert!(!legacy.granted_by_payment(old, Some(new)));
        let json = serde_json::to_value(&paid).unwrap();
        assert_eq!(json["grantedBy"]["kind"], "payment");
        assert_eq!(json["grantedBy"]["paymentId"], new.to_string());
    }
}

//! Lectern's domain: the entities, ids, enums and rules of an e-learning platform, with no I/O.
//!
//! Values are parsed at the edge into the types here (`Email::parse`, `Username::parse`, …), so the
//! rest of the code only ever holds valid ones.
//!
//! # Layout
//! - [`assignment`]: assignments, rubrics, late policies; submissions, their lifecycle and grades.
//! - [`catalog`]: the catalog list: filters, word-prefix search, sort orders, pages and keyset positions.
//! - [`course`]: course categories, difficulty, draft/published status, titles, prices, https URLs.
//! - [`enrollment`]: a student's enrollment in a course and their progress through it.
//! - [`event`]: domain events (`course.updated`, `payment.completed`, …), their envelope and ids.
//! - [`lesson`]: lessons, their content, and the outline that orders them.
//! - [`notification`]: what the platform tells a user (a purchase confirmed, a refund).
//! - [`payment`]: payments for courses, their status from the provider's facts, invoices, disputes.
//! - [`quiz`]: quizzes: questions, attempts, grading.
//! - [`rating`]: ratings and reviews of courses.
//! - [`refresh`]: refresh tokens as clients hold them and the store keeps them (a hash), and the
//!   sessions' lifetime.
//! - [`file`]: files in object storage: purposes, status, the stored description.
//! - [`ids`]: tenant and entity ids (newtypes, never bare strings).
//! - [`validation`]: per-field validation errors, collected so a client sees all of them at once.
//! - [`user`]: users: roles, status, study time, and the value types a profile is made of.

pub mod assignment;
pub mod catalog;
pub mod course;
pub mod enrollment;
pub mod event;
pub mod file;
pub mod ids;
pub mod invitation;
pub mod lesson;
pub mod notification;
pub mod payment;
pub mod quiz;
pub mod rating;
pub mod refresh;
pub mod user;
pub mod validation;

pub use ids::{
    AssignmentId, AttemptId, CourseId, EnrollmentId, FileId, InvitationId, InvoiceId, LessonId,
    NotificationId, PaymentId, QuestionId, QuizId, RatingId, SessionId, SubmissionId, TenantId,
    UserId,
};
pub use validation::{FieldErrors, Invalid};

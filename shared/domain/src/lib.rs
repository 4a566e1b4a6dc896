//! Lectern's domain: the entities, ids, enums and rules of an e-learning platform, with no I/O.
//!
//! Values are parsed at the edge into the types here (`Email::parse`, `Username::parse`, …), so the
//! rest of the code only ever holds valid ones.
//!
//! # Layout
//! - [`course`]: course categories, difficulty, draft/published status, titles, prices, https URLs.
//! - [`ids`]: tenant and entity ids (newtypes, never bare strings).
//! - [`validation`]: per-field validation errors, collected so a client sees all of them at once.
//! - [`user`]: users: roles, status, study time, and the value types a profile is made of.

pub mod course;
pub mod ids;
pub mod user;
pub mod validation;

pub use ids::{CourseId, SessionId, TenantId, UserId};
pub use validation::{FieldErrors, Invalid};

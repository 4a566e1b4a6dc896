//! Lectern's single-table store.
//!
//! Everything Lectern keeps lives in one DynamoDB table (or, locally, one SQLite file that behaves the
//! same). Repositories speak to it only through the [`Table`] port.
//!
//! # Layout
//! - [`actor`]: who makes a write: the check of the actor's own user item every write carries.
//! - [`item`]: attribute values and items, and serde conversion of entities to and from items.
//! - [`table`]: the `Table` port: keys, indexes, conditions, updates, queries, transactions, errors.
//! - [`cursor`]: opaque page cursors, checked against the query they are used with.
//! - [`checks`]: DynamoDB's request limits, applied by every backend before it touches data.
//! - `eval`: DynamoDB's rules as pure functions: requests it refuses, its numbers, how conditions
//!   and updates apply to an item (the SQLite backend's evaluator).
//! - [`sqlite`]: the embedded backend (local runs, fast tests), several processes on one file.
//! - [`dynamo`]: the production backend on aws-sdk-dynamodb.
//! - [`keys`]: the key schema: every key builder and the access patterns they serve.
//! - [`users`]: users and their unique email and username claims.
//! - [`courses`]: the courses of a catalog; the course page (its item collection, then what it shows
//!   beside it: instructor, the reader's enrollment and submissions, linked courses).
//! - [`enrollments`]: enrollments and progress, with the course's counters kept exact; courses with a
//!   user's enrollment in each; a student's work in a course (quiz standings, submissions).
//! - [`lessons`]: lessons, their content and their order.
//! - [`ratings`]: ratings, with the course's exact average and its latest reviews.
//! - [`catalog`]: the catalog: a course's entries in every list (filter × order), its counts and
//!   search terms, written with the course; a page is one query of its list's entries and one batch
//!   get of its courses, instructors and count.
//! - [`sessions`]: refresh-token families: rotation, reuse detection, revocation.
//! - [`assignments`]: assignments, one submission per student (race-safe attempts), the grade log.
//! - [`files`]: files' descriptions (bytes in object storage); pending ones expire.
//! - [`invitations`]: invitations to register with a role, used up by the registration.
//! - [`limits`]: rate-limit windows: fixed-window counters taken by one conditional update.
//! - [`idempotency`]: idempotency keys, claimed before the work they name and completed with it.
//! - [`payments`]: payments (facts from the provider), their provider ids and events, purchase
//!   slots, the wallet.
//! - [`invoices`]: invoices, opened with their payment, paid with gapless numbers; overdue ones.
//! - [`disputes`]: the tenant's list of disputed payments.
//! - [`revenue`]: revenue counters per day and per course, added to by the writes that move money.
//! - [`notifications`]: a user's notifications, written once per cause, marked read.
//! - [`outbox`]: domain events recorded in the transaction of their change, and which consumers
//!   have handled them.
//! - [`quizzes`]: quizzes, their attempts, and each student's standing (attempts used, kept score).

pub mod actor;
pub mod assignments;
pub mod catalog;
pub mod checks;
pub mod courses;
pub mod cursor;
pub mod disputes;
pub mod dynamo;
pub mod enrollments;
mod eval;
pub mod files;
pub mod idempotency;
pub mod invitations;
pub mod invoices;
pub mod item;
pub mod keys;
pub mod lessons;
pub mod limits;
pub mod notifications;
pub mod outbox;
pub mod payments;
pub mod quizzes;
pub mod ratings;
pub mod revenue;
pub mod sessions;
pub mod sqlite;
pub mod table;
pub mod users;

pub use actor::{Actor, Power, Refusal};
pub use cursor::Cursor;
pub use item::{AttrValue, Item, from_item, to_item};
pub use table::{
    Condition, Index, Key, Page, Query, SortKeyCondition, StoreError, StoreResult, Table, TxAction,
    Update, UpdateAction,
};

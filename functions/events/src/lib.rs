//! Lectern's domain-event router: every event a write records in the outbox reaches the consumers
//! that subscribe to its type, at least once, and each consumer handles it once.
//!
//! In AWS, DynamoDB Streams on the table (new images, an event source mapping filtered to outbox
//! items) invokes this function with batches of records; locally the local server feeds the same
//! router from the SQLite file's stream ([`local`]). Either way a record whose consumers did not all
//! succeed comes back later (bounded retries, then a dead letter), and the consumers that had
//! succeeded are skipped by their markers. Consumers are still written to be idempotent by event id:
//! a consumer that succeeded but whose marker was not written sees the event again. How to add an
//! event type or a consumer: `docs/events.md`.
//!
//! # Layout
//! - [`router`]: the [`Consumer`] trait and the [`EventRouter`] that hands one event to its
//!   consumers, skipping those that handled it.
//! - [`stream`]: the Lambda side: a DynamoDB Streams batch to the router, failures reported by
//!   sequence number, in order.
//! - [`local`]: the local side: a task that drains the SQLite file's stream into the router.
//! - [`notifications`]: the consumer that tells a student about their payment.

pub mod local;
pub mod notifications;
pub mod router;
pub mod stream;

use std::sync::Arc;

use lectern_store::Table;

pub use router::{Consumer, EventRouter};

/// The platform's consumers, over `table`.
pub fn platform_consumers(table: &Arc<dyn Table>) -> Vec<Arc<dyn Consumer>> {
    let notifications: Arc<dyn Consumer> =
        Arc::new(notifications::PaymentNotifications::new(table.clone()));
    vec![notifications]
}

//! Lectern's queues.
//!
//! Work that must not be lost but need not be done inside a request (a Stripe event to process, a
//! payment to confirm, a webhook to deliver) goes on a queue; a worker takes it off and hands each
//! message to a [`Handler`]. Delivery is at least once: a message not deleted after it was handled
//! comes back after its visibility timeout, and one that keeps failing ends in the queue's
//! dead-letter queue, where it can be inspected and redriven. Handlers are therefore idempotent.
//!
//! In AWS the queues are SQS queues and the workers are Lambda functions with an SQS event source;
//! locally the same handlers are fed from a queue in the SQLite file of the table, with the same
//! semantics, by a delivery loop in the local server.
//!
//! # Layout
//! - [`queue`]: the `Queue` port (messages, receipts, dead letters, errors), the `Handler` its
//!   consumers implement, and the request limits every backend applies before it touches data.
//! - [`sqlite`]: the embedded backend: tables in the SQLite file of the store, several processes on
//!   one file.
//! - [`sqs`]: the production backend on aws-sdk-sqs; the dead-letter queue is SQS's redrive policy.
//! - [`lambda`]: the Lambda side: an SQS event to a handler, partial batch failures, `run_lambda`.
//! - [`worker`]: the local side: a task that drains a queue into a handler.

pub mod lambda;
pub mod queue;
pub mod sqlite;
pub mod sqs;
pub mod worker;

pub use lambda::{handle_batch, run_lambda};
pub use queue::{
    DeadLetter, Handler, Message, OutgoingMessage, Queue, QueueError, QueueResult, Received,
};
pub use sqlite::{QueuePolicy, SqliteQueue};
pub use sqs::SqsQueue;
pub use worker::{WorkerHandle, WorkerOptions, spawn_worker};

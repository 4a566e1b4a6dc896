//! The payment queues: their names, and opening them as every function opens its queues
//! ([`lectern_runtime::queues`]: SQS in AWS, the SQLite file locally). Each Lambda opens only the
//! queues it uses, once, at cold start.

pub use lectern_payments::workers::{CONFIRMATIONS_QUEUE, EVENTS_QUEUE};
pub use lectern_runtime::queues::{LocalQueues, local_queues, queue, queues};

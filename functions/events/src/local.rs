//! The local side of the router: a task that drains the SQLite file's stream of outbox items into the
//! [`EventRouter`], as DynamoDB Streams and the event source mapping do in AWS.
//!
//! The same semantics: at least once; a record whose consumers did not all succeed comes back after
//! [`FeedOptions::retry_after`] and, after [`FeedOptions::max_attempts`], stays in the file as a dead
//! letter (logged as an error; [`SqliteTable::stream_dead_letters`] lists them); one subject's events
//! are delivered one at a time, in order. Records of different subjects are routed concurrently, up to
//! [`BATCH`] at a time. One feeder per file.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use lectern_store::sqlite::{SqliteTable, StreamRecord};
use time::OffsetDateTime;
use tokio::task::JoinHandle;

use crate::router::EventRouter;

/// Records routed at a time (as a stream batch).
pub const BATCH: usize = 10;

/// How the feeder polls and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedOptions {
    /// The pause after a poll that found nothing (or failed).
    pub idle_poll: Duration,
    /// When a failed record is due again.
    pub retry_after: Duration,
    /// Deliveries before a record is a dead letter (the event source mapping's retries + 1).
    pub max_attempts: u32,
    /// How long a record being routed stays hidden from the next poll.
    pub lease: Duration,
}

impl Default for FeedOptions {
    /// 20 ms between polls of an idle stream (an event reaches its consumers well within a second);
    /// a failed record again after 1 s, five times at most, as the template's mapping retries.
    fn default() -> Self {
        FeedOptions {
            idle_poll: Duration::from_millis(20),
            retry_after: Duration::from_secs(1),
            max_attempts: 5,
            lease: Duration::from_secs(30),
        }
    }
}

/// The running feeder; dropping it stops it.
pub struct FeederHandle {
    task: JoinHandle<()>,
}

impl Drop for FeederHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn epoch_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Starts the feeder on the current tokio runtime: `stream` is a handle on the store's file (a
/// connection of its own, so polling does not wait behind requests).
pub fn spawn_feeder(
    stream: Arc<SqliteTable>,
    router: Arc<EventRouter>,
    options: FeedOptions,
) -> FeederHandle {
    let task = tokio::spawn(async move {
        tracing::info!("event feeder started");
        loop {
            let now = epoch_ms(OffsetDateTime::now_utc());
            match stream.stream_take(BATCH, now, millis(options.lease)) {
                Ok(records) if !records.is_empty() => {
                    join_all(
                        records
                            .into_iter()
                            .map(|record| deliver(&stream, &router, record, options)),
                    )
                    .await;
                }
                Ok(_) => tokio::time::sleep(options.idle_poll).await,
                Err(e) => {
                    tracing::error!(
                        error = format!("{:#}", anyhow::Error::new(e)),
                        "reading the event stream failed"
                    );
                    tokio::time::sleep(options.idle_poll).await;
                }
            }
        }
    });
    FeederHandle { task }
}

async fn deliver(
    stream: &SqliteTable,
    router: &EventRouter,
    record: StreamRecord,
    options: FeedOptions,
) {
    let seq = record.seq;
    let outcome = match router.route(record.image).await {
        Ok(_) => stream.stream_done(seq).map_err(anyhow::Error::new),
        Err(e) => {
            let retry_at = epoch_ms(OffsetDateTime::now_utc()) + millis(options.retry_after);
            let error = format!("{e:#}");
            match stream.stream_failed(seq, &error, retry_at, options.max_attempts) {
                Ok(true) => {
                    tracing::error!(seq, attempts = record.attempts + 1, %error, "event dead-lettered");
                    Ok(())
                }
                Ok(false) => {
                    tracing::warn!(seq, attempts = record.attempts + 1, %error, "event not delivered; it will be retried");
                    Ok(())
                }
                Err(e) => Err(anyhow::Error::new(e)),
            }
        }
    };
    if let Err(e) = outcome {
        // The record's lease runs out and it is delivered again: consumers that succeeded are skipped.
        tracing::warn!(
            seq,
            error = format!("{e:#}"),
            "recording the delivery failed"
        );
    }
}

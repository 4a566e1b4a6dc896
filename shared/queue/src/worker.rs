//! The local side of a queue: a task that drains it into a [`Handler`], as Lambda's SQS event source
//! does in AWS.
//!
//! The loop receives up to 10 messages, hands each to the handler in a task of its own (so one
//! message's panic is that message's failure), deletes those handled, and leaves the others to come
//! back after the visibility timeout and, after the queue's maximum receive count, to go to the
//! dead-letter queue. It waits for the whole batch before receiving again, which bounds the work in
//! flight to one batch (and means a handler that never returns stalls its worker: unlike Lambda,
//! nothing times it out). When the queue is empty it sleeps `idle_poll`; a failing receive is logged
//! and retried after the same pause.
//!
//! (With `panic = "abort"`, as in release builds, a panic ends the process instead: catching it is
//! for the debug builds of local runs and tests.)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::queue::{Handler, MAX_RECEIVE, Queue, Received};

/// How a worker polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerOptions {
    /// The pause after a receive that found nothing (or failed).
    pub idle_poll: Duration,
    /// How long a received message stays hidden: longer than the handler takes, or another receive
    /// gets it while it is being handled (which idempotent handlers survive, but wastefully).
    pub visibility: Duration,
}

impl Default for WorkerOptions {
    /// 50 ms between polls of an idle queue; 30 s to handle a message (SQS's default).
    fn default() -> Self {
        WorkerOptions {
            idle_poll: Duration::from_millis(50),
            visibility: Duration::from_secs(30),
        }
    }
}

/// A running worker. Dropping it stops the worker after the batch in hand; [`WorkerHandle::stop`]
/// also waits for that.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    /// Stops the worker and waits until its last batch is handled.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            // The loop catches its handlers' panics; this would be a panic of the loop itself.
            tracing::error!(error = %e, "the queue worker ended abnormally");
        }
    }
}

/// Starts a task (on the current tokio runtime) that delivers `queue`'s messages to `handler` until
/// the returned handle is stopped or dropped.
pub fn spawn_worker(
    queue: Arc<dyn Queue>,
    handler: Arc<dyn Handler>,
    options: WorkerOptions,
) -> WorkerHandle {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(deliver(queue, handler, options, stopped));
    WorkerHandle { stop, task }
}

/// The loop: returns when asked to stop or when the handle is gone.
async fn deliver(
    queue: Arc<dyn Queue>,
    handler: Arc<dyn Handler>,
    options: WorkerOptions,
    mut stopped: watch::Receiver<bool>,
) {
    let queue_name = queue.name().to_owned();
    tracing::info!(queue = %queue_name, "queue worker started");
    loop {
        // Stopped, or the handle dropped (the channel closed).
        if *stopped.borrow() || stopped.has_changed().is_err() {
            break;
        }
        let batch = tokio::select! {
            biased;
            _ = stopped.changed() => break,
            batch = queue.receive(MAX_RECEIVE, options.visibility) => batch,
        };
        let idle = match batch {
            Ok(batch) if batch.is_empty() => true,
            Ok(batch) => {
                handle_all(&queue, &handler, batch).await;
                false
            }
            Err(e) => {
                tracing::error!(queue = %queue_name, error = format!("{:#}", anyhow::Error::new(e)), "receive failed");
                true
            }
        };
        if idle {
            tokio::select! {
                biased;
                // A closed channel (the handle dropped) counts as a stop too.
                _ = stopped.changed() => break,
                () = tokio::time::sleep(options.idle_poll) => {}
            }
        }
    }
    tracing::info!(queue = %queue_name, "queue worker stopped");
}

/// Handles a batch, each message in a task of its own, deleting those handled.
async fn handle_all(queue: &Arc<dyn Queue>, handler: &Arc<dyn Handler>, batch: Vec<Received>) {
    let mut tasks = JoinSet::new();
    let mut ids = HashMap::new();
    for Received { message, receipt } in batch {
        let (queue, handler) = (Arc::clone(queue), Arc::clone(handler));
        let message_id = message.id.clone();
        let task = tasks.spawn(async move {
            match handler.handle(&message).await {
                Ok(()) => {
                    if let Err(e) = queue.delete(&receipt).await {
                        // Handled but not deleted: it comes back, and the handler is idempotent.
                        tracing::warn!(queue = %queue.name(), message_id = %message.id, error = format!("{:#}", anyhow::Error::new(e)), "delete failed");
                    }
                }
                Err(e) => tracing::warn!(
                    queue = %queue.name(),
                    message_id = %message.id,
                    receive_count = message.receive_count,
                    error = format!("{e:#}"),
                    "message not processed; it will be retried"
                ),
            }
        });
        ids.insert(task.id(), message_id);
    }
    while let Some(outcome) = tasks.join_next().await {
        if let Err(e) = outcome {
            // The message stays in the queue, as if the handler had returned an error.
            let message_id = ids.get(&e.id()).map_or("?", String::as_str);
            tracing::error!(queue = %queue.name(), message_id, error = %e, "the handler panicked");
        }
    }
}

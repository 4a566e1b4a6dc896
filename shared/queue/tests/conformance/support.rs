//! The queue under test and the polling helpers the behaviours share.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_queue::{OutgoingMessage, Queue, QueuePolicy, Received, SqliteQueue, SqsQueue};
use lectern_testkit::moto::QueueUrls;

/// Deliveries before the dead-letter queue, for every backend under test.
pub const MAX_RECEIVES: u32 = 2;
/// A visibility timeout short enough to wait out (SQS counts whole seconds).
pub const VISIBILITY: Duration = Duration::from_secs(1);
/// Long enough that a message stays hidden for the rest of a test.
pub const HIDDEN: Duration = Duration::from_secs(60);
/// How long a poll for something that should happen may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A queue under test: one backend's queue, and the means to open it again as another process
/// would. It derefs to the queue, so behaviours call `q.send(..)`, `q.receive(..)` directly.
pub struct Subject {
    queue: Arc<dyn Queue>,
    backend: Backend,
}

enum Backend {
    Sqlite {
        path: PathBuf,
        _dir: tempfile::TempDir,
    },
    Sqs {
        urls: QueueUrls,
    },
}

impl Subject {
    pub async fn sqlite() -> Subject {
        Self::sqlite_with(QueuePolicy::new(MAX_RECEIVES))
    }

    pub fn sqlite_with(policy: QueuePolicy) -> Subject {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        Subject {
            queue: Arc::new(SqliteQueue::open(&path, "jobs", policy).unwrap()),
            backend: Backend::Sqlite { path, _dir: dir },
        }
    }

    /// The queue on the connection of the store's table in the same file, as the payments function
    /// and the events worker open their local queues.
    pub async fn sqlite_on_store() -> Subject {
        let (dir, table) = lectern_testkit::temp_sqlite();
        let queue =
            SqliteQueue::on_connection(table.connection(), "jobs", QueuePolicy::new(MAX_RECEIVES))
                .unwrap();
        Subject {
            queue: Arc::new(queue),
            backend: Backend::Sqlite {
                path: dir.path().join("lectern.db"),
                _dir: dir,
            },
        }
    }

    pub async fn sqs() -> Subject {
        Self::sqs_queue(false).await
    }

    pub async fn sqs_fifo() -> Subject {
        Self::sqs_queue(true).await
    }

    async fn sqs_queue(fifo: bool) -> Subject {
        let moto = lectern_testkit::moto::moto().await;
        let urls = moto.fresh_queue(MAX_RECEIVES, fifo).await;
        Subject {
            queue: Arc::new(SqsQueue::new(
                moto.sqs_client(),
                urls.queue_url.clone(),
                Some(urls.dead_letter_url.clone()),
            )),
            backend: Backend::Sqs { urls },
        }
    }

    /// A second handle on the same queue with a connection (or client) of its own, as another
    /// process would have.
    pub async fn another_handle(&self) -> Arc<dyn Queue> {
        match &self.backend {
            Backend::Sqlite { path, .. } => Arc::new(
                SqliteQueue::open(path, self.queue.name(), QueuePolicy::new(MAX_RECEIVES)).unwrap(),
            ),
            Backend::Sqs { urls } => {
                let moto = lectern_testkit::moto::moto().await;
                Arc::new(SqsQueue::new(
                    moto.sqs_client(),
                    urls.queue_url.clone(),
                    Some(urls.dead_letter_url.clone()),
                ))
            }
        }
    }
}

impl Deref for Subject {
    type Target = dyn Queue;

    fn deref(&self) -> &Self::Target {
        &*self.queue
    }
}

/// Sends each body, without dedup id or delay.
pub async fn send_all(q: &Subject, bodies: &[&str]) {
    for body in bodies {
        q.send(OutgoingMessage::new(*body)).await.unwrap();
    }
}

/// Receives (up to `max` at a time, hidden for `visibility`) until `n` messages have come or
/// [`PATIENCE`] has passed; returns what came.
pub async fn receive_n(q: &Subject, n: usize, max: usize, visibility: Duration) -> Vec<Received> {
    let deadline = Instant::now() + PATIENCE;
    let mut received = Vec::new();
    while received.len() < n && Instant::now() < deadline {
        let batch = q.receive(max, visibility).await.unwrap();
        assert!(batch.len() <= max, "a batch of {} > {max}", batch.len());
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        received.extend(batch);
    }
    received
}

/// The one message a poll brings within [`PATIENCE`], or a panic.
pub async fn receive_one(q: &Subject, visibility: Duration) -> Received {
    let mut got = receive_n(q, 1, 1, visibility).await;
    assert_eq!(got.len(), 1, "no message within {PATIENCE:?}");
    got.remove(0)
}

/// Receives every message a backend delivers when a message is received until the queue moves it
/// to the dead-letter queue: [`MAX_RECEIVES`] deliveries, visible again at once, then a receive that
/// dead-letters all of them.
pub async fn dead_letter(q: &Subject, bodies: &[&str]) {
    send_all(q, bodies).await;
    for round in 1..=MAX_RECEIVES {
        let got = receive_n(q, bodies.len(), 10, Duration::ZERO).await;
        assert_eq!(got.len(), bodies.len(), "round {round}");
        assert!(got.iter().all(|r| r.message.receive_count == round));
    }
    assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());
}

/// The bodies of received messages, sorted.
pub fn bodies(received: &[Received]) -> Vec<String> {
    let mut bodies: Vec<_> = received.iter().map(|r| r.message.body.clone()).collect();
    bodies.sort();
    bodies
}

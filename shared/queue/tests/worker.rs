//! The local delivery loop: handled messages deleted, failures retried then dead-lettered, panics
//! contained, receive failures survived, and a stop that stops.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lectern_queue::{
    DeadLetter, Handler, Message, OutgoingMessage, Queue, QueueError, QueuePolicy, QueueResult,
    Received, SqliteQueue, SqsQueue, WorkerOptions, spawn_worker,
};

/// How long a poll for something that should happen may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(15);

/// Counts the deliveries of each body; fails bodies starting with "poison", panics on "panic".
#[derive(Default)]
struct Counter {
    deliveries: Mutex<HashMap<String, u32>>,
}

#[async_trait]
impl Handler for Counter {
    async fn handle(&self, message: &Message) -> anyhow::Result<()> {
        *self
            .deliveries
            .lock()
            .unwrap()
            .entry(message.body.clone())
            .or_default() += 1;
        if message.body.starts_with("panic") {
            panic!("the handler panicked on {}", message.body);
        }
        if message.body.starts_with("poison") {
            anyhow::bail!("cannot process {}", message.body);
        }
        Ok(())
    }
}

impl Counter {
    fn deliveries(&self) -> HashMap<String, u32> {
        self.deliveries.lock().unwrap().clone()
    }

    fn count(&self, body: &str) -> u32 {
        self.deliveries().get(body).copied().unwrap_or(0)
    }
}

/// A queue in a fresh SQLite file, dead-lettering after `max_receives`.
fn sqlite_queue(max_receives: u32) -> (tempfile::TempDir, Arc<dyn Queue>) {
    let dir = tempfile::tempdir().unwrap();
    let queue = SqliteQueue::open(
        &dir.path().join("lectern.db"),
        "jobs",
        QueuePolicy::new(max_receives),
    )
    .unwrap();
    (dir, Arc::new(queue))
}

/// Quick polls and short visibility, so that retries happen within a test.
fn fast() -> WorkerOptions {
    WorkerOptions {
        idle_poll: Duration::from_millis(20),
        visibility: Duration::from_millis(200),
    }
}

async fn send_all(queue: &dyn Queue, bodies: &[&str]) {
    for body in bodies {
        queue.send(OutgoingMessage::new(*body)).await.unwrap();
    }
}

/// Waits until `done` holds, failing the test after [`PATIENCE`].
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done().await {
        assert!(Instant::now() < deadline, "not within {PATIENCE:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn dead_letters(queue: &dyn Queue) -> Vec<DeadLetter> {
    queue.dead_letters(10).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_dead_letters_after_max_receives_while_its_batch_mates_are_handled_once_each()
 {
    // GIVEN a queue that dead-letters after 3 receives, holding a poison message among good ones
    let (_dir, queue) = sqlite_queue(3);
    send_all(&*queue, &["a", "b", "poison", "c"]).await;
    let handler = Arc::new(Counter::default());

    // WHEN a worker drains it until the poison is dead-lettered
    let worker = spawn_worker(queue.clone(), handler.clone(), fast());
    eventually("the poison message is dead-lettered", async || {
        !dead_letters(&*queue).await.is_empty()
    })
    .await;
    worker.stop().await;

    // THEN the good ones were handled once each, the poison three times, and nothing is left
    let expected = HashMap::from([
        ("a".to_string(), 1),
        ("b".to_string(), 1),
        ("c".to_string(), 1),
        ("poison".to_string(), 3),
    ]);
    assert_eq!(handler.deliveries(), expected);
    let dead = dead_letters(&*queue).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_fails_its_message_and_the_worker_goes_on() {
    // GIVEN a worker on a queue with a message its handler panics on
    let (_dir, queue) = sqlite_queue(2);
    let handler = Arc::new(Counter::default());
    let worker = spawn_worker(queue.clone(), handler.clone(), fast());
    send_all(&*queue, &["panic", "beside it"]).await;

    // WHEN a message comes after it
    eventually("the first message is retried", async || {
        handler.count("panic") >= 2
    })
    .await;
    send_all(&*queue, &["after"]).await;

    // THEN the later messages are handled, and the panicking one is retried, then dead-lettered
    eventually("the later message is handled", async || {
        handler.count("after") == 1
    })
    .await;
    eventually("the panicking message is dead-lettered", async || {
        dead_letters(&*queue).await.len() == 1
    })
    .await;
    worker.stop().await;
    assert_eq!(handler.count("beside it"), 1);
    assert_eq!(handler.count("panic"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_takes_no_more_messages() {
    // GIVEN a worker that handled a message and was stopped
    let (_dir, queue) = sqlite_queue(3);
    let handler = Arc::new(Counter::default());
    let worker = spawn_worker(queue.clone(), handler.clone(), fast());
    send_all(&*queue, &["before"]).await;
    eventually("the first message is handled", async || {
        handler.count("before") == 1
    })
    .await;
    worker.stop().await;

    // WHEN a message is sent after
    send_all(&*queue, &["after"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // THEN it is still in the queue, never received
    let got = queue.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message.receive_count, 1);
    assert_eq!(handler.count("after"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_stops_the_worker() {
    // GIVEN a worker whose handle is dropped
    let (_dir, queue) = sqlite_queue(3);
    let handler = Arc::new(Counter::default());
    drop(spawn_worker(queue.clone(), handler.clone(), fast()));
    tokio::time::sleep(Duration::from_millis(100)).await;

    // WHEN a message is sent THEN nobody takes it
    send_all(&*queue, &["unclaimed"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = queue.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message.receive_count, 1);
    assert_eq!(handler.count("unclaimed"), 0);
}

/// A queue whose first receives fail, as if the backend were down for a moment.
struct Flaky {
    inner: Arc<dyn Queue>,
    failures_left: AtomicUsize,
}

#[async_trait]
impl Queue for Flaky {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn send(&self, message: OutgoingMessage) -> QueueResult<()> {
        self.inner.send(message).await
    }
    async fn receive(&self, max: usize, visibility: Duration) -> QueueResult<Vec<Received>> {
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(QueueError::Unavailable(anyhow::anyhow!(
                "sabotaged: the queue refuses receives"
            )));
        }
        self.inner.receive(max, visibility).await
    }
    async fn delete(&self, receipt: &str) -> QueueResult<()> {
        self.inner.delete(receipt).await
    }
    async fn dead_letters(&self, max: usize) -> QueueResult<Vec<DeadLetter>> {
        self.inner.dead_letters(max).await
    }
    async fn redrive(&self) -> QueueResult<usize> {
        self.inner.redrive().await
    }
    async fn redrive_ids(&self, ids: &[String]) -> QueueResult<usize> {
        self.inner.redrive_ids(ids).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_survives_failing_receives_and_delivers_once_the_queue_is_back() {
    // GIVEN a queue whose first 5 receives fail, with a message in it
    let (_dir, inner) = sqlite_queue(3);
    send_all(&*inner, &["patient"]).await;
    let flaky = Arc::new(Flaky {
        inner: inner.clone(),
        failures_left: AtomicUsize::new(5),
    });
    let handler = Arc::new(Counter::default());

    // WHEN a worker runs on it
    let worker = spawn_worker(flaky.clone(), handler.clone(), fast());

    // THEN the message is delivered once the receives succeed, and deleted
    eventually("the message is handled", async || {
        handler.count("patient") == 1
    })
    .await;
    worker.stop().await;
    assert_eq!(flaky.failures_left.load(Ordering::SeqCst), 0);
    assert!(inner.receive(10, Duration::ZERO).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_sqs_handles_each_message_once_and_sqs_dead_letters_the_poison() {
    // GIVEN an SQS queue on moto dead-lettering after 2 receives, with a poison message among good ones
    let moto = lectern_testkit::moto::moto().await;
    let urls = moto.fresh_queue(2, false).await;
    let queue: Arc<dyn Queue> = Arc::new(SqsQueue::new(
        moto.sqs_client(),
        urls.queue_url,
        Some(urls.dead_letter_url),
    ));
    send_all(&*queue, &["a", "b", "poison", "c"]).await;
    let handler = Arc::new(Counter::default());

    // WHEN a worker (1 s visibility, SQS's shortest) drains it until the poison is dead-lettered
    let options = WorkerOptions {
        idle_poll: Duration::from_millis(50),
        visibility: Duration::from_secs(1),
    };
    let worker = spawn_worker(queue.clone(), handler.clone(), options);
    eventually("the poison message is dead-lettered", async || {
        handler.count("poison") == 2 && queue.dead_letters(10).await.unwrap().len() == 1
    })
    .await;
    worker.stop().await;

    // THEN the good ones were handled once each and deleted, the poison twice
    let expected = HashMap::from([
        ("a".to_string(), 1),
        ("b".to_string(), 1),
        ("c".to_string(), 1),
        ("poison".to_string(), 2),
    ]);
    assert_eq!(handler.deliveries(), expected);
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty());
}

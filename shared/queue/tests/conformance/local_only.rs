//! What the SQLite backend promises beyond what moto shows of SQS: stale receipts never delete,
//! dedup ids hold for their whole window (moto forgets them once their message is deleted), and the
//! queue lives in the store's file without touching the table.

use std::sync::Arc;
use std::time::Duration;

use lectern_queue::{OutgoingMessage, Queue, QueueError, QueuePolicy, SqliteQueue};
use lectern_store::Table;

use crate::support::{HIDDEN, Subject, VISIBILITY, bodies, dead_letter, receive_n, receive_one};

/// Dedup, for every backend that dedups (here, and FIFO queues in `sqs_only`).
pub async fn a_second_send_with_the_same_dedup_id_is_accepted_and_not_delivered(q: &Subject) {
    // GIVEN a message sent with a dedup id
    q.send(OutgoingMessage::new("first").dedup_id("evt_1"))
        .await
        .unwrap();

    // WHEN another is sent with the same id (accepted), and one with another id
    q.send(OutgoingMessage::new("second").dedup_id("evt_1"))
        .await
        .unwrap();
    q.send(OutgoingMessage::new("other").dedup_id("evt_2"))
        .await
        .unwrap();

    // THEN the first and the other are delivered, the duplicate never
    let got = receive_n(q, 2, 10, HIDDEN).await;
    assert_eq!(bodies(&got), ["first", "other"]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_dedups_a_second_send_with_the_same_dedup_id() {
    a_second_send_with_the_same_dedup_id_is_accepted_and_not_delivered(&Subject::sqlite().await)
        .await;
}

#[tokio::test]
async fn a_dedup_id_holds_after_its_message_is_deleted() {
    // GIVEN a message with a dedup id, received and deleted
    let q = Subject::sqlite().await;
    q.send(OutgoingMessage::new("first").dedup_id("evt_1"))
        .await
        .unwrap();
    let got = receive_one(&q, HIDDEN).await;
    q.delete(&got.receipt).await.unwrap();

    // WHEN the same dedup id is sent again within the window
    q.send(OutgoingMessage::new("again").dedup_id("evt_1"))
        .await
        .unwrap();

    // THEN it is not delivered (SQS's window runs from the send, whatever became of the message)
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_dedup_id_is_free_again_after_the_window() {
    // GIVEN a queue whose dedup window is short, and a message sent with a dedup id
    let window = Duration::from_millis(300);
    let q = Subject::sqlite_with(QueuePolicy {
        max_receives: 2,
        dedup_window: window,
    });
    q.send(OutgoingMessage::new("first").dedup_id("evt_1"))
        .await
        .unwrap();

    // WHEN the window passes and the id is sent again
    tokio::time::sleep(window + Duration::from_millis(50)).await;
    q.send(OutgoingMessage::new("later").dedup_id("evt_1"))
        .await
        .unwrap();

    // THEN both are delivered
    let got = receive_n(&q, 2, 10, HIDDEN).await;
    assert_eq!(bodies(&got), ["first", "later"]);
}

#[tokio::test]
async fn a_stale_receipt_does_not_delete_a_redelivered_message() {
    // GIVEN a message received, its visibility timed out, and received again
    let q = Subject::sqlite_with(QueuePolicy::new(5));
    q.send(OutgoingMessage::new("slow")).await.unwrap();
    let first = receive_one(&q, VISIBILITY).await;
    let second = receive_one(&q, VISIBILITY).await;
    assert_eq!(second.message.receive_count, 2);

    // WHEN the first (late) worker deletes with its receipt
    q.delete(&first.receipt).await.unwrap();

    // THEN the message was not deleted: it comes back once the second delivery times out
    let third = receive_one(&q, HIDDEN).await;
    assert_eq!(third.message.id, first.message.id);
    assert_eq!(third.message.receive_count, 3);
}

#[tokio::test]
async fn a_receipt_from_before_a_redrive_does_not_delete_the_redriven_message() {
    // GIVEN a message's first receipt, then the message dead-lettered and redriven
    let q = Subject::sqlite().await;
    q.send(OutgoingMessage::new("twice dead")).await.unwrap();
    let first = receive_n(&q, 1, 1, Duration::ZERO).await.remove(0);
    receive_n(&q, 1, 1, Duration::ZERO).await;
    assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());
    assert_eq!(q.redrive().await.unwrap(), 1);
    let redriven = receive_one(&q, Duration::ZERO).await;
    assert_eq!(redriven.message.receive_count, first.message.receive_count);

    // WHEN the first receipt is used
    q.delete(&first.receipt).await.unwrap();

    // THEN the message is still delivered
    let got = receive_one(&q, HIDDEN).await;
    assert_eq!(got.message.id, first.message.id);
}

#[tokio::test]
async fn dead_letters_of_the_sqlite_queue_keep_the_count_they_died_with() {
    // GIVEN a message dead-lettered
    let q = Subject::sqlite().await;
    dead_letter(&q, &["poison"]).await;

    // WHEN it is peeked at twice THEN its count stays (peeking is free here, unlike in SQS)
    q.dead_letters(10).await.unwrap();
    let dead = q.dead_letters(10).await.unwrap();
    assert_eq!(dead[0].receive_count, crate::support::MAX_RECEIVES);
}

#[tokio::test]
async fn the_queue_shares_the_stores_file_without_touching_its_table() {
    // GIVEN the store's table and a queue in one file
    let (dir, table) = lectern_testkit::temp_sqlite();
    let queue =
        SqliteQueue::open(&dir.path().join("lectern.db"), "jobs", QueuePolicy::new(3)).unwrap();
    let item = lectern_store::Item::from([
        ("PK".to_string(), lectern_store::AttrValue::s("COURSE#1")),
        ("SK".to_string(), lectern_store::AttrValue::s("COURSE")),
    ]);
    let key = lectern_store::Key::of(&item).unwrap();

    // WHEN both are written
    table.put(item.clone(), None).await.unwrap();
    queue.send(OutgoingMessage::new("hello")).await.unwrap();

    // THEN each reads back what it wrote
    assert_eq!(table.get(&key).await.unwrap(), Some(item));
    let got = queue.receive(10, HIDDEN).await.unwrap();
    assert_eq!(got[0].message.body, "hello");
}

#[tokio::test]
async fn queues_in_one_file_are_separate() {
    // GIVEN two queues in one file, a message and a dead letter in the first
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lectern.db");
    let jobs: Arc<dyn Queue> =
        Arc::new(SqliteQueue::open(&path, "jobs", QueuePolicy::new(1)).unwrap());
    let mail: Arc<dyn Queue> =
        Arc::new(SqliteQueue::open(&path, "mail", QueuePolicy::new(1)).unwrap());
    jobs.send(OutgoingMessage::new("dead")).await.unwrap();
    jobs.receive(10, Duration::ZERO).await.unwrap();
    jobs.receive(10, Duration::ZERO).await.unwrap();
    jobs.send(OutgoingMessage::new("job")).await.unwrap();
    jobs.send(OutgoingMessage::new("same id").dedup_id("x"))
        .await
        .unwrap();

    // WHEN the second is used THEN it sees none of the first's messages, dead letters or dedup ids
    assert!(mail.receive(10, HIDDEN).await.unwrap().is_empty());
    assert!(mail.dead_letters(10).await.unwrap().is_empty());
    assert_eq!(mail.redrive().await.unwrap(), 0);
    mail.send(OutgoingMessage::new("same id").dedup_id("x"))
        .await
        .unwrap();
    assert_eq!(mail.receive(10, HIDDEN).await.unwrap().len(), 1);
    // AND the first still has its own
    assert_eq!(jobs.dead_letters(10).await.unwrap().len(), 1);
    assert_eq!(jobs.receive(10, HIDDEN).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_bad_queue_name_or_a_policy_without_deliveries_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lectern.db");
    assert_matches!(
        SqliteQueue::open(&path, "no spaces", QueuePolicy::new(3)),
        Err(QueueError::InvalidRequest(_))
    );
    assert_matches!(
        SqliteQueue::open(&path, "jobs", QueuePolicy::new(0)),
        Err(QueueError::InvalidRequest(_))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_on_the_stores_connection_takes_turns_with_the_table() {
    // GIVEN the store's table and a queue on its connection (one open of the file)
    let (dir, table) = lectern_testkit::temp_sqlite();
    let connection = table.connection();
    let queue: Arc<dyn Queue> = Arc::new(
        SqliteQueue::on_connection(connection.clone(), "jobs", QueuePolicy::new(3)).unwrap(),
    );
    assert_eq!(
        Arc::strong_count(&connection),
        3,
        "table, queue and this test"
    );
    let table = Arc::new(table);

    // WHEN tasks on both threads write through the table and send through the queue at once
    let writers = (0..8).map(|i| {
        let (table, queue) = (table.clone(), queue.clone());
        tokio::spawn(async move {
            let item = lectern_store::Item::from([
                (
                    "PK".to_string(),
                    lectern_store::AttrValue::s(format!("COURSE#{i}")),
                ),
                ("SK".to_string(), lectern_store::AttrValue::s("COURSE")),
            ]);
            table.put(item, None).await.unwrap();
            queue
                .send(OutgoingMessage::new(format!("job {i}")))
                .await
                .unwrap();
        })
    });
    for writer in writers {
        writer.await.unwrap();
    }

    // THEN every write is in the file, as another process opening it sees
    let path = dir.path().join("lectern.db");
    let other_table = lectern_store::sqlite::SqliteTable::open(&path).unwrap();
    for i in 0..8 {
        let key = lectern_store::Key::new(format!("COURSE#{i}"), "COURSE");
        assert!(other_table.get(&key).await.unwrap().is_some(), "course {i}");
    }
    let other_queue = SqliteQueue::open(&path, "jobs", QueuePolicy::new(3)).unwrap();
    let got = other_queue.receive(10, HIDDEN).await.unwrap();
    assert_eq!(
        bodies(&got),
        (0..8).map(|i| format!("job {i}")).collect::<Vec<_>>()
    );
}

#[test]
fn a_queue_on_a_shared_connection_checks_its_name_and_policy() {
    let (_dir, table) = lectern_testkit::temp_sqlite();
    assert!(matches!(
        SqliteQueue::on_connection(table.connection(), "not valid", QueuePolicy::new(3)),
        Err(QueueError::InvalidRequest(_))
    ));
    assert!(matches!(
        SqliteQueue::on_connection(table.connection(), "jobs", QueuePolicy::new(0)),
        Err(QueueError::InvalidRequest(_))
    ));
}

//! At-least-once delivery: visibility timeouts, receive counts, deletes, several receivers.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use lectern_queue::OutgoingMessage;

use crate::support::{HIDDEN, Subject, VISIBILITY, bodies, receive_n, receive_one, send_all};

pub async fn an_empty_queue_receives_nothing(q: &Subject) {
    // WHEN a fresh queue is received from THEN nothing comes, at once
    let started = Instant::now();
    assert!(q.receive(10, VISIBILITY).await.unwrap().is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a receive waited"
    );
}

pub async fn a_sent_message_is_received_with_its_body_and_a_receive_count_of_one(q: &Subject) {
    // GIVEN a message sent
    q.send(OutgoingMessage::new(r#"{"event":"paid"}"#))
        .await
        .unwrap();

    // WHEN it is received
    let got = receive_one(q, HIDDEN).await;

    // THEN it has its body, an id and a receive count of one, and is hidden from the next receive
    assert_eq!(got.message.body, r#"{"event":"paid"}"#);
    assert!(!got.message.id.is_empty());
    assert!(!got.receipt.is_empty());
    assert_eq!(got.message.receive_count, 1);
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());
}

pub async fn a_received_message_is_hidden_then_comes_back_with_its_count_up(q: &Subject) {
    // GIVEN a message received and not deleted
    send_all(q, &["retry me"]).await;
    let first = receive_one(q, VISIBILITY).await;
    let received_at = Instant::now();
    assert!(q.receive(10, VISIBILITY).await.unwrap().is_empty());

    // WHEN its visibility timeout passes
    let again = receive_one(q, VISIBILITY).await;

    // THEN the same message comes back, received twice, with a new receipt
    assert!(
        received_at.elapsed() >= VISIBILITY - Duration::from_millis(100),
        "back after {:?}",
        received_at.elapsed()
    );
    assert_eq!(again.message.id, first.message.id);
    assert_eq!(again.message.body, "retry me");
    assert_eq!(again.message.receive_count, 2);
    assert_ne!(again.receipt, first.receipt);
}

pub async fn a_deleted_message_is_never_received_again(q: &Subject) {
    // GIVEN a message received and deleted, beside one received and not deleted
    send_all(q, &["done", "not done"]).await;
    let got = receive_n(q, 2, 10, VISIBILITY).await;
    let done = got.iter().find(|r| r.message.body == "done").unwrap();
    q.delete(&done.receipt).await.unwrap();

    // WHEN the visibility timeout passes THEN only the other one comes back
    let back = receive_one(q, HIDDEN).await;
    assert_eq!(back.message.body, "not done");
    tokio::time::sleep(VISIBILITY).await;
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());
}

pub async fn deleting_with_the_same_receipt_twice_succeeds(q: &Subject) {
    // GIVEN a message received and deleted
    send_all(q, &["once"]).await;
    let got = receive_one(q, HIDDEN).await;
    q.delete(&got.receipt).await.unwrap();

    // WHEN it is deleted again THEN that succeeds (a worker may retry a delete)
    q.delete(&got.receipt).await.unwrap();
}

pub async fn a_receive_takes_at_most_max_and_each_message_once(q: &Subject) {
    // GIVEN 12 messages
    let sent: Vec<String> = (0..12).map(|i| format!("message {i:02}")).collect();
    send_all(q, &sent.iter().map(String::as_str).collect::<Vec<_>>()).await;

    // WHEN they are received 5 at a time (receive_n checks each batch's size)
    let got = receive_n(q, 12, 5, HIDDEN).await;

    // THEN each came once, and no more came
    assert_eq!(bodies(&got), sent);
    let ids: HashSet<_> = got.iter().map(|r| &r.message.id).collect();
    assert_eq!(ids.len(), 12);
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());
}

pub async fn bodies_come_back_character_for_character(q: &Subject) {
    // GIVEN bodies with JSON, whitespace at the ends, line breaks, tabs and non-ASCII characters
    let sent = [
        "  leading and trailing spaces  ",
        "line\nbreaks\r\nand\ttabs",
        r#"{"name":"Zoë","emoji":"🎓","quote":"\"x\""}"#,
        "日本語のメッセージ",
    ];
    send_all(q, &sent).await;

    // WHEN received THEN each body is exactly as sent
    let got = receive_n(q, sent.len(), 10, HIDDEN).await;
    let mut expected: Vec<String> = sent.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(bodies(&got), expected);
}

pub async fn a_message_sent_through_another_handle_is_received_and_deleted_there(q: &Subject) {
    // GIVEN a second handle on the queue (another process: a function sending, the server receiving)
    let other = q.another_handle().await;

    // WHEN it sends, this handle receives, and it deletes with this handle's receipt
    other
        .send(OutgoingMessage::new("from the other side"))
        .await
        .unwrap();
    let got = receive_one(q, VISIBILITY).await;
    other.delete(&got.receipt).await.unwrap();

    // THEN the message was delivered and is gone for both
    assert_eq!(got.message.body, "from the other side");
    tokio::time::sleep(VISIBILITY).await;
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());
    assert!(other.receive(10, HIDDEN).await.unwrap().is_empty());
}

pub async fn concurrent_receivers_never_share_a_message(q: &Subject) {
    // GIVEN 30 messages and 3 receivers on handles of their own
    let sent: Vec<String> = (0..30).map(|i| format!("job {i:02}")).collect();
    send_all(q, &sent.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let mut receivers = Vec::new();
    for _ in 0..3 {
        receivers.push(q.another_handle().await);
    }

    // WHEN they receive at the same time until the queue is empty
    let tasks: Vec<_> = receivers
        .into_iter()
        .map(|r| {
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let batch = r.receive(4, HIDDEN).await.unwrap();
                    if batch.is_empty() {
                        return got;
                    }
                    got.extend(batch);
                }
            })
        })
        .collect();
    let mut got = Vec::new();
    for task in tasks {
        got.extend(task.await.unwrap());
    }
    // (A short poll may miss a message; the rest of them come here.)
    got.extend(receive_n(q, 30 - got.len().min(30), 10, HIDDEN).await);

    // THEN every message was received exactly once
    assert_eq!(bodies(&got), sent);
}

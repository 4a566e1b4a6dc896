//! What only the SQS backend does: FIFO queues (dedup, no per-message delay), standard queues
//! ignoring dedup ids, dead-letter calls needing the dead-letter queue's URL, SQS's own errors.

use std::time::Duration;

use lectern_queue::{OutgoingMessage, Queue, QueueError, SqsQueue};

use crate::local_only::a_second_send_with_the_same_dedup_id_is_accepted_and_not_delivered;
use crate::support::{HIDDEN, MAX_RECEIVES, Subject, bodies, dead_letter, receive_n};

#[tokio::test]
async fn a_fifo_queue_dedups_a_second_send_with_the_same_dedup_id() {
    a_second_send_with_the_same_dedup_id_is_accepted_and_not_delivered(&Subject::sqs_fifo().await)
        .await;
}

#[tokio::test]
async fn a_standard_queue_delivers_both_messages_of_one_dedup_id() {
    // GIVEN a standard queue and two messages with one dedup id
    let q = Subject::sqs().await;
    for body in ["first", "second"] {
        q.send(OutgoingMessage::new(body).dedup_id("evt_1"))
            .await
            .unwrap();
    }

    // WHEN received THEN both come: standard queues do not dedup (the consumers are idempotent)
    let got = receive_n(&q, 2, 10, HIDDEN).await;
    assert_eq!(bodies(&got), ["first", "second"]);
}

#[tokio::test]
async fn a_fifo_queue_refuses_a_delayed_message() {
    let q = Subject::sqs_fifo().await;
    assert_matches!(
        q.send(OutgoingMessage::new("later").delay(Duration::from_secs(1)))
            .await,
        Err(QueueError::InvalidRequest(_))
    );
}

#[tokio::test]
async fn a_fifo_queue_dead_letters_and_redrives() {
    // GIVEN two messages dead-lettered on a FIFO queue (each its own group: neither holds up the other)
    let q = Subject::sqs_fifo().await;
    dead_letter(&q, &["a", "b"]).await;
    assert_eq!(q.dead_letters(10).await.unwrap().len(), 2);

    // WHEN they are redriven THEN both are delivered again
    assert_eq!(q.redrive().await.unwrap(), 2);
    let got = receive_n(&q, 2, 10, HIDDEN).await;
    assert_eq!(bodies(&got), ["a", "b"]);
}

#[tokio::test]
async fn peeking_at_a_dead_letter_adds_to_its_receive_count() {
    // GIVEN a dead letter
    let q = Subject::sqs().await;
    dead_letter(&q, &["poison"]).await;

    // WHEN it is peeked at twice THEN the second peek counts one more (SQS has no peek: a receive
    // with a visibility timeout of 0 stands in)
    let first = q.dead_letters(10).await.unwrap()[0].receive_count;
    let second = q.dead_letters(10).await.unwrap()[0].receive_count;
    assert!(first >= MAX_RECEIVES);
    assert_eq!(second, first + 1);
}

#[tokio::test]
async fn dead_letter_calls_without_the_dead_letter_queues_url_are_invalid_requests() {
    let moto = lectern_testkit::moto::moto().await;
    let urls = moto.fresh_queue(MAX_RECEIVES, false).await;
    let q = SqsQueue::new(moto.sqs_client(), urls.queue_url, None);
    assert_matches!(q.dead_letters(10).await, Err(QueueError::InvalidRequest(_)));
    assert_matches!(q.redrive().await, Err(QueueError::InvalidRequest(_)));
}

#[tokio::test]
async fn the_queue_is_named_by_the_last_segment_of_its_url() {
    let moto = lectern_testkit::moto::moto().await;
    let q = SqsQueue::new(
        moto.sqs_client(),
        "https://sqs.eu-west-1.amazonaws.com/123456789012/payment-confirmations".into(),
        None,
    );
    assert_eq!(q.name(), "payment-confirmations");
}

#[tokio::test]
async fn a_queue_that_does_not_exist_is_unavailable() {
    let moto = lectern_testkit::moto::moto().await;
    let q = SqsQueue::new(
        moto.sqs_client(),
        format!("{}/123456789012/no-such-queue", moto.endpoint),
        None,
    );
    assert_matches!(
        q.send(OutgoingMessage::new("lost")).await,
        Err(QueueError::Unavailable(_))
    );
    assert_matches!(q.receive(1, HIDDEN).await, Err(QueueError::Unavailable(_)));
}

//! SQS's limits, refused alike by both backends before anything is written.

use std::time::Duration;

use lectern_queue::{OutgoingMessage, QueueError};

use crate::support::{HIDDEN, Subject};

pub async fn requests_over_sqs_limits_are_invalid(q: &Subject) {
    let second = Duration::from_secs(1);
    // WHEN requests over SQS's limits are made THEN each is an invalid request
    assert_matches!(
        q.receive(0, second).await,
        Err(QueueError::InvalidRequest(_))
    );
    assert_matches!(
        q.receive(11, second).await,
        Err(QueueError::InvalidRequest(_))
    );
    assert_matches!(
        q.receive(1, Duration::from_secs(12 * 3600 + 1)).await,
        Err(QueueError::InvalidRequest(_))
    );
    assert_matches!(
        q.send(OutgoingMessage::new("")).await,
        Err(QueueError::InvalidRequest(_))
    );
    assert_matches!(
        q.send(OutgoingMessage::new("x".repeat(1024 * 1024 + 1)))
            .await,
        Err(QueueError::InvalidRequest(_))
    );
    assert_matches!(
        q.send(OutgoingMessage::new("nul \u{0}")).await,
        Err(QueueError::InvalidRequest(_))
    );
    assert_matches!(
        q.send(OutgoingMessage::new("x").delay(Duration::from_secs(901)))
            .await,
        Err(QueueError::InvalidRequest(_))
    );
    assert_matches!(q.dead_letters(0).await, Err(QueueError::InvalidRequest(_)));

    // AND nothing was sent
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());
}

pub async fn a_receipt_the_queue_did_not_issue_is_invalid(q: &Subject) {
    // WHEN a made-up receipt is used to delete THEN it is an invalid receipt
    assert_matches!(
        q.delete("not-a-receipt").await,
        Err(QueueError::InvalidReceipt(_))
    );
    assert_matches!(q.delete("").await, Err(QueueError::InvalidReceipt(_)));
}

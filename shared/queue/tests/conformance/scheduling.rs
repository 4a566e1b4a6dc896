//! Delays: a delayed message stays out of receives until its delay has passed.

use std::time::{Duration, Instant};

use lectern_queue::OutgoingMessage;

use crate::support::{HIDDEN, Subject, receive_n, send_all};

pub async fn a_delayed_message_is_not_received_before_its_delay(q: &Subject) {
    // GIVEN a message delayed by 2 s, and one not delayed
    let delay = Duration::from_secs(2);
    let sent_at = Instant::now();
    q.send(OutgoingMessage::new("later").delay(delay))
        .await
        .unwrap();
    send_all(q, &["now"]).await;

    // WHEN the queue is received from at once THEN only the undelayed one comes
    let got = receive_n(q, 1, 10, HIDDEN).await;
    assert_eq!(got[0].message.body, "now");
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());

    // AND the delayed one comes once its delay has passed, not before
    let later = receive_n(q, 1, 10, HIDDEN).await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].message.body, "later");
    assert_eq!(later[0].message.receive_count, 1);
    assert!(
        sent_at.elapsed() >= delay - Duration::from_millis(100),
        "received after {:?}",
        sent_at.elapsed()
    );
}

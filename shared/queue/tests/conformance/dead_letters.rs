//! The dead-letter queue: the move after the maximum receive count, peeks, redrives.

use std::time::Duration;

use time::OffsetDateTime;

use crate::support::{HIDDEN, MAX_RECEIVES, Subject, bodies, dead_letter, receive_n, send_all};

pub async fn a_message_received_max_receives_times_goes_to_the_dead_letter_queue(q: &Subject) {
    // GIVEN a message received MAX_RECEIVES times and never deleted (dead_letter checks each count)
    dead_letter(q, &["poison"]).await;

    // WHEN a healthy message is sent after it
    send_all(q, &["healthy"]).await;

    // THEN the receive that would have delivered the poison a third time moved it to the dead-letter
    // queue instead, and the queue delivers only the healthy one
    let got = receive_n(q, 1, 10, HIDDEN).await;
    assert_eq!(bodies(&got), ["healthy"]);
    let dead = q.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
    assert!(dead[0].receive_count >= MAX_RECEIVES, "{:?}", dead[0]);
}

pub async fn a_dead_letter_keeps_its_id_and_body_and_says_when_it_was_sent(q: &Subject) {
    // GIVEN a message sent now, whose id a first delivery shows
    let before = OffsetDateTime::now_utc() - Duration::from_secs(2);
    send_all(q, &["keep me"]).await;
    let first = receive_n(q, 1, 1, Duration::ZERO).await;
    let id = first[0].message.id.clone();

    // WHEN it is dead-lettered
    receive_n(q, 1, 1, Duration::ZERO).await;
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());

    // THEN the dead letter has the same id and body, and a sent time of about now
    let dead = q.dead_letters(1).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, id);
    assert_eq!(dead[0].body, "keep me");
    let sent_at = dead[0].sent_at.expect("a sent time");
    let after = OffsetDateTime::now_utc() + Duration::from_secs(2);
    assert!(before <= sent_at && sent_at <= after, "sent at {sent_at}");
}

pub async fn dead_letters_peeks_without_removing(q: &Subject) {
    // GIVEN two dead letters
    dead_letter(q, &["a", "b"]).await;

    // WHEN they are peeked at twice
    let first = q.dead_letters(10).await.unwrap();
    let second = q.dead_letters(10).await.unwrap();

    // THEN both peeks see both, and the queue still delivers neither
    let ids = |letters: &[lectern_queue::DeadLetter]| {
        let mut ids: Vec<_> = letters.iter().map(|l| l.id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(first.len(), 2);
    assert_eq!(ids(&first), ids(&second));
    assert!(q.receive(10, HIDDEN).await.unwrap().is_empty());
}

pub async fn dead_letters_returns_at_most_max(q: &Subject) {
    // GIVEN three dead letters
    dead_letter(q, &["a", "b", "c"]).await;

    // WHEN two are asked for THEN two come
    assert_eq!(q.dead_letters(2).await.unwrap().len(), 2);
    assert_eq!(q.dead_letters(10).await.unwrap().len(), 3);
}

pub async fn redrive_moves_every_dead_letter_back_with_a_fresh_receive_count(q: &Subject) {
    // GIVEN three dead letters
    dead_letter(q, &["a", "b", "c"]).await;

    // WHEN they are redriven
    let moved = q.redrive().await.unwrap();

    // THEN all three moved, the dead-letter queue is empty, and the queue delivers each once more
    // as if new, up to the maximum receive count again
    assert_eq!(moved, 3);
    assert!(q.dead_letters(10).await.unwrap().is_empty());
    let got = receive_n(q, 3, 10, Duration::ZERO).await;
    assert_eq!(bodies(&got), ["a", "b", "c"]);
    assert!(got.iter().all(|r| r.message.receive_count == 1), "{got:?}");
}

pub async fn redrive_of_an_empty_dead_letter_queue_moves_nothing(q: &Subject) {
    // GIVEN a live message and no dead letters
    send_all(q, &["alive"]).await;

    // WHEN a redrive runs THEN it moves nothing and the live message is untouched
    assert_eq!(q.redrive().await.unwrap(), 0);
    let got = receive_n(q, 1, 10, HIDDEN).await;
    assert_eq!(bodies(&got), ["alive"]);
    assert_eq!(got[0].message.receive_count, 1);
}

pub async fn redrive_ids_moves_only_the_chosen_dead_letters_back(q: &Subject) {
    // GIVEN three dead letters
    dead_letter(q, &["a", "b", "c"]).await;
    let dead = q.dead_letters(10).await.unwrap();
    let chosen: Vec<String> = dead
        .iter()
        .filter(|d| d.body != "b")
        .map(|d| d.id.clone())
        .collect();

    // WHEN two of them are redriven by id
    let moved = q.redrive_ids(&chosen).await.unwrap();

    // THEN those two are delivered again as new, and the third stays dead
    assert_eq!(moved, 2);
    let left = q.dead_letters(10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].body, "b");
    let got = receive_n(q, 2, 10, Duration::ZERO).await;
    let mut got = bodies(&got);
    got.sort();
    assert_eq!(got, ["a", "c"]);
    // AND redriving an id that is not dead moves nothing
    assert_eq!(q.redrive_ids(&chosen).await.unwrap(), 0);
}

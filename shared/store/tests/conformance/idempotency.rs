//! Idempotency keys (`IdempotencyRepo`): of requests claiming one key at once exactly one does the
//! work; the others see it in progress, then done; a lapsed claim is taken over with the resource id
//! it reserved, and the request that lost it can no longer complete it.

use std::sync::Arc;

use lectern_store::Key;
use lectern_store::idempotency::{Claim, IdempotencyRepo};
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

use crate::support::Store;

fn key() -> Key {
    Key::new("T#t#USER#u", "IDEMPOTENCY#PAYMENT#order-1")
}

pub async fn of_concurrent_claims_of_one_key_exactly_one_acquires_it(s: &Store) {
    // GIVEN eight requests with one key on two handles of the store
    let handles = [s.shared(), s.another_handle().await];
    let start = Arc::new(Barrier::new(8));
    let now = OffsetDateTime::now_utc();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let repo = IdempotencyRepo::new(handles[i % 2].clone());
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let resource = format!("r{i}");
                repo.claim(&key(), None, "d", &resource, now, Duration::seconds(60))
                    .await
                    .unwrap()
            })
        })
        .collect();
    // WHEN they claim it at once
    let mut claims = Vec::new();
    for task in tasks {
        claims.push(task.await.unwrap());
    }
    // THEN one holds it, the others see it in progress
    let won: Vec<&Claim> = claims
        .iter()
        .filter(|c| matches!(c, Claim::Acquired(_)))
        .collect();
    assert_eq!(won.len(), 1, "{claims:?}");
    assert_eq!(
        claims.iter().filter(|c| **c == Claim::InProgress).count(),
        7
    );
    // WHEN the holder completes it in its work's transaction, THEN every later claim is answered
    // with what it created, and another request with the key is refused
    let Claim::Acquired(lease) = won[0] else {
        unreachable!()
    };
    s.transact_write(vec![IdempotencyRepo::completion(lease)])
        .await
        .unwrap();
    let repo = IdempotencyRepo::new(s.shared());
    let again = repo
        .claim(&key(), None, "d", "other", now, Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(
        again,
        Claim::Done {
            resource_id: lease.resource_id.clone()
        }
    );
    let other = repo
        .claim(
            &key(),
            None,
            "another digest",
            "x",
            now,
            Duration::seconds(60),
        )
        .await
        .unwrap();
    assert_eq!(other, Claim::Mismatch);
}

pub async fn a_lapsed_claim_is_taken_over_with_its_resource_and_the_first_cannot_complete(
    s: &Store,
) {
    // GIVEN a claim whose lease has run out (its request died)
    let repo = IdempotencyRepo::new(s.shared());
    let then = OffsetDateTime::now_utc() - Duration::minutes(5);
    let Claim::Acquired(first) = repo
        .claim(&key(), None, "d", "r1", then, Duration::seconds(60))
        .await
        .unwrap()
    else {
        panic!("the first claim acquires the key")
    };
    // WHEN a retry claims the key now
    let seen = repo.get(&key()).await.unwrap();
    let claim = repo
        .claim(
            &key(),
            seen,
            "d",
            "r2",
            OffsetDateTime::now_utc(),
            Duration::seconds(60),
        )
        .await
        .unwrap();
    // THEN it holds the key, for the resource the first reserved
    let Claim::Acquired(second) = claim else {
        panic!("expected the takeover, got {claim:?}")
    };
    assert_eq!(second.resource_id, "r1");
    // AND the first request can no longer complete it, nor release it; the second can complete it
    assert!(
        s.transact_write(vec![IdempotencyRepo::completion(&first)])
            .await
            .is_err()
    );
    repo.release(&first).await.unwrap();
    s.transact_write(vec![IdempotencyRepo::completion(&second)])
        .await
        .unwrap();
    let done = repo.get(&key()).await.unwrap().unwrap();
    assert_eq!(done.resource_id, "r1");
    assert_eq!(done.state, lectern_store::idempotency::KeyState::Done);
}

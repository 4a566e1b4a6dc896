//! Idempotency keys (`IdempotencyRepo`): of requests claiming one key at once exactly one does the
//! work; the others see it in progress, then done with the answer kept; a lapsed claim is taken over
//! with the resource id it reserved, and the request that lost it can no longer complete it; a
//! released key is free at once; an expired record counts as absent.

use std::sync::Arc;

use lectern_store::Key;
use lectern_store::idempotency::{Claim, IdempotencyRepo, KeyState, StoredResponse};
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

use crate::support::Store;

fn key() -> Key {
    Key::new("T#t#USER#u", "IDEMPOTENCY#order-1")
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
                repo.claim(&key(), "d", &resource, now, Duration::seconds(60))
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
    // WHEN the holder completes it with its answer, THEN every later claim is answered with it,
    // and another request with the key is refused
    let Claim::Acquired(lease) = won[0] else {
        unreachable!()
    };
    let repo = IdempotencyRepo::new(s.shared());
    repo.complete(lease, &answer()).await.unwrap();
    let again = repo
        .claim(&key(), "d", "other", now, Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(
        again,
        Claim::Done {
            resource_id: lease.resource_id.clone(),
            response: Some(answer()),
        }
    );
    let other = repo
        .claim(&key(), "another digest", "x", now, Duration::seconds(60))
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
        .claim(&key(), "d", "r1", then, Duration::seconds(60))
        .await
        .unwrap()
    else {
        panic!("the first claim acquires the key")
    };
    // WHEN a retry claims the key now
    let claim = repo
        .claim(
            &key(),
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
    // AND the first request can no longer complete it (with its answer, or in its work's
    // transaction), nor release it; the second can complete it in its transaction
    assert!(repo.complete(&first, &answer()).await.is_err());
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
    assert_eq!(done.state, KeyState::Done);
    // AND a later claim is told the route answers from what it created (no answer was kept)
    let later = repo
        .claim(
            &key(),
            "d",
            "r3",
            OffsetDateTime::now_utc(),
            Duration::seconds(60),
        )
        .await
        .unwrap();
    assert_eq!(
        later,
        Claim::Done {
            resource_id: "r1".into(),
            response: None,
        }
    );
}

pub async fn a_released_key_is_claimed_again_at_once_and_an_expired_one_counts_as_absent(
    s: &Store,
) {
    // GIVEN a claimed key whose request failed (a 5xx): it is released
    let repo = IdempotencyRepo::new(s.shared());
    let now = OffsetDateTime::now_utc();
    let Claim::Acquired(first) = repo
        .claim(&key(), "d", "r1", now, Duration::seconds(60))
        .await
        .unwrap()
    else {
        panic!("the first claim acquires the key")
    };
    repo.release(&first).await.unwrap();
    assert_eq!(repo.get(&key()).await.unwrap(), None);
    // WHEN a retry claims it within the first's lease, THEN it holds it, for a new resource
    let Claim::Acquired(retry) = repo
        .claim(&key(), "d", "r2", now, Duration::seconds(60))
        .await
        .unwrap()
    else {
        panic!("a released key is free")
    };
    assert_eq!(retry.resource_id, "r2");
    repo.complete(&retry, &answer()).await.unwrap();
    // AND the record expires a day after its claim: until then it answers, after it (even before
    // the TTL deletion runs) another request may use the key
    let record = repo.get(&key()).await.unwrap().unwrap();
    assert_eq!(record.ttl, (now + Duration::hours(24)).unix_timestamp());
    let within = now + Duration::hours(23);
    assert!(matches!(
        repo.claim(
            &key(),
            "another digest",
            "r3",
            within,
            Duration::seconds(60)
        )
        .await
        .unwrap(),
        Claim::Mismatch
    ));
    let after = now + Duration::hours(25);
    let Claim::Acquired(fresh) = repo
        .claim(&key(), "another digest", "r4", after, Duration::seconds(60))
        .await
        .unwrap()
    else {
        panic!("an expired record counts as absent")
    };
    assert_eq!(fresh.resource_id, "r4");
    let record = repo.get(&key()).await.unwrap().unwrap();
    assert_eq!(record.request_digest, "another digest");
    assert_eq!(record.state, KeyState::InProgress);
    assert_eq!(record.response, None);
}

fn answer() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/api/v1/courses/c1".into()),
        ],
        body: r#"{"data":{"id":"c1"}}"#.into(),
    }
}

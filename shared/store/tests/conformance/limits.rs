//! Rate-limit windows (`RateLimitRepo`): of requests taking units of one window at once, exactly the
//! limit are admitted, each told a different count; a refusal writes nothing; a unit given back is
//! taken again; other subjects and the next window count from zero.

use std::sync::Arc;

use lectern_domain::TenantId;
use lectern_store::limits::{RateLimitRepo, RateWindow, Taken};
use tokio::sync::Barrier;

use crate::support::Store;

fn window(subject: &str, now: i64) -> RateWindow {
    RateWindow::at(
        TenantId::parse("acme").unwrap(),
        "anonymous",
        subject.to_owned(),
        now,
        60,
    )
}

pub async fn concurrent_takes_admit_exactly_the_limit_each_with_its_own_count(s: &Store) {
    // GIVEN twelve requests of one subject on two handles of the store, and a limit of 5
    let handles = [s.shared(), s.another_handle().await];
    let start = Arc::new(Barrier::new(12));
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let repo = RateLimitRepo::new(handles[i % 2].clone());
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                repo.take(&window("net-a", 1_000), 5).await.unwrap()
            })
        })
        .collect();
    // WHEN they take a unit at once
    let mut taken = Vec::new();
    for task in tasks {
        taken.push(task.await.unwrap());
    }
    // THEN five are admitted, counted 1 to 5, and seven refused
    let mut counts: Vec<i64> = taken
        .iter()
        .filter_map(|t| match t {
            Taken::Admitted { count } => Some(*count),
            Taken::Refused => None,
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, vec![1, 2, 3, 4, 5], "{taken:?}");
    let repo = RateLimitRepo::new(s.shared());
    assert_eq!(repo.count(&window("net-a", 1_000)).await.unwrap(), 5);
}

pub async fn a_full_window_refuses_and_a_unit_given_back_is_taken_again(s: &Store) {
    // GIVEN a window holding its limit of 2
    let repo = RateLimitRepo::new(s.shared());
    let full = window("net-b", 1_000);
    assert_eq!(
        repo.take(&full, 2).await.unwrap(),
        Taken::Admitted { count: 1 }
    );
    assert_eq!(
        repo.take(&full, 2).await.unwrap(),
        Taken::Admitted { count: 2 }
    );
    // WHEN another request takes a unit, THEN it is refused and nothing is counted
    assert_eq!(repo.take(&full, 2).await.unwrap(), Taken::Refused);
    assert_eq!(repo.count(&full).await.unwrap(), 2);
    // WHEN a unit is given back in a transaction, THEN the next request is admitted
    s.transact_write(vec![RateLimitRepo::give_back(&full)])
        .await
        .unwrap();
    assert_eq!(repo.count(&full).await.unwrap(), 1);
    assert_eq!(
        repo.take(&full, 2).await.unwrap(),
        Taken::Admitted { count: 2 }
    );
    repo.give_back_now(&full).await.unwrap();
    assert_eq!(repo.count(&full).await.unwrap(), 1);
    // AND another subject, and the same subject's next window, count from zero
    assert_eq!(
        repo.take(&window("net-c", 1_000), 2).await.unwrap(),
        Taken::Admitted { count: 1 }
    );
    let next = window("net-b", 1_000 + 60);
    assert_eq!(next.start, full.end());
    assert_eq!(
        repo.take(&next, 2).await.unwrap(),
        Taken::Admitted { count: 1 }
    );
    // AND every window expires one window after its end
    let stored = s
        .get(&lectern_store::keys::rate_window(
            &full.tenant,
            full.policy,
            &full.subject,
            full.start,
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.get("ttl").and_then(|v| v.as_i64()),
        Some(full.end() + 60)
    );
}

//! The outbox: an event recorded in a write's transaction exists exactly when the write committed,
//! and each consumer's marker is written once.

use lectern_domain::course::CourseStatus;
use lectern_domain::event::{CourseUpdated, DomainEvent, EventEnvelope};
use lectern_domain::{CourseId, TenantId, UserId};
use lectern_store::keys;
use lectern_store::outbox::{self, DeliveryRepo, Recorded};
use lectern_store::sqlite::SqliteTable;
use lectern_store::{Condition, Key, StoreError, Table, TxAction};
use time::OffsetDateTime;

use crate::support::{Store, item};

fn course_updated(version: u64) -> EventEnvelope {
    let course_id = CourseId::new();
    EventEnvelope::new(
        TenantId::parse("acme").unwrap(),
        DomainEvent::CourseUpdated(CourseUpdated {
            course_id,
            instructor_id: UserId::new(),
            title: "Rust".into(),
            status: CourseStatus::Published,
            version,
        }),
        &format!("{course_id}:{version}"),
        OffsetDateTime::now_utc(),
        Some(UserId::new()),
    )
}

fn claim(sk: &str) -> TxAction {
    TxAction::Put {
        item: item("p", sk, &[]),
        condition: Some(Condition::NotExists),
    }
}

async fn stored(s: &Store, event: &EventEnvelope) -> Option<Recorded> {
    let key = keys::event(&event.tenant, &event.subject, &event.id);
    let item = s.get(&key).await.unwrap()?;
    outbox::recorded(item).unwrap()
}

pub async fn an_event_commits_with_its_change_and_not_without_it(s: &Store) {
    // GIVEN a change that commits, with its event in its transaction
    let committed = course_updated(2);
    s.transact_write(vec![claim("x"), outbox::record(&committed).unwrap()])
        .await
        .unwrap();
    // WHEN the same change is made again (its condition fails) with another event
    let refused = course_updated(3);
    let outcome = s
        .transact_write(vec![claim("x"), outbox::record(&refused).unwrap()])
        .await;
    // THEN the first event is stored as it was recorded, and the refused change left none
    assert_matches!(outcome, Err(StoreError::TransactionCanceled { ref failed }) if failed == &[0]);
    let back = stored(s, &committed).await.expect("the committed event");
    assert_eq!(back.event, committed);
    assert_eq!(
        back.key,
        keys::event(&committed.tenant, &committed.subject, &committed.id)
    );
    assert!(stored(s, &refused).await.is_none());
}

pub async fn an_event_published_twice_is_stored_once_as_first_recorded(s: &Store) {
    // GIVEN an event published on its own
    let event = course_updated(4);
    outbox::publish(&**s, &event).await.unwrap();
    // WHEN it is published again (a retried settlement)
    outbox::publish(&**s, &event).await.unwrap();
    // THEN it is there once, as it was
    let back = stored(s, &event).await.unwrap();
    assert_eq!(back.event, event);
}

pub async fn each_consumer_is_marked_once_and_only_its_own_marker_counts(s: &Store) {
    // GIVEN a recorded event no consumer has handled
    let event = course_updated(5);
    s.transact_write(vec![outbox::record(&event).unwrap()])
        .await
        .unwrap();
    let recorded = stored(s, &event).await.unwrap();
    let deliveries = DeliveryRepo::new(s.shared());
    assert_eq!(
        deliveries.handled(&recorded, &["a", "b"]).await.unwrap(),
        [false, false]
    );
    // WHEN consumer `a` is marked, twice
    let now = OffsetDateTime::now_utc();
    deliveries.mark_handled(&recorded, "a", now).await.unwrap();
    deliveries.mark_handled(&recorded, "a", now).await.unwrap();
    // THEN only `a` counts as having handled it, and the marker is not an event
    assert_eq!(
        deliveries.handled(&recorded, &["a", "b"]).await.unwrap(),
        [true, false]
    );
    let marker = keys::event_delivered(&recorded.key, &event.id, "a");
    let item = s.get(&marker).await.unwrap().unwrap();
    assert!(outbox::recorded(item).unwrap().is_none());
    assert!(s.get(&Key::new("p", "x")).await.unwrap().is_none());
}

/// SQLite only: the file's stream carries an event once its transaction commits, one record per
/// change, none for a refused change or a write that changes nothing.
pub async fn the_sqlite_stream_carries_committed_events_only() {
    let dir = tempfile::tempdir().unwrap();
    let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
    let (committed, refused) = (course_updated(2), course_updated(3));
    table
        .transact_write(vec![claim("x"), outbox::record(&committed).unwrap()])
        .await
        .unwrap();
    let _ = table
        .transact_write(vec![claim("x"), outbox::record(&refused).unwrap()])
        .await;
    // The same event again (a retried write): no second record.
    table
        .transact_write(vec![outbox::record(&committed).unwrap()])
        .await
        .unwrap();
    table.put(item("p", "y", &[]), None).await.unwrap();
    let taken = table.stream_take(10, 0, 1_000).unwrap();
    let events: Vec<_> = taken
        .iter()
        .filter_map(|r| outbox::recorded(r.image.clone()).unwrap())
        .map(|r| r.event)
        .collect();
    assert_eq!(events, [committed]);
    assert_eq!(taken.len(), 1);
    // A failed record comes back after its pause; its last attempt makes it a dead letter.
    let seq = taken[0].seq;
    assert!(table.stream_take(10, 500, 1_000).unwrap().is_empty());
    assert!(!table.stream_failed(seq, "boom", 2_000, 2).unwrap());
    assert_eq!(table.stream_take(10, 2_000, 1_000).unwrap()[0].attempts, 1);
    assert!(table.stream_failed(seq, "boom again", 3_000, 2).unwrap());
    assert!(table.stream_take(10, 9_000, 1_000).unwrap().is_empty());
    let dead = table.stream_dead_letters().unwrap();
    assert_eq!((dead.len(), dead[0].error.as_str()), (1, "boom again"));
}

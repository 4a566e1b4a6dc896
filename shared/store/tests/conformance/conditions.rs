//! Conditions on single-item writes: each kind, on present and absent items.

use lectern_store::{AttrValue, Condition, Key, StoreError, Update, UpdateAction};

use crate::support::{Store, item};

fn key() -> Key {
    Key::new("p", "s")
}

/// Puts `p/s` with `version` 1, `st` = "a" (a string) and `n` = 1 (a number).
async fn arrange(s: &Store) {
    s.put(
        item(
            "p",
            "s",
            &[
                ("version", AttrValue::int(1)),
                ("st", AttrValue::s("a")),
                ("n", AttrValue::int(1)),
            ],
        ),
        None,
    )
    .await
    .unwrap();
}

/// Whether a put of `p/s` under `condition` is admitted (it marks the item when it is).
async fn admits(s: &Store, condition: Condition) -> bool {
    let marked = item(
        "p",
        "s",
        &[
            ("version", AttrValue::int(1)),
            ("st", AttrValue::s("a")),
            ("n", AttrValue::int(1)),
            ("marked", AttrValue::Bool(true)),
        ],
    );
    match s.put(marked, Some(condition)).await {
        Ok(()) => true,
        Err(StoreError::ConditionFailed) => false,
        Err(other) => panic!("a conditional put failed with {other:?}"),
    }
}

pub async fn put_if_not_exists_on_an_existing_item_fails_and_keeps_it(s: &Store) {
    arrange(s).await;
    let result = s.put(item("p", "s", &[]), Some(Condition::NotExists)).await;
    assert_matches!(result, Err(StoreError::ConditionFailed));
    let kept = s.get(&key()).await.unwrap().unwrap();
    assert_eq!(kept["st"], AttrValue::s("a"));
}

pub async fn put_if_not_exists_on_an_absent_item_writes_it(s: &Store) {
    let it = item("p", "s", &[("st", AttrValue::s("new"))]);
    s.put(it.clone(), Some(Condition::NotExists)).await.unwrap();
    assert_eq!(s.get(&key()).await.unwrap(), Some(it));
}

pub async fn put_if_exists_needs_the_item(s: &Store) {
    assert!(!admits(s, Condition::Exists).await);
    assert_eq!(s.get(&key()).await.unwrap(), None);
    arrange(s).await;
    assert!(admits(s, Condition::Exists).await);
    assert_eq!(
        s.get(&key()).await.unwrap().unwrap()["marked"],
        AttrValue::Bool(true)
    );
}

pub async fn one_of_holds_when_the_attribute_equals_any_of_the_values(s: &Store) {
    let one_of = |attr: &str, values: &[AttrValue]| Condition::OneOf(attr.into(), values.to_vec());
    // On an absent item nothing is one of anything.
    assert!(!admits(s, one_of("st", &[AttrValue::s("a")])).await);
    arrange(s).await;
    assert!(admits(s, one_of("st", &[AttrValue::s("b"), AttrValue::s("a")])).await);
    assert!(!admits(s, one_of("st", &[AttrValue::s("b"), AttrValue::s("c")])).await);
    // Same type and value, as `=`: numbers as numbers, never a string of the same digits.
    assert!(admits(s, one_of("n", &[AttrValue::N("1.0".into())])).await);
    assert!(!admits(s, one_of("n", &[AttrValue::s("1")])).await);
    assert!(!admits(s, one_of("missing", &[AttrValue::s("a")])).await);
    // Combined with others, as the actor's check is.
    assert!(
        admits(
            s,
            Condition::And(vec![
                Condition::Equals("st".into(), AttrValue::s("a")),
                one_of("n", &[AttrValue::int(2), AttrValue::int(1)]),
            ])
        )
        .await
    );
    // DynamoDB's `IN` takes 1 to 100 values.
    assert_matches!(
        s.put(item("p", "s", &[]), Some(one_of("st", &[]))).await,
        Err(StoreError::InvalidRequest(_))
    );
    let many: Vec<AttrValue> = (0..101i64).map(AttrValue::int).collect();
    assert_matches!(
        s.put(item("p", "s", &[]), Some(one_of("st", &many))).await,
        Err(StoreError::InvalidRequest(_))
    );
}

pub async fn equals_holds_only_for_the_same_type_and_value(s: &Store) {
    let equals = |attr: &str, value: AttrValue| Condition::Equals(attr.into(), value);
    // On an absent item nothing is equal.
    assert!(!admits(s, equals("st", AttrValue::s("a"))).await);
    arrange(s).await;
    assert!(admits(s, equals("st", AttrValue::s("a"))).await);
    assert!(!admits(s, equals("st", AttrValue::s("b"))).await);
    assert!(!admits(s, equals("st", AttrValue::s("A"))).await);
    assert!(!admits(s, equals("missing", AttrValue::s("a"))).await);
    // Numbers compare by value, never with strings.
    assert!(admits(s, equals("n", AttrValue::int(1))).await);
    assert!(admits(s, equals("n", AttrValue::N("1.0".into()))).await);
    assert!(!admits(s, equals("n", AttrValue::s("1"))).await);
    assert!(!admits(s, equals("n", AttrValue::int(2))).await);
    assert!(admits(s, equals("marked", AttrValue::Bool(true))).await);
    assert!(!admits(s, equals("marked", AttrValue::Bool(false))).await);
}

pub async fn attr_not_exists_holds_for_an_absent_attribute_or_item(s: &Store) {
    assert!(admits(s, Condition::AttrNotExists("st".into())).await);
    s.delete(&key(), None).await.unwrap();
    arrange(s).await;
    assert!(!admits(s, Condition::AttrNotExists("st".into())).await);
    assert!(admits(s, Condition::AttrNotExists("other".into())).await);
}

pub async fn version_equals_admits_only_the_current_version(s: &Store) {
    assert!(!admits(s, Condition::VersionEquals(1)).await, "absent item");
    arrange(s).await;
    assert!(!admits(s, Condition::VersionEquals(0)).await);
    assert!(!admits(s, Condition::VersionEquals(2)).await);
    assert!(admits(s, Condition::VersionEquals(1)).await);
}

pub async fn and_needs_every_condition(s: &Store) {
    arrange(s).await;
    let all = |extra: Condition| {
        Condition::And(vec![
            Condition::Exists,
            Condition::VersionEquals(1),
            Condition::Equals("st".into(), AttrValue::s("a")),
            extra,
        ])
    };
    assert!(admits(s, all(Condition::AttrNotExists("other".into()))).await);
    assert!(!admits(s, all(Condition::AttrNotExists("st".into()))).await);
    assert!(!admits(s, all(Condition::NotExists)).await);
    assert!(
        admits(s, Condition::And(vec![])).await,
        "an empty AND holds"
    );
}

pub async fn absent_or_below_admits_a_missing_counter_or_a_smaller_number(s: &Store) {
    let below = |attr: &str, limit: i64| Condition::AbsentOrBelow(attr.into(), limit);
    // An absent item has no counter yet: it starts from zero, below any positive limit.
    assert!(admits(s, below("n", 1)).await);
    s.delete(&key(), None).await.unwrap();
    arrange(s).await;
    assert!(admits(s, below("n", 2)).await);
    assert!(!admits(s, below("n", 1)).await, "1 is not below 1");
    assert!(!admits(s, below("n", 0)).await);
    assert!(!admits(s, below("n", -5)).await);
    assert!(admits(s, below("other", 0)).await, "an absent attribute");
    // The counter use: each admitted update adds one, the one past the limit is refused.
    let increment = || Update {
        key: key(),
        actions: vec![UpdateAction::Add("count".into(), 1)],
        condition: Some(below("count", 3)),
    };
    for expected in 1..=3 {
        let item = s.update(increment()).await.unwrap();
        assert_eq!(item["count"], AttrValue::int(expected));
    }
    assert_matches!(
        s.update(increment()).await,
        Err(StoreError::ConditionFailed)
    );
    assert_eq!(
        s.get(&key()).await.unwrap().unwrap()["count"],
        AttrValue::int(3)
    );
}

pub async fn a_conditional_delete_that_fails_keeps_the_item(s: &Store) {
    arrange(s).await;
    let stale = s.delete(&key(), Some(Condition::VersionEquals(7))).await;
    assert_matches!(stale, Err(StoreError::ConditionFailed));
    assert!(s.get(&key()).await.unwrap().is_some());
    let old = s
        .delete(&key(), Some(Condition::VersionEquals(1)))
        .await
        .unwrap();
    assert_eq!(old.unwrap()["st"], AttrValue::s("a"));
    assert_eq!(s.get(&key()).await.unwrap(), None);
    // A conditional delete of an absent item fails like any write whose condition needs the item.
    assert_matches!(
        s.delete(&key(), Some(Condition::Exists)).await,
        Err(StoreError::ConditionFailed)
    );
}

pub async fn a_failed_condition_on_an_update_writes_nothing(s: &Store) {
    arrange(s).await;
    let stale = Update {
        key: key(),
        actions: vec![
            UpdateAction::Set("st".into(), AttrValue::s("b")),
            UpdateAction::Add("version".into(), 1),
        ],
        condition: Some(Condition::VersionEquals(0)),
    };
    assert_matches!(s.update(stale).await, Err(StoreError::ConditionFailed));
    let kept = s.get(&key()).await.unwrap().unwrap();
    assert_eq!(
        (kept["st"].clone(), kept["version"].clone()),
        (AttrValue::s("a"), AttrValue::int(1))
    );
}

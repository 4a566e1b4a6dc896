//! Transactions: all actions or none, the failing ones named, DynamoDB's limits.

use lectern_store::item::MAX_ITEM_BYTES;
use lectern_store::{
    AttrValue, Condition, Item, Key, Query, StoreError, TxAction, Update, UpdateAction,
};

use crate::support::{Store, item, put_all};

fn put(item: Item, condition: Option<Condition>) -> TxAction {
    TxAction::Put { item, condition }
}

fn claim(sk: &str) -> TxAction {
    put(item("p", sk, &[]), Some(Condition::NotExists))
}

async fn absent(s: &Store, sk: &str) -> bool {
    s.get(&Key::new("p", sk)).await.unwrap().is_none()
}

pub async fn a_transaction_applies_every_kind_of_action(s: &Store) {
    // GIVEN an item to update, one to delete and one to check
    put_all(
        s,
        [
            item("p", "counter", &[("n", AttrValue::int(1))]),
            item("p", "gone", &[]),
            item("p", "checked", &[("version", AttrValue::int(4))]),
        ],
    )
    .await;
    // WHEN one transaction puts, updates (an existing and an absent item), deletes and checks
    s.transact_write(vec![
        claim("new"),
        TxAction::Update(Update {
            key: Key::new("p", "counter"),
            actions: vec![UpdateAction::Add("n".into(), 2)],
            condition: Some(Condition::Exists),
        }),
        TxAction::Update(Update {
            key: Key::new("p", "created"),
            actions: vec![UpdateAction::Set("st".into(), AttrValue::s("x"))],
            condition: None,
        }),
        TxAction::Delete {
            key: Key::new("p", "gone"),
            condition: Some(Condition::Exists),
        },
        TxAction::Check {
            key: Key::new("p", "checked"),
            condition: Condition::VersionEquals(4),
        },
    ])
    .await
    .unwrap();
    // THEN every write happened, and the checked item is untouched
    assert!(!absent(s, "new").await);
    let counter = s.get(&Key::new("p", "counter")).await.unwrap().unwrap();
    assert_eq!(counter["n"], AttrValue::int(3));
    let created = s.get(&Key::new("p", "created")).await.unwrap().unwrap();
    assert_eq!(created, item("p", "created", &[("st", AttrValue::s("x"))]));
    assert!(absent(s, "gone").await);
    let checked = s.get(&Key::new("p", "checked")).await.unwrap();
    assert_eq!(
        checked,
        Some(item("p", "checked", &[("version", AttrValue::int(4))]))
    );
}

pub async fn a_failed_condition_cancels_the_whole_transaction_and_names_it(s: &Store) {
    // GIVEN a taken item
    put_all(s, [item("p", "taken", &[])]).await;
    // WHEN action 0 would succeed and action 1's condition fails
    let result = s.transact_write(vec![claim("free"), claim("taken")]).await;
    // THEN the transaction names action 1 and action 0 is not written
    assert_matches!(result, Err(StoreError::TransactionCanceled { failed }) if failed == [1]);
    assert!(absent(s, "free").await);
}

pub async fn every_failed_condition_is_named(s: &Store) {
    put_all(s, [item("p", "a", &[]), item("p", "c", &[])]).await;
    let result = s
        .transact_write(vec![
            claim("a"),
            claim("b"),
            claim("c"),
            TxAction::Update(Update {
                key: Key::new("p", "d"),
                actions: vec![UpdateAction::Add("n".into(), 1)],
                condition: Some(Condition::Exists),
            }),
        ])
        .await;
    assert_matches!(
        result,
        Err(StoreError::TransactionCanceled { failed }) if failed == [0, 2, 3]
    );
    assert!(absent(s, "b").await);
    assert!(absent(s, "d").await);
}

pub async fn a_failed_check_cancels_the_transaction(s: &Store) {
    put_all(s, [item("p", "doc", &[("version", AttrValue::int(2))])]).await;
    let result = s
        .transact_write(vec![
            TxAction::Check {
                key: Key::new("p", "doc"),
                condition: Condition::VersionEquals(1),
            },
            claim("child"),
        ])
        .await;
    assert_matches!(result, Err(StoreError::TransactionCanceled { failed }) if failed == [0]);
    assert!(absent(s, "child").await);
}

pub async fn two_actions_on_one_item_are_an_invalid_request(s: &Store) {
    let result = s
        .transact_write(vec![
            claim("a"),
            TxAction::Check {
                key: Key::new("p", "a"),
                condition: Condition::NotExists,
            },
        ])
        .await;
    assert_matches!(result, Err(StoreError::InvalidRequest(_)));
    assert!(absent(s, "a").await);
}

pub async fn an_empty_transaction_is_an_invalid_request(s: &Store) {
    assert_matches!(
        s.transact_write(vec![]).await,
        Err(StoreError::InvalidRequest(_))
    );
}

pub async fn a_transaction_of_100_actions_succeeds_and_of_101_is_an_invalid_request(s: &Store) {
    let claims = |n: usize| {
        (0..n)
            .map(|i| claim(&format!("{i:03}")))
            .collect::<Vec<_>>()
    };
    assert_matches!(
        s.transact_write(claims(101)).await,
        Err(StoreError::InvalidRequest(_))
    );
    assert!(
        s.query(&Query::partition("p"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    s.transact_write(claims(100)).await.unwrap();
    assert_eq!(
        s.query(&Query::partition("p")).await.unwrap().items.len(),
        100
    );
}

pub async fn an_item_over_400_kb_refuses_the_whole_transaction(s: &Store) {
    let big = item(
        "p",
        "big",
        &[("blob", AttrValue::s("x".repeat(MAX_ITEM_BYTES)))],
    );
    let result = s.transact_write(vec![claim("small"), put(big, None)]).await;
    assert_matches!(result, Err(StoreError::ItemTooLarge { .. }));
    assert!(absent(s, "small").await);
    assert!(absent(s, "big").await);
    // An update in a transaction that grows an item past the limit refuses it too.
    put_all(
        s,
        [item(
            "p",
            "grown",
            &[("a", AttrValue::s("x".repeat(300 * 1024)))],
        )],
    )
    .await;
    let grow = TxAction::Update(Update {
        key: Key::new("p", "grown"),
        actions: vec![UpdateAction::Set(
            "b".into(),
            AttrValue::s("y".repeat(150 * 1024)),
        )],
        condition: None,
    });
    let result = s.transact_write(vec![claim("small"), grow]).await;
    assert_matches!(result, Err(StoreError::ItemTooLarge { .. }));
    assert!(absent(s, "small").await);
    let grown = s.get(&Key::new("p", "grown")).await.unwrap().unwrap();
    assert!(!grown.contains_key("b"));
}

pub async fn an_add_to_a_string_refuses_the_whole_transaction(s: &Store) {
    put_all(s, [item("p", "s", &[("st", AttrValue::s("x"))])]).await;
    let result = s
        .transact_write(vec![
            claim("new"),
            TxAction::Update(Update {
                key: Key::new("p", "s"),
                actions: vec![UpdateAction::Add("st".into(), 1)],
                condition: None,
            }),
        ])
        .await;
    assert_matches!(result, Err(StoreError::InvalidRequest(_)));
    assert!(absent(s, "new").await);
    let kept = s.get(&Key::new("p", "s")).await.unwrap().unwrap();
    assert_eq!(kept["st"], AttrValue::s("x"));
}

pub async fn deleting_a_partition_takes_every_item_in_transactions_of_100(s: &Store) {
    // GIVEN a partition of 150 items (two transactions' worth) and a neighbour
    put_all(s, (0..150).map(|n| item("doomed", &format!("{n:03}"), &[]))).await;
    put_all(s, [item("kept", "a", &[])]).await;
    // WHEN it is deleted
    lectern_store::table::delete_partition(&**s, "doomed".into())
        .await
        .unwrap();
    // THEN nothing of it is left, and the neighbour is untouched
    let left = s.query(&Query::partition("doomed")).await.unwrap();
    assert!(left.items.is_empty() && left.next.is_none());
    assert!(s.get(&Key::new("kept", "a")).await.unwrap().is_some());
    // AND deleting an empty partition is a no-op
    lectern_store::table::delete_partition(&**s, "doomed".into())
        .await
        .unwrap();
}

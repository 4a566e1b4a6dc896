//! One suite of store behaviours, run against both backends: SQLite (a temp file) and DynamoDB (a fresh
//! table on moto's server on loopback). A behaviour that differs between them fails here.

use std::sync::Arc;

use lectern_store::item::MAX_ITEM_BYTES;
use lectern_store::{
    AttrValue, Condition, Cursor, Index, Item, Key, Query, SortKeyCondition, StoreError, Table,
    TxAction, Update, UpdateAction,
};

fn item(pk: &str, sk: &str, extra: &[(&str, AttrValue)]) -> Item {
    let mut item = Item::from([
        ("PK".to_string(), AttrValue::s(pk)),
        ("SK".to_string(), AttrValue::s(sk)),
    ]);
    for (k, v) in extra {
        item.insert(k.to_string(), v.clone());
    }
    item
}

fn sks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["SK"].as_str().unwrap().to_owned())
        .collect()
}

async fn put_then_get_returns_every_attribute_type(t: Arc<dyn Table>) {
    let nested = AttrValue::M(
        [(
            "a".to_string(),
            AttrValue::L(vec![AttrValue::int(1), AttrValue::Null]),
        )]
        .into(),
    );
    let it = item(
        "p",
        "s",
        &[
            ("s", AttrValue::s("é")),
            ("n", AttrValue::N("-1.5".into())),
            ("b", AttrValue::Bool(true)),
            ("z", AttrValue::Null),
            ("m", nested),
        ],
    );
    t.put(it.clone(), None).await.unwrap();
    assert_eq!(t.get(&Key::new("p", "s")).await.unwrap(), Some(it));
    assert_eq!(t.get(&Key::new("p", "absent")).await.unwrap(), None);
}

async fn conditions_decide_single_writes(t: Arc<dyn Table>) {
    let key = Key::new("p", "s");
    t.put(
        item(
            "p",
            "s",
            &[("version", AttrValue::int(1)), ("st", AttrValue::s("a"))],
        ),
        Some(Condition::NotExists),
    )
    .await
    .unwrap();
    assert!(matches!(
        t.put(item("p", "s", &[]), Some(Condition::NotExists)).await,
        Err(StoreError::ConditionFailed)
    ));
    assert!(matches!(
        t.put(item("p", "x", &[]), Some(Condition::Exists)).await,
        Err(StoreError::ConditionFailed)
    ));
    let stale = Update {
        key: key.clone(),
        actions: vec![UpdateAction::Set("st".into(), AttrValue::s("b"))],
        condition: Some(Condition::VersionEquals(2)),
    };
    assert!(matches!(
        t.update(stale).await,
        Err(StoreError::ConditionFailed)
    ));
    let both = Condition::And(vec![
        Condition::VersionEquals(1),
        Condition::Equals("st".into(), AttrValue::s("a")),
        Condition::AttrNotExists("gone".into()),
    ]);
    let fresh = Update {
        key: key.clone(),
        actions: vec![
            UpdateAction::Set("st".into(), AttrValue::s("b")),
            UpdateAction::Add("version".into(), 1),
        ],
        condition: Some(both),
    };
    let after = t.update(fresh).await.unwrap();
    assert_eq!(
        (after["st"].clone(), after["version"].clone()),
        (AttrValue::s("b"), AttrValue::int(2))
    );
    assert!(matches!(
        t.delete(
            &key,
            Some(Condition::Equals("st".into(), AttrValue::s("a")))
        )
        .await,
        Err(StoreError::ConditionFailed)
    ));
    let old = t
        .delete(
            &key,
            Some(Condition::Equals("st".into(), AttrValue::s("b"))),
        )
        .await
        .unwrap();
    assert_eq!(old.unwrap()["st"], AttrValue::s("b"));
    assert_eq!(t.delete(&key, None).await.unwrap(), None);
}

async fn an_update_creates_an_absent_item_adds_and_removes(t: Arc<dyn Table>) {
    let key = Key::new("p", "counter");
    let add = |n| Update {
        key: key.clone(),
        actions: vec![
            UpdateAction::Add("n".into(), n),
            UpdateAction::Set("x".into(), AttrValue::s("y")),
        ],
        condition: None,
    };
    assert_eq!(t.update(add(2)).await.unwrap()["n"], AttrValue::int(2));
    assert_eq!(t.update(add(-5)).await.unwrap()["n"], AttrValue::int(-3));
    let removed = t
        .update(Update {
            key: key.clone(),
            actions: vec![UpdateAction::Remove("x".into())],
            condition: Some(Condition::Exists),
        })
        .await
        .unwrap();
    assert!(!removed.contains_key("x"));
    let absent = Update {
        key: Key::new("p", "nope"),
        actions: vec![UpdateAction::Add("n".into(), 1)],
        condition: Some(Condition::Exists),
    };
    assert!(matches!(
        t.update(absent).await,
        Err(StoreError::ConditionFailed)
    ));
    assert_eq!(t.get(&Key::new("p", "nope")).await.unwrap(), None);
    let pk = Update {
        key,
        actions: vec![UpdateAction::Set("PK".into(), AttrValue::s("q"))],
        condition: None,
    };
    assert!(matches!(
        t.update(pk).await,
        Err(StoreError::InvalidRequest(_))
    ));
}

async fn sort_key_conditions_and_byte_order(t: Arc<dyn Table>) {
    for sk in ["a", "b", "ba", "c", "Z", "é", "z"] {
        t.put(item("p", sk, &[]), None).await.unwrap();
    }
    t.put(item("other", "a", &[]), None).await.unwrap();
    let q = |c: Option<SortKeyCondition>| {
        let t = t.clone();
        async move {
            let mut query = Query::partition("p");
            query.sk = c;
            sks(&t.query(&query).await.unwrap().items)
        }
    };
    // Byte order of UTF-8: "Z" < "a" < "z" < "é".
    assert_eq!(q(None).await, ["Z", "a", "b", "ba", "c", "z", "é"]);
    assert_eq!(q(Some(SortKeyCondition::Equals("b".into()))).await, ["b"]);
    assert_eq!(
        q(Some(SortKeyCondition::BeginsWith("b".into()))).await,
        ["b", "ba"]
    );
    assert_eq!(
        q(Some(SortKeyCondition::Between("a".into(), "c".into()))).await,
        ["a", "b", "ba", "c"]
    );
    assert_eq!(
        q(Some(SortKeyCondition::LessThan("b".into()))).await,
        ["Z", "a"]
    );
    assert_eq!(
        q(Some(SortKeyCondition::LessOrEqual("b".into()))).await,
        ["Z", "a", "b"]
    );
    assert_eq!(
        q(Some(SortKeyCondition::GreaterThan("c".into()))).await,
        ["z", "é"]
    );
    assert_eq!(
        q(Some(SortKeyCondition::GreaterOrEqual("c".into()))).await,
        ["c", "z", "é"]
    );
    let backward = t
        .query(&Query::partition("p").backward().limit(2))
        .await
        .unwrap();
    assert_eq!(sks(&backward.items), ["é", "z"]);
}

async fn walk(t: &Arc<dyn Table>, base: Query, page: usize) -> (Vec<String>, usize) {
    let (mut seen, mut pages, mut cursor) = (Vec::new(), 0, None);
    loop {
        let p = t
            .query(&base.clone().limit(page).after(cursor))
            .await
            .unwrap();
        pages += 1;
        assert!(p.items.len() <= page);
        seen.extend(sks(&p.items));
        match p.next {
            Some(next) => cursor = Some(next),
            None => return (seen, pages),
        }
    }
}

async fn pages_walk_a_partition_exactly_once(t: Arc<dyn Table>) {
    for i in 0..6 {
        t.put(item("p", &format!("k{i}"), &[]), None).await.unwrap();
    }
    let all: Vec<String> = (0..6).map(|i| format!("k{i}")).collect();
    let (seen, pages) = walk(&t, Query::partition("p"), 2).await;
    assert_eq!(
        (seen, pages),
        (all.clone(), 3),
        "an exactly full last page has no next"
    );
    let (seen, pages) = walk(&t, Query::partition("p"), 4).await;
    assert_eq!((seen, pages), (all.clone(), 2));
    let (mut back, _) = walk(&t, Query::partition("p").backward(), 4).await;
    back.reverse();
    assert_eq!(back, all);
}

async fn the_index_is_sparse_ordered_and_pages_through_ties(t: Arc<dyn Table>) {
    for (sk, isk) in [
        ("a", Some("2")),
        ("b", Some("1")),
        ("c", Some("1")),
        ("d", None),
        ("e", Some("1")),
    ] {
        let mut extra = vec![("GSI1PK", AttrValue::s("idx"))];
        if let Some(isk) = isk {
            extra.push(("GSI1SK", AttrValue::s(isk)));
        }
        t.put(item(&format!("p{sk}"), sk, &extra), None)
            .await
            .unwrap();
    }
    let (seen, _) = walk(&t, Query::index(Index::Gsi1, "idx"), 1).await;
    assert_eq!(
        seen.len(),
        4,
        "the item without GSI1SK is not indexed: {seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("a"));
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ["a", "b", "c", "e"]);
    let only = t
        .query(&Query::index(Index::Gsi1, "idx").sort_key(SortKeyCondition::Equals("2".into())))
        .await
        .unwrap();
    assert_eq!(sks(&only.items), ["a"]);
}

async fn foreign_and_tampered_cursors_are_invalid(t: Arc<dyn Table>) {
    for i in 0..3 {
        t.put(
            item(
                "p",
                &format!("k{i}"),
                &[
                    ("GSI1PK", AttrValue::s("idx")),
                    ("GSI1SK", AttrValue::s(format!("k{i}"))),
                ],
            ),
            None,
        )
        .await
        .unwrap();
        t.put(item("q", &format!("k{i}"), &[]), None).await.unwrap();
    }
    let table_cursor = t
        .query(&Query::partition("p").limit(1))
        .await
        .unwrap()
        .next
        .unwrap();
    let index_cursor = t
        .query(&Query::index(Index::Gsi1, "idx").limit(1))
        .await
        .unwrap()
        .next
        .unwrap();
    let invalid = [
        (Query::partition("p"), Cursor::from_client("garbage!")),
        (Query::partition("p"), Cursor::from_client("eyJ2IjoxfQ")),
        (Query::partition("q"), table_cursor.clone()),
        (Query::index(Index::Gsi1, "idx"), table_cursor.clone()),
        (Query::partition("p"), index_cursor.clone()),
        (
            Query::partition("p").sort_key(SortKeyCondition::BeginsWith("x".into())),
            table_cursor.clone(),
        ),
    ];
    for (query, cursor) in invalid {
        let result = t.query(&query.limit(1).after(Some(cursor))).await;
        assert!(
            matches!(result, Err(StoreError::InvalidCursor)),
            "{result:?}"
        );
    }
}

async fn batch_get_answers_in_request_order(t: Arc<dyn Table>) {
    t.put(item("p", "a", &[]), None).await.unwrap();
    t.put(item("p", "b", &[]), None).await.unwrap();
    let got = t
        .batch_get(&[
            Key::new("p", "b"),
            Key::new("p", "x"),
            Key::new("p", "a"),
            Key::new("p", "b"),
        ])
        .await
        .unwrap();
    let got: Vec<Option<String>> = got
        .iter()
        .map(|i| i.as_ref().map(|i| i["SK"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        got,
        [Some("b".into()), None, Some("a".into()), Some("b".into())]
    );
    let too_many: Vec<Key> = (0..101).map(|i| Key::new("p", format!("{i}"))).collect();
    assert!(matches!(
        t.batch_get(&too_many).await,
        Err(StoreError::InvalidRequest(_))
    ));
}

async fn a_transaction_is_all_or_nothing_and_names_the_failed_action(t: Arc<dyn Table>) {
    t.put(item("p", "taken", &[]), None).await.unwrap();
    let actions = vec![
        TxAction::Put {
            item: item("p", "new", &[]),
            condition: Some(Condition::NotExists),
        },
        TxAction::Put {
            item: item("p", "taken", &[]),
            condition: Some(Condition::NotExists),
        },
        TxAction::Check {
            key: Key::new("p", "free"),
            condition: Condition::NotExists,
        },
    ];
    match t.transact_write(actions).await {
        Err(StoreError::TransactionCanceled { failed }) => assert_eq!(failed, [1]),
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
    assert_eq!(t.get(&Key::new("p", "new")).await.unwrap(), None);
    let ok = vec![
        TxAction::Put {
            item: item("p", "new", &[]),
            condition: Some(Condition::NotExists),
        },
        TxAction::Update(Update {
            key: Key::new("p", "taken"),
            actions: vec![UpdateAction::Add("n".into(), 1)],
            condition: Some(Condition::Exists),
        }),
        TxAction::Delete {
            key: Key::new("p", "gone"),
            condition: None,
        },
    ];
    t.transact_write(ok).await.unwrap();
    assert_eq!(
        t.get(&Key::new("p", "taken")).await.unwrap().unwrap()["n"],
        AttrValue::int(1)
    );
}

async fn transaction_limits_are_enforced(t: Arc<dyn Table>) {
    let twice = vec![
        TxAction::Put {
            item: item("p", "a", &[]),
            condition: None,
        },
        TxAction::Delete {
            key: Key::new("p", "a"),
            condition: None,
        },
    ];
    assert!(matches!(
        t.transact_write(twice).await,
        Err(StoreError::InvalidRequest(_))
    ));
    let put = |i: usize| TxAction::Put {
        item: item("p", &format!("{i:03}"), &[]),
        condition: None,
    };
    assert!(matches!(
        t.transact_write((0..101).map(put).collect()).await,
        Err(StoreError::InvalidRequest(_))
    ));
    t.transact_write((0..100).map(put).collect()).await.unwrap();
    assert_eq!(
        t.query(&Query::partition("p")).await.unwrap().items.len(),
        100
    );
}

async fn an_item_over_400_kb_is_refused(t: Arc<dyn Table>) {
    let big = item(
        "p",
        "big",
        &[("blob", AttrValue::s("x".repeat(MAX_ITEM_BYTES)))],
    );
    assert!(matches!(
        t.put(big.clone(), None).await,
        Err(StoreError::ItemTooLarge { .. })
    ));
    let tx = vec![TxAction::Put {
        item: big,
        condition: None,
    }];
    assert!(matches!(
        t.transact_write(tx).await,
        Err(StoreError::ItemTooLarge { .. })
    ));
    t.put(
        item(
            "p",
            "fits",
            &[("blob", AttrValue::s("x".repeat(300 * 1024)))],
        ),
        None,
    )
    .await
    .unwrap();
}

async fn of_concurrent_conditional_puts_exactly_one_wins(t: Arc<dyn Table>) {
    let attempts = (0..8).map(|i| {
        let t = t.clone();
        tokio::spawn(async move {
            t.put(
                item("p", "one", &[("by", AttrValue::int(i))]),
                Some(Condition::NotExists),
            )
            .await
        })
    });
    let results = futures_join(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::ConditionFailed)))
    );
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

macro_rules! conformance {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            conformance!(@tests $make;
                put_then_get_returns_every_attribute_type,
                conditions_decide_single_writes,
                an_update_creates_an_absent_item_adds_and_removes,
                sort_key_conditions_and_byte_order,
                pages_walk_a_partition_exactly_once,
                the_index_is_sparse_ordered_and_pages_through_ties,
                foreign_and_tampered_cursors_are_invalid,
                batch_get_answers_in_request_order,
                a_transaction_is_all_or_nothing_and_names_the_failed_action,
                transaction_limits_are_enforced,
                an_item_over_400_kb_is_refused,
                of_concurrent_conditional_puts_exactly_one_wins,
            );
        }
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_guard, table) = $make.await;
                super::$name(table).await;
            }
        )*
    };
}

async fn sqlite_table() -> (tempfile::TempDir, Arc<dyn Table>) {
    let dir = tempfile::tempdir().unwrap();
    let table = lectern_store::sqlite::SqliteTable::open(&dir.path().join("t.db")).unwrap();
    (dir, Arc::new(table))
}

async fn dynamo_table() -> ((), Arc<dyn Table>) {
    let moto = lectern_testkit::moto::moto().await;
    ((), Arc::new(moto.fresh_table().await))
}

conformance!(sqlite, sqlite_table());
conformance!(dynamo, dynamo_table());

/// Two processes on one file are two connections: a condition still admits exactly one writer.
#[tokio::test]
async fn sqlite_two_connections_on_one_file_agree_on_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let a = lectern_store::sqlite::SqliteTable::open(&path).unwrap();
    let b = lectern_store::sqlite::SqliteTable::open(&path).unwrap();
    a.put(item("p", "one", &[]), Some(Condition::NotExists))
        .await
        .unwrap();
    assert!(matches!(
        b.put(item("p", "one", &[]), Some(Condition::NotExists))
            .await,
        Err(StoreError::ConditionFailed)
    ));
    assert!(b.get(&Key::new("p", "one")).await.unwrap().is_some());
}

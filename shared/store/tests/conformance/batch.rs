//! Batch gets: answers in request order, at most 100 keys.

use lectern_store::{AttrValue, Key, StoreError, TxAction};

use crate::support::{Store, item, key, put_all};

pub async fn batch_get_answers_in_request_order_with_none_for_missing_keys(s: &Store) {
    put_all(
        s,
        [
            item("p", "a", &[("n", AttrValue::int(1))]),
            item("p", "b", &[("n", AttrValue::int(2))]),
            item("q", "a", &[("n", AttrValue::int(3))]),
        ],
    )
    .await;
    let asked = [
        Key::new("q", "a"),
        Key::new("p", "x"),
        Key::new("p", "b"),
        Key::new("p", "a"),
        Key::new("p", "b"),
    ];
    let got = s.batch_get(&asked).await.unwrap();
    let answered: Vec<Option<Key>> = got.iter().map(|i| i.as_ref().map(key)).collect();
    assert_eq!(
        answered,
        [
            Some(Key::new("q", "a")),
            None,
            Some(Key::new("p", "b")),
            Some(Key::new("p", "a")),
            Some(Key::new("p", "b")),
        ]
    );
    assert_eq!(got[0].as_ref().unwrap()["n"], AttrValue::int(3));
}

pub async fn batch_get_of_no_keys_is_empty(s: &Store) {
    assert_eq!(s.batch_get(&[]).await.unwrap(), Vec::new());
}

pub async fn batch_get_of_100_keys_works_and_of_101_is_an_invalid_request(s: &Store) {
    let puts = (0..100)
        .map(|i| TxAction::Put {
            item: item("p", &format!("{i:03}"), &[]),
            condition: None,
        })
        .collect();
    s.transact_write(puts).await.unwrap();
    let mut keys: Vec<Key> = (0..100)
        .rev()
        .map(|i| Key::new("p", format!("{i:03}")))
        .collect();
    let got = s.batch_get(&keys).await.unwrap();
    assert_eq!(
        got.iter().map(|i| i.as_ref().map(key)).collect::<Vec<_>>(),
        keys.iter().cloned().map(Some).collect::<Vec<_>>()
    );
    keys.push(Key::new("p", "100"));
    assert_matches!(s.batch_get(&keys).await, Err(StoreError::InvalidRequest(_)));
}

//! Single items: put, get, delete, and the items DynamoDB refuses.

use lectern_store::item::MAX_ITEM_BYTES;
use lectern_store::{AttrValue, Item, Key, StoreError};

use crate::support::{Store, item};

pub async fn put_then_get_returns_every_attribute_type(s: &Store) {
    // GIVEN an item with every attribute type, nested ones included
    let nested = AttrValue::M(
        [
            (
                "list".to_string(),
                AttrValue::L(vec![
                    AttrValue::int(1),
                    AttrValue::Null,
                    AttrValue::s("x"),
                    AttrValue::L(vec![]),
                ]),
            ),
            ("empty".to_string(), AttrValue::M(Default::default())),
            ("flag".to_string(), AttrValue::Bool(false)),
        ]
        .into(),
    );
    let it = item(
        "p",
        "s",
        &[
            ("s", AttrValue::s("é ünïcödé 😀")),
            ("blank", AttrValue::s("")),
            ("int", AttrValue::int(-42)),
            ("decimal", AttrValue::N("3.25".into())),
            (
                "big",
                AttrValue::N("12345678901234567890123456789012345678".into()),
            ),
            ("yes", AttrValue::Bool(true)),
            ("nothing", AttrValue::Null),
            ("m", nested),
        ],
    );
    // WHEN it is put and read back
    s.put(it.clone(), None).await.unwrap();
    // THEN it is exactly the item put
    assert_eq!(s.get(&Key::new("p", "s")).await.unwrap(), Some(it));
}

pub async fn get_of_an_absent_key_returns_none(s: &Store) {
    s.put(item("p", "s", &[]), None).await.unwrap();
    assert_eq!(s.get(&Key::new("p", "other")).await.unwrap(), None);
    assert_eq!(s.get(&Key::new("other", "s")).await.unwrap(), None);
}

pub async fn put_replaces_the_whole_item(s: &Store) {
    // GIVEN an item with two attributes
    s.put(
        item(
            "p",
            "s",
            &[("a", AttrValue::s("1")), ("b", AttrValue::s("2"))],
        ),
        None,
    )
    .await
    .unwrap();
    // WHEN another item with the same key and one attribute is put
    let replacement = item("p", "s", &[("b", AttrValue::s("3"))]);
    s.put(replacement.clone(), None).await.unwrap();
    // THEN the old attributes are gone
    assert_eq!(s.get(&Key::new("p", "s")).await.unwrap(), Some(replacement));
}

pub async fn numbers_are_stored_without_leading_or_trailing_zeros(s: &Store) {
    // DynamoDB trims leading and trailing zeros of numbers; both backends read back its form.
    let it = item(
        "p",
        "s",
        &[
            ("a", AttrValue::N("001.50".into())),
            ("b", AttrValue::N("-0.0".into())),
            ("c", AttrValue::N("1E3".into())),
            ("l", AttrValue::L(vec![AttrValue::N("2.000".into())])),
        ],
    );
    s.put(it, None).await.unwrap();
    let got = s.get(&Key::new("p", "s")).await.unwrap().unwrap();
    assert_eq!(got["a"], AttrValue::N("1.5".into()));
    assert_eq!(got["b"], AttrValue::N("0".into()));
    assert_eq!(got["c"], AttrValue::N("1000".into()));
    assert_eq!(got["l"], AttrValue::L(vec![AttrValue::N("2".into())]));
}

pub async fn a_number_dynamodb_refuses_is_an_invalid_request(s: &Store) {
    for bad in ["abc", "", "1e999", "1.2.3"] {
        let result = s
            .put(item("p", "s", &[("n", AttrValue::N(bad.into()))]), None)
            .await;
        assert_matches!(result, Err(StoreError::InvalidRequest(_)));
    }
    assert_eq!(s.get(&Key::new("p", "s")).await.unwrap(), None);
}

pub async fn an_item_without_string_keys_is_an_invalid_request(s: &Store) {
    let mut no_sk = item("p", "s", &[]);
    no_sk.remove("SK");
    assert_matches!(s.put(no_sk, None).await, Err(StoreError::InvalidRequest(_)));
    let mut numeric_sk = item("p", "s", &[]);
    numeric_sk.insert("SK".into(), AttrValue::int(1));
    assert_matches!(
        s.put(numeric_sk, None).await,
        Err(StoreError::InvalidRequest(_))
    );
}

pub async fn empty_or_oversized_keys_are_invalid_requests(s: &Store) {
    assert_matches!(
        s.put(item("", "s", &[]), None).await,
        Err(StoreError::InvalidRequest(_))
    );
    assert_matches!(
        s.put(item("p", "", &[]), None).await,
        Err(StoreError::InvalidRequest(_))
    );
    assert_matches!(
        s.get(&Key::new("p", "")).await,
        Err(StoreError::InvalidRequest(_))
    );
    assert_matches!(
        s.delete(&Key::new("", "s"), None).await,
        Err(StoreError::InvalidRequest(_))
    );
    // DynamoDB's key limits: 2048 bytes of partition key, 1024 of sort key.
    let long_pk = "p".repeat(2049);
    assert_matches!(
        s.put(item(&long_pk, "s", &[]), None).await,
        Err(StoreError::InvalidRequest(_))
    );
    let long_sk = "s".repeat(1025);
    assert_matches!(
        s.put(item("p", &long_sk, &[]), None).await,
        Err(StoreError::InvalidRequest(_))
    );
    let longest = item(&"p".repeat(2048), &"s".repeat(1024), &[]);
    s.put(longest, None).await.unwrap();
}

pub async fn an_index_key_that_is_not_a_string_is_an_invalid_request(s: &Store) {
    // DynamoDB refuses a write that gives an index key another type (or an empty string).
    for (attr, value) in [
        ("GSI1PK", AttrValue::int(1)),
        ("GSI1SK", AttrValue::Bool(true)),
        ("GSI1SK", AttrValue::Null),
        ("GSI1PK", AttrValue::s("")),
    ] {
        let result = s.put(item("p", "s", &[(attr, value)]), None).await;
        assert_matches!(result, Err(StoreError::InvalidRequest(_)));
    }
    assert_eq!(s.get(&Key::new("p", "s")).await.unwrap(), None);
}

pub async fn delete_returns_the_old_item(s: &Store) {
    // GIVEN an item
    let it = item("p", "s", &[("a", AttrValue::s("x"))]);
    s.put(it.clone(), None).await.unwrap();
    // WHEN it is deleted
    let old = s.delete(&Key::new("p", "s"), None).await.unwrap();
    // THEN the delete returns it, it is gone, and deleting again returns nothing
    assert_eq!(old, Some(it));
    assert_eq!(s.get(&Key::new("p", "s")).await.unwrap(), None);
    assert_eq!(s.delete(&Key::new("p", "s"), None).await.unwrap(), None);
}

pub async fn an_item_over_400_kb_is_refused_and_nothing_is_written(s: &Store) {
    let big = item(
        "p",
        "big",
        &[("blob", AttrValue::s("x".repeat(MAX_ITEM_BYTES)))],
    );
    assert_matches!(
        s.put(big, None).await,
        Err(StoreError::ItemTooLarge { size }) if size > MAX_ITEM_BYTES
    );
    assert_eq!(s.get(&Key::new("p", "big")).await.unwrap(), None);
    // An item comfortably under the limit is fine.
    let fits: Item = item(
        "p",
        "fits",
        &[("blob", AttrValue::s("x".repeat(390 * 1024)))],
    );
    s.put(fits.clone(), None).await.unwrap();
    assert_eq!(s.get(&Key::new("p", "fits")).await.unwrap(), Some(fits));
}

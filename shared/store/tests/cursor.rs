//! Properties of page cursors: a cursor encodes exactly the position it was made from, for any keys,
//! and decoding never panics whatever a client sends.

use lectern_store::cursor::{StartAfter, decode, encode};
use lectern_store::{AttrValue, Cursor, Index, Item, Key, Query, SortKeyCondition, StoreError};
use proptest::prelude::*;

/// Any non-empty key string, multi-byte and control characters included.
fn key_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9#_:-]{1,40}",
        any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ]
}

fn item_with(pk: &str, sk: &str, index_key: Option<(&str, &str)>) -> Item {
    let mut item = Item::from([
        ("PK".to_string(), AttrValue::s(pk)),
        ("SK".to_string(), AttrValue::s(sk)),
        ("other".to_string(), AttrValue::int(7)),
    ]);
    if let Some((ipk, isk)) = index_key {
        item.insert("GSI1PK".into(), AttrValue::s(ipk));
        item.insert("GSI1SK".into(), AttrValue::s(isk));
    }
    item
}

proptest! {
    #[test]
    fn a_table_cursor_resumes_exactly_after_its_item(
        pk in key_string(),
        sk in key_string(),
        forward in any::<bool>(),
    ) {
        let mut query = Query::partition(pk.clone()).limit(10);
        query.forward = forward;
        let cursor = encode(&item_with(&pk, &sk, None), &query).unwrap();
        let decoded = decode(&query.clone().after(Some(cursor))).unwrap();
        prop_assert_eq!(decoded, Some(StartAfter { key: Key::new(pk, sk), index_key: None }));
    }

    #[test]
    fn an_index_cursor_resumes_exactly_after_its_item(
        pk in key_string(),
        sk in key_string(),
        ipk in key_string(),
        isk in key_string(),
    ) {
        let query = Query::index(Index::Gsi1, ipk.clone()).limit(3);
        let cursor = encode(&item_with(&pk, &sk, Some((&ipk, &isk))), &query).unwrap();
        let decoded = decode(&query.clone().after(Some(cursor))).unwrap();
        prop_assert_eq!(
            decoded,
            Some(StartAfter { key: Key::new(pk, sk), index_key: Some((ipk, isk)) })
        );
    }

    #[test]
    fn a_cursor_inside_the_sort_key_condition_round_trips_and_one_outside_is_refused(
        pk in key_string(),
        sk in key_string(),
        prefix in key_string(),
    ) {
        let whole = Query::partition(pk.clone());
        let cursor = encode(&item_with(&pk, &sk, None), &whole).unwrap();
        let narrowed = whole.sort_key(SortKeyCondition::BeginsWith(prefix.clone()));
        let decoded = decode(&narrowed.after(Some(cursor)));
        if sk.starts_with(&prefix) {
            prop_assert!(decoded.unwrap().is_some());
        } else {
            prop_assert!(matches!(decoded, Err(StoreError::InvalidCursor)));
        }
    }

    #[test]
    fn a_cursor_for_one_partition_is_refused_by_another(
        pk in key_string(),
        other in key_string(),
        sk in key_string(),
    ) {
        prop_assume!(pk != other);
        let cursor = encode(&item_with(&pk, &sk, None), &Query::partition(pk.clone())).unwrap();
        let decoded = decode(&Query::partition(other).after(Some(cursor)));
        prop_assert!(matches!(decoded, Err(StoreError::InvalidCursor)));
    }

    #[test]
    fn decoding_any_string_never_panics(text in any::<String>(), index in any::<bool>()) {
        let query = if index { Query::index(Index::Gsi1, "g") } else { Query::partition("p") };
        let decoded = decode(&query.after(Some(Cursor::from_client(text))));
        prop_assert!(matches!(decoded, Ok(Some(_)) | Err(StoreError::InvalidCursor)));
    }

    #[test]
    fn decoding_any_base64_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        use base64::Engine;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let decoded = decode(&Query::partition("p").after(Some(Cursor::from_client(text))));
        prop_assert!(matches!(decoded, Ok(Some(_)) | Err(StoreError::InvalidCursor)));
    }
}

//! Cursors the store did not issue for the query at hand are refused, never passed on to a backend.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lectern_store::{Cursor, Index, Query, SortKeyCondition, StoreError};

use crate::support::{Store, indexed, put_all};

/// Items `p/k0..k2` (also in GSI1 partition `g` under `k0..k2`) and `q/k0..k2` (in `h`).
async fn arrange(s: &Store) {
    for i in 0..3 {
        let sk = format!("k{i}");
        put_all(
            s,
            [indexed("p", &sk, "g", &sk), indexed("q", &sk, "h", &sk)],
        )
        .await;
    }
}

/// The cursor after the first item of `query`.
async fn cursor_of(s: &Store, query: Query) -> Cursor {
    s.query(&query.limit(1))
        .await
        .unwrap()
        .next
        .expect("more than one item")
}

async fn assert_invalid(s: &Store, query: Query, cursor: Cursor) {
    let result = s.query(&query.limit(1).after(Some(cursor.clone()))).await;
    assert!(
        matches!(result, Err(StoreError::InvalidCursor)),
        "cursor {cursor} gave {result:?}"
    );
}

pub async fn a_garbage_cursor_is_invalid(s: &Store) {
    arrange(s).await;
    for garbage in ["", "garbage!", "%%%", "a", "eyJ2Ijox", "....", "🙂"] {
        assert_invalid(s, Query::partition("p"), Cursor::from_client(garbage)).await;
    }
}

pub async fn a_well_encoded_cursor_that_this_store_did_not_issue_is_invalid(s: &Store) {
    arrange(s).await;
    let encoded = |json: &str| Cursor::from_client(URL_SAFE_NO_PAD.encode(json));
    for forged in [
        encoded("hello"),
        encoded("{}"),
        encoded("[]"),
        encoded(r#"{"v":1}"#),
        encoded(r#"{"v":2,"i":"","pk":"p","sk":"k0"}"#),
        encoded(r#"{"v":1,"i":"","pk":"p"}"#),
        encoded(r#"{"v":1,"i":"","pk":"p","sk":7}"#),
        encoded(r#"{"v":1,"i":"GSI9","pk":"p","sk":"k0"}"#),
        encoded(r#"{"v":1,"i":"","pk":"p","sk":"k0","ipk":"g","isk":"k0"}"#),
        Cursor::from_client(URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00])),
    ] {
        assert_invalid(s, Query::partition("p"), forged).await;
    }
}

pub async fn a_cursor_from_another_partition_is_invalid(s: &Store) {
    arrange(s).await;
    let from_p = cursor_of(s, Query::partition("p")).await;
    assert_invalid(s, Query::partition("q"), from_p).await;
    let from_g = cursor_of(s, Query::index(Index::Gsi1, "g")).await;
    assert_invalid(s, Query::index(Index::Gsi1, "h"), from_g).await;
}

pub async fn a_cursor_from_the_table_is_invalid_on_the_index_and_back(s: &Store) {
    arrange(s).await;
    let table = cursor_of(s, Query::partition("p")).await;
    assert_invalid(s, Query::index(Index::Gsi1, "p"), table.clone()).await;
    assert_invalid(s, Query::index(Index::Gsi1, "g"), table).await;
    let index = cursor_of(s, Query::index(Index::Gsi1, "g")).await;
    assert_invalid(s, Query::partition("p"), index.clone()).await;
    assert_invalid(s, Query::partition("g"), index).await;
}

pub async fn a_cursor_outside_the_sort_key_condition_is_invalid(s: &Store) {
    arrange(s).await;
    // The cursor after k0 is fine for a query of the whole partition…
    let after_k0 = cursor_of(s, Query::partition("p")).await;
    let page = s
        .query(&Query::partition("p").limit(1).after(Some(after_k0.clone())))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // …but not for one whose sort-key condition excludes k0.
    for condition in [
        SortKeyCondition::BeginsWith("x".into()),
        SortKeyCondition::GreaterThan("k0".into()),
        SortKeyCondition::Between("k1".into(), "k2".into()),
        SortKeyCondition::Equals("k2".into()),
    ] {
        assert_invalid(
            s,
            Query::partition("p").sort_key(condition),
            after_k0.clone(),
        )
        .await;
    }
    let index_after_k0 = cursor_of(s, Query::index(Index::Gsi1, "g")).await;
    assert_invalid(
        s,
        Query::index(Index::Gsi1, "g").sort_key(SortKeyCondition::LessThan("k0".into())),
        index_after_k0,
    )
    .await;
}

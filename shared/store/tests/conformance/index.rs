//! Queries of GSI1: a sparse index, ordered by its sort key, paged through ties in that key.

use std::collections::BTreeSet;

use lectern_store::{AttrValue, Index, Item, Key, Query, SortKeyCondition};

use crate::support::{Store, indexed, item, key, put_all, sks, walk};

fn isk(item: &Item) -> &str {
    item["GSI1SK"].as_str().unwrap()
}

pub async fn the_index_holds_only_items_with_both_index_keys(s: &Store) {
    put_all(
        s,
        [
            indexed("p1", "both", "g", "1"),
            item("p2", "no-sk", &[("GSI1PK", AttrValue::s("g"))]),
            item("p3", "no-pk", &[("GSI1SK", AttrValue::s("1"))]),
            item("p4", "neither", &[]),
            indexed("p5", "other-partition", "h", "1"),
        ],
    )
    .await;
    let page = s.query(&Query::index(Index::Gsi1, "g")).await.unwrap();
    assert_eq!(sks(&page.items), ["both"]);
    // Index queries return whole items (the index projects all attributes).
    assert_eq!(page.items[0], indexed("p1", "both", "g", "1"));
}

pub async fn an_index_query_orders_by_the_index_sort_key(s: &Store) {
    // Table keys in the opposite order to the index sort keys.
    put_all(
        s,
        [
            indexed("p", "a", "g", "3"),
            indexed("p", "b", "g", "2"),
            indexed("q", "c", "g", "10"),
            indexed("r", "d", "g", "1"),
        ],
    )
    .await;
    let query = Query::index(Index::Gsi1, "g");
    let forward = s.query(&query).await.unwrap();
    assert_eq!(sks(&forward.items), ["d", "c", "b", "a"], "1 < 10 < 2 < 3");
    let backward = s.query(&query.clone().backward()).await.unwrap();
    assert_eq!(sks(&backward.items), ["a", "b", "c", "d"]);
    let narrowed = s
        .query(&query.sort_key(SortKeyCondition::BeginsWith("1".into())))
        .await
        .unwrap();
    assert_eq!(sks(&narrowed.items), ["d", "c"]);
}

pub async fn index_pages_walk_ties_exactly_once_in_both_directions(s: &Store) {
    // GIVEN nine items in one index partition, in three runs of equal index sort keys, with table keys
    // spread over partitions so that ties are broken by the table key
    let layout = [
        ("p2", "x", "1"),
        ("p1", "y", "1"),
        ("p1", "x", "1"),
        ("p3", "a", "2"),
        ("p0", "z", "2"),
        ("p1", "b", "3"),
        ("p1", "a", "3"),
        ("p0", "a", "3"),
        ("p9", "a", "3"),
    ];
    put_all(
        s,
        layout.iter().map(|(pk, sk, isk)| indexed(pk, sk, "g", isk)),
    )
    .await;
    put_all(s, [indexed("p1", "c", "other", "1")]).await;
    let expected: BTreeSet<Key> = layout
        .iter()
        .map(|(pk, sk, _)| Key::new(*pk, *sk))
        .collect();
    for forward in [true, false] {
        let mut base = Query::index(Index::Gsi1, "g");
        base.forward = forward;
        let whole = s.query(&base).await.unwrap().items;
        for size in 1..=5 {
            // WHEN the partition is read page by page
            let (items, _) = walk(s, &base, size).await;
            // THEN every item comes exactly once, in index sort-key order, and in the same order as
            // one unpaged query (so ties are broken the same way on every page)
            let keys: Vec<Key> = items.iter().map(key).collect();
            let unique: BTreeSet<Key> = keys.iter().cloned().collect();
            assert_eq!(keys.len(), unique.len(), "duplicates by {size}: {keys:?}");
            assert_eq!(unique, expected, "by {size}");
            assert!(
                items.windows(2).all(|w| if forward {
                    isk(&w[0]) <= isk(&w[1])
                } else {
                    isk(&w[0]) >= isk(&w[1])
                }),
                "out of order by {size}: {keys:?}"
            );
            assert_eq!(items, whole, "by {size}");
        }
    }
}

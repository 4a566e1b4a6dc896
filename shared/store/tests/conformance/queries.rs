//! Queries of a table partition: byte order, sort-key conditions, limits and pages.

use lectern_store::{AttrValue, Query, SortKeyCondition, StoreError};

use crate::support::{Store, item, put_all, sks, walk};

/// Sort keys in DynamoDB's order, which is the byte order of their UTF-8: digits < upper case < lower
/// case < `~` < `é` (0xC3 0xA9); a prefix comes before its extensions. (`😀`, 0xF0 …, would come last.)
const IN_BYTE_ORDER: [&str; 10] = ["0", "Z", "a", "b", "ba", "bb", "c", "z", "~", "é"];

async fn arrange(s: &Store) {
    // Put in an order unlike the expected one, with neighbouring partitions that must not show.
    let mut shuffled = IN_BYTE_ORDER.to_vec();
    shuffled.reverse();
    shuffled.rotate_left(3);
    put_all(s, shuffled.iter().map(|sk| item("p", sk, &[]))).await;
    put_all(s, [item("p2", "a", &[]), item("P", "a", &[])]).await;
}

pub async fn a_partition_comes_in_byte_order_of_its_sort_keys(s: &Store) {
    arrange(s).await;
    s.put(item("p", "😀", &[]), None).await.unwrap();
    let mut expected: Vec<&str> = IN_BYTE_ORDER.to_vec();
    expected.push("😀");
    let forward = s.query(&Query::partition("p")).await.unwrap();
    assert_eq!(sks(&forward.items), expected);
    assert_eq!(forward.next, None);
    let backward = s.query(&Query::partition("p").backward()).await.unwrap();
    expected.reverse();
    assert_eq!(sks(&backward.items), expected);
}

pub async fn each_sort_key_condition_selects_its_range_in_both_directions(s: &Store) {
    use SortKeyCondition::*;
    arrange(s).await;
    let cases: [(SortKeyCondition, &[&str]); 9] = [
        (Equals("b".into()), &["b"]),
        (Equals("bc".into()), &[]),
        (BeginsWith("b".into()), &["b", "ba", "bb"]),
        (
            Between("a".into(), "c".into()),
            &["a", "b", "ba", "bb", "c"],
        ),
        (Between("b".into(), "b".into()), &["b"]),
        (LessThan("b".into()), &["0", "Z", "a"]),
        (LessOrEqual("b".into()), &["0", "Z", "a", "b"]),
        (GreaterThan("c".into()), &["z", "~", "é"]),
        (GreaterOrEqual("c".into()), &["c", "z", "~", "é"]),
    ];
    for (condition, expected) in cases {
        let query = Query::partition("p").sort_key(condition.clone());
        let forward = s.query(&query).await.unwrap();
        assert_eq!(sks(&forward.items), expected, "{condition:?} forward");
        let backward = s.query(&query.backward()).await.unwrap();
        let mut reversed = expected.to_vec();
        reversed.reverse();
        assert_eq!(sks(&backward.items), reversed, "{condition:?} backward");
    }
}

pub async fn begins_with_compares_bytes(s: &Store) {
    put_all(
        s,
        ["é", "éa", "e", "ea", "E%", "E_x", "B"].map(|sk| item("p", sk, &[])),
    )
    .await;
    let prefixed = |prefix: &str| {
        let query = Query::partition("p").sort_key(SortKeyCondition::BeginsWith(prefix.into()));
        async move { sks(&s.query(&query).await.unwrap().items) }
    };
    assert_eq!(prefixed("é").await, ["é", "éa"]);
    assert_eq!(prefixed("e").await, ["e", "ea"]);
    // No case folding, and `%` / `_` are plain characters.
    assert_eq!(prefixed("b").await, Vec::<String>::new());
    assert_eq!(prefixed("E%").await, ["E%"]);
    assert_eq!(prefixed("E_").await, ["E_x"]);
}

pub async fn an_empty_partition_has_no_items_and_no_cursor(s: &Store) {
    s.put(item("other", "a", &[]), None).await.unwrap();
    let page = s.query(&Query::partition("p").limit(5)).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next, None);
}

pub async fn malformed_queries_are_invalid_requests(s: &Store) {
    arrange(s).await;
    for query in [
        Query::partition("p").limit(0),
        Query::partition(""),
        Query::partition("p").sort_key(SortKeyCondition::Between("c".into(), "a".into())),
        Query::partition("p").sort_key(SortKeyCondition::BeginsWith(String::new())),
    ] {
        assert_matches!(s.query(&query).await, Err(StoreError::InvalidRequest(_)));
    }
}

pub async fn pages_walk_a_partition_exactly_once_in_both_directions(s: &Store) {
    arrange(s).await;
    let all: Vec<String> = IN_BYTE_ORDER.iter().map(|s| s.to_string()).collect();
    for size in 1..=all.len() + 1 {
        let (forward, pages) = walk(s, &Query::partition("p"), size).await;
        assert_eq!(sks(&forward), all, "forward by {size}");
        // An exactly full last page has no cursor, so no empty page follows it.
        assert_eq!(pages, all.len().div_ceil(size), "pages of {size}");
        let (backward, _) = walk(s, &Query::partition("p").backward(), size).await;
        let mut reversed = sks(&backward);
        reversed.reverse();
        assert_eq!(reversed, all, "backward by {size}");
    }
}

pub async fn a_page_that_ends_at_the_last_item_has_no_cursor(s: &Store) {
    put_all(s, ["a", "b", "c", "d"].map(|sk| item("p", sk, &[]))).await;
    let first = s.query(&Query::partition("p").limit(2)).await.unwrap();
    assert_eq!(sks(&first.items), ["a", "b"]);
    let second = s
        .query(&Query::partition("p").limit(2).after(first.next.clone()))
        .await
        .unwrap();
    assert_eq!(sks(&second.items), ["c", "d"]);
    assert_eq!(second.next, None, "the last page is exactly full");
    let whole = s.query(&Query::partition("p").limit(4)).await.unwrap();
    assert_eq!(whole.items.len(), 4);
    assert_eq!(whole.next, None);
    let short = s.query(&Query::partition("p").limit(3)).await.unwrap();
    assert!(short.next.is_some(), "one item is left");
}

pub async fn pages_stay_inside_the_sort_key_condition(s: &Store) {
    put_all(
        s,
        ["a", "k1", "k2", "k3", "k4", "k5", "l"].map(|sk| item("p", sk, &[])),
    )
    .await;
    let base = Query::partition("p").sort_key(SortKeyCondition::BeginsWith("k".into()));
    let (forward, pages) = walk(s, &base, 2).await;
    assert_eq!(sks(&forward), ["k1", "k2", "k3", "k4", "k5"]);
    assert_eq!(pages, 3);
    let (backward, _) = walk(s, &base.clone().backward(), 2).await;
    assert_eq!(sks(&backward), ["k5", "k4", "k3", "k2", "k1"]);
    let between =
        Query::partition("p").sort_key(SortKeyCondition::Between("k2".into(), "k4".into()));
    let (inside, _) = walk(s, &between, 1).await;
    assert_eq!(sks(&inside), ["k2", "k3", "k4"]);
}

pub async fn a_partition_over_one_megabyte_is_read_across_dynamodb_pages(s: &Store) {
    // GIVEN 1.2 MB in one partition (DynamoDB, and moto, stop a page at 1 MB)
    let blob = AttrValue::s("x".repeat(100 * 1024));
    put_all(
        s,
        (0..12).map(|i| item("p", &format!("k{i:02}"), &[("blob", blob.clone())])),
    )
    .await;
    let all: Vec<String> = (0..12).map(|i| format!("k{i:02}")).collect();
    // THEN a query without a limit reads all of it, and one with a limit still knows what is left
    let whole = s.query(&Query::partition("p")).await.unwrap();
    assert_eq!(sks(&whole.items), all);
    assert_eq!(whole.next, None);
    let eleven = s.query(&Query::partition("p").limit(11)).await.unwrap();
    assert_eq!(eleven.items.len(), 11);
    assert!(eleven.next.is_some());
    let twelve = s.query(&Query::partition("p").limit(12)).await.unwrap();
    assert_eq!(twelve.items.len(), 12);
    assert_eq!(twelve.next, None);
    let (walked, pages) = walk(s, &Query::partition("p").backward(), 5).await;
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!((sks(&walked), pages), (reversed, 3));
}

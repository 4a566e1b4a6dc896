//! Updates: SET / ADD / REMOVE, DynamoDB's upsert, the index kept in sync, and refused updates.

use lectern_store::{
    AttrValue, Condition, Index, Key, Query, SortKeyCondition, StoreError, Update, UpdateAction,
};

use crate::support::{Store, item, sks};

fn key() -> Key {
    Key::new("p", "s")
}

fn update(actions: Vec<UpdateAction>) -> Update {
    Update {
        key: key(),
        actions,
        condition: None,
    }
}

pub async fn update_sets_adds_and_removes_and_returns_the_new_item(s: &Store) {
    // GIVEN an item
    s.put(
        item(
            "p",
            "s",
            &[
                ("keep", AttrValue::s("k")),
                ("drop", AttrValue::s("d")),
                ("n", AttrValue::int(5)),
                ("st", AttrValue::s("old")),
            ],
        ),
        None,
    )
    .await
    .unwrap();
    // WHEN an update sets, adds and removes
    let after = s
        .update(update(vec![
            UpdateAction::Set("st".into(), AttrValue::s("new")),
            UpdateAction::Set("fresh".into(), AttrValue::L(vec![AttrValue::int(1)])),
            UpdateAction::Add("n".into(), -7),
            UpdateAction::Remove("drop".into()),
        ]))
        .await
        .unwrap();
    // THEN it returns the whole new item, which is what is stored
    let expected = item(
        "p",
        "s",
        &[
            ("keep", AttrValue::s("k")),
            ("n", AttrValue::int(-2)),
            ("st", AttrValue::s("new")),
            ("fresh", AttrValue::L(vec![AttrValue::int(1)])),
        ],
    );
    assert_eq!(after, expected);
    assert_eq!(s.get(&key()).await.unwrap(), Some(expected));
}

pub async fn update_creates_an_absent_item(s: &Store) {
    let created = s
        .update(update(vec![
            UpdateAction::Set("st".into(), AttrValue::s("x")),
            UpdateAction::Add("n".into(), 3),
        ]))
        .await
        .unwrap();
    let expected = item(
        "p",
        "s",
        &[("st", AttrValue::s("x")), ("n", AttrValue::int(3))],
    );
    assert_eq!(created, expected);
    assert_eq!(s.get(&key()).await.unwrap(), Some(expected));
}

pub async fn update_with_exists_on_an_absent_item_fails_and_creates_nothing(s: &Store) {
    let guarded = Update {
        condition: Some(Condition::Exists),
        ..update(vec![UpdateAction::Add("n".into(), 1)])
    };
    assert_matches!(s.update(guarded).await, Err(StoreError::ConditionFailed));
    assert_eq!(s.get(&key()).await.unwrap(), None);
}

pub async fn add_on_an_absent_attribute_starts_from_zero(s: &Store) {
    s.put(item("p", "s", &[("d", AttrValue::N("1.5".into()))]), None)
        .await
        .unwrap();
    let after = s
        .update(update(vec![
            UpdateAction::Add("n".into(), 4),
            UpdateAction::Add("d".into(), 1),
        ]))
        .await
        .unwrap();
    assert_eq!(after["n"], AttrValue::int(4));
    // Exact decimal arithmetic, as DynamoDB's.
    assert_eq!(after["d"], AttrValue::N("2.5".into()));
    let again = s
        .update(update(vec![UpdateAction::Add("n".into(), -10)]))
        .await
        .unwrap();
    assert_eq!(again["n"], AttrValue::int(-6));
}

pub async fn add_to_a_string_is_an_invalid_request_and_changes_nothing(s: &Store) {
    // GIVEN an item with a number and a string
    let it = item(
        "p",
        "s",
        &[("st", AttrValue::s("x")), ("n", AttrValue::int(1))],
    );
    s.put(it.clone(), None).await.unwrap();
    // WHEN one update adds to both
    let result = s
        .update(update(vec![
            UpdateAction::Add("n".into(), 1),
            UpdateAction::Add("st".into(), 1),
        ]))
        .await;
    // THEN it is refused whole: not even the number changed (DynamoDB's updates are atomic)
    assert_matches!(result, Err(StoreError::InvalidRequest(_)));
    assert_eq!(s.get(&key()).await.unwrap(), Some(it));
}

pub async fn a_failed_condition_beside_an_add_to_a_string_is_a_failed_condition(s: &Store) {
    // DynamoDB judges the condition before it applies anything.
    let it = item(
        "p",
        "s",
        &[("st", AttrValue::s("x")), ("version", AttrValue::int(1))],
    );
    s.put(it.clone(), None).await.unwrap();
    let stale = Update {
        condition: Some(Condition::VersionEquals(2)),
        ..update(vec![UpdateAction::Add("st".into(), 1)])
    };
    assert_matches!(s.update(stale).await, Err(StoreError::ConditionFailed));
    let current = Update {
        condition: Some(Condition::VersionEquals(1)),
        ..update(vec![UpdateAction::Add("st".into(), 1)])
    };
    assert_matches!(s.update(current).await, Err(StoreError::InvalidRequest(_)));
    assert_eq!(s.get(&key()).await.unwrap(), Some(it));
}

pub async fn remove_of_an_absent_attribute_is_a_no_op(s: &Store) {
    let it = item("p", "s", &[("a", AttrValue::s("x"))]);
    s.put(it.clone(), None).await.unwrap();
    let after = s
        .update(update(vec![UpdateAction::Remove("absent".into())]))
        .await
        .unwrap();
    assert_eq!(after, it);
}

pub async fn update_of_a_key_attribute_is_an_invalid_request(s: &Store) {
    s.put(item("p", "s", &[]), None).await.unwrap();
    for action in [
        UpdateAction::Set("PK".into(), AttrValue::s("q")),
        UpdateAction::Set("SK".into(), AttrValue::s("t")),
        UpdateAction::Remove("SK".into()),
        UpdateAction::Add("PK".into(), 1),
    ] {
        assert_matches!(
            s.update(update(vec![action])).await,
            Err(StoreError::InvalidRequest(_))
        );
    }
    assert_eq!(s.get(&key()).await.unwrap(), Some(item("p", "s", &[])));
}

pub async fn an_update_naming_one_attribute_twice_is_an_invalid_request(s: &Store) {
    // DynamoDB: "Two document paths overlap"; applying them in turn would be a guess.
    let result = s
        .update(update(vec![
            UpdateAction::Set("a".into(), AttrValue::s("x")),
            UpdateAction::Remove("a".into()),
        ]))
        .await;
    assert_matches!(result, Err(StoreError::InvalidRequest(_)));
    assert_eq!(s.get(&key()).await.unwrap(), None);
}

pub async fn an_update_without_actions_is_an_invalid_request(s: &Store) {
    assert_matches!(
        s.update(update(vec![])).await,
        Err(StoreError::InvalidRequest(_))
    );
}

pub async fn updates_keep_the_index_in_sync(s: &Store) {
    let in_index = |condition: Option<SortKeyCondition>| async move {
        let mut query = Query::index(Index::Gsi1, "g");
        query.sk = condition;
        sks(&s.query(&query).await.unwrap().items)
    };
    // GIVEN an item outside the index
    s.put(item("p", "s", &[]), None).await.unwrap();
    assert!(in_index(None).await.is_empty());
    // WHEN an update gives it only the index partition key, it is still outside
    s.update(update(vec![UpdateAction::Set(
        "GSI1PK".into(),
        AttrValue::s("g"),
    )]))
    .await
    .unwrap();
    assert!(in_index(None).await.is_empty());
    // WHEN an update gives it both index keys, it is in
    s.update(update(vec![UpdateAction::Set(
        "GSI1SK".into(),
        AttrValue::s("1"),
    )]))
    .await
    .unwrap();
    assert_eq!(in_index(None).await, ["s"]);
    // WHEN its index sort key changes, the index follows
    s.update(update(vec![UpdateAction::Set(
        "GSI1SK".into(),
        AttrValue::s("2"),
    )]))
    .await
    .unwrap();
    assert!(
        in_index(Some(SortKeyCondition::Equals("1".into())))
            .await
            .is_empty()
    );
    assert_eq!(
        in_index(Some(SortKeyCondition::Equals("2".into()))).await,
        ["s"]
    );
    // WHEN an update removes an index key, it leaves the index
    s.update(update(vec![UpdateAction::Remove("GSI1SK".into())]))
        .await
        .unwrap();
    assert!(in_index(None).await.is_empty());
    // AND an index key can only ever be a string
    assert_matches!(
        s.update(update(vec![UpdateAction::Set(
            "GSI1SK".into(),
            AttrValue::int(3)
        )]))
        .await,
        Err(StoreError::InvalidRequest(_))
    );
    assert_matches!(
        s.update(update(vec![UpdateAction::Add("GSI1SK".into(), 3)]))
            .await,
        Err(StoreError::InvalidRequest(_))
    );
}

pub async fn an_update_that_grows_an_item_past_400_kb_is_refused_and_changes_nothing(s: &Store) {
    let it = item("p", "s", &[("a", AttrValue::s("x".repeat(300 * 1024)))]);
    s.put(it.clone(), None).await.unwrap();
    let result = s
        .update(update(vec![UpdateAction::Set(
            "b".into(),
            AttrValue::s("y".repeat(150 * 1024)),
        )]))
        .await;
    assert_matches!(result, Err(StoreError::ItemTooLarge { .. }));
    assert_eq!(s.get(&key()).await.unwrap(), Some(it));
}

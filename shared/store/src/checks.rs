//! Request checks both backends apply before touching data, so that they refuse the same requests
//! with the same errors (DynamoDB's limits, enforced here rather than discovered there).

use std::collections::HashSet;

use crate::item::{Item, MAX_ITEM_BYTES, item_size};
use crate::table::{
    Key, MAX_BATCH_GET_KEYS, MAX_TRANSACTION_ACTIONS, PK, SK, StoreError, StoreResult, TxAction,
    Update, UpdateAction,
};

/// A put's item: it has string keys and fits DynamoDB's size limit.
pub fn item(item: &Item) -> StoreResult<Key> {
    let key = Key::of(item)
        .ok_or_else(|| StoreError::InvalidRequest("an item needs string PK and SK".into()))?;
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::InvalidRequest(
            "PK and SK must not be empty".into(),
        ));
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge { size });
    }
    Ok(key)
}

/// An update never touches the key attributes.
pub fn update(update: &Update) -> StoreResult<()> {
    for action in &update.actions {
        let attr = match action {
            UpdateAction::Set(a, _) | UpdateAction::Add(a, _) | UpdateAction::Remove(a) => a,
        };
        if attr == PK || attr == SK {
            return Err(StoreError::InvalidRequest(format!(
                "cannot update key attribute {attr}"
            )));
        }
    }
    if update.actions.is_empty() {
        return Err(StoreError::InvalidRequest(
            "an update needs at least one action".into(),
        ));
    }
    Ok(())
}

/// The size of an item after an update, checked once the backend has computed it.
pub fn updated_item(item: &Item) -> StoreResult<()> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge { size });
    }
    Ok(())
}

/// At most 100 keys.
pub fn batch_get(keys: &[Key]) -> StoreResult<()> {
    if keys.len() > MAX_BATCH_GET_KEYS {
        return Err(StoreError::InvalidRequest(format!(
            "a batch get takes at most {MAX_BATCH_GET_KEYS} keys, got {}",
            keys.len()
        )));
    }
    Ok(())
}

/// 1 to 100 actions, each on a different item, each item and update valid.
pub fn transaction(actions: &[TxAction]) -> StoreResult<()> {
    if actions.is_empty() || actions.len() > MAX_TRANSACTION_ACTIONS {
        return Err(StoreError::InvalidRequest(format!(
            "a transaction takes 1 to {MAX_TRANSACTION_ACTIONS} actions, got {}",
            actions.len()
        )));
    }
    let mut seen = HashSet::new();
    for action in actions {
        let key = match action {
            TxAction::Put { item: i, .. } => item(i)?,
            TxAction::Update(u) => {
                update(u)?;
                u.key.clone()
            }
            TxAction::Delete { key, .. } | TxAction::Check { key, .. } => key.clone(),
        };
        if !seen.insert(key.clone()) {
            return Err(StoreError::InvalidRequest(format!(
                "two actions on one item ({}, {}) in a transaction",
                key.pk, key.sk
            )));
        }
    }
    Ok(())
}

//! The outbox: domain events recorded in the transaction of the change that causes them, and the
//! markers of the consumers that have handled them.
//!
//! A repository's write adds [`record`] to its transaction: the event exists exactly when the change
//! committed (no dual write). The table's stream (DynamoDB Streams in AWS, filtered to
//! `entity = Event`; locally the SQLite file's stream, [`crate::sqlite::SqliteTable::stream_take`])
//! carries each new event to the router, which hands it to its consumers and marks each consumer's
//! success ([`DeliveryRepo`]), so a redelivered event reaches only the consumers that have not handled
//! it yet. Events and markers expire after [`RETENTION`].

use std::sync::Arc;

use lectern_domain::event::EventEnvelope;
use time::OffsetDateTime;

use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::table::{Condition, ENTITY, Key, StoreError, StoreResult, TTL, Table, TxAction};

/// The `entity` of an outbox item: what the stream's filter selects.
pub const EVENT_ENTITY: &str = "Event";
/// The `entity` of a consumer's processed marker.
const DELIVERED_ENTITY: &str = "EventDelivered";
/// How long an event (and its markers) stays: longer than the stream keeps records (24 h) and than
/// the router retries, so a redelivery always finds its markers.
pub const RETENTION: time::Duration = time::Duration::days(3);

fn expiry(from: OffsetDateTime) -> AttrValue {
    AttrValue::int((from + RETENTION).unix_timestamp())
}

/// The put that records `event`, for the transaction of the write that causes it. Unconditional: a
/// write retried after an unknown outcome records the same id with the same content, which changes
/// nothing (and DynamoDB Streams emits no record for a put that changes nothing).
pub fn record(event: &EventEnvelope) -> StoreResult<TxAction> {
    let key = keys::event(&event.tenant, &event.subject, &event.id);
    let mut item = keyed_item(event, key, EVENT_ENTITY)?;
    item.insert(TTL.into(), expiry(event.occurred_at));
    Ok(TxAction::Put {
        item,
        condition: None,
    })
}

/// Records `event` on its own: for a change whose effects are already committed and whose event
/// alone remains to be written (a settlement, retried until it has done everything). One put; an
/// event already recorded is left as it is.
pub async fn publish(table: &dyn Table, event: &EventEnvelope) -> StoreResult<()> {
    let TxAction::Put { item, .. } = record(event)? else {
        return Err(StoreError::InvalidRequest(
            "an event is recorded by a put".into(),
        ));
    };
    match table.put(item, Some(Condition::NotExists)).await {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

/// An event as the stream delivers it: its key in the table and the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub key: Key,
    pub event: EventEnvelope,
}

/// The event an item holds; `None` for an item that is not an outbox item (the stream's filter keeps
/// them out in AWS; a router still skips them).
pub fn recorded(item: Item) -> StoreResult<Option<Recorded>> {
    if item.get(ENTITY).and_then(AttrValue::as_str) != Some(EVENT_ENTITY) {
        return Ok(None);
    }
    let key = Key::of(&item).ok_or_else(|| StoreError::Corrupt("an event without a key".into()))?;
    let event = from_item(item)?;
    Ok(Some(Recorded { key, event }))
}

/// An item from its DynamoDB JSON (`{"S": "…"}`, `{"N": "…"}`, …), as a stream record's `NewImage`
/// carries it.
pub fn item_from_dynamodb_json(image: &serde_json::Value) -> StoreResult<Item> {
    let serde_json::Value::Object(map) = image else {
        return Err(StoreError::Corrupt(
            "an image is a map of attributes".into(),
        ));
    };
    map.iter()
        .map(|(name, value)| Ok((name.clone(), attr_from_dynamodb_json(value)?)))
        .collect()
}

fn attr_from_dynamodb_json(value: &serde_json::Value) -> StoreResult<AttrValue> {
    use serde_json::Value;
    let corrupt = || StoreError::Corrupt(format!("not an attribute value Lectern writes: {value}"));
    let Value::Object(typed) = value else {
        return Err(corrupt());
    };
    let mut entries = typed.iter();
    let (Some((tag, inner)), None) = (entries.next(), entries.next()) else {
        return Err(corrupt());
    };
    Ok(match (tag.as_str(), inner) {
        ("S", Value::String(s)) => AttrValue::S(s.clone()),
        ("N", Value::String(n)) => AttrValue::N(n.clone()),
        ("BOOL", Value::Bool(b)) => AttrValue::Bool(*b),
        ("NULL", Value::Bool(true)) => AttrValue::Null,
        ("L", Value::Array(items)) => AttrValue::L(
            items
                .iter()
                .map(attr_from_dynamodb_json)
                .collect::<StoreResult<_>>()?,
        ),
        ("M", Value::Object(_)) => AttrValue::M(item_from_dynamodb_json(inner)?),
        _ => return Err(corrupt()),
    })
}

/// Which consumers have handled which events.
#[derive(Clone)]
pub struct DeliveryRepo {
    table: Arc<dyn Table>,
}

impl DeliveryRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        DeliveryRepo { table }
    }

    /// For each of `consumers`, whether it has handled the event: one batch get.
    #[tracing::instrument(skip_all, fields(event_id = %recorded.event.id))]
    pub async fn handled(&self, recorded: &Recorded, consumers: &[&str]) -> StoreResult<Vec<bool>> {
        if consumers.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<Key> = consumers
            .iter()
            .map(|c| keys::event_delivered(&recorded.key, &recorded.event.id, c))
            .collect();
        let mut seen = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(crate::table::MAX_BATCH_GET_KEYS) {
            seen.extend(
                self.table
                    .batch_get(chunk)
                    .await?
                    .into_iter()
                    .map(|i| i.is_some()),
            );
        }
        Ok(seen)
    }

    /// Marks the event handled by `consumer`, once (a marker already there is kept).
    #[tracing::instrument(skip_all, fields(event_id = %recorded.event.id, consumer))]
    pub async fn mark_handled(
        &self,
        recorded: &Recorded,
        consumer: &str,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let key = keys::event_delivered(&recorded.key, &recorded.event.id, consumer);
        let mut item = Item::from([
            (crate::table::PK.to_owned(), AttrValue::s(key.pk)),
            (crate::table::SK.to_owned(), AttrValue::s(key.sk)),
            (ENTITY.to_owned(), AttrValue::s(DELIVERED_ENTITY)),
            (
                "eventId".to_owned(),
                AttrValue::s(recorded.event.id.as_str()),
            ),
            ("consumer".to_owned(), AttrValue::s(consumer)),
        ]);
        item.insert(
            "handledAt".into(),
            AttrValue::s(
                now.format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ),
        );
        item.insert(TTL.into(), expiry(now));
        match self.table.put(item, Some(Condition::NotExists)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_image_reads_as_the_item_it_was() {
        let image = serde_json::json!({
            "PK": {"S": "T#acme#EVENTS#X"}, "n": {"N": "3"}, "ok": {"BOOL": true},
            "gone": {"NULL": true}, "l": {"L": [{"S": "a"}]}, "m": {"M": {"k": {"N": "1"}}}
        });
        let item = item_from_dynamodb_json(&image).unwrap();
        assert_eq!(item["n"], AttrValue::N("3".into()));
        assert_eq!(item["gone"], AttrValue::Null);
        assert_eq!(item["l"], AttrValue::L(vec![AttrValue::s("a")]));
        assert!(item_from_dynamodb_json(&serde_json::json!({"b": {"B": "AA=="}})).is_err());
    }
}

//! Attribute values and items: the store's data model, free of any backend's types.
//!
//! It mirrors DynamoDB's: an item is a map of attribute names to typed values. Entities go in and out
//! through serde ([`to_item`] / [`from_item`]), so repositories never build attribute maps by hand.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::StoreError;

/// One item: attribute name → value. Ordered, so encodings are deterministic.
pub type Item = BTreeMap<String, AttrValue>;

/// DynamoDB's item size limit, in bytes.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// A typed attribute value. Numbers keep DynamoDB's decimal-text representation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttrValue {
    S(String),
    N(String),
    Bool(bool),
    Null,
    L(Vec<AttrValue>),
    M(BTreeMap<String, AttrValue>),
}

impl AttrValue {
    pub fn s(value: impl Into<String>) -> Self {
        AttrValue::S(value.into())
    }

    pub fn int(value: i64) -> Self {
        AttrValue::N(value.to_string())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::S(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            AttrValue::N(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The value's size as DynamoDB counts it (rounded up where DynamoDB's rule is approximate, so that
    /// both backends refuse an item no later than DynamoDB would).
    pub fn size(&self) -> usize {
        match self {
            AttrValue::S(s) => s.len(),
            AttrValue::N(n) => n.len() + 1,
            AttrValue::Bool(_) | AttrValue::Null => 1,
            AttrValue::L(items) => 3 + items.iter().map(|v| v.size() + 1).sum::<usize>(),
            AttrValue::M(map) => {
                3 + map
                    .iter()
                    .map(|(k, v)| k.len() + v.size() + 1)
                    .sum::<usize>()
            }
        }
    }
}

impl From<&str> for AttrValue {
    fn from(value: &str) -> Self {
        AttrValue::S(value.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(value: String) -> Self {
        AttrValue::S(value)
    }
}

impl From<i64> for AttrValue {
    fn from(value: i64) -> Self {
        AttrValue::int(value)
    }
}

impl From<u64> for AttrValue {
    fn from(value: u64) -> Self {
        AttrValue::N(value.to_string())
    }
}

impl From<bool> for AttrValue {
    fn from(value: bool) -> Self {
        AttrValue::Bool(value)
    }
}

/// An item's size as DynamoDB counts it: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// Converts a JSON value into an attribute value (numbers → N, objects → M, arrays → L).
pub fn from_json(value: serde_json::Value) -> AttrValue {
    use serde_json::Value;
    match value {
        Value::Null => AttrValue::Null,
        Value::Bool(b) => AttrValue::Bool(b),
        Value::Number(n) => AttrValue::N(n.to_string()),
        Value::String(s) => AttrValue::S(s),
        Value::Array(a) => AttrValue::L(a.into_iter().map(from_json).collect()),
        Value::Object(o) => AttrValue::M(o.into_iter().map(|(k, v)| (k, from_json(v))).collect()),
    }
}

/// Converts an attribute value back into JSON. A malformed number becomes an error, not a guess.
pub fn to_json(value: AttrValue) -> Result<serde_json::Value, StoreError> {
    use serde_json::Value;
    Ok(match value {
        AttrValue::Null => Value::Null,
        AttrValue::Bool(b) => Value::Bool(b),
        AttrValue::N(n) => {
            let number: serde_json::Number = n
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("not a number: {n}")))?;
            Value::Number(number)
        }
        AttrValue::S(s) => Value::String(s),
        AttrValue::L(l) => Value::Array(l.into_iter().map(to_json).collect::<Result<_, _>>()?),
        AttrValue::M(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| Ok((k, to_json(v)?)))
                .collect::<Result<_, StoreError>>()?,
        ),
    })
}

/// Serializes an entity (a struct with named fields) into an item.
pub fn to_item<T: Serialize>(entity: &T) -> Result<Item, StoreError> {
    match serde_json::to_value(entity).map_err(|e| StoreError::Corrupt(e.to_string()))? {
        serde_json::Value::Object(map) => {
            Ok(map.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
        _ => Err(StoreError::Corrupt(
            "an entity must serialize to a map".into(),
        )),
    }
}

/// Serializes an entity into the item stored at `key`, tagged with its entity name.
pub fn keyed_item<T: Serialize>(
    entity: &T,
    key: crate::table::Key,
    name: &str,
) -> Result<Item, StoreError> {
    let mut item = to_item(entity)?;
    item.insert(crate::table::PK.into(), AttrValue::S(key.pk));
    item.insert(crate::table::SK.into(), AttrValue::S(key.sk));
    item.insert(crate::table::ENTITY.into(), AttrValue::s(name));
    Ok(item)
}

/// Deserializes an item into an entity; key and bookkeeping attributes the entity lacks are ignored.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let map = item
        .into_iter()
        .map(|(k, v)| Ok((k, to_json(v)?)))
        .collect::<Result<serde_json::Map<_, _>, StoreError>>()?;
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        name: String,
        count: i64,
        ratio: f64,
        tags: Vec<String>,
        missing: Option<String>,
    }

    #[test]
    fn an_entity_survives_a_round_trip_through_an_item() {
        let sample = Sample {
            name: "x".into(),
            count: -3,
            ratio: 0.25,
            tags: vec!["a".into()],
            missing: None,
        };
        let item = to_item(&sample).unwrap();
        assert_eq!(item["count"], AttrValue::N("-3".into()));
        assert_eq!(from_item::<Sample>(item).unwrap(), sample);
    }

    #[test]
    fn item_size_counts_names_and_values() {
        let item = Item::from([("ab".to_string(), AttrValue::s("xyz"))]);
        assert_eq!(item_size(&item), 5);
    }
}

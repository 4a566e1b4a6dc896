//! Opaque query cursors. A cursor names the last item of a page (its table key and, for an index query,
//! its index key) together with the index and partition it belongs to, so that a cursor from another
//! query, another partition or another tenant is refused as [`StoreError::InvalidCursor`], never
//! passed on to a backend.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::item::Item;
use crate::table::{Index, Key, PK, Query, SK, StoreError};

/// An opaque position in a query's results, as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// Takes a cursor string from a client. Its content is checked when it is used with a query.
    pub fn from_client(value: impl Into<String>) -> Self {
        Cursor(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    v: u8,
    /// Index name, empty for the table.
    i: String,
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ipk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    isk: Option<String>,
}

/// Where a page starts: after this item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartAfter {
    /// The table key of the last item returned.
    pub key: Key,
    /// For an index query, the last item's index key (partition, sort).
    pub index_key: Option<(String, String)>,
}

impl StartAfter {
    /// The start position after `item` for a query on `index` (None = table).
    pub fn of(item: &Item, index: Option<Index>) -> Result<StartAfter, StoreError> {
        let key =
            Key::of(item).ok_or_else(|| StoreError::Corrupt("an item without PK/SK".into()))?;
        let index_key = match index {
            None => None,
            Some(index) => {
                let get = |attr: &str| item.get(attr).and_then(|v| v.as_str()).map(str::to_owned);
                Some((
                    get(index.pk_attr()).ok_or_else(|| {
                        StoreError::Corrupt("an index item without its key".into())
                    })?,
                    get(index.sk_attr()).ok_or_else(|| {
                        StoreError::Corrupt("an index item without its key".into())
                    })?,
                ))
            }
        };
        Ok(StartAfter { key, index_key })
    }

    /// The sort key the query orders by.
    pub fn sort_key(&self) -> &str {
        match &self.index_key {
            Some((_, sk)) => sk,
            None => &self.key.sk,
        }
    }
}

/// Encodes the position after `item` for `query`.
pub fn encode(item: &Item, query: &Query) -> Result<Cursor, StoreError> {
    let start = StartAfter::of(item, query.index)?;
    let (ipk, isk) = match start.index_key {
        Some((p, s)) => (Some(p), Some(s)),
        None => (None, None),
    };
    let payload = Payload {
        v: 1,
        i: query.index.map(Index::name).unwrap_or_default().to_owned(),
        pk: start.key.pk,
        sk: start.key.sk,
        ipk,
        isk,
    };
    let json = serde_json::to_vec(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Cursor(URL_SAFE_NO_PAD.encode(json)))
}

/// Decodes the query's cursor, if any, checking that it belongs to this very query: same index, same
/// partition, and a sort key inside the query's sort-key condition.
pub fn decode(query: &Query) -> Result<Option<StartAfter>, StoreError> {
    let Some(cursor) = &query.cursor else {
        return Ok(None);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_str())
        .map_err(|_| StoreError::InvalidCursor)?;
    let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if payload.v != 1 || payload.i != query.index.map(Index::name).unwrap_or_default() {
        return Err(StoreError::InvalidCursor);
    }
    let start = match query.index {
        None => {
            if payload.pk != query.pk || payload.ipk.is_some() || payload.isk.is_some() {
                return Err(StoreError::InvalidCursor);
            }
            StartAfter {
                key: Key::new(payload.pk, payload.sk),
                index_key: None,
            }
        }
        Some(_) => match (payload.ipk, payload.isk) {
            (Some(ipk), Some(isk)) if ipk == query.pk => StartAfter {
                key: Key::new(payload.pk, payload.sk),
                index_key: Some((ipk, isk)),
            },
            _ => return Err(StoreError::InvalidCursor),
        },
    };
    if let Some(condition) = &query.sk
        && !condition.matches(start.sort_key())
    {
        return Err(StoreError::InvalidCursor);
    }
    Ok(Some(start))
}

/// The page a backend answers after reading up to `limit + 1` matching items: the first `limit`, and a
/// cursor after the last of them only when more matched.
pub fn page(mut items: Vec<Item>, query: &Query) -> Result<crate::table::Page, StoreError> {
    let next = match query.limit {
        Some(limit) if items.len() > limit => {
            items.truncate(limit);
            items.last().map(|last| encode(last, query)).transpose()?
        }
        _ => None,
    };
    Ok(crate::table::Page { items, next })
}

/// One page of a query whose items are `T`, keeping only those `keep` accepts (like DynamoDB's filter
/// expressions: items read and dropped still cost their read). The cursor points after the last item
/// returned. The lists of payments and invoices page through it.
pub(crate) async fn filtered_page<T: serde::de::DeserializeOwned>(
    table: &dyn crate::table::Table,
    query: Query,
    limit: usize,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Option<Cursor>), StoreError> {
    let mut query = query;
    let mut out = Vec::new();
    loop {
        let page = table
            .query(&query.clone().limit(crate::table::MAX_BATCH_GET_KEYS))
            .await?;
        let count = page.items.len();
        for (i, item) in page.items.into_iter().enumerate() {
            let value: T = crate::item::from_item(item.clone())?;
            if keep(&value) {
                out.push(value);
                if out.len() == limit {
                    let more = i + 1 < count || page.next.is_some();
                    let next = if more {
                        Some(encode(&item, &query)?)
                    } else {
                        None
                    };
                    return Ok((out, next));
                }
            }
        }
        match page.next {
            Some(next) => query = query.after(Some(next)),
            None => return Ok((out, None)),
        }
    }
}

/// Attribute names of the table key, for backends that build key maps.
pub const KEY_ATTRS: [&str; 2] = [PK, SK];

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::item::AttrValue;
    use crate::table::SortKeyCondition;

    fn item(pk: &str, sk: &str) -> Item {
        Item::from([
            (PK.to_owned(), AttrValue::s(pk)),
            (SK.to_owned(), AttrValue::s(sk)),
        ])
    }

    proptest! {
        /// Whatever a client sends as a cursor, decoding answers a position or `InvalidCursor`, and
        /// never panics.
        #[test]
        fn any_client_string_decodes_or_is_refused(raw in ".{0,300}") {
            let query = Query::partition("T#t#USER#u").after(Some(Cursor::from_client(raw)));
            match decode(&query) {
                Ok(_) | Err(StoreError::InvalidCursor) => {}
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        /// Base64 of any bytes (so past the first check) is refused unless it is a cursor of this
        /// very query.
        #[test]
        fn forged_payloads_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let raw = URL_SAFE_NO_PAD.encode(&bytes);
            let query = Query::partition("T#t#USER#u").after(Some(Cursor::from_client(raw)));
            prop_assert!(matches!(decode(&query), Err(StoreError::InvalidCursor) | Ok(Some(_))));
        }

        /// A cursor the store gave out decodes to the item it names, for its own query only.
        #[test]
        fn a_cursor_round_trips_on_its_own_query_only(sk in "[A-Z#0-9]{1,40}", other in "[a-z]{1,10}") {
            let query = Query::partition("T#t#COURSE#c");
            let cursor = encode(&item("T#t#COURSE#c", &sk), &query).unwrap();
            let start = decode(&query.clone().after(Some(cursor.clone()))).unwrap().unwrap();
            prop_assert_eq!(start.key, Key::new("T#t#COURSE#c", sk.clone()));
            let elsewhere = Query::partition(format!("T#t{other}#COURSE#c")).after(Some(cursor.clone()));
            prop_assert!(matches!(decode(&elsewhere), Err(StoreError::InvalidCursor)));
            let narrower = Query::partition("T#t#COURSE#c")
                .sort_key(SortKeyCondition::BeginsWith(format!("{sk}~")))
                .after(Some(cursor));
            prop_assert!(matches!(decode(&narrower), Err(StoreError::InvalidCursor)));
        }
    }
}

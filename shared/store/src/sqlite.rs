//! The embedded backend: one SQLite file that behaves like the DynamoDB table.
//!
//! Items are stored as JSON (the tagged `AttrValue` encoding) beside their key columns; index key
//! columns are filled from the item's `GSI1PK`/`GSI1SK` when both are strings, as DynamoDB's sparse
//! indexes do. Text compares with SQLite's BINARY collation, i.e. byte-wise on UTF-8: DynamoDB's order.
//! Every write runs in a `BEGIN IMMEDIATE` transaction, so conditions are checked and applied atomically
//! even when several processes (the functions of `cargo lambda watch`) share the file (WAL mode, busy
//! timeout).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::checks;
use crate::cursor;
use crate::item::{AttrValue, Item};
use crate::table::{
    Condition, Index, Key, Page, Query, SortKeyCondition, StoreError, StoreResult, Table, TxAction,
    Update, UpdateAction,
};

pub struct SqliteTable {
    conn: Mutex<Connection>,
}

fn unavailable(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Unavailable(e.into())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        unavailable(e)
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    item TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
";

impl SqliteTable {
    /// Opens (creating if needed) the table in the file at `path`.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)
            .with_context(|| format!("opening {}", path.display()))
            .map_err(unavailable)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Two processes creating the schema at once: the second waits on the busy timeout.
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteTable {
            conn: Mutex::new(conn),
        })
    }

    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| unavailable(anyhow::anyhow!("the store's lock is poisoned")))?;
        f(&mut conn)
    }
}

fn encode(item: &Item) -> StoreResult<String> {
    serde_json::to_string(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode(text: &str) -> StoreResult<Item> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn read(conn: &Connection, key: &Key) -> StoreResult<Option<Item>> {
    conn.query_row(
        "SELECT item FROM items WHERE pk = ?1 AND sk = ?2",
        params![key.pk, key.sk],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .map(|t| decode(&t))
    .transpose()
}

fn index_key(item: &Item, index: Index) -> (Option<&str>, Option<&str>) {
    let pk = item.get(index.pk_attr()).and_then(AttrValue::as_str);
    let sk = item.get(index.sk_attr()).and_then(AttrValue::as_str);
    match (pk, sk) {
        (Some(p), Some(s)) => (Some(p), Some(s)),
        _ => (None, None),
    }
}

fn write(conn: &Connection, key: &Key, item: &Item) -> StoreResult<()> {
    let (gpk, gsk) = index_key(item, Index::Gsi1);
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, item, gsi1pk, gsi1sk) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key.pk, key.sk, encode(item)?, gpk, gsk],
    )?;
    Ok(())
}

fn remove(conn: &Connection, key: &Key) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
        params![key.pk, key.sk],
    )?;
    Ok(())
}

/// Whether `condition` holds for the current item (`None` when absent), as DynamoDB evaluates it.
pub(crate) fn holds(condition: &Condition, item: Option<&Item>) -> bool {
    match condition {
        Condition::NotExists => item.is_none(),
        Condition::Exists => item.is_some(),
        Condition::Equals(attr, value) => item.and_then(|i| i.get(attr)) == Some(value),
        Condition::AttrNotExists(attr) => item.is_none_or(|i| !i.contains_key(attr)),
        Condition::VersionEquals(v) => {
            item.and_then(|i| i.get(crate::table::VERSION)) == Some(&AttrValue::N(v.to_string()))
        }
        Condition::And(all) => all.iter().all(|c| holds(c, item)),
    }
}

/// The item after applying an update to the current one (DynamoDB's upsert when absent).
pub(crate) fn apply(update: &Update, current: Option<Item>) -> StoreResult<Item> {
    let mut item = current.unwrap_or_else(|| {
        Item::from([
            (
                crate::table::PK.to_owned(),
                AttrValue::S(update.key.pk.clone()),
            ),
            (
                crate::table::SK.to_owned(),
                AttrValue::S(update.key.sk.clone()),
            ),
        ])
    });
    for action in &update.actions {
        match action {
            UpdateAction::Set(attr, value) => {
                item.insert(attr.clone(), value.clone());
            }
            UpdateAction::Remove(attr) => {
                item.remove(attr);
            }
            UpdateAction::Add(attr, delta) => {
                let sum = match item.get(attr) {
                    None => AttrValue::int(*delta),
                    Some(AttrValue::N(n)) => add_number(n, *delta)?,
                    Some(_) => {
                        return Err(StoreError::InvalidRequest(format!(
                            "cannot add to non-number attribute {attr}"
                        )));
                    }
                };
                item.insert(attr.clone(), sum);
            }
        }
    }
    checks::updated_item(&item)?;
    Ok(item)
}

fn add_number(n: &str, delta: i64) -> StoreResult<AttrValue> {
    if let Ok(i) = n.parse::<i64>() {
        return i
            .checked_add(delta)
            .map(AttrValue::int)
            .ok_or_else(|| StoreError::InvalidRequest("number overflow".into()));
    }
    let f: f64 = n
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("not a number: {n}")))?;
    Ok(AttrValue::N((f + delta as f64).to_string()))
}

fn check_condition(
    conn: &Connection,
    key: &Key,
    condition: Option<&Condition>,
) -> StoreResult<(Option<Item>, bool)> {
    let current = read(conn, key)?;
    let ok = condition.is_none_or(|c| holds(c, current.as_ref()));
    Ok((current, ok))
}

fn sort_condition_sql(
    column: &str,
    condition: &SortKeyCondition,
    args: &mut Vec<String>,
) -> String {
    let mut arg = |v: &str| {
        args.push(v.to_owned());
        format!("?{}", args.len())
    };
    match condition {
        SortKeyCondition::Equals(v) => format!("{column} = {}", arg(v)),
        // substr on a BLOB cast compares bytes, so prefixes work for any UTF-8 text.
        SortKeyCondition::BeginsWith(p) => {
            let a = arg(p);
            format!(
                "substr(CAST({column} AS BLOB), 1, length(CAST({a} AS BLOB))) = CAST({a} AS BLOB)"
            )
        }
        SortKeyCondition::Between(a, b) => {
            let (a, b) = (arg(a), arg(b));
            format!("{column} >= {a} AND {column} <= {b}")
        }
        SortKeyCondition::LessThan(v) => format!("{column} < {}", arg(v)),
        SortKeyCondition::LessOrEqual(v) => format!("{column} <= {}", arg(v)),
        SortKeyCondition::GreaterThan(v) => format!("{column} > {}", arg(v)),
        SortKeyCondition::GreaterOrEqual(v) => format!("{column} >= {}", arg(v)),
    }
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.with_conn(|conn| read(conn, key))
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        checks::batch_get(keys)?;
        self.with_conn(|conn| keys.iter().map(|k| read(conn, k)).collect())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        let key = checks::item(&item)?;
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (_, ok) = check_condition(&tx, &key, condition.as_ref())?;
            if !ok {
                return Err(StoreError::ConditionFailed);
            }
            write(&tx, &key, &item)?;
            tx.commit()?;
            Ok(())
        })
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        checks::update(&update)?;
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (current, ok) = check_condition(&tx, &update.key, update.condition.as_ref())?;
            if !ok {
                return Err(StoreError::ConditionFailed);
            }
            let item = apply(&update, current)?;
            write(&tx, &update.key, &item)?;
            tx.commit()?;
            Ok(item)
        })
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<Option<Item>> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (current, ok) = check_condition(&tx, key, condition.as_ref())?;
            if !ok {
                return Err(StoreError::ConditionFailed);
            }
            remove(&tx, key)?;
            tx.commit()?;
            Ok(current)
        })
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        let start = cursor::decode(query)?;
        let (pk_col, sk_col) = match query.index {
            None => ("pk", "sk"),
            Some(Index::Gsi1) => ("gsi1pk", "gsi1sk"),
        };
        let mut args = vec![query.pk.clone()];
        let mut sql = format!("SELECT item FROM items WHERE {pk_col} = ?1");
        if let Some(condition) = &query.sk {
            sql += &format!(" AND {}", sort_condition_sql(sk_col, condition, &mut args));
        }
        let (cmp, dir) = if query.forward {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some(start) = &start {
            // Resume strictly after the last item in (sort key, pk, sk) order; for the table the
            // partition is fixed, so this is just the sort key.
            match &start.index_key {
                None => {
                    args.push(start.key.sk.clone());
                    sql += &format!(" AND sk {cmp} ?{}", args.len());
                }
                Some((_, isk)) => {
                    args.extend([isk.clone(), start.key.pk.clone(), start.key.sk.clone()]);
                    let n = args.len();
                    sql += &format!(
                        " AND ({sk_col}, pk, sk) {cmp} (?{}, ?{}, ?{n})",
                        n - 2,
                        n - 1
                    );
                }
            }
        }
        sql += &match query.index {
            None => format!(" ORDER BY sk {dir}"),
            Some(_) => format!(" ORDER BY {sk_col} {dir}, pk {dir}, sk {dir}"),
        };
        if let Some(limit) = query.limit {
            sql += &format!(" LIMIT {}", limit + 1);
        }
        let items = self.with_conn(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                r.get::<_, String>(0)
            })?;
            rows.map(|row| decode(&row?))
                .collect::<StoreResult<Vec<Item>>>()
        })?;
        cursor::page(items, query)
    }

    async fn transact_write(&self, actions: Vec<TxAction>) -> StoreResult<()> {
        checks::transaction(&actions)?;
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Evaluate every condition against the state before the transaction, as DynamoDB does.
            let mut failed = Vec::new();
            let mut currents = Vec::with_capacity(actions.len());
            for (i, action) in actions.iter().enumerate() {
                let (key, condition) = match action {
                    TxAction::Put { item, condition } => (Key::of(item), condition.as_ref()),
                    TxAction::Update(u) => (Some(u.key.clone()), u.condition.as_ref()),
                    TxAction::Delete { key, condition } => (Some(key.clone()), condition.as_ref()),
                    TxAction::Check { key, condition } => (Some(key.clone()), Some(condition)),
                };
                let key = key
                    .ok_or_else(|| StoreError::InvalidRequest("an action without a key".into()))?;
                let (current, ok) = check_condition(&tx, &key, condition)?;
                if !ok {
                    failed.push(i);
                }
                currents.push((key, current));
            }
            if !failed.is_empty() {
                return Err(StoreError::TransactionCanceled { failed });
            }
            for (action, (key, current)) in actions.iter().zip(currents) {
                match action {
                    TxAction::Put { item, .. } => write(&tx, &key, item)?,
                    TxAction::Update(u) => write(&tx, &key, &apply(u, current)?)?,
                    TxAction::Delete { .. } => remove(&tx, &key)?,
                    TxAction::Check { .. } => {}
                }
            }
            tx.commit()?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttrValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn conditions_on_an_absent_item_hold_as_in_dynamodb() {
        assert!(holds(&Condition::NotExists, None));
        assert!(!holds(&Condition::Exists, None));
        assert!(!holds(
            &Condition::Equals("a".into(), AttrValue::int(1)),
            None
        ));
        assert!(holds(&Condition::AttrNotExists("a".into()), None));
        assert!(!holds(&Condition::VersionEquals(1), None));
    }

    #[test]
    fn version_equals_compares_the_version_attribute() {
        let i = item(&[("version", AttrValue::int(3))]);
        assert!(holds(&Condition::VersionEquals(3), Some(&i)));
        assert!(!holds(&Condition::VersionEquals(2), Some(&i)));
    }

    #[test]
    fn add_treats_an_absent_number_as_zero_and_refuses_strings() {
        let update = Update {
            key: Key::new("p", "s"),
            actions: vec![UpdateAction::Add("n".into(), 5)],
            condition: None,
        };
        assert_eq!(apply(&update, None).unwrap()["n"], AttrValue::int(5));
        let current = item(&[("n", AttrValue::s("x"))]);
        assert!(apply(&update, Some(current)).is_err());
    }
}

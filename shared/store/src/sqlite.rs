//! The embedded backend: one SQLite file that behaves like the DynamoDB table.
//!
//! Items are stored as JSON (the tagged `AttrValue` encoding) beside their key columns; index key
//! columns are filled from the item's `GSI1PK`/`GSI1SK` when it has both, as DynamoDB's sparse indexes
//! do. Text compares with SQLite's BINARY collation, i.e. byte-wise on UTF-8: DynamoDB's order.
//! Every write runs in a `BEGIN IMMEDIATE` transaction, so conditions are checked and applied atomically
//! even when several processes (the functions of `cargo lambda watch`) share the file (WAL mode, busy
//! timeout). Conditions and updates are evaluated by [`crate::eval`], DynamoDB's rules as pure
//! functions.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::checks;
use crate::cursor;
use crate::eval;
use crate::item::Item;
use crate::table::{
    Condition, Index, Key, Page, Query, SortKeyCondition, StoreError, StoreResult, Table, TxAction,
    Update,
};

/// The table in one SQLite file. Calls run inline on the caller's thread: each is one short
/// statement or transaction on a local file.
pub struct SqliteTable {
    conn: SharedConnection,
}

/// A connection to an SQLite file that several handles of one process use in turn: the table and,
/// in a function that also keeps local queues in the store's file, its queues
/// ([`SqliteTable::connection`]). Each handle holds the lock for one statement or transaction and
/// calls nothing else meanwhile.
pub type SharedConnection = Arc<Mutex<Connection>>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        // Includes SQLITE_BUSY once the busy timeout has passed: another process held the write lock.
        StoreError::Unavailable(anyhow::Error::new(e).context("SQLite store"))
    }
}

/// One row per item. The index columns are NULL for an item outside the index, and the partial index
/// holds only the others, in the order an index query reads them (index sort key, then table key).
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
CREATE TABLE IF NOT EXISTS stream (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    image TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    visible_at INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX IF NOT EXISTS stream_pending ON stream (dead, pk, seq);
";

/// How long a write waits for another connection's (or process's) write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl SqliteTable {
    /// Opens the table in the file at `path`, creating the file and schema if absent. Several
    /// processes may open the same file.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)
            .with_context(|| format!("opening the SQLite store at {}", path.display()))
            .map_err(StoreError::Unavailable)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets readers go on while one process writes; NORMAL sync is durable across crashes of
        // the process (not of the machine), which is what a local store needs.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, path = %path.display(), "SQLite store is not in WAL mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        plan_without_bound_values(&conn)?;
        // Two processes creating the schema at once: the second waits on the busy timeout.
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteTable {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The table's connection, for other handles on the same file in this process (the local
    /// queues of the payments function): at cold start the file is opened, and its schema read,
    /// once.
    pub fn connection(&self) -> SharedConnection {
        self.conn.clone()
    }

    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        // A panic while the lock was held unwound through the transaction guard, which rolled back:
        // the connection is still good, so a poisoned lock is not a reason to stop serving.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut conn)
    }

    /// Runs `f` in a write transaction taken at once (`BEGIN IMMEDIATE`), so that what `f` reads
    /// cannot change before it writes, whichever process writes next. Commits only if `f` succeeds.
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
    }
}

/// Makes statement plans independent of the values bound to them (SQLite's query planner
/// stability guarantee). Otherwise a plan that looked at a bound value (`pk = ?1` weighed as a
/// filter: is it 0 or 1?) is marked stale whenever that value is cleared, which the statement cache
/// does to every statement it takes back: each query was parsed and planned again on every run
/// (docs/performance.md). Lectern's plans do not depend on values: no LIKE, no statistics tables.
/// The local queues set the same on the connections they open.
fn plan_without_bound_values(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

fn encode(item: &Item) -> StoreResult<String> {
    serde_json::to_string(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode(text: &str) -> StoreResult<Item> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn read(conn: &Connection, key: &Key) -> StoreResult<Option<Item>> {
    conn.prepare_cached("SELECT item FROM items WHERE pk = ?1 AND sk = ?2")?
        .query_row(params![key.pk, key.sk], |r| r.get::<_, String>(0))
        .optional()?
        .map(|t| decode(&t))
        .transpose()
}

fn store(conn: &Connection, key: &Key, item: &Item) -> StoreResult<()> {
    let (gsi1pk, gsi1sk) = eval::index_key(item, Index::Gsi1).unzip();
    let encoded = encode(item)?;
    if is_streamed(item) && read(conn, key)?.as_ref() != Some(item) {
        // In the write's own transaction, as DynamoDB Streams records a change only once it commits
        // (and records nothing for a write that changes nothing).
        conn.prepare_cached("INSERT INTO stream (pk, sk, image) VALUES (?1, ?2, ?3)")?
            .execute(params![key.pk, key.sk, encoded])?;
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO items (pk, sk, item, gsi1pk, gsi1sk) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![key.pk, key.sk, encoded, gsi1pk, gsi1sk])?;
    Ok(())
}

/// Whether a write of `item` goes to the stream: outbox items only, as the filter of the router's
/// event source mapping selects in AWS.
fn is_streamed(item: &Item) -> bool {
    item.get(crate::table::ENTITY)
        .and_then(crate::AttrValue::as_str)
        == Some(crate::outbox::EVENT_ENTITY)
}

/// A record of the file's stream: the new image of an outbox item, as the router receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    /// Its position in the stream (increasing with each write).
    pub seq: i64,
    pub image: Item,
    /// Deliveries that failed so far.
    pub attempts: u32,
}

/// A record that failed too often: kept, with its last error, for a person to look at.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamDeadLetter {
    pub record: StreamRecord,
    pub error: String,
}

fn stream_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, u32)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

/// The file's stream of outbox items: what DynamoDB Streams is to the table in AWS, for the local
/// router. One reader per file (the local server): a record taken is hidden for the lease it is
/// taken with; a record handled is deleted; a failed one comes back later, and after its last
/// attempt it stays as a dead letter. Records of one partition come one at a time, in order, as a
/// stream shard delivers them: a failing record holds back the later ones of its partition until it
/// succeeds or is dead-lettered.
impl SqliteTable {
    /// Up to `limit` records due at `now_ms` (epoch milliseconds), oldest first, at most one (the
    /// oldest pending) per partition, each hidden until `now_ms + lease_ms`.
    pub fn stream_take(
        &self,
        limit: usize,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Vec<StreamRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write(|tx| {
            let rows = tx
                .prepare_cached(
                    "SELECT seq, image, attempts FROM stream AS s \
                     WHERE dead = 0 AND visible_at <= ?1 AND NOT EXISTS ( \
                         SELECT 1 FROM stream AS e WHERE e.dead = 0 AND e.pk = s.pk AND e.seq < s.seq) \
                     ORDER BY seq LIMIT ?2",
                )?
                .query_map(params![now_ms, limit], stream_record)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut hide = tx.prepare_cached("UPDATE stream SET visible_at = ?2 WHERE seq = ?1")?;
            rows.into_iter()
                .map(|(seq, image, attempts)| -> StoreResult<StreamRecord> {
                    hide.execute(params![seq, now_ms.saturating_add(lease_ms)])?;
                    Ok(StreamRecord {
                        seq,
                        image: decode(&image)?,
                        attempts,
                    })
                })
                .collect()
        })
    }

    /// A record handled: gone from the stream.
    pub fn stream_done(&self, seq: i64) -> StoreResult<()> {
        self.with_conn(|conn| {
            conn.prepare_cached("DELETE FROM stream WHERE seq = ?1")?
                .execute(params![seq])?;
            Ok(())
        })
    }

    /// A record whose delivery failed: due again at `retry_at_ms`, or, when that was attempt
    /// `max_attempts`, a dead letter. Answers whether it is dead now.
    pub fn stream_failed(
        &self,
        seq: i64,
        error: &str,
        retry_at_ms: i64,
        max_attempts: u32,
    ) -> StoreResult<bool> {
        self.write(|tx| {
            let dead: bool = tx
                .prepare_cached(
                    "UPDATE stream SET attempts = attempts + 1, visible_at = ?2, error = ?3, \
                     dead = (attempts + 1 >= ?4) WHERE seq = ?1 RETURNING dead",
                )?
                .query_row(params![seq, retry_at_ms, error, max_attempts], |r| r.get(0))
                .optional()?
                .unwrap_or(false);
            Ok(dead)
        })
    }

    /// The stream's dead letters, oldest first.
    pub fn stream_dead_letters(&self) -> StoreResult<Vec<StreamDeadLetter>> {
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT seq, image, attempts, coalesce(error, '') FROM stream WHERE dead = 1 ORDER BY seq",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((stream_record(row)?, row.get::<_, String>(3)?))
            })?;
            rows.map(|row| -> StoreResult<StreamDeadLetter> {
                let ((seq, image, attempts), error) = row?;
                Ok(StreamDeadLetter {
                    record: StreamRecord {
                        seq,
                        image: decode(&image)?,
                        attempts,
                    },
                    error,
                })
            })
            .collect()
        })
    }
}

fn erase(conn: &Connection, key: &Key) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")?
        .execute(params![key.pk, key.sk])?;
    Ok(())
}

/// The current item, if `condition` (none = always) holds for it.
fn current_if(
    conn: &Connection,
    key: &Key,
    condition: Option<&Condition>,
) -> StoreResult<Result<Option<Item>, ()>> {
    let current = read(conn, key)?;
    Ok(
        if condition.is_none_or(|c| eval::holds(c, current.as_ref())) {
            Ok(current)
        } else {
            Err(())
        },
    )
}

/// The SQL of a sort-key condition on `column`, its values appended to `args`.
fn sort_key_sql(column: &str, condition: &SortKeyCondition, args: &mut Vec<String>) -> String {
    let mut arg = |v: &str| {
        args.push(v.to_owned());
        format!("?{}", args.len())
    };
    match condition {
        SortKeyCondition::Equals(v) => format!("{column} = {}", arg(v)),
        SortKeyCondition::BeginsWith(p) => {
            let p = arg(p);
            // `>=` lets the index narrow the scan; the byte comparison of the prefix decides (substr
            // and length of a BLOB count bytes, so any UTF-8 prefix works, and LIKE's case folding
            // and wildcards stay out of it).
            format!(
                "{column} >= {p} AND substr(CAST({column} AS BLOB), 1, length(CAST({p} AS BLOB))) \
                 = CAST({p} AS BLOB)"
            )
        }
        SortKeyCondition::Between(low, high) => {
            let (low, high) = (arg(low), arg(high));
            format!("{column} >= {low} AND {column} <= {high}")
        }
        SortKeyCondition::LessThan(v) => format!("{column} < {}", arg(v)),
        SortKeyCondition::LessOrEqual(v) => format!("{column} <= {}", arg(v)),
        SortKeyCondition::GreaterThan(v) => format!("{column} > {}", arg(v)),
        SortKeyCondition::GreaterOrEqual(v) => format!("{column} >= {}", arg(v)),
    }
}

/// The SQL and arguments of a query page: up to `limit + 1` matching rows after the cursor, in the
/// query's order (for an index: index sort key, ties broken by the table key, as moto and the cursor
/// do).
fn query_sql(query: &Query, start: Option<&cursor::StartAfter>) -> (String, Vec<String>) {
    let (pk_col, sk_col) = match query.index {
        None => ("pk", "sk"),
        Some(Index::Gsi1) => ("gsi1pk", "gsi1sk"),
    };
    let mut args = vec![query.pk.clone()];
    let mut sql = format!("SELECT item FROM items WHERE {pk_col} = ?1");
    if let Some(condition) = &query.sk {
        sql += &format!(" AND {}", sort_key_sql(sk_col, condition, &mut args));
    }
    let (after, dir) = if query.forward {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some(start) = start {
        match &start.index_key {
            // The partition is fixed, so the table's sort key orders it.
            None => {
                args.push(start.key.sk.clone());
                sql += &format!(" AND sk {after} ?{}", args.len());
            }
            Some((_, isk)) => {
                args.extend([isk.clone(), start.key.pk.clone(), start.key.sk.clone()]);
                let n = args.len();
                sql += &format!(
                    " AND ({sk_col}, pk, sk) {after} (?{}, ?{}, ?{n})",
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
        // One more than asked, to know whether a next page exists.
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        sql += &format!(" LIMIT {fetch}");
    }
    (sql, args)
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        eval::key(key)?;
        self.with_conn(|conn| read(conn, key))
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        checks::batch_get(keys)?;
        keys.iter().try_for_each(eval::key)?;
        self.with_conn(|conn| keys.iter().map(|k| read(conn, k)).collect())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        let key = checks::item(&item)?;
        let (item, condition) = eval::put(item, condition)?;
        self.write(|tx| {
            current_if(tx, &key, condition.as_ref())?.map_err(|()| StoreError::ConditionFailed)?;
            store(tx, &key, &item)
        })
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        checks::update(&update)?;
        let update = eval::update(update)?;
        self.write(|tx| {
            let current = current_if(tx, &update.key, update.condition.as_ref())?
                .map_err(|()| StoreError::ConditionFailed)?;
            // Also checks the size of the result (checks::updated_item) before anything is written.
            let item = eval::apply(&update, current)?;
            store(tx, &update.key, &item)?;
            Ok(item)
        })
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<Option<Item>> {
        let condition = eval::keyed(key, condition)?;
        self.write(|tx| {
            let current = current_if(tx, key, condition.as_ref())?
                .map_err(|()| StoreError::ConditionFailed)?;
            erase(tx, key)?;
            Ok(current)
        })
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        eval::query(query)?;
        let start = cursor::decode(query)?;
        let (sql, args) = query_sql(query, start.as_ref());
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
        let actions = eval::transaction(actions)?;
        self.write(|tx| {
            // Every condition is judged against the state before the transaction, as DynamoDB does
            // (each action touches a different item, so the order does not matter), and all of them
            // are judged, so that every failing action is named.
            let mut failed = Vec::new();
            let mut currents = Vec::with_capacity(actions.len());
            for (i, action) in actions.iter().enumerate() {
                let (key, condition) = match action {
                    TxAction::Put { item, condition } => (Key::of(item), condition.as_ref()),
                    TxAction::Update(u) => (Some(u.key.clone()), u.condition.as_ref()),
                    TxAction::Delete { key, condition } => (Some(key.clone()), condition.as_ref()),
                    TxAction::Check { key, condition } => (Some(key.clone()), Some(condition)),
                };
                // checks::transaction has refused puts without a key.
                let key = key.ok_or_else(|| {
                    StoreError::InvalidRequest("a transaction action without a key".into())
                })?;
                match current_if(tx, &key, condition)? {
                    Ok(current) => currents.push((key, current)),
                    Err(()) => failed.push(i),
                }
            }
            if !failed.is_empty() {
                return Err(StoreError::TransactionCanceled { failed });
            }
            // An error from here on (an ADD to a string, an update grown too large) drops the
            // transaction uncommitted: nothing is written.
            for (action, (key, current)) in actions.iter().zip(currents) {
                match action {
                    TxAction::Put { item, .. } => store(tx, &key, item)?,
                    TxAction::Update(u) => store(tx, &key, &eval::apply(u, current)?)?,
                    TxAction::Delete { .. } => erase(tx, &key)?,
                    TxAction::Check { .. } => {}
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_page_resumes_after_the_cursor_sort_key() {
        let query = Query::partition("p").limit(2);
        let start = cursor::StartAfter {
            key: Key::new("p", "k1"),
            index_key: None,
        };
        let (sql, args) = query_sql(&query, Some(&start));
        assert_eq!(
            sql,
            "SELECT item FROM items WHERE pk = ?1 AND sk > ?2 ORDER BY sk ASC LIMIT 3"
        );
        assert_eq!(args, ["p", "k1"]);
    }

    #[test]
    fn an_index_page_breaks_sort_key_ties_by_the_table_key_in_both_directions() {
        let query = Query::index(Index::Gsi1, "g")
            .sort_key(SortKeyCondition::LessThan("z".into()))
            .backward();
        let start = cursor::StartAfter {
            key: Key::new("p", "s"),
            index_key: Some(("g".into(), "m".into())),
        };
        let (sql, args) = query_sql(&query, Some(&start));
        assert_eq!(
            sql,
            "SELECT item FROM items WHERE gsi1pk = ?1 AND gsi1sk < ?2 \
             AND (gsi1sk, pk, sk) < (?3, ?4, ?5) ORDER BY gsi1sk DESC, pk DESC, sk DESC"
        );
        assert_eq!(args, ["g", "z", "m", "p", "s"]);
    }

    #[test]
    fn a_huge_limit_does_not_overflow() {
        let (sql, _) = query_sql(&Query::partition("p").limit(usize::MAX), None);
        assert!(sql.ends_with(&format!("LIMIT {}", i64::MAX)), "{sql}");
    }

    #[test]
    fn opening_a_file_twice_keeps_its_items() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let item = Item::from([
            ("PK".to_string(), crate::AttrValue::s("p")),
            ("SK".to_string(), crate::AttrValue::s("s")),
        ]);
        runtime.block_on(async {
            SqliteTable::open(&path)
                .unwrap()
                .put(item.clone(), None)
                .await
                .unwrap();
            let again = SqliteTable::open(&path).unwrap();
            assert_eq!(again.get(&Key::new("p", "s")).await.unwrap(), Some(item));
        });
    }

    #[tokio::test]
    async fn a_query_run_again_reuses_its_compiled_statement() {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("t.db")).unwrap();
        for sk in ["a1", "a2", "b1"] {
            let item = Item::from([
                ("PK".to_string(), crate::AttrValue::s("p")),
                ("SK".to_string(), crate::AttrValue::s(sk)),
                ("GSI1PK".to_string(), crate::AttrValue::s("g")),
                ("GSI1SK".to_string(), crate::AttrValue::s(sk)),
            ]);
            table.put(item, None).await.unwrap();
        }
        let prefix = || SortKeyCondition::BeginsWith("a".into());
        for query in [
            Query::partition("p").sort_key(prefix()).limit(10),
            Query::index(Index::Gsi1, "g").sort_key(prefix()).limit(10),
        ] {
            for _ in 0..3 {
                assert_eq!(table.query(&query).await.unwrap().items.len(), 2);
            }
            // The statement cache clears a statement's bindings when it takes it back. Had the
            // planner looked at a bound value, that would mark the plan stale, and every run would
            // parse and plan the statement again.
            let (sql, _) = query_sql(&query, None);
            let conn = table.connection();
            let conn = conn.lock().unwrap();
            let statement = conn.prepare_cached(&sql).unwrap();
            assert_eq!(
                statement.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "{sql}"
            );
        }
    }
}

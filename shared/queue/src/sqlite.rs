//! The embedded backend: queues as tables in the SQLite file of the store, with SQS's semantics.
//!
//! Every queue of the file shares one table of messages (`queue_messages`, a `queue` column says
//! whose) and one of recent dedup ids (`queue_dedup`); they sit beside the store's `items` and are
//! reached through a connection of their own. A message is live (`dead_at` NULL) or in the queue's
//! dead-letter queue; a live one is visible once `visible_at` (Unix milliseconds) has passed, which a
//! delay or a delivery pushes into the future. Each delivery gives the message a new random receipt,
//! so the receipt of an earlier delivery no longer deletes it.
//!
//! Sends, receives, deletes and redrives each run in one `BEGIN IMMEDIATE` transaction, so that two
//! receivers never take the same message and a dedup id is checked and claimed atomically, even when
//! several processes share the file (the functions of `cargo lambda watch` send while the local
//! server's workers receive). Times are the wall clock, which those processes share.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::queue::{
    DEDUP_WINDOW, DeadLetter, Message, OutgoingMessage, Queue, QueueError, QueueResult, Received,
    check_peek, check_receive, check_send,
};

/// What SQS's redrive policy and dedup interval say for a queue, for the local backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuePolicy {
    /// A message is delivered at most this many times (at least 1); the receive after that moves it
    /// to the dead-letter queue (SQS's `maxReceiveCount`).
    pub max_receives: u32,
    /// How long a dedup id suppresses a second message with it (SQS: 5 minutes, fixed; shorter in
    /// tests of its expiry).
    pub dedup_window: Duration,
}

impl QueuePolicy {
    /// Dead-letters after `max_receives` deliveries; the dedup window is SQS's.
    pub fn new(max_receives: u32) -> Self {
        QueuePolicy {
            max_receives,
            dedup_window: DEDUP_WINDOW,
        }
    }
}

impl Default for QueuePolicy {
    /// Five deliveries, then the dead-letter queue (a common SQS redrive policy).
    fn default() -> Self {
        QueuePolicy::new(5)
    }
}

/// One queue in an SQLite file. Calls run inline on the caller's thread: each is one short
/// transaction on a local file.
#[derive(Debug)]
pub struct SqliteQueue {
    /// Shared by the queues of one file opened through [`SqliteQueue::sibling`].
    conn: Arc<Mutex<Connection>>,
    name: String,
    policy: QueuePolicy,
}

impl From<rusqlite::Error> for QueueError {
    fn from(e: rusqlite::Error) -> Self {
        // Includes SQLITE_BUSY once the busy timeout has passed: another process held the write lock.
        QueueError::Unavailable(anyhow::Error::new(e).context("SQLite queue"))
    }
}

/// `seq` keeps the send order (receives prefer older messages, as SQS tries to). The partial indexes
/// serve a receive (live messages by visibility), a peek (dead letters in the order they died) and a
/// delete (by receipt).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue_messages (
    seq INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    dead_at INTEGER
);
CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at)
    WHERE dead_at IS NULL;
CREATE INDEX IF NOT EXISTS queue_messages_dead ON queue_messages (queue, dead_at, seq)
    WHERE dead_at IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS queue_messages_receipt ON queue_messages (receipt)
    WHERE receipt IS NOT NULL;
CREATE TABLE IF NOT EXISTS queue_dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue, dedup_id)
) WITHOUT ROWID;
";

/// The visible messages a receive hands out, oldest first.
const RECEIVE_SQL: &str = "SELECT seq, id, body, receive_count FROM queue_messages \
     WHERE queue = ?1 AND dead_at IS NULL AND visible_at <= ?2 ORDER BY seq LIMIT ?3";

/// How long a write waits for another connection's (or process's) write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The prepared statements a connection shared with the store keeps: the queues' dozen and the
/// store's reads, writes and query shapes.
const SHARED_STATEMENT_CACHE: usize = 48;

fn check_policy(policy: QueuePolicy) -> QueueResult<()> {
    if policy.max_receives == 0 {
        return Err(QueueError::InvalidRequest(
            "a queue's max receive count must be at least 1".into(),
        ));
    }
    Ok(())
}

impl SqliteQueue {
    /// Opens the queue `queue_name` in the SQLite file at `path` (the store's file), creating the
    /// file and the queue tables if absent. Several processes may open the same queue; the policy of
    /// the one receiving decides when a message is dead-lettered, that of the one sending how long a
    /// dedup id holds.
    pub fn open(path: &Path, queue_name: &str, policy: QueuePolicy) -> QueueResult<Self> {
        check_name(queue_name)?;
        check_policy(policy)?;
        let conn = Connection::open(path)
            .with_context(|| format!("opening the SQLite queue at {}", path.display()))
            .map_err(QueueError::Unavailable)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // As the store does (it may have set these already: they are per file, and idempotent).
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, path = %path.display(), "SQLite queue is not in WAL mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Plans that do not depend on bound values, as the store's: otherwise the statement cache,
        // clearing the bindings of each statement it takes back, marks a plan that looked at one
        // (`LIMIT ?3`) stale, and every receive parses and plans its statements again.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteQueue {
            conn: Arc::new(Mutex::new(conn)),
            name: queue_name.to_owned(),
            policy,
        })
    }

    /// The queue `queue_name` on a connection another handle opened on the file (the store's, as
    /// `SqliteTable::connection` gives it, with the same settings), creating the queue tables if
    /// absent: a function that uses the store and local queues in one file opens it, and reads its
    /// schema, once at cold start. Store and queue calls then take turns on the connection.
    pub fn on_connection(
        conn: Arc<Mutex<Connection>>,
        queue_name: &str,
        policy: QueuePolicy,
    ) -> QueueResult<Self> {
        check_name(queue_name)?;
        check_policy(policy)?;
        {
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            conn.execute_batch(SCHEMA)?;
            // The store's statements and the queues' are cached side by side: room for both sets,
            // so that neither evicts the other (rusqlite's default holds 16).
            conn.set_prepared_statement_cache_capacity(SHARED_STATEMENT_CACHE);
        }
        Ok(SqliteQueue {
            conn,
            name: queue_name.to_owned(),
            policy,
        })
    }

    /// The queue `queue_name` in the same file, on this queue's connection and with its policy: a
    /// process using several queues opens the file once.
    pub fn sibling(&self, queue_name: &str) -> QueueResult<Self> {
        check_name(queue_name)?;
        Ok(SqliteQueue {
            conn: self.conn.clone(),
            name: queue_name.to_owned(),
            policy: self.policy,
        })
    }

    /// Runs `f` in a write transaction taken at once (`BEGIN IMMEDIATE`), so that what `f` reads
    /// cannot change before it writes, whichever process writes next. Commits only if `f` succeeds.
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> QueueResult<T>,
    ) -> QueueResult<T> {
        // A panic while the lock was held unwound through the transaction guard, which rolled back:
        // the connection is still good.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// SQS's queue names: 1 to 80 letters, digits, hyphens and underscores.
fn check_name(name: &str) -> QueueResult<()> {
    let valid = (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(QueueError::InvalidRequest(format!(
            "a queue name has 1 to 80 letters, digits, '-' or '_', not {name:?}"
        )))
    }
}

/// Now, in Unix milliseconds.
fn now_ms() -> i64 {
    millis_since_epoch(OffsetDateTime::now_utc())
}

fn millis_since_epoch(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl Queue for SqliteQueue {
    fn name(&self) -> &str {
        &self.name
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name))]
    async fn send(&self, message: OutgoingMessage) -> QueueResult<()> {
        check_send(&message)?;
        let now = now_ms();
        self.write(|tx| {
            if let Some(dedup_id) = &message.dedup_id {
                let expires_at: Option<i64> = tx
                    .prepare_cached(
                        "SELECT expires_at FROM queue_dedup WHERE queue = ?1 AND dedup_id = ?2",
                    )?
                    .query_row(params![self.name, dedup_id], |r| r.get(0))
                    .optional()?;
                if expires_at.is_some_and(|at| at > now) {
                    tracing::debug!(dedup_id, "duplicate within the dedup window: dropped");
                    return Ok(());
                }
                // Expired ids go as new ones come, so the table holds about one window's worth.
                tx.prepare_cached("DELETE FROM queue_dedup WHERE queue = ?1 AND expires_at <= ?2")?
                    .execute(params![self.name, now])?;
                tx.prepare_cached(
                    "INSERT INTO queue_dedup (queue, dedup_id, expires_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    self.name,
                    dedup_id,
                    now.saturating_add(millis(self.policy.dedup_window))
                ])?;
            }
            let visible_at = now.saturating_add(message.delay.map_or(0, millis));
            tx.prepare_cached(
                "INSERT INTO queue_messages (queue, id, body, sent_at, visible_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                self.name,
                Uuid::new_v4().to_string(),
                message.body,
                now,
                visible_at
            ])?;
            Ok(())
        })
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name, max))]
    async fn receive(&self, max: usize, visibility: Duration) -> QueueResult<Vec<Received>> {
        check_receive(max, visibility)?;
        let now = now_ms();
        let hidden_until = now.saturating_add(millis(visibility));
        self.write(|tx| {
            // Every visible message that has had its deliveries would be dead-lettered by the next
            // receive that reached it; doing them all now is the same, and keeps them out of `max`.
            let dead = tx
                .prepare_cached(
                    "UPDATE queue_messages SET dead_at = ?2 WHERE queue = ?1 AND dead_at IS NULL \
                     AND visible_at <= ?2 AND receive_count >= ?3",
                )?
                .execute(params![self.name, now, self.policy.max_receives])?;
            if dead > 0 {
                tracing::warn!(dead, "messages moved to the dead-letter queue");
            }
            let rows = tx
                .prepare_cached(RECEIVE_SQL)?
                .query_map(
                    params![self.name, now, i64::try_from(max).unwrap_or(i64::MAX)],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            let mut received = Vec::with_capacity(rows.len());
            for (seq, id, body, receive_count) in rows {
                let receipt = Uuid::new_v4().to_string();
                tx.prepare_cached(
                    "UPDATE queue_messages SET receive_count = receive_count + 1, \
                     visible_at = ?2, receipt = ?3 WHERE seq = ?1",
                )?
                .execute(params![seq, hidden_until, receipt])?;
                received.push(Received {
                    message: Message {
                        id,
                        body,
                        receive_count: count(receive_count + 1),
                    },
                    receipt,
                });
            }
            Ok(received)
        })
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name))]
    async fn delete(&self, receipt: &str) -> QueueResult<()> {
        if Uuid::parse_str(receipt).is_err() {
            return Err(QueueError::InvalidReceipt(format!(
                "{receipt:?} is not a receipt of the local queue"
            )));
        }
        let deleted = self.write(|tx| {
            Ok(tx
                .prepare_cached("DELETE FROM queue_messages WHERE queue = ?1 AND receipt = ?2")?
                .execute(params![self.name, receipt])?)
        })?;
        if deleted == 0 {
            // Deleted already, or received again since (its visibility timed out): SQS succeeds too.
            tracing::debug!("stale receipt: nothing deleted");
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name, max))]
    async fn dead_letters(&self, max: usize) -> QueueResult<Vec<DeadLetter>> {
        check_peek(max)?;
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let letters = conn
            .prepare_cached(
                "SELECT id, body, receive_count, sent_at FROM queue_messages \
                 WHERE queue = ?1 AND dead_at IS NOT NULL ORDER BY dead_at, seq LIMIT ?2",
            )?
            .query_map(
                params![self.name, i64::try_from(max).unwrap_or(i64::MAX)],
                |r| {
                    let sent_at_ms: i64 = r.get(3)?;
                    Ok(DeadLetter {
                        id: r.get(0)?,
                        body: r.get(1)?,
                        receive_count: count(r.get(2)?),
                        sent_at: OffsetDateTime::from_unix_timestamp_nanos(
                            i128::from(sent_at_ms) * 1_000_000,
                        )
                        .ok(),
                    })
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(letters)
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name))]
    async fn redrive(&self) -> QueueResult<usize> {
        let now = now_ms();
        let moved = self.write(|tx| {
            Ok(tx
                .prepare_cached(
                    "UPDATE queue_messages SET dead_at = NULL, receive_count = 0, \
                     visible_at = ?2, receipt = NULL WHERE queue = ?1 AND dead_at IS NOT NULL",
                )?
                .execute(params![self.name, now])?)
        })?;
        tracing::info!(moved, "dead letters moved back to the queue");
        Ok(moved)
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name))]
    async fn redrive_ids(&self, ids: &[String]) -> QueueResult<usize> {
        let now = now_ms();
        let moved = self.write(|tx| {
            let mut moved = 0;
            let mut statement = tx.prepare_cached(
                "UPDATE queue_messages SET dead_at = NULL, receive_count = 0, \
                 visible_at = ?3, receipt = NULL \
                 WHERE queue = ?1 AND id = ?2 AND dead_at IS NOT NULL",
            )?;
            for id in ids {
                moved += statement.execute(params![self.name, id, now])?;
            }
            Ok(moved)
        })?;
        tracing::info!(moved, "chosen dead letters moved back to the queue");
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_follow_sqs_rules() {
        assert!(check_name("payment-confirmations_1").is_ok());
        assert!(check_name(&"q".repeat(80)).is_ok());
        for bad in ["", "has space", "dot.fifo", "ü", &"q".repeat(81)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn siblings_share_the_connection_and_keep_their_messages_apart() {
        let dir = tempfile::tempdir().unwrap();
        let events =
            SqliteQueue::open(&dir.path().join("q.db"), "events", QueuePolicy::new(3)).unwrap();
        let settle = events.sibling("settle").unwrap();
        assert!(Arc::ptr_eq(&events.conn, &settle.conn));
        assert_eq!(settle.policy, events.policy);
        assert!(events.sibling("not valid").is_err());
        settle
            .send(OutgoingMessage::new("to settle"))
            .await
            .unwrap();
        assert!(events.receive(10, Duration::ZERO).await.unwrap().is_empty());
        let got = settle.receive(10, Duration::ZERO).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].message.body, "to settle");
    }

    #[tokio::test]
    async fn a_receive_reuses_its_compiled_statement() {
        let dir = tempfile::tempdir().unwrap();
        let queue =
            SqliteQueue::open(&dir.path().join("q.db"), "events", QueuePolicy::new(3)).unwrap();
        for n in 1..=3 {
            queue
                .send(OutgoingMessage::new(format!("m{n}")))
                .await
                .unwrap();
            let got = queue.receive(10, Duration::from_secs(30)).await.unwrap();
            assert_eq!(got.len(), 1);
        }
        // Each receive binds a new time; a plan that had looked at a bound value would be compiled
        // again on every poll.
        let conn = queue.conn.lock().unwrap();
        let statement = conn.prepare_cached(RECEIVE_SQL).unwrap();
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::RePrepare),
            0
        );
    }
}

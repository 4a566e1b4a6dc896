//! Test support shared by Lectern's suites.
//!
//! # Layout
//! - [`SabotagedTable`]: a `Table` whose writes fail (all, or the next few), for "nothing
//!   half-written" and outage tests.
//! - [`temp_sqlite`]: an SQLite table in a temporary directory.
//! - [`counting`]: a `Table` that counts calls, for per-endpoint round-trip budgets.
//! - [`lambda`]: real API Gateway events sent through `lambda_http` into a router.
//! - [`moto`]: moto's server on loopback (installed on first use), with a fresh DynamoDB table or SQS
//!   queue per test.
//! - [`openapi`]: reading an OpenAPI description as tests need it: its operations, references that
//!   resolve, schema names that are unique, and [`openapi::Contract`], which checks a response
//!   against the description.
//! - [`tools`]: the Python tools of the test suites (moto, openapi-spec-validator), installed on
//!   first use.
//! - [`secrets`]: a fake of Secrets Manager's `GetSecretValue` that checks what it receives.
//! - [`stripe`]: a fake Stripe API on loopback that checks and records what it is sent.

pub mod counting;
pub mod lambda;
pub mod moto;
pub mod openapi;
pub mod secrets;
pub mod stripe;
pub mod tools;

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use lectern_store::sqlite::SqliteTable;
use lectern_store::{
    Condition, Item, Key, Page, Query, StoreError, StoreResult, Table, TxAction, Update,
};

/// An empty SQLite table in a new temporary directory, removed when the `TempDir` is dropped (keep it
/// alive as long as the table).
pub fn temp_sqlite() -> (tempfile::TempDir, SqliteTable) {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let table = SqliteTable::open(&dir.path().join("lectern.db")).expect("opening an SQLite table");
    (dir, table)
}

/// Wraps a table: reads pass through, every write (put, update, delete, transaction) fails as if the
/// backend were down, before reaching the inner table. [`SabotagedTable::healthy`] fails nothing
/// until told to fail the next few writes ([`SabotagedTable::fail_next_writes`], an outage) or
/// transactions ([`SabotagedTable::fail_next_transactions`], the work of a request, not its
/// bookkeeping).
pub struct SabotagedTable<T> {
    inner: T,
    /// How many more writes of any kind fail.
    writes: AtomicUsize,
    /// How many more transactions fail (once `writes` has run out).
    transactions: AtomicUsize,
}

impl<T: Table> SabotagedTable<T> {
    pub fn new(inner: T) -> Self {
        SabotagedTable {
            inner,
            writes: usize::MAX.into(),
            transactions: 0.into(),
        }
    }

    /// Passes every call through until told to fail some.
    pub fn healthy(inner: T) -> Self {
        SabotagedTable {
            inner,
            writes: 0.into(),
            transactions: 0.into(),
        }
    }

    /// Fails the next `times` transactions (single-item writes keep working).
    pub fn fail_next_transactions(&self, times: usize) {
        self.transactions.store(times, Ordering::SeqCst);
    }

    /// Fails the next `times` writes, whatever their kind.
    pub fn fail_next_writes(&self, times: usize) {
        self.writes.store(times, Ordering::SeqCst);
    }

    /// How many of the failures asked for have not happened yet.
    pub fn failures_left(&self) -> usize {
        self.writes
            .load(Ordering::SeqCst)
            .saturating_add(self.transactions.load(Ordering::SeqCst))
    }

    fn write(&self) -> StoreResult<()> {
        if take_one(&self.writes) {
            return Err(refused());
        }
        Ok(())
    }
}

/// Takes one from a count of failures still to come: whether this call fails.
fn take_one(count: &AtomicUsize) -> bool {
    count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn refused() -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("sabotaged: the store refuses writes"))
}

#[async_trait]
impl<T: Table> Table for SabotagedTable<T> {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        self.inner.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.write()?;
        self.inner.put(item, condition).await
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        self.write()?;
        self.inner.update(update).await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<Option<Item>> {
        self.write()?;
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }

    async fn transact_write(&self, actions: Vec<TxAction>) -> StoreResult<()> {
        self.write()?;
        if take_one(&self.transactions) {
            return Err(refused());
        }
        self.inner.transact_write(actions).await
    }
}

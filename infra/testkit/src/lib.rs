//! Test support shared by Lectern's suites.
//!
//! # Layout
//! - [`SabotagedTable`]: a `Table` whose every write fails, for "nothing half-written" tests.
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
/// until told to fail the next few transactions (the work of a request, not its bookkeeping).
pub struct SabotagedTable<T> {
    inner: T,
    /// Whether single-item writes fail too.
    single_writes: bool,
    /// How many more transactions fail.
    transactions: std::sync::atomic::AtomicUsize,
}

impl<T: Table> SabotagedTable<T> {
    pub fn new(inner: T) -> Self {
        SabotagedTable {
            inner,
            single_writes: true,
            transactions: usize::MAX.into(),
        }
    }

    /// Passes every call through until [`SabotagedTable::fail_next_transactions`].
    pub fn healthy(inner: T) -> Self {
        SabotagedTable {
            inner,
            single_writes: false,
            transactions: 0.into(),
        }
    }

    /// Fails the next `times` transactions (single-item writes keep working).
    pub fn fail_next_transactions(&self, times: usize) {
        self.transactions
            .store(times, std::sync::atomic::Ordering::SeqCst);
    }

    fn single_write(&self) -> StoreResult<()> {
        if self.single_writes {
            return Err(refused());
        }
        Ok(())
    }
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
        self.single_write()?;
        self.inner.put(item, condition).await
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        self.single_write()?;
        self.inner.update(update).await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<Option<Item>> {
        self.single_write()?;
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }

    async fn transact_write(&self, actions: Vec<TxAction>) -> StoreResult<()> {
        use std::sync::atomic::Ordering;
        let failing = self
            .transactions
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(refused());
        }
        self.inner.transact_write(actions).await
    }
}

//! A `Table` that counts the calls made through it, for tests that hold each endpoint to its store
//! round-trip budget (ARCHITECTURE: a read is one call, a write one transaction). The rate limiter's
//! updates (one per policy that applies to a request, sent together before the handler runs) are
//! counted apart, in [`Calls::rate_limit`], so that the budgets stay those of the endpoints' work.

use std::sync::Mutex;

use async_trait::async_trait;
use lectern_store::{Condition, Item, Key, Page, Query, StoreResult, Table, TxAction, Update};

/// Calls by kind since the last [`CountingTable::take`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Calls {
    pub get: usize,
    pub batch_get: usize,
    pub query: usize,
    pub put: usize,
    pub update: usize,
    pub delete: usize,
    pub transact_write: usize,
    /// Updates of rate-limit windows (`lectern_store::keys::is_rate_window`), not in `update`.
    pub rate_limit: usize,
    /// Items that reads brought back (gets, batch gets and queries), for tests that hold a list to
    /// reading O(page) items whatever the table holds.
    pub items_read: usize,
}

impl Calls {
    pub fn reads(&self) -> usize {
        self.get + self.batch_get + self.query
    }

    pub fn writes(&self) -> usize {
        self.put + self.update + self.delete + self.transact_write
    }

    pub fn total(&self) -> usize {
        self.reads() + self.writes()
    }
}

pub struct CountingTable<T> {
    inner: T,
    calls: Mutex<Calls>,
}

impl<T: Table> CountingTable<T> {
    pub fn new(inner: T) -> Self {
        CountingTable {
            inner,
            calls: Mutex::new(Calls::default()),
        }
    }

    /// The calls so far, resetting the count.
    pub fn take(&self) -> Calls {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn count(&self, f: impl FnOnce(&mut Calls)) {
        f(&mut self.calls.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

#[async_trait]
impl<T: Table> Table for CountingTable<T> {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.count(|c| c.get += 1);
        let found = self.inner.get(key).await?;
        self.count(|c| c.items_read += usize::from(found.is_some()));
        Ok(found)
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        self.count(|c| c.batch_get += 1);
        let found = self.inner.batch_get(keys).await?;
        self.count(|c| c.items_read += found.iter().flatten().count());
        Ok(found)
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.count(|c| c.put += 1);
        self.inner.put(item, condition).await
    }

    async fn update(&self, update: Update) -> StoreResult<Item> {
        if lectern_store::keys::is_rate_window(&update.key) {
            self.count(|c| c.rate_limit += 1);
        } else {
            self.count(|c| c.update += 1);
        }
        self.inner.update(update).await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<Option<Item>> {
        self.count(|c| c.delete += 1);
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.count(|c| c.query += 1);
        let page = self.inner.query(query).await?;
        self.count(|c| c.items_read += page.items.len());
        Ok(page)
    }

    async fn transact_write(&self, actions: Vec<TxAction>) -> StoreResult<()> {
        self.count(|c| c.transact_write += 1);
        self.inner.transact_write(actions).await
    }
}

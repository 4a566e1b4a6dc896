//! The `Table` port: the narrow set of operations the repositories need, with typed conditions,
//! updates, queries and transactions. Backends: [`crate::sqlite`] and [`crate::dynamo`].

use async_trait::async_trait;

use crate::cursor::Cursor;
use crate::item::{AttrValue, Item};

/// Partition key attribute of the table.
pub const PK: &str = "PK";
/// Sort key attribute of the table.
pub const SK: &str = "SK";
/// Optimistic-locking counter every versioned entity carries.
pub const VERSION: &str = "version";
/// Expiry (epoch seconds) that DynamoDB's TTL deletes on; readers still check it themselves.
pub const TTL: &str = "ttl";
/// The entity type of an item.
pub const ENTITY: &str = "entity";

/// DynamoDB's limit on actions in one transaction.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;
/// DynamoDB's limit on keys in one batch get.
pub const MAX_BATCH_GET_KEYS: usize = 100;

/// A table item's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of an item, if it has string `PK` and `SK` attributes.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key::new(item.get(PK)?.as_str()?, item.get(SK)?.as_str()?))
    }
}

/// The table's global secondary indexes. Each has string partition and sort key attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    /// The overloaded index (`GSI1PK` / `GSI1SK`).
    Gsi1,
}

impl Index {
    pub const ALL: [Index; 1] = [Index::Gsi1];

    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1",
        }
    }

    pub fn pk_attr(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1PK",
        }
    }

    pub fn sk_attr(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1SK",
        }
    }
}

/// A condition on the current state of one item, checked atomically with the write.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// No item with this key exists.
    NotExists,
    /// An item with this key exists.
    Exists,
    /// The item exists and the attribute equals the value.
    Equals(String, AttrValue),
    /// The attribute is absent (or the item is).
    AttrNotExists(String),
    /// The item exists and its `version` attribute equals the number.
    VersionEquals(u64),
    /// The attribute is absent (or the item is), or a number less than the value: what admits one
    /// more `Add` to a counter that must stay within a limit (DynamoDB:
    /// `attribute_not_exists(a) OR a < :n`).
    AbsentOrBelow(String, i64),
    /// The item exists and the attribute equals one of the values (DynamoDB: `a IN (:v1, …)`, 1 to
    /// 100 values).
    OneOf(String, Vec<AttrValue>),
    /// All of the conditions hold.
    And(Vec<Condition>),
}

/// One change to one attribute of an item.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    /// Sets the attribute to the value.
    Set(String, AttrValue),
    /// Adds to a number attribute, treating an absent one as 0 (DynamoDB's `ADD`).
    Add(String, i64),
    /// Removes the attribute.
    Remove(String),
}

/// An update of one item. Like DynamoDB's `UpdateItem`, it creates the item when it is absent (use
/// `Condition::Exists` to forbid that). Key attributes cannot be changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub key: Key,
    pub actions: Vec<UpdateAction>,
    pub condition: Option<Condition>,
}

impl Update {
    /// The update that turns item `before` into item `after`: a `Set` for every attribute that is new
    /// or differs, a `Remove` for every one that is gone. Attributes equal in both are not touched, so
    /// counters that other writers `Add` to concurrently keep their increments.
    pub fn between(key: Key, before: &Item, after: &Item, condition: Option<Condition>) -> Update {
        let mut actions: Vec<UpdateAction> = after
            .iter()
            .filter(|(name, value)| before.get(*name) != Some(value))
            .filter(|(name, _)| *name != PK && *name != SK)
            .map(|(name, value)| UpdateAction::Set(name.clone(), value.clone()))
            .collect();
        actions.extend(
            before
                .keys()
                .filter(|name| !after.contains_key(*name))
                .map(|name| UpdateAction::Remove(name.clone())),
        );
        Update {
            key,
            actions,
            condition,
        }
    }
}

/// A condition on the sort key of a query (on the table's `SK` or the index's sort key).
#[derive(Debug, Clone, PartialEq)]
pub enum SortKeyCondition {
    Equals(String),
    BeginsWith(String),
    /// Inclusive on both ends, as DynamoDB's `BETWEEN`.
    Between(String, String),
    LessThan(String),
    LessOrEqual(String),
    GreaterThan(String),
    GreaterOrEqual(String),
}

impl SortKeyCondition {
    /// Whether a sort key satisfies the condition (byte-wise, as DynamoDB compares strings).
    pub fn matches(&self, sk: &str) -> bool {
        let sk = sk.as_bytes();
        match self {
            SortKeyCondition::Equals(v) => sk == v.as_bytes(),
            SortKeyCondition::BeginsWith(p) => sk.starts_with(p.as_bytes()),
            SortKeyCondition::Between(a, b) => sk >= a.as_bytes() && sk <= b.as_bytes(),
            SortKeyCondition::LessThan(v) => sk < v.as_bytes(),
            SortKeyCondition::LessOrEqual(v) => sk <= v.as_bytes(),
            SortKeyCondition::GreaterThan(v) => sk > v.as_bytes(),
            SortKeyCondition::GreaterOrEqual(v) => sk >= v.as_bytes(),
        }
    }
}

/// A query: one partition of the table or of an index, optionally narrowed by a sort-key condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: Option<Index>,
    pub pk: String,
    pub sk: Option<SortKeyCondition>,
    /// Ascending sort-key order when true (DynamoDB's `ScanIndexForward`).
    pub forward: bool,
    /// At most this many items; `None` reads the whole partition.
    pub limit: Option<usize>,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

impl Query {
    /// A forward query of a table partition with no limit.
    pub fn partition(pk: impl Into<String>) -> Self {
        Query {
            index: None,
            pk: pk.into(),
            sk: None,
            forward: true,
            limit: None,
            cursor: None,
        }
    }

    /// A forward query of an index partition with no limit.
    pub fn index(index: Index, pk: impl Into<String>) -> Self {
        Query {
            index: Some(index),
            ..Query::partition(pk)
        }
    }

    pub fn sort_key(mut self, condition: SortKeyCondition) -> Self {
        self.sk = Some(condition);
        self
    }

    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of a query. `next` is present only when more items match (both backends agree on this:
/// a page that ends exactly at the last item has no `next`).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Cursor>,
}

/// One action of a transactional write.
#[derive(Debug, Clone, PartialEq)]
pub enum TxAction {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update(Update),
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Checks a condition on an item without writing it.
    Check {
        key: Key,
        condition: Condition,
    },
}

impl TxAction {
    /// The key of the item the action touches (`None` for a put whose item lacks its key).
    pub fn key(&self) -> Option<Key> {
        match self {
            TxAction::Put { item, .. } => Key::of(item),
            TxAction::Update(update) => Some(update.key.clone()),
            TxAction::Delete { key, .. } | TxAction::Check { key, .. } => Some(key.clone()),
        }
    }
}

/// What a store operation can fail with. Conditions failing are domain outcomes the caller maps
/// (taken, stale version, already done); the rest are the caller's bugs or the backend's trouble.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A single-item write's condition did not hold.
    #[error("the condition of the write did not hold")]
    ConditionFailed,
    /// A transaction was cancelled because these actions' conditions (by index) did not hold.
    #[error("transaction cancelled: the conditions of actions {failed:?} did not hold")]
    TransactionCanceled { failed: Vec<usize> },
    /// A transaction collided with another write in flight; retrying may succeed.
    #[error("transaction conflicted with a concurrent write")]
    TransactionConflict,
    /// A cursor that this store did not issue for this query.
    #[error("the cursor is not valid for this query")]
    InvalidCursor,
    /// An item larger than DynamoDB allows.
    #[error("item of {size} bytes exceeds the {MAX_ITEM_BYTES}-byte limit")]
    ItemTooLarge { size: usize },
    /// A request the store refuses whatever the data (too many actions, two actions on one item, a
    /// missing key attribute, a change to a key attribute).
    #[error("invalid store request: {0}")]
    InvalidRequest(String),
    /// A stored item that does not decode into what its key says it is.
    #[error("corrupt item: {0}")]
    Corrupt(String),
    /// The write was refused because the user making it may no longer make it: the transaction's
    /// check of the actor's own user item ([`crate::actor::Actor`]) failed.
    #[error("the acting user may not write: {0}")]
    ActorRefused(crate::actor::Refusal),
    /// The backend failed or could not be reached.
    #[error("store unavailable")]
    Unavailable(#[source] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Whether a write lost a race with another writer (a condition on what was read, a cancelled or
    /// conflicting transaction): reading again and retrying may succeed.
    pub fn is_lost_race(&self) -> bool {
        matches!(
            self,
            StoreError::ConditionFailed
                | StoreError::TransactionCanceled { .. }
                | StoreError::TransactionConflict
        )
    }
}

/// A pause before retry number `attempt` of a write that lost a race, growing with each attempt, so
/// that two writers that collided (DynamoDB cancels both of two transactions on one item) do not
/// collide again at once.
pub async fn backoff(attempt: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(attempt + 1))).await;
}

use crate::item::MAX_ITEM_BYTES;

/// The port. Reads of the table (not of an index) are strongly consistent.
#[async_trait]
pub trait Table: Send + Sync + 'static {
    /// One item by key.
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;

    /// Up to [`MAX_BATCH_GET_KEYS`] items, answered in the order of `keys` (`None` where absent).
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>>;

    /// Writes a whole item (it must carry `PK` and `SK`), replacing any item with its key.
    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()>;

    /// Applies an update and returns the item as it is afterwards.
    async fn update(&self, update: Update) -> StoreResult<Item>;

    /// Deletes an item and returns it as it was (`None` if there was none).
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<Option<Item>>;

    /// One page of a query.
    async fn query(&self, query: &Query) -> StoreResult<Page>;

    /// All actions or none. At most [`MAX_TRANSACTION_ACTIONS`], each on a different item.
    async fn transact_write(&self, actions: Vec<TxAction>) -> StoreResult<()>;
}

/// Commits `first` (at most 100 actions, all-or-nothing) together with as many of `more` as fit in the
/// same transaction, then the rest of `more` in further transactions of up to 100. For changes that
/// must come with an unbounded number of follow-ups (revoking every session of a user): the change and
/// the first follow-ups land atomically; failure indices of the first transaction refer to the
/// concatenation `first ++ more`.
pub async fn transact_in_batches(
    table: &dyn Table,
    first: Vec<TxAction>,
    more: Vec<TxAction>,
) -> StoreResult<()> {
    let room = MAX_TRANSACTION_ACTIONS.saturating_sub(first.len());
    let mut more = more.into_iter();
    let mut batch = first;
    batch.extend(more.by_ref().take(room));
    table.transact_write(batch).await?;
    let rest: Vec<TxAction> = more.collect();
    for chunk in rest.chunks(MAX_TRANSACTION_ACTIONS) {
        table.transact_write(chunk.to_vec()).await?;
    }
    Ok(())
}

/// Deletes every item of a table partition, 100 per transaction, reading the next 100 after each
/// until a read comes back empty or whole (no further page). What a cut-short run leaves is deleted by
/// running it again.
pub async fn delete_partition(table: &dyn Table, pk: String) -> StoreResult<()> {
    loop {
        let page = table
            .query(&Query::partition(pk.clone()).limit(MAX_TRANSACTION_ACTIONS))
            .await?;
        if page.items.is_empty() {
            return Ok(());
        }
        let deletes = page
            .items
            .iter()
            .filter_map(Key::of)
            .map(|key| TxAction::Delete {
                key,
                condition: None,
            })
            .collect();
        table.transact_write(deletes).await?;
        if page.next.is_none() {
            return Ok(());
        }
    }
}

//! Files' descriptions (their bytes are in object storage). Contract: issue "Assignments, submissions,
//! grading, and secure files on S3" §Files.
//!
//! A file is one item (`T#{t}#FILE#{fileId}` / `FILE`). While pending it carries a `ttl` (24 hours), so
//! DynamoDB deletes unconfirmed uploads; confirming removes the `ttl` in the same conditional update
//! that makes it active. Readers treat a pending item past its `ttl` as absent (TTL deletion lags).

use std::sync::Arc;

use lectern_domain::file::{FileStatus, StoredFile};
use lectern_domain::{FileId, TenantId};
use time::{Duration, OffsetDateTime};

use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::table::{Condition, MAX_BATCH_GET_KEYS, StoreError, TTL, Table, Update};

/// How long an unconfirmed upload is kept.
pub const PENDING_TTL: Duration = Duration::hours(24);

/// Why a file could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// It is no longer pending: confirmed meanwhile, deleted, or expired.
    #[error("the file is no longer pending")]
    NotPending,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct FileRepo {
    table: Arc<dyn Table>,
}

fn file_item(file: &StoredFile) -> Result<Item, StoreError> {
    let mut item = keyed_item(file, keys::file(&file.tenant, file.id), "File")?;
    if file.status == FileStatus::Pending {
        item.insert(
            TTL.into(),
            AttrValue::int((file.created_at + PENDING_TTL).unix_timestamp()),
        );
    }
    Ok(item)
}

fn status_is(status: FileStatus) -> Condition {
    let name = match status {
        FileStatus::Pending => "pending",
        FileStatus::Active => "active",
    };
    Condition::Equals("status".into(), AttrValue::s(name))
}

/// The file of an item, unless it is a pending one past its expiry.
fn live(item: Item, now: OffsetDateTime) -> Result<Option<StoredFile>, StoreError> {
    let expired = item
        .get(TTL)
        .and_then(AttrValue::as_i64)
        .is_some_and(|ttl| ttl <= now.unix_timestamp());
    if expired {
        return Ok(None);
    }
    from_item(item).map(Some)
}

impl FileRepo {
    pub fn new(table: Arc<dyn Table>) -> Self {
        FileRepo { table }
    }

    /// Records a new (pending) file.
    #[tracing::instrument(skip_all, fields(file_id = %file.id))]
    pub async fn create(&self, file: &StoredFile) -> Result<(), StoreError> {
        self.table
            .put(file_item(file)?, Some(Condition::NotExists))
            .await
    }

    #[tracing::instrument(skip(self))]
    pub async fn get(
        &self,
        tenant: &TenantId,
        id: FileId,
    ) -> Result<Option<StoredFile>, StoreError> {
        match self.table.get(&keys::file(tenant, id)).await? {
            Some(item) => live(item, OffsetDateTime::now_utc()),
            None => Ok(None),
        }
    }

    /// Files by id, in the order asked (`None` where absent), in batches of 100.
    #[tracing::instrument(skip(self, ids), fields(count = ids.len()))]
    pub async fn get_many(
        &self,
        tenant: &TenantId,
        ids: &[FileId],
    ) -> Result<Vec<Option<StoredFile>>, StoreError> {
        let now = OffsetDateTime::now_utc();
        let mut files = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BATCH_GET_KEYS) {
            let keys: Vec<_> = chunk.iter().map(|id| keys::file(tenant, *id)).collect();
            for item in self.table.batch_get(&keys).await? {
                files.push(match item {
                    Some(item) => live(item, now)?,
                    None => None,
                });
            }
        }
        Ok(files)
    }

    /// Makes a pending file active (dropping its expiry) if it is still pending.
    #[tracing::instrument(skip_all, fields(file_id = %pending.id))]
    pub async fn activate(
        &self,
        pending: &StoredFile,
        at: OffsetDateTime,
    ) -> Result<StoredFile, ConfirmError> {
        let mut active = pending.clone();
        active.status = FileStatus::Active;
        active.confirmed_at = Some(at);
        let update = Update::between(
            keys::file(&pending.tenant, pending.id),
            &file_item(pending)?,
            &file_item(&active)?,
            Some(status_is(FileStatus::Pending)),
        );
        match self.table.update(update).await {
            Ok(_) => Ok(active),
            Err(StoreError::ConditionFailed) => Err(ConfirmError::NotPending),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a file's item; `false` when it was already gone.
    #[tracing::instrument(skip_all, fields(file_id = %file.id))]
    pub async fn delete(&self, file: &StoredFile) -> Result<bool, StoreError> {
        match self
            .table
            .delete(&keys::file(&file.tenant, file.id), Some(Condition::Exists))
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

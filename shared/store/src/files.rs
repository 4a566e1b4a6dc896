//! Files' descriptions (their bytes are in object storage). Contract: issue "Assignments, submissions,
//! grading, and secure files on S3" §Files.
//!
//! A file is one item (`T#{t}#FILE#{fileId}` / `FILE`). While pending it carries a `ttl` (24 hours), so
//! DynamoDB deletes unconfirmed uploads; confirming removes the `ttl` in the same conditional update
//! that makes it active. Readers treat a pending item past its `ttl` as absent (TTL deletion lags).
//!
//! An active file of a lesson (lesson content or media with a `lessonId`) is also indexed on GSI1 in
//! its lesson's partition (`T#{t}#LESSON#{lessonId}` / `FILE#{createdAt}#{fileId}`), beside the lesson
//! item itself, so one query answers a lesson's download list with the lesson. The index is sparse:
//! pending files and every other file carry no GSI1 attributes; confirming adds them in the same
//! update that makes the file active, and deleting the file removes them.
//!
//! A file handed in with a submission is marked (`submittedFor`, in the submission's transaction), and
//! deleting starts with a conditional update (`deletingSince`, refused for a marked file unless an
//! admin deletes it) before the object goes: a file cannot be handed in while it is being deleted, nor
//! deleted by its uploader once handed in.

use std::sync::Arc;

use lectern_domain::file::{FileStatus, StoredFile};
use lectern_domain::lesson::Lesson;
use lectern_domain::{AssignmentId, FileId, LessonId, TenantId};
use time::{Duration, OffsetDateTime};

use crate::actor::{Actor, commit};
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::table::{
    Condition, Index, MAX_BATCH_GET_KEYS, Query, StoreError, TTL, Table, TxAction, Update,
    UpdateAction,
};

/// How long an unconfirmed upload is kept.
pub const PENDING_TTL: Duration = Duration::hours(24);

/// A lesson and its active files (oldest first), as one query of its GSI1 partition finds them.
#[derive(Debug, Clone)]
pub struct LessonMaterial {
    pub lesson: Lesson,
    pub files: Vec<StoredFile>,
}

/// Why a file could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// It is no longer pending: confirmed meanwhile, deleted, or expired.
    #[error("the file is no longer pending")]
    NotPending,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The attribute naming the assignment whose handed-in work includes a file.
const SUBMITTED_FOR: &str = "submittedFor";

/// Why a file cannot be deleted.
#[derive(Debug, thiserror::Error)]
pub enum FileDeleteError {
    /// It is part of a submission that was handed in (submitted or graded).
    #[error("the file is part of submitted work")]
    InSubmission,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn rfc3339(at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The write that records a file as part of the work handed in for `assignment`, in the
/// submission's transaction: only an active file that is not being deleted, nor already handed in.
/// The mark stays: work once handed in keeps its files, even when a resubmission replaces them.
pub fn attach_to_submission(tenant: &TenantId, file: FileId, assignment: AssignmentId) -> TxAction {
    TxAction::Update(Update {
        key: keys::file(tenant, file),
        actions: vec![UpdateAction::Set(
            SUBMITTED_FOR.into(),
            AttrValue::S(assignment.to_string()),
        )],
        condition: Some(Condition::And(vec![
            status_is(FileStatus::Active),
            Condition::AttrNotExists("deletingSince".into()),
            Condition::AttrNotExists(SUBMITTED_FOR.into()),
        ])),
    })
}

#[derive(Clone)]
pub struct FileRepo {
    table: Arc<dyn Table>,
}

fn file_item(file: &StoredFile) -> Result<Item, StoreError> {
    let mut item = keyed_item(file, keys::file(&file.tenant, file.id), "File")?;
    match (file.status, file.lesson_id) {
        (FileStatus::Pending, _) => {
            item.insert(
                TTL.into(),
                AttrValue::int((file.created_at + PENDING_TTL).unix_timestamp()),
            );
        }
        (FileStatus::Active, Some(lesson)) => {
            item.insert(
                Index::Gsi1.pk_attr().into(),
                AttrValue::S(keys::lesson_index_pk(&file.tenant, lesson)),
            );
            item.insert(
                Index::Gsi1.sk_attr().into(),
                AttrValue::S(keys::lesson_file_index_sk(file.created_at, file.id)),
            );
        }
        (FileStatus::Active, None) => {}
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

    /// Records a new (pending) file, uploaded by `actor`.
    #[tracing::instrument(skip_all, fields(file_id = %file.id))]
    pub async fn create(&self, actor: &Actor, file: &StoredFile) -> Result<(), StoreError> {
        let put = TxAction::Put {
            item: file_item(file)?,
            condition: Some(Condition::NotExists),
        };
        commit(self.table.as_ref(), actor, vec![put]).await
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
        actor: &Actor,
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
        match commit(self.table.as_ref(), actor, vec![TxAction::Update(update)]).await {
            Ok(()) => Ok(active),
            Err(StoreError::TransactionCanceled { .. }) => Err(ConfirmError::NotPending),
            Err(e) => Err(e.into()),
        }
    }

    /// Marks a file as being deleted, before its object goes, so that it can no longer be handed in.
    /// Unless `even_submitted` (admins), a file that is part of handed-in work is refused
    /// (`InSubmission`). `false` when the file is gone.
    #[tracing::instrument(skip_all, fields(file_id = %file.id))]
    pub async fn start_deleting(
        &self,
        actor: &Actor,
        file: &StoredFile,
        now: OffsetDateTime,
        even_submitted: bool,
    ) -> Result<bool, FileDeleteError> {
        let key = keys::file(&file.tenant, file.id);
        let mut conditions = vec![Condition::Exists];
        if !even_submitted {
            conditions.push(Condition::AttrNotExists(SUBMITTED_FOR.into()));
        }
        let update = Update {
            key: key.clone(),
            actions: vec![UpdateAction::Set(
                "deletingSince".into(),
                AttrValue::S(rfc3339(now)?),
            )],
            condition: Some(Condition::And(conditions)),
        };
        match commit(self.table.as_ref(), actor, vec![TxAction::Update(update)]).await {
            Ok(()) => Ok(true),
            Err(StoreError::TransactionCanceled { .. }) => match self.table.get(&key).await? {
                None => Ok(false),
                Some(_) => Err(FileDeleteError::InSubmission),
            },
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

    /// A lesson with its active files: one query of the lesson's GSI1 partition (the whole of it; a
    /// lesson's material is a handful of files). `None` when the lesson is not indexed: no such
    /// lesson in this tenant, or deleted. Eventually consistent, like every index read: a file
    /// confirmed a moment ago may be missing.
    #[tracing::instrument(skip(self))]
    pub async fn lesson_material(
        &self,
        tenant: &TenantId,
        lesson: LessonId,
    ) -> Result<Option<LessonMaterial>, StoreError> {
        let query = Query::index(Index::Gsi1, keys::lesson_index_pk(tenant, lesson));
        let mut found = None;
        let mut files = Vec::new();
        for item in self.table.query(&query).await?.items {
            let sk = item
                .get(Index::Gsi1.sk_attr())
                .and_then(AttrValue::as_str)
                .unwrap_or_default()
                .to_owned();
            if sk == keys::LESSON_INDEX_SK {
                found = Some(from_item::<Lesson>(item)?);
            } else if sk.starts_with(keys::LESSON_FILE_INDEX_PREFIX) {
                let file: StoredFile = from_item(item)?;
                if file.is_active() {
                    files.push(file);
                }
            }
        }
        Ok(found.map(|lesson| LessonMaterial { lesson, files }))
    }
}

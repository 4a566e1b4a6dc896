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
//! Storage quotas: two counters hold the bytes of confirmed files, the uploader's
//! (`T#{t}#USER#{userId}` / `STORAGE`) and the tenant's (`T#{t}#STORAGE` / `USAGE`). Confirming adds
//! the file's size to both in the transaction that makes it active, each `Add` conditioned on room
//! (`bytes < quota - size + 1`), so two confirmations racing for the last bytes cannot both win;
//! deleting an active file takes its size off both in the transaction that deletes it. Asking for an
//! upload checks both for room in the transaction that records the pending file (a condition check,
//! no write): pending uploads count against nothing, since nothing would give their bytes back when
//! TTL deletes them; they are bounded by their purpose's size and expire after a day.
//!
//! A file handed in with a submission is marked (`submittedFor`, in the submission's transaction), and
//! deleting starts with a conditional update (`deletingSince`, refused for a marked file unless an
//! admin deletes it) before the object goes: a file cannot be handed in while it is being deleted, nor
//! deleted by its uploader once handed in.

use std::sync::Arc;

use lectern_domain::assignment::AssignmentSummary;
use lectern_domain::course::Course;
use lectern_domain::enrollment::Enrollment;
use lectern_domain::file::{FileStatus, QuotaScope, StorageQuotas, StoredFile};
use lectern_domain::lesson::Lesson;
use lectern_domain::{AssignmentId, CourseId, FileId, LessonId, TenantId, UserId};
use time::{Duration, OffsetDateTime};

use crate::actor::{Actor, commit};
use crate::item::{AttrValue, Item, from_item, keyed_item};
use crate::keys;
use crate::table::{
    Condition, ENTITY, Index, Key, MAX_BATCH_GET_KEYS, Query, StoreError, TTL, Table, TxAction,
    Update, UpdateAction,
};

/// How long an unconfirmed upload is kept.
pub const PENDING_TTL: Duration = Duration::hours(24);

/// A lesson and its active files (oldest first), as one query of its GSI1 partition finds them.
#[derive(Debug, Clone)]
pub struct LessonMaterial {
    pub lesson: Lesson,
    pub files: Vec<StoredFile>,
}

/// What a new file is attached to within its course ([`FileRepo::attach_context`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachTo {
    /// Work handed in for an assignment of the course.
    Submission(AssignmentId),
    /// Course material: lesson content or media (of one lesson, when named), or a thumbnail.
    Material(Option<LessonId>),
}

/// What the right to attach a file to a course depends on, read together.
#[derive(Debug, Clone, Default)]
pub struct AttachContext {
    pub course: Option<Course>,
    /// The uploader's enrollment (read for a submission only).
    pub enrollment: Option<Enrollment>,
    /// The assignment's summary in the course (a submission's; `None` when the course has no such
    /// assignment).
    pub assignment: Option<AssignmentSummary>,
    /// The named lesson of the course (material for one lesson; `None` when it has no such lesson).
    pub lesson: Option<Lesson>,
}

/// The counter attribute of the storage items.
const STORAGE_BYTES: &str = "bytes";

/// Bytes of confirmed files, as counted against the quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StorageUsage {
    pub user: u64,
    pub tenant: u64,
}

/// A file that does not fit in what is left of a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{size} bytes do not fit in the {scope:?} storage quota: {used} of {limit} bytes used")]
pub struct QuotaExceeded {
    pub scope: QuotaScope,
    /// Bytes used when the refusal was decided (read just after).
    pub used: u64,
    pub limit: u64,
    /// The file's size.
    pub size: u64,
}

/// Why an upload could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    QuotaExceeded(QuotaExceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a file could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// It is no longer pending: confirmed meanwhile, deleted, or expired.
    #[error("the file is no longer pending")]
    NotPending,
    /// Confirming it would take its uploader or its tenant over their quota.
    #[error(transparent)]
    QuotaExceeded(QuotaExceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The condition that admits `size` more bytes to a storage counter within `quota`
/// (`bytes + size <= quota`); `None` when the file is larger than the whole quota.
fn room_for(size: u64, quota: u64) -> Option<Condition> {
    let headroom = quota.checked_sub(size)?;
    let below = i64::try_from(headroom).unwrap_or(i64::MAX - 1) + 1;
    Some(Condition::AbsentOrBelow(STORAGE_BYTES.into(), below))
}

/// The storage counters a file counts against: its uploader's and its tenant's.
fn counter_keys(tenant: &TenantId, uploader: UserId) -> [Key; 2] {
    [
        keys::user_storage(tenant, uploader),
        keys::tenant_storage(tenant),
    ]
}

/// The storage counters a file counts against, with their quotas, in a fixed order (user, tenant)
/// that the transactions' failure indices follow.
fn counters(
    tenant: &TenantId,
    uploader: UserId,
    quotas: &StorageQuotas,
) -> [(QuotaScope, Key, u64); 2] {
    let [user, tenant] = counter_keys(tenant, uploader);
    [
        (QuotaScope::User, user, quotas.per_user),
        (QuotaScope::Tenant, tenant, quotas.per_tenant),
    ]
}

/// Adds `delta` bytes to a storage counter (creating it), under `condition`.
fn add_bytes(key: Key, delta: i64, condition: Option<Condition>) -> TxAction {
    TxAction::Update(Update {
        key,
        actions: vec![
            UpdateAction::Add(STORAGE_BYTES.into(), delta),
            UpdateAction::Set(ENTITY.into(), AttrValue::s("StorageUsage")),
        ],
        condition,
    })
}

fn signed(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

fn bytes_of(item: Option<Item>) -> u64 {
    item.as_ref()
        .and_then(|i| i.get(STORAGE_BYTES))
        .and_then(AttrValue::as_i64)
        .map_or(0, |n| u64::try_from(n).unwrap_or(0))
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

    /// Records a new (pending) file, uploaded by `actor`, if its size fits in what its uploader and its tenant have left,
    /// in one transaction: the put, and a condition check of each storage counter.
    #[tracing::instrument(skip_all, fields(file_id = %file.id))]
    pub async fn create(
        &self,
        actor: &Actor,
        file: &StoredFile,
        quotas: &StorageQuotas,
    ) -> Result<(), UploadError> {
        let counters = counters(&file.tenant, file.uploader_id, quotas);
        let mut actions = vec![TxAction::Put {
            item: file_item(file)?,
            condition: Some(Condition::NotExists),
        }];
        for (scope, key, quota) in &counters {
            let Some(room) = room_for(file.size, *quota) else {
                return Err(UploadError::QuotaExceeded(
                    self.exceeded(file, *scope, *quota).await?,
                ));
            };
            actions.push(TxAction::Check {
                key: key.clone(),
                condition: room,
            });
        }
        match commit(self.table.as_ref(), actor, actions).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCanceled { failed }) => {
                match failed.iter().find_map(|i| counters.get(i.wrapping_sub(1))) {
                    Some((scope, _, quota)) => Err(UploadError::QuotaExceeded(
                        self.exceeded(file, *scope, *quota).await?,
                    )),
                    None => Err(StoreError::TransactionCanceled { failed }.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The refusal of `file` by the `scope` quota, with what is used now.
    async fn exceeded(
        &self,
        file: &StoredFile,
        scope: QuotaScope,
        limit: u64,
    ) -> Result<QuotaExceeded, StoreError> {
        let usage = self.usage(&file.tenant, file.uploader_id).await?;
        Ok(QuotaExceeded {
            scope,
            used: match scope {
                QuotaScope::User => usage.user,
                QuotaScope::Tenant => usage.tenant,
            },
            limit,
            size: file.size,
        })
    }

    /// The bytes of a user's confirmed files and of their tenant's: one batch get.
    #[tracing::instrument(skip(self))]
    pub async fn usage(&self, tenant: &TenantId, user: UserId) -> Result<StorageUsage, StoreError> {
        let mut found = self
            .table
            .batch_get(&counter_keys(tenant, user))
            .await?
            .into_iter();
        Ok(StorageUsage {
            user: bytes_of(found.next().flatten()),
            tenant: bytes_of(found.next().flatten()),
        })
    }

    /// The bytes of a user's confirmed files: one get.
    #[tracing::instrument(skip(self))]
    pub async fn user_usage(&self, tenant: &TenantId, user: UserId) -> Result<u64, StoreError> {
        Ok(bytes_of(
            self.table.get(&keys::user_storage(tenant, user)).await?,
        ))
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

    /// The course a file is to be attached to, with what else the right to attach depends on, in one
    /// batch get: for a submission the uploader's enrollment and the assignment's summary in the
    /// course; for lesson material the lesson, when one is named.
    #[tracing::instrument(skip(self))]
    pub async fn attach_context(
        &self,
        tenant: &TenantId,
        course: CourseId,
        uploader: UserId,
        to: AttachTo,
    ) -> Result<AttachContext, StoreError> {
        let mut wanted = vec![keys::course(tenant, course)];
        match to {
            AttachTo::Submission(assignment) => {
                wanted.push(keys::enrollment(tenant, course, uploader));
                wanted.push(keys::assignment_summary(tenant, course, assignment));
            }
            AttachTo::Material(Some(lesson)) => wanted.push(keys::lesson(tenant, course, lesson)),
            AttachTo::Material(None) => {}
        }
        let mut found = self.table.batch_get(&wanted).await?.into_iter();
        let mut context = AttachContext {
            course: found.next().flatten().map(from_item).transpose()?,
            ..AttachContext::default()
        };
        match to {
            AttachTo::Submission(_) => {
                context.enrollment = found.next().flatten().map(from_item).transpose()?;
                context.assignment = found.next().flatten().map(from_item).transpose()?;
            }
            AttachTo::Material(_) => {
                context.lesson = found.next().flatten().map(from_item).transpose()?;
            }
        }
        Ok(context)
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

    /// Makes a pending file active (dropping its expiry) if it is still pending and not being
    /// deleted, and counts its size against its uploader's and its tenant's quotas, in one
    /// transaction: each counter's `Add` is conditioned on room, so of two confirmations racing for
    /// the last bytes one is refused (`QuotaExceeded`) and its file stays pending.
    #[tracing::instrument(skip_all, fields(file_id = %pending.id))]
    pub async fn activate(
        &self,
        actor: &Actor,
        pending: &StoredFile,
        at: OffsetDateTime,
        quotas: &StorageQuotas,
    ) -> Result<StoredFile, ConfirmError> {
        let mut active = pending.clone();
        active.status = FileStatus::Active;
        active.confirmed_at = Some(at);
        let update = Update::between(
            keys::file(&pending.tenant, pending.id),
            &file_item(pending)?,
            &file_item(&active)?,
            Some(Condition::And(vec![
                status_is(FileStatus::Pending),
                Condition::AttrNotExists("deletingSince".into()),
            ])),
        );
        let counters = counters(&pending.tenant, pending.uploader_id, quotas);
        let mut actions = vec![TxAction::Update(update)];
        for (scope, key, quota) in &counters {
            let Some(room) = room_for(pending.size, *quota) else {
                return Err(ConfirmError::QuotaExceeded(
                    self.exceeded(pending, *scope, *quota).await?,
                ));
            };
            actions.push(add_bytes(key.clone(), signed(pending.size), Some(room)));
        }
        match commit(self.table.as_ref(), actor, actions).await {
            Ok(()) => Ok(active),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                Err(ConfirmError::NotPending)
            }
            Err(StoreError::TransactionCanceled { failed }) => {
                match failed.iter().find_map(|i| counters.get(i.wrapping_sub(1))) {
                    Some((scope, _, quota)) => Err(ConfirmError::QuotaExceeded(
                        self.exceeded(pending, *scope, *quota).await?,
                    )),
                    None => Err(StoreError::TransactionCanceled { failed }.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Marks a file as being deleted, before its object goes, so that it can no longer be handed in
    /// nor confirmed. Unless `even_submitted` (admins), a file that is part of handed-in work is
    /// refused (`InSubmission`). Answers the file as marked (its status as it is now, which a
    /// confirmation may have changed since it was read), or `None` when it is gone.
    #[tracing::instrument(skip_all, fields(file_id = %file.id))]
    pub async fn start_deleting(
        &self,
        actor: &Actor,
        file: &StoredFile,
        now: OffsetDateTime,
        even_submitted: bool,
    ) -> Result<Option<StoredFile>, FileDeleteError> {
        let key = keys::file(&file.tenant, file.id);
        let mut conditions = vec![Condition::Exists];
        if !even_submitted {
            conditions.push(Condition::AttrNotExists(SUBMITTED_FOR.into()));
        }
        // Conditioned on the status read too: after a confirmation landing in between, it tries
        // again with the file as stored, so that an active file's bytes are given back.
        let mut marked = file.clone();
        for _ in 0..3 {
            let mut conditions = conditions.clone();
            if let Some(status) = file_item(&marked)?.get("status").cloned() {
                conditions.push(Condition::Equals("status".into(), status));
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
                Ok(()) => {
                    marked.deleting_since = Some(now);
                    return Ok(Some(marked));
                }
                Err(StoreError::TransactionCanceled { .. }) => match self.table.get(&key).await? {
                    None => return Ok(None),
                    Some(item) => {
                        let stored: StoredFile = from_item(item)?;
                        if stored.status == marked.status {
                            return Err(FileDeleteError::InSubmission);
                        }
                        marked = stored;
                    }
                },
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::ConditionFailed.into())
    }

    /// Deletes a file's item, marked by [`FileRepo::start_deleting`] (so its status no longer
    /// changes); an active file's size is given back to its uploader's and its tenant's storage in
    /// the same transaction. `false` when it was already gone (and nothing is given back twice).
    #[tracing::instrument(skip_all, fields(file_id = %file.id))]
    pub async fn delete(&self, file: &StoredFile) -> Result<bool, StoreError> {
        let key = keys::file(&file.tenant, file.id);
        if !file.is_active() {
            return match self.table.delete(&key, Some(Condition::Exists)).await {
                Ok(_) => Ok(true),
                Err(StoreError::ConditionFailed) => Ok(false),
                Err(e) => Err(e),
            };
        }
        let mut actions = vec![TxAction::Delete {
            key,
            condition: Some(Condition::Exists),
        }];
        actions.extend(
            counter_keys(&file.tenant, file.uploader_id)
                .into_iter()
                .map(|key| add_bytes(key, -signed(file.size), None)),
        );
        match self.table.transact_write(actions).await {
            Ok(()) => Ok(true),
            Err(StoreError::TransactionCanceled { .. }) => Ok(false),
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

//! The files endpoints. Contract: issue "Assignments, submissions, grading, and secure files on S3"
//! §Files; seed 003 (`secure_url`, `permissions/bulk`, file categories).
//!
//! Upload: ask (name, size, content type, purpose and owner; checked against the purpose's limits and
//! the caller's right to attach) → a presigned PUT to `pending/{key}` → the client uploads → confirm
//! (the object is checked, then copied to its key) → the file is active. Download: a presigned GET,
//! after the authorization check of [`crate::access`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use lectern_domain::course::Course;
use lectern_domain::enrollment::Enrollment;
use lectern_domain::file::{FilePurpose, FileStatus, StoredFile};
use lectern_domain::user::{UserRole, now};
use lectern_domain::{AssignmentId, CourseId, FileId, LessonId};
use lectern_files::limits::{CATEGORIES, Category};
use lectern_files::object_key::{object_key, pending_key};
use lectern_files::store::{DOWNLOAD_URL_TTL, UPLOAD_URL_TTL};
use lectern_files::{ObjectStore, category, disposition};
use lectern_store::files::{ConfirmError, FileRepo};
use lectern_store::{Power, from_item, keys};
use lectern_web::views::timestamp;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{CourseContext, may_delete, may_manage, may_read, owner_of};

const TAG: &str = "files";

/// At most this many ids in one bulk permission check.
pub const MAX_BULK_IDS: usize = 100;

/// The object store, or 503 where none is configured.
pub(crate) fn object_store(state: &AppState) -> ApiResult<&Arc<ObjectStore>> {
    state.files.as_ref().ok_or_else(|| {
        ApiError::Unavailable(anyhow::anyhow!(
            "object storage is not configured (LECTERN_S3_BUCKET)"
        ))
    })
}

/// `POST /files`: what the client wants to upload, and what it belongs to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewUpload {
    /// The file's name on the client (1–255 characters, no path separators).
    pub file_name: String,
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    pub purpose: FilePurpose,
    /// Required for submissions, lesson content and media, and course thumbnails.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub course_id: Option<String>,
    /// Optional for lesson content and media: the lesson of the course.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub lesson_id: Option<String>,
    /// Required for submissions: the assignment the file is for.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignment_id: Option<String>,
}

/// The upload URL and what to send with it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicket {
    #[schema(value_type = String, format = Uuid)]
    pub file_id: String,
    /// A presigned `PUT` URL, valid for 15 minutes.
    pub upload_url: String,
    /// Headers the `PUT` must carry exactly as given (the content type and length are signed).
    pub headers: HashMap<String, String>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: String,
}

/// A file's description.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileView {
    #[schema(value_type = String, format = Uuid)]
    pub file_id: String,
    pub purpose: FilePurpose,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub status: FileStatus,
    #[schema(value_type = String, format = Uuid)]
    pub uploader_id: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub course_id: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub lesson_id: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignment_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<String>,
}

impl From<&StoredFile> for FileView {
    fn from(f: &StoredFile) -> Self {
        FileView {
            file_id: f.id.to_string(),
            purpose: f.purpose,
            file_name: f.file_name.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            status: f.status,
            uploader_id: f.uploader_id.to_string(),
            course_id: f.course_id.map(|c| c.to_string()),
            lesson_id: f.lesson_id.map(|l| l.to_string()),
            assignment_id: f.assignment_id.map(|a| a.to_string()),
            created_at: timestamp(f.created_at),
            confirmed_at: f.confirmed_at.map(timestamp),
        }
    }
}

/// A download URL.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecureUrl {
    /// A presigned `GET` URL, valid for 5 minutes; the response names the original file.
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: String,
}

fn file_name(value: &str) -> ApiResult<String> {
    let name = value.trim();
    let count = name.chars().count();
    if count == 0 || count > 255 {
        return Err(ApiError::invalid_field(
            "fileName",
            "must be 1-255 characters",
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Err(ApiError::invalid_field(
            "fileName",
            "must not contain control characters or path separators",
        ));
    }
    Ok(name.to_owned())
}

fn parse_id<T>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Result<T, lectern_domain::Invalid>,
) -> ApiResult<Option<T>> {
    value
        .map(|v| parse(v).map_err(|e| ApiError::invalid_field(field, e.to_string())))
        .transpose()
}

fn required<T>(field: &str, purpose: FilePurpose, value: Option<T>) -> ApiResult<T> {
    value.ok_or_else(|| {
        ApiError::invalid_field(
            field,
            format!("is required for {}", lectern_files::limits::name(purpose)),
        )
    })
}

/// The owner ids of an upload, checked: the caller may attach to them.
struct Owner {
    course: Option<CourseId>,
    lesson: Option<LessonId>,
    assignment: Option<AssignmentId>,
}

async fn check_owner(state: &AppState, caller: &AuthUser, body: &NewUpload) -> ApiResult<Owner> {
    let course = parse_id("courseId", body.course_id.as_deref(), CourseId::parse)?;
    let lesson = parse_id("lessonId", body.lesson_id.as_deref(), LessonId::parse)?;
    let assignment = parse_id(
        "assignmentId",
        body.assignment_id.as_deref(),
        AssignmentId::parse,
    )?;
    let tenant = &caller.tenant;
    match body.purpose {
        FilePurpose::Avatar => Ok(Owner {
            course: None,
            lesson: None,
            assignment: None,
        }),
        FilePurpose::Submission => {
            let course = required("courseId", body.purpose, course)?;
            let assignment = required("assignmentId", body.purpose, assignment)?;
            // The course, the caller's enrollment in it, and the assignment's summary in the course
            // (so a submission file names an assignment of that course).
            let found = state
                .table
                .batch_get(&[
                    keys::course(tenant, course),
                    keys::enrollment(tenant, course, caller.id),
                    keys::assignment_summary(tenant, course, assignment),
                ])
                .await?;
            let mut found = found.into_iter();
            let course_item: Option<Course> = found.next().flatten().map(from_item).transpose()?;
            let enrollment: Option<Enrollment> =
                found.next().flatten().map(from_item).transpose()?;
            let assignment_exists = found.next().flatten().is_some();
            if course_item.is_none_or(|c| c.deleting_since.is_some()) {
                return Err(ApiError::not_found("course"));
            }
            if caller.role != UserRole::Student || !enrollment.is_some_and(|e| e.is_active()) {
                return Err(ApiError::Forbidden(
                    "only students enrolled in the course may upload submissions to it".into(),
                ));
            }
            if !assignment_exists {
                return Err(ApiError::not_found("assignment"));
            }
            Ok(Owner {
                course: Some(course),
                lesson: None,
                assignment: Some(assignment),
            })
        }
        FilePurpose::LessonContent | FilePurpose::LessonMedia | FilePurpose::CourseThumbnail => {
            let course = required("courseId", body.purpose, course)?;
            let lesson = lesson.filter(|_| body.purpose != FilePurpose::CourseThumbnail);
            let mut wanted = vec![keys::course(tenant, course)];
            if let Some(lesson) = lesson {
                wanted.push(keys::lesson(tenant, course, lesson));
            }
            let mut found = state.table.batch_get(&wanted).await?.into_iter();
            let course_item: Option<Course> = found.next().flatten().map(from_item).transpose()?;
            let Some(course_item) = course_item.filter(|c| c.deleting_since.is_none()) else {
                return Err(ApiError::not_found("course"));
            };
            if !may_manage(caller, &course_item) {
                return Err(ApiError::Forbidden(
                    "only the course's instructor and admins may upload its material".into(),
                ));
            }
            if lesson.is_some() && found.next().flatten().is_none() {
                return Err(ApiError::not_found("lesson"));
            }
            Ok(Owner {
                course: Some(course),
                lesson,
                assignment: None,
            })
        }
    }
}

/// Asks for an upload: checks the purpose's limits and the caller's right to attach, records a pending
/// file, and answers a presigned PUT (issue §Files `POST /files`).
#[utoipa::path(post, path = "/api/v1/files", tag = TAG,
    security(("bearer" = [])),
    request_body = NewUpload,
    responses(
        (status = 201, description = "Upload URL issued; the file is pending until confirmed", body = UploadTicket),
        (status = 400, description = "Invalid fields, or a content type the purpose does not accept (`content_type_not_allowed`, naming the accepted ones)", body = ErrorBody),
        (status = 403, description = "The caller may not attach files to this owner", body = ErrorBody),
        (status = 404, description = "No such course or lesson", body = ErrorBody),
        (status = 413, description = "Larger than the purpose allows (`file_too_large`, naming the limit), or more than is left of the caller's or the tenant's storage quota (`storage_quota_exceeded`, naming the bytes used and the quota)", body = ErrorBody),
        (status = 503, description = "Object storage is not configured or unavailable", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn create_upload(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(body): Json<NewUpload>,
) -> ApiResult<(StatusCode, Json<UploadTicket>)> {
    let ticket = issue_upload(&state, &caller, &body).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// The upload path shared by `POST /files` and the lesson routes (`/lessons/{id}/content`, `/media`):
/// the purpose's limits, the caller's right to attach to the owner, a presigned PUT, the pending file.
pub(crate) async fn issue_upload(
    state: &AppState,
    caller: &AuthUser,
    body: &NewUpload,
) -> ApiResult<UploadTicket> {
    let store = object_store(state)?;
    let name = file_name(&body.file_name)?;
    let content_type = category(body.purpose).check(&body.content_type, body.size)?;
    let owner = check_owner(state, caller, body).await?;
    let id = FileId::new();
    let key = object_key(
        &caller.tenant,
        body.purpose,
        &owner_of(body.purpose, caller.id, owner.course),
        id,
    );
    let ticket = store
        .presign_put(&pending_key(&key), &content_type, body.size, UPLOAD_URL_TTL)
        .await?;
    let file = StoredFile {
        id,
        tenant: caller.tenant.clone(),
        uploader_id: caller.id,
        purpose: body.purpose,
        file_name: name,
        content_type,
        size: body.size,
        course_id: owner.course,
        lesson_id: owner.lesson,
        assignment_id: owner.assignment,
        object_key: key,
        status: FileStatus::Pending,
        created_at: now(),
        confirmed_at: None,
        submitted_for: None,
        deleting_since: None,
    };
    FileRepo::new(state.table.clone())
        .create(&caller.member(), &file, &state.storage_quotas)
        .await?;
    Ok(UploadTicket {
        file_id: id.to_string(),
        upload_url: ticket.url,
        headers: ticket.headers.into_iter().collect(),
        expires_at: timestamp(ticket.expires_at),
    })
}

fn path_file_id(value: &str) -> ApiResult<FileId> {
    FileId::parse(value).map_err(|_| ApiError::not_found("file"))
}

/// The file at the path if the caller may read it; 404 otherwise (absent, another tenant's, or not
/// theirs to see).
async fn readable_file(state: &AppState, caller: &AuthUser, id: &str) -> ApiResult<StoredFile> {
    let id = path_file_id(id)?;
    let file = FileRepo::new(state.table.clone())
        .get(&caller.tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("file"))?;
    let context = CourseContext::load(state, caller, &[&file]).await?;
    if may_read(caller, &file, &context) {
        Ok(file)
    } else {
        Err(ApiError::not_found("file"))
    }
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Confirms an upload: the object must exist with the declared size and content type, and the file
/// must fit in its uploader's and its tenant's storage quotas (counted at once, atomically); then the
/// file is active (issue §Files `POST /files/{fileId}/confirm`). Only its uploader confirms; a
/// confirmation repeated is answered with the active file and counted once.
#[utoipa::path(post, path = "/api/v1/files/{fileId}/confirm", tag = TAG,
    security(("bearer" = [])),
    params(("fileId" = String, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file is active", body = FileView),
        (status = 404, description = "No such file of the caller's", body = ErrorBody),
        (status = 409, description = "Nothing uploaded (`upload_missing`), or not as declared (`upload_size_mismatch`, `upload_content_type_mismatch`), or no longer pending (`file_not_pending`)", body = ErrorBody),
        (status = 413, description = "The file does not fit in what is left of the uploader's or the tenant's storage quota (`storage_quota_exceeded`, naming the bytes used and the quota); it stays pending", body = ErrorBody),
        (status = 503, description = "Object storage is not configured or unavailable", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller), fields(user_id = %caller.id))]
pub async fn confirm_upload(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(file_id): Path<String>,
) -> ApiResult<Json<FileView>> {
    let store = object_store(&state)?;
    let repo = FileRepo::new(state.table.clone());
    let file = repo
        .get(&caller.tenant, path_file_id(&file_id)?)
        .await?
        .filter(|f| f.uploader_id == caller.id)
        .ok_or_else(|| ApiError::not_found("file"))?;
    if file.is_active() {
        return Ok(Json(FileView::from(&file)));
    }
    let pending = pending_key(&file.object_key);
    let Some(object) = store.head(&pending).await? else {
        return Err(ApiError::conflict(
            "upload_missing",
            "nothing was uploaded for this file yet: PUT it to the upload URL first",
        ));
    };
    if object.size != file.size {
        return Err(ApiError::conflict(
            "upload_size_mismatch",
            format!(
                "the upload has {} bytes, but {} were declared",
                object.size, file.size
            ),
        ));
    }
    let uploaded_type = object.content_type.as_deref().map(essence);
    if uploaded_type.as_deref() != Some(file.content_type.as_str()) {
        return Err(ApiError::conflict(
            "upload_content_type_mismatch",
            format!(
                "the upload's content type is {}, but {} was declared",
                uploaded_type.as_deref().unwrap_or("missing"),
                file.content_type
            ),
        ));
    }
    store.copy(&pending, &file.object_key).await?;
    let active = match repo
        .activate(&caller.member(), &file, now(), &state.storage_quotas)
        .await
    {
        Ok(active) => active,
        Err(ConfirmError::NotPending) => {
            // A confirmation of the same file that won the race: answered as a retry would be.
            return match repo.get(&caller.tenant, file.id).await? {
                Some(active) if active.is_active() => Ok(Json(FileView::from(&active))),
                _ => Err(ApiError::conflict(
                    "file_not_pending",
                    "the file was deleted or expired meanwhile",
                )),
            };
        }
        Err(ConfirmError::QuotaExceeded(e)) => {
            // The file stays pending (its upload too, for a confirmation once there is room); the
            // copy made for it would be described by nothing.
            if let Err(e) = store.delete(&file.object_key).await {
                tracing::warn!(error = ?e, "could not delete the copy of an upload refused by its quota");
            }
            return Err(e.into());
        }
        Err(ConfirmError::Store(e)) => return Err(e.into()),
    };
    // The pending copy is no longer needed; if this fails, the bucket's lifecycle rule removes it.
    if let Err(e) = store.delete(&pending).await {
        tracing::warn!(error = ?e, "could not delete a confirmed upload's pending object");
    }
    Ok(Json(FileView::from(&active)))
}

/// A file's description, for those who may read it (issue §Files `GET /files/{fileId}`).
#[utoipa::path(get, path = "/api/v1/files/{fileId}", tag = TAG,
    security(("bearer" = [])),
    params(("fileId" = String, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file", body = FileView),
        (status = 404, description = "No such file the caller may read", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller), fields(user_id = %caller.id))]
pub async fn get_file(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(file_id): Path<String>,
) -> ApiResult<Json<FileView>> {
    let file = readable_file(&state, &caller, &file_id).await?;
    Ok(Json(FileView::from(&file)))
}

/// A short-lived download URL, after the authorization check (seed 003 `secure_url`; issue §Files
/// `GET /files/{fileId}/secure-url`).
#[utoipa::path(get, path = "/api/v1/files/{fileId}/secure-url", tag = TAG,
    security(("bearer" = [])),
    params(("fileId" = String, Path, description = "The file's id")),
    responses(
        (status = 200, description = "A presigned GET, valid for 5 minutes", body = SecureUrl),
        (status = 404, description = "No such file the caller may read", body = ErrorBody),
        (status = 409, description = "The upload is not confirmed yet (`file_not_active`)", body = ErrorBody),
        (status = 503, description = "Object storage is not configured", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller), fields(user_id = %caller.id))]
pub async fn secure_url(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(file_id): Path<String>,
) -> ApiResult<Json<SecureUrl>> {
    let store = object_store(&state)?;
    let file = readable_file(&state, &caller, &file_id).await?;
    if !file.is_active() {
        return Err(ApiError::conflict(
            "file_not_active",
            "the file's upload is not confirmed yet",
        ));
    }
    Ok(Json(download_url(store, &file).await?))
}

/// A presigned GET of an active file (5 minutes), whose response names the original file. The caller
/// has been authorised already.
pub(crate) async fn download_url(store: &ObjectStore, file: &StoredFile) -> ApiResult<SecureUrl> {
    let url = store
        .presign_get(
            &file.object_key,
            &disposition::attachment(&file.file_name),
            DOWNLOAD_URL_TTL,
        )
        .await?;
    Ok(SecureUrl {
        url: url.url,
        expires_at: timestamp(url.expires_at),
    })
}

/// `POST /files/permissions/bulk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkPermissionsRequest {
    /// At most 100 ids.
    #[schema(value_type = Vec<String>)]
    pub file_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FilePermission {
    pub file_id: String,
    pub can_read: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkPermissions {
    /// One entry per id asked, in the order asked.
    pub permissions: Vec<FilePermission>,
}

/// Whether the caller may read each of the files (seed 003 bulk permission check): one batch get of
/// the files, one of their courses and the caller's enrollments.
#[utoipa::path(post, path = "/api/v1/files/permissions/bulk", tag = TAG,
    security(("bearer" = [])),
    request_body = BulkPermissionsRequest,
    responses(
        (status = 200, description = "Per id, whether the caller may read it", body = BulkPermissions),
        (status = 400, description = "More than 100 ids", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn bulk_permissions(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(body): Json<BulkPermissionsRequest>,
) -> ApiResult<Json<BulkPermissions>> {
    if body.file_ids.len() > MAX_BULK_IDS {
        return Err(ApiError::invalid_field(
            "fileIds",
            format!("at most {MAX_BULK_IDS} ids at once"),
        ));
    }
    let parsed: Vec<Option<FileId>> = body
        .file_ids
        .iter()
        .map(|id| FileId::parse(id).ok())
        .collect();
    let ids: Vec<FileId> = parsed.iter().flatten().copied().collect();
    let found = if ids.is_empty() {
        Vec::new()
    } else {
        FileRepo::new(state.table.clone())
            .get_many(&caller.tenant, &ids)
            .await?
    };
    let files: HashMap<FileId, StoredFile> =
        found.into_iter().flatten().map(|f| (f.id, f)).collect();
    let refs: Vec<&StoredFile> = files.values().collect();
    let context = CourseContext::load(&state, &caller, &refs).await?;
    let permissions = body
        .file_ids
        .iter()
        .zip(parsed)
        .map(|(asked, id)| FilePermission {
            file_id: asked.clone(),
            can_read: id
                .and_then(|id| files.get(&id))
                .is_some_and(|f| may_read(&caller, f, &context)),
        })
        .collect();
    Ok(Json(BulkPermissions { permissions }))
}

/// Bytes used of a storage quota.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaUsage {
    /// Bytes of confirmed files (pending uploads count once confirmed).
    pub used: u64,
    /// The quota, in bytes.
    pub limit: u64,
}

/// The caller's storage, and their tenant's for admins.
#[derive(Debug, Serialize, ToSchema)]
pub struct StorageUsageView {
    /// The caller's own files.
    pub user: QuotaUsage,
    /// Every file of the tenant: present for admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<QuotaUsage>,
}

/// How much of their storage quota the caller uses, and (for admins) how much of the tenant's
/// (issue 22 item 18; Canvas shows the same as a user's and a course's "quota used").
#[utoipa::path(get, path = "/api/v1/files/usage", tag = TAG,
    security(("bearer" = [])),
    responses((status = 200, description = "Bytes used and the quota, the caller's and (admins) the tenant's", body = StorageUsageView)))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn usage(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<Json<StorageUsageView>> {
    let repo = FileRepo::new(state.table.clone());
    let quotas = state.storage_quotas;
    let view = if caller.is_admin() {
        let usage = repo.usage(&caller.tenant, caller.id).await?;
        StorageUsageView {
            user: QuotaUsage {
                used: usage.user,
                limit: quotas.per_user,
            },
            tenant: Some(QuotaUsage {
                used: usage.tenant,
                limit: quotas.per_tenant,
            }),
        }
    } else {
        StorageUsageView {
            user: QuotaUsage {
                used: repo.user_usage(&caller.tenant, caller.id).await?,
                limit: quotas.per_user,
            },
            tenant: None,
        }
    };
    Ok(Json(view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Categories {
    pub categories: Vec<Category>,
}

/// The file purposes with their limits (seed 003 file categories). Public: clients check before they
/// ask.
#[utoipa::path(get, path = "/api/v1/files/categories", tag = TAG,
    responses((status = 200, description = "Every purpose with its content types and largest size", body = Categories)))]
pub async fn categories() -> Json<Categories> {
    Json(Categories {
        categories: CATEGORIES.to_vec(),
    })
}

/// Deletes a file: its object and its description (issue §Files `DELETE /files/{fileId}`). The
/// uploader and admins may; others who can see the file get 403, everyone else 404. A file handed in
/// with a submission (submitted or graded work) stays: only an admin may delete it.
#[utoipa::path(delete, path = "/api/v1/files/{fileId}", tag = TAG,
    security(("bearer" = [])),
    params(("fileId" = String, Path, description = "The file's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Only the uploader and admins delete a file", body = ErrorBody),
        (status = 404, description = "No such file the caller may read", body = ErrorBody),
        (status = 409, description = "The file is part of handed-in work (`file_in_submission`); it and its object remain", body = ErrorBody),
        (status = 503, description = "Object storage is not configured or unavailable", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller), fields(user_id = %caller.id))]
pub async fn delete_file(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(file_id): Path<String>,
) -> ApiResult<StatusCode> {
    let store = object_store(&state)?;
    let file = readable_file(&state, &caller, &file_id).await?;
    if !may_delete(&caller, &file) {
        return Err(ApiError::Forbidden(
            "only the uploader and admins may delete a file".into(),
        ));
    }
    let repo = FileRepo::new(state.table.clone());
    // Handed-in work keeps its files: the mark is checked and deletion recorded in one conditional
    // update, before the object goes, so a file cannot be handed in while it is being deleted either.
    // An admin deleting another's file acts as an admin; anyone deleting their own, as themselves.
    let actor = if file.uploader_id == caller.id {
        caller.member()
    } else {
        caller.actor(Power::Admin)
    };
    let Some(file) = repo
        .start_deleting(&actor, &file, now(), caller.is_admin())
        .await?
    else {
        return Err(ApiError::not_found("file"));
    };
    // The object first: if the store then fails, the item still points at nothing and a retry
    // finishes the job; the other order could leave an object no item describes.
    match file.status {
        FileStatus::Active => store.delete(&file.object_key).await?,
        FileStatus::Pending => store.delete(&pending_key(&file.object_key)).await?,
    }
    repo.delete(&file).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Uploads: ask (name, size, content type, purpose and owner; checked against the purpose's limits and
//! the caller's right to attach) → a presigned PUT to `pending/{key}` → the client uploads → confirm
//! (the object is checked, then copied to its key) → the file is active. Confirmed files count
//! against their uploader's and their tenant's storage quotas (`lectern_store::files`). Contract:
//! issue "Assignments, submissions, grading, and secure files on S3" §Files (`POST /files`,
//! `POST /files/{fileId}/confirm`).

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::file::{FilePurpose, FileStatus, StoredFile};
use lectern_domain::user::{UserRole, now};
use lectern_domain::{AssignmentId, CourseId, FileId, LessonId};
use lectern_files::category;
use lectern_files::object_key::{object_key, pending_key};
use lectern_files::store::UPLOAD_URL_TTL;
use lectern_store::files::{AttachTo, ConfirmError, FileRepo};
use lectern_web::views::timestamp;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{may_manage, owner_of};
use crate::files::object_store;
use crate::views::{FileView, UploadTicket};

const TAG: &str = "files";

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
    pub course_id: Option<CourseId>,
    /// Optional for lesson content and media: the lesson of the course.
    pub lesson_id: Option<LessonId>,
    /// Required for submissions: the assignment the file is for.
    pub assignment_id: Option<AssignmentId>,
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
    let (course, lesson, assignment) = (body.course_id, body.lesson_id, body.assignment_id);
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
            let context = FileRepo::new(state.table.clone())
                .attach_context(tenant, course, caller.id, AttachTo::Submission(assignment))
                .await?;
            if context.course.is_none_or(|c| c.deleting_since.is_some()) {
                return Err(ApiError::not_found("course"));
            }
            if caller.role != UserRole::Student
                || !context.enrollment.is_some_and(|e| e.is_active())
            {
                return Err(ApiError::Forbidden(
                    "only students enrolled in the course may upload submissions to it".into(),
                ));
            }
            if context.assignment.is_none() {
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
            let context = FileRepo::new(state.table.clone())
                .attach_context(tenant, course, caller.id, AttachTo::Material(lesson))
                .await?;
            let Some(course_item) = context.course.filter(|c| c.deleting_since.is_none()) else {
                return Err(ApiError::not_found("course"));
            };
            if !may_manage(caller, &course_item) {
                return Err(ApiError::Forbidden(
                    "only the course's instructor and admins may upload its material".into(),
                ));
            }
            if lesson.is_some() && context.lesson.is_none() {
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
        file_id: id,
        upload_url: ticket.url,
        headers: ticket.headers.into_iter().collect(),
        expires_at: timestamp(ticket.expires_at),
    })
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
    Path(file_id): Path<FileId>,
) -> ApiResult<Json<FileView>> {
    let store = object_store(&state)?;
    let repo = FileRepo::new(state.table.clone());
    let file = repo
        .get(&caller.tenant, file_id)
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

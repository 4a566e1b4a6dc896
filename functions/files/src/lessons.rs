//! A lesson's files: uploading its content and media, and downloading them. Contract: seed 002
//! `POST /api/lessons/[lessonId]/content`, `POST /api/lessons/[lessonId]/media`,
//! `GET /api/lessons/[lessonId]/download`; issue "Assignments, submissions, grading, and secure files
//! on S3" §Files ("lesson content and media use these files").
//!
//! These are the files of [`crate::uploads`] and [`crate::files`] seen from the lesson: an upload here is `POST /files`
//! with purpose `lesson_content` / `lesson_media` and the lesson's course and id filled in, on the same
//! code path (same limits, same rule: the course's instructor or an admin, else 403); the upload is
//! then confirmed with `POST /files/{fileId}/confirm` as any other.
//!
//! Finding the course: lessons live in their course's partition, and the seed's paths name only the
//! lesson, so every lesson item is also indexed on GSI1 under its id (`T#{t}#LESSON#{lessonId}` /
//! `LESSON`, see `lectern_store::keys`). The index is only a locator: the upload path then reads the
//! course and the lesson by their table keys (strongly consistent) before anything is issued, and the
//! download reads the course and the caller's enrollment the same way. A client need not send the
//! course id; the price is that a lesson created a moment ago may briefly answer 404 (index lag).

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::file::FilePurpose;
use lectern_domain::{CourseId, LessonId};
use lectern_store::files::FileRepo;
use lectern_store::lessons::LessonRepo;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{CourseContext, may_read};
use crate::files::{download_url, object_store};
use crate::uploads::{NewUpload, issue_upload};
use crate::views::{FileView, SecureUrl, UploadTicket};

const TAG: &str = "lessons";

/// `POST /lessons/{lessonId}/content` and `/media`: what the client wants to upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonUpload {
    /// The file's name on the client (1–255 characters, no path separators).
    pub file_name: String,
    pub content_type: String,
    /// Bytes.
    pub size: u64,
}

/// Issues an upload for a lesson's file of `purpose`: the lesson's course found by the lesson id, then
/// `POST /files`'s path.
async fn lesson_upload(
    state: &AppState,
    caller: &AuthUser,
    lesson_id: LessonId,
    purpose: FilePurpose,
    body: LessonUpload,
) -> ApiResult<(StatusCode, Json<UploadTicket>)> {
    object_store(state)?;
    let lesson = LessonRepo::new(state.table.clone())
        .locate(&caller.tenant, lesson_id)
        .await?
        .ok_or_else(|| ApiError::not_found("lesson"))?;
    let upload = NewUpload {
        file_name: body.file_name,
        content_type: body.content_type,
        size: body.size,
        purpose,
        course_id: Some(lesson.course_id),
        lesson_id: Some(lesson.id),
        assignment_id: None,
    };
    let ticket = issue_upload(state, caller, &upload).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// Seed 002 `POST /api/lessons/[lessonId]/content`: asks for the upload of a lesson's content (a
/// document); answers as `POST /files` with purpose `lesson_content`.
#[utoipa::path(post, path = "/api/v1/lessons/{lessonId}/content", tag = TAG,
    security(("bearer" = [])),
    params(("lessonId" = String, Path, description = "The lesson's id")),
    request_body = LessonUpload,
    responses(
        (status = 201, description = "Upload URL issued; confirm with `POST /files/{fileId}/confirm`", body = UploadTicket),
        (status = 400, description = "Invalid fields, or a content type lesson content does not accept (`content_type_not_allowed`)", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such lesson", body = ErrorBody),
        (status = 413, description = "Larger than lesson content allows (`file_too_large`), or more than is left of the storage quota (`storage_quota_exceeded`)", body = ErrorBody),
        (status = 503, description = "Object storage is not configured or unavailable", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body), fields(user_id = %caller.id))]
pub async fn upload_content(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(lesson_id): Path<LessonId>,
    Json(body): Json<LessonUpload>,
) -> ApiResult<(StatusCode, Json<UploadTicket>)> {
    lesson_upload(&state, &caller, lesson_id, FilePurpose::LessonContent, body).await
}

/// Seed 002 `POST /api/lessons/[lessonId]/media`: asks for the upload of a lesson's media file (image,
/// audio, video); answers as `POST /files` with purpose `lesson_media`.
#[utoipa::path(post, path = "/api/v1/lessons/{lessonId}/media", tag = TAG,
    security(("bearer" = [])),
    params(("lessonId" = String, Path, description = "The lesson's id")),
    request_body = LessonUpload,
    responses(
        (status = 201, description = "Upload URL issued; confirm with `POST /files/{fileId}/confirm`", body = UploadTicket),
        (status = 400, description = "Invalid fields, or a content type lesson media does not accept (`content_type_not_allowed`)", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such lesson", body = ErrorBody),
        (status = 413, description = "Larger than lesson media allows (`file_too_large`), or more than is left of the storage quota (`storage_quota_exceeded`)", body = ErrorBody),
        (status = 503, description = "Object storage is not configured or unavailable", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body), fields(user_id = %caller.id))]
pub async fn upload_media(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(lesson_id): Path<LessonId>,
    Json(body): Json<LessonUpload>,
) -> ApiResult<(StatusCode, Json<UploadTicket>)> {
    lesson_upload(&state, &caller, lesson_id, FilePurpose::LessonMedia, body).await
}

/// A lesson file with its download URL.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonFile {
    #[serde(flatten)]
    pub file: FileView,
    #[serde(flatten)]
    pub download: SecureUrl,
}

/// A lesson's files, each with a fresh download URL.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonDownload {
    pub lesson_id: LessonId,
    pub course_id: CourseId,
    pub title: String,
    /// The lesson's confirmed content and media files, oldest first.
    pub files: Vec<LessonFile>,
}

/// Seed 002 `GET /api/lessons/[lessonId]/download`: the lesson's confirmed content and media files,
/// each with a presigned GET valid for 5 minutes. For the course's instructor, admins and enrolled
/// students; anyone else (another tenant, a student not enrolled) is told there is no such lesson.
/// Reads: the lesson with its files (1 GSI1 query), the course and the caller's enrollment (1 batch
/// get); presigning is local.
#[utoipa::path(get, path = "/api/v1/lessons/{lessonId}/download", tag = TAG,
    security(("bearer" = [])),
    params(("lessonId" = String, Path, description = "The lesson's id")),
    responses(
        (status = 200, description = "The lesson's files with download URLs", body = LessonDownload),
        (status = 404, description = "No such lesson the caller may read", body = ErrorBody),
        (status = 503, description = "Object storage is not configured", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller), fields(user_id = %caller.id))]
pub async fn download(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(lesson_id): Path<LessonId>,
) -> ApiResult<Json<LessonDownload>> {
    let store = object_store(&state)?;
    let material = FileRepo::new(state.table.clone())
        .lesson_material(&caller.tenant, lesson_id)
        .await?
        .ok_or_else(|| ApiError::not_found("lesson"))?;
    let course = material.lesson.course_id;
    let context = CourseContext::of_courses(&state, &caller, &[course]).await?;
    if !context.may_read_material(&caller, course) {
        return Err(ApiError::not_found("lesson"));
    }
    let mut files = Vec::with_capacity(material.files.len());
    // Each file is checked again as `GET /files/{id}` would: the same answer, by the same rule.
    for file in material
        .files
        .iter()
        .filter(|f| f.course_id == Some(course) && may_read(&caller, f, &context))
    {
        files.push(LessonFile {
            file: FileView::from(file),
            download: download_url(store, file).await?,
        });
    }
    Ok(Json(LessonDownload {
        lesson_id: material.lesson.id,
        course_id: course,
        title: material.lesson.title.as_str().to_owned(),
        files,
    }))
}

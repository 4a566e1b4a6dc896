//! A file once asked for: its description, a download URL, the bulk permission check, deleting it.
//! Downloads are presigned GETs issued after the authorization check of [`crate::access`]. Contract:
//! issue "Assignments, submissions, grading, and secure files on S3" §Files; seed 003 (`secure_url`,
//! `permissions/bulk`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::FileId;
use lectern_domain::file::{FileStatus, StoredFile};
use lectern_domain::user::now;
use lectern_files::ObjectStore;
use lectern_files::disposition;
use lectern_files::object_key::pending_key;
use lectern_files::store::DOWNLOAD_URL_TTL;
use lectern_store::Power;
use lectern_store::files::FileRepo;
use lectern_web::views::timestamp;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{CourseContext, may_delete, may_read};
use crate::views::{FileView, SecureUrl};

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

/// The file at the path if the caller may read it; 404 otherwise (absent, another tenant's, or not
/// theirs to see).
async fn readable_file(state: &AppState, caller: &AuthUser, id: FileId) -> ApiResult<StoredFile> {
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
    Path(file_id): Path<FileId>,
) -> ApiResult<Json<FileView>> {
    let file = readable_file(&state, &caller, file_id).await?;
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
    Path(file_id): Path<FileId>,
) -> ApiResult<Json<SecureUrl>> {
    let store = object_store(&state)?;
    let file = readable_file(&state, &caller, file_id).await?;
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
    Path(file_id): Path<FileId>,
) -> ApiResult<StatusCode> {
    let store = object_store(&state)?;
    let file = readable_file(&state, &caller, file_id).await?;
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

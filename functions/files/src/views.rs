//! Response shapes more than one resource shows: a file's description, an upload ticket, a download
//! URL. Field names are camelCase; timestamps RFC 3339 with milliseconds.

use std::collections::HashMap;

use lectern_domain::file::{FilePurpose, FileStatus, StoredFile};
use lectern_domain::{AssignmentId, CourseId, FileId, LessonId, UserId};
use lectern_web::views::timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// The upload URL and what to send with it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicket {
    pub file_id: FileId,
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
    pub file_id: FileId,
    pub purpose: FilePurpose,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub status: FileStatus,
    pub uploader_id: UserId,
    pub course_id: Option<CourseId>,
    pub lesson_id: Option<LessonId>,
    pub assignment_id: Option<AssignmentId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<String>,
}

impl From<&StoredFile> for FileView {
    fn from(f: &StoredFile) -> Self {
        FileView {
            file_id: f.id,
            purpose: f.purpose,
            file_name: f.file_name.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            status: f.status,
            uploader_id: f.uploader_id,
            course_id: f.course_id,
            lesson_id: f.lesson_id,
            assignment_id: f.assignment_id,
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

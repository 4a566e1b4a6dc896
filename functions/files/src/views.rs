//! Response shapes more than one resource shows: a file's description, an upload ticket, a download
//! URL. Field names are camelCase; timestamps RFC 3339 with milliseconds.

use std::collections::HashMap;

use lectern_domain::file::{FilePurpose, FileStatus, StoredFile};
use lectern_web::views::timestamp;
use serde::Serialize;
use utoipa::ToSchema;

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

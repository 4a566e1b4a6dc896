//! Files: uploads kept in object storage (S3), described by an item in the table. Contract: issue
//! "Assignments, submissions, grading, and secure files on S3" §Files; seed 003 (file categories,
//! secure URLs).
//!
//! The API never carries file bytes: clients upload and download with presigned URLs, and a file is
//! usable (`active`) only once its upload was confirmed.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::ids::{AssignmentId, CourseId, FileId, LessonId, TenantId, UserId};

/// What a file is for; each purpose has its own size and content-type limits and its own owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilePurpose {
    Submission,
    LessonContent,
    LessonMedia,
    Avatar,
    CourseThumbnail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Asked for; the upload URL was issued but the object is not confirmed yet (expires).
    Pending,
    /// Uploaded and checked: usable.
    Active,
}

/// A file as stored (key `T#{t}#FILE#{fileId}` / `FILE`, see `lectern_store::keys::file`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredFile {
    pub id: FileId,
    pub tenant: TenantId,
    pub uploader_id: UserId,
    pub purpose: FilePurpose,
    /// The client's file name (shown in the download's content-disposition).
    pub file_name: String,
    pub content_type: String,
    /// Bytes, as declared and then checked on confirmation.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<CourseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson_id: Option<LessonId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<AssignmentId>,
    /// The object's key in the bucket: tenant- and owner-scoped.
    pub object_key: String,
    pub status: FileStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub confirmed_at: Option<OffsetDateTime>,
    /// The assignment whose handed-in work includes the file (set in the submission's transaction):
    /// from then on its uploader cannot delete it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_for: Option<AssignmentId>,
    /// Set when deletion starts (before the object goes): from then on the file cannot be handed in,
    /// and deleting it again resumes.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleting_since: Option<OffsetDateTime>,
}

impl StoredFile {
    pub fn is_active(&self) -> bool {
        self.status == FileStatus::Active
    }
}

/// How many bytes of confirmed files one user, and one tenant in all, may keep
/// (`LECTERN_USER_STORAGE_QUOTA_MB`, `LECTERN_TENANT_STORAGE_QUOTA_MB`). A file counts against its
/// uploader and its tenant from its confirmation until its deletion; pending uploads count against
/// neither (they expire after a day, object and item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageQuotas {
    pub per_user: u64,
    pub per_tenant: u64,
}

impl StorageQuotas {
    const MB: u64 = 1024 * 1024;

    /// 1 GiB per user (ten of the largest lesson videos), 100 GiB per tenant.
    pub const DEFAULT: StorageQuotas = StorageQuotas {
        per_user: 1024 * Self::MB,
        per_tenant: 100 * 1024 * Self::MB,
    };

    /// Quotas given in MiB, as the configuration names them.
    pub fn from_mb(per_user: u64, per_tenant: u64) -> StorageQuotas {
        StorageQuotas {
            per_user: per_user.saturating_mul(Self::MB),
            per_tenant: per_tenant.saturating_mul(Self::MB),
        }
    }
}

impl Default for StorageQuotas {
    fn default() -> Self {
        StorageQuotas::DEFAULT
    }
}

/// Whose storage quota a figure or a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuotaScope {
    /// The uploader's own files.
    User,
    /// Every file of the tenant.
    Tenant,
}

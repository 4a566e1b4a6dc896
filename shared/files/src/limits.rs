//! What each file purpose accepts. Contract: issue "Assignments, submissions, grading, and secure files
//! on S3" §Files (per-purpose limits), seed 003 (file categories). The limits are data: the same table
//! checks uploads and is served by `GET /files/categories`.

use lectern_domain::file::FilePurpose;
use serde::Serialize;
use utoipa::ToSchema;

const MB: u64 = 1024 * 1024;

const IMAGES: &[&str] = &["image/png", "image/jpeg", "image/webp"];
const THUMBNAILS: &[&str] = &["image/png", "image/jpeg", "image/webp", "image/gif"];
const MEDIA: &[&str] = &[
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "audio/wav",
    "audio/webm",
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
];
const LESSON_CONTENT: &[&str] = &[
    "application/pdf",
    "text/markdown",
    "text/plain",
    "application/zip",
];
const SUBMISSION: &[&str] = &[
    "application/pdf",
    "text/plain",
    "text/markdown",
    "application/zip",
    "image/png",
    "image/jpeg",
    "image/webp",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
];

/// A file purpose with its limits (seed 003's "file category").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub purpose: FilePurpose,
    pub description: &'static str,
    /// The content types accepted, exactly (lowercase, no parameters).
    #[schema(value_type = Vec<String>)]
    pub content_types: &'static [&'static str],
    /// The largest accepted size, in bytes.
    pub max_size: u64,
}

/// Every purpose's limits, in a stable order.
pub const CATEGORIES: [Category; 5] = [
    Category {
        purpose: FilePurpose::Avatar,
        description: "A user's profile picture.",
        content_types: IMAGES,
        max_size: 5 * MB,
    },
    Category {
        purpose: FilePurpose::CourseThumbnail,
        description: "A course's picture in the catalog.",
        content_types: THUMBNAILS,
        max_size: 5 * MB,
    },
    Category {
        purpose: FilePurpose::LessonMedia,
        description: "Video, audio or images of a lesson.",
        content_types: MEDIA,
        max_size: 100 * MB,
    },
    Category {
        purpose: FilePurpose::LessonContent,
        description: "Documents of a lesson: PDF, markdown, text, zip archives.",
        content_types: LESSON_CONTENT,
        max_size: 50 * MB,
    },
    Category {
        purpose: FilePurpose::Submission,
        description: "A student's work for an assignment: documents, archives, images.",
        content_types: SUBMISSION,
        max_size: 25 * MB,
    },
];

/// The limits of a purpose.
pub fn category(purpose: FilePurpose) -> &'static Category {
    CATEGORIES
        .iter()
        .find(|c| c.purpose == purpose)
        .unwrap_or(&CATEGORIES[0])
}

/// Why an upload request breaks its purpose's limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("content type {given:?} is not accepted for {purpose}; accepted: {}", accepted.join(", "))]
    ContentType {
        given: String,
        purpose: &'static str,
        accepted: &'static [&'static str],
    },
    #[error("{size} bytes is larger than the {max} bytes ({} MB) allowed for {purpose}", max / MB)]
    TooLarge {
        size: u64,
        max: u64,
        purpose: &'static str,
    },
    #[error("an empty file cannot be uploaded")]
    Empty,
}

fn purpose_name(purpose: FilePurpose) -> &'static str {
    match purpose {
        FilePurpose::Submission => "submission",
        FilePurpose::LessonContent => "lesson_content",
        FilePurpose::LessonMedia => "lesson_media",
        FilePurpose::Avatar => "avatar",
        FilePurpose::CourseThumbnail => "course_thumbnail",
    }
}

impl Category {
    /// Checks a declared upload; answers the content type as stored (lowercase).
    pub fn check(&self, content_type: &str, size: u64) -> Result<String, LimitError> {
        let normalized = content_type.trim().to_ascii_lowercase();
        if !self.content_types.contains(&normalized.as_str()) {
            return Err(LimitError::ContentType {
                given: content_type.to_owned(),
                purpose: purpose_name(self.purpose),
                accepted: self.content_types,
            });
        }
        if size == 0 {
            return Err(LimitError::Empty);
        }
        if size > self.max_size {
            return Err(LimitError::TooLarge {
                size,
                max: self.max_size,
                purpose: purpose_name(self.purpose),
            });
        }
        Ok(normalized)
    }
}

/// The purpose's name in keys and messages (its JSON name).
pub fn name(purpose: FilePurpose) -> &'static str {
    purpose_name(purpose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_has_its_own_category() {
        for purpose in [
            FilePurpose::Submission,
            FilePurpose::LessonContent,
            FilePurpose::LessonMedia,
            FilePurpose::Avatar,
            FilePurpose::CourseThumbnail,
        ] {
            assert_eq!(category(purpose).purpose, purpose);
        }
    }

    #[test]
    fn an_avatar_must_be_a_small_image() {
        let avatar = category(FilePurpose::Avatar);
        assert_eq!(avatar.check("Image/PNG", 10).unwrap(), "image/png");
        assert!(matches!(
            avatar.check("application/pdf", 10),
            Err(LimitError::ContentType { .. })
        ));
        let too_large = avatar.check("image/png", 5 * MB + 1).unwrap_err();
        assert!(too_large.to_string().contains("5 MB"), "{too_large}");
        assert_eq!(avatar.check("image/png", 0), Err(LimitError::Empty));
    }
}

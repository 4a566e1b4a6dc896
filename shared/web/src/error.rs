//! The one error type of the HTTP edge and its one mapping to a status and a JSON body.
//!
//! Internal causes are logged with the request id and never sent: the client sees a message written for
//! it and a stable `code` to branch on.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lectern_domain::FieldErrors;
use lectern_files::{LimitError, ObjectStoreError};
use lectern_store::assignments::AssignmentWriteError;
use lectern_store::courses::CourseWriteError;
use lectern_store::enrollments::{EnrollError, ProgressError};
use lectern_store::files::{FileDeleteError, QuotaExceeded, UploadError};
use lectern_store::quizzes::QuizWriteError;
use lectern_store::users::UserWriteError;
use lectern_store::{Refusal, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// A human-readable message.
    pub error: String,
    /// A stable snake_case code to branch on (`validation_failed`, `email_taken`, …).
    pub code: String,
    /// The id of the request, also in the `x-request-id` header; quote it when reporting a problem.
    pub request_id: String,
    /// Per-field messages, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, String>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: fields failed validation; `details` names each.
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    /// 400: a malformed request, with a code of its own.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 400: one request parameter is unusable, with a code of its own; `details` names it.
    #[error("{message}")]
    BadParameter {
        code: &'static str,
        field: &'static str,
        message: String,
    },
    /// 401: no credentials, or credentials that do not prove anything.
    #[error("{0}")]
    Unauthorized(String),
    /// 402: the resource must be paid for first.
    #[error("{0}")]
    PaymentRequired(String),
    /// 403: authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 403: not allowed, with a code of its own that says why.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// 404: no such resource, or one the caller may not know exists.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with the current state (taken, stale version, already done).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 412: the request's `If-Match` names a version the resource is no longer at.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 429: too many attempts; retry after the given number of seconds.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// 429 `rate_limited`: over a rate limit (the `RateLimit` fields name it); retry after the
    /// given number of seconds.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// 503 `server_busy`: every password hasher is busy and its queue full; retry after the given
    /// number of seconds.
    #[error("the server is busy; retry in a moment")]
    Busy { retry_after_secs: u64 },
    /// 413: the body is larger than allowed.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 413: something declared (a file's size) is over a limit; the message names the limit.
    #[error("{message}")]
    LimitExceeded { code: &'static str, message: String },
    /// 422: well-formed, but cannot be processed as it stands (an idempotency key reused with another
    /// request).
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 502: a provider the platform depends on refused the request (the message says why).
    #[error("{message}")]
    UpstreamRejected { code: &'static str, message: String },
    /// 415: the body is not JSON.
    #[error("the request body must be JSON (content-type: application/json)")]
    UnsupportedMediaType,
    /// 503: a dependency (the store) failed; retrying later may work. Nothing was half-written.
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// 500: a bug. The cause is logged, not sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Refused {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// 409 `prerequisites_missing`, naming the prerequisite courses the student has not completed
    /// (enrolling, and buying a course, refuse alike).
    pub fn prerequisites_missing(missing: &[lectern_domain::course::Course]) -> Self {
        let names: Vec<String> = missing
            .iter()
            .map(|c| format!("\"{}\" ({})", c.title.as_str(), c.id))
            .collect();
        ApiError::conflict(
            "prerequisites_missing",
            format!("complete these courses first: {}", names.join(", ")),
        )
    }

    /// 412 `precondition_failed`: the resource is at `current`, not a version `If-Match` names.
    pub fn precondition_failed(current: u64) -> Self {
        ApiError::PreconditionFailed(format!(
            "the resource is at version {current}, not the one If-Match names; read it again"
        ))
    }

    /// 400 `invalid_cursor` naming `cursor`: not a cursor this list gave out (forged, from another
    /// list, or out of range).
    pub fn invalid_cursor() -> Self {
        ApiError::BadParameter {
            code: "invalid_cursor",
            field: "cursor",
            message: "the cursor is not valid for this list".into(),
        }
    }

    /// A single field's validation error.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(FieldErrors::one(field, message))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Validation(_) => (StatusCode::BAD_REQUEST, "validation_failed"),
            ApiError::BadRequest { code, .. } | ApiError::BadParameter { code, .. } => {
                (StatusCode::BAD_REQUEST, code)
            }
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::PaymentRequired(_) => (StatusCode::PAYMENT_REQUIRED, "payment_required"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Refused { code, .. } => (StatusCode::FORBIDDEN, code),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::PreconditionFailed(_) => {
                (StatusCode::PRECONDITION_FAILED, "precondition_failed")
            }
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::LimitExceeded { code, .. } => (StatusCode::PAYLOAD_TOO_LARGE, code),
            ApiError::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::UpstreamRejected { code, .. } => (StatusCode::BAD_GATEWAY, code),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            }
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "server_busy"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let request_id = request::current_request_id();
        match &self {
            ApiError::Unavailable(cause) | ApiError::Internal(cause) => {
                tracing::error!(request_id = %request_id, code, error = ?cause, "request failed");
            }
            _ => {
                tracing::info!(request_id = %request_id, code, status = status.as_u16(), "request refused")
            }
        }
        let details = match &self {
            ApiError::Validation(errors) => Some(errors.fields().clone()),
            ApiError::BadParameter { field, message, .. } => {
                Some(BTreeMap::from([((*field).to_owned(), message.clone())]))
            }
            _ => None,
        };
        let body = ErrorBody {
            error: self.to_string(),
            code: code.to_owned(),
            request_id,
            details,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        let retry_after = match &self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            }
            | ApiError::RateLimited {
                retry_after_secs, ..
            }
            | ApiError::Busy { retry_after_secs } => Some(*retry_after_secs),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(1),
            _ => None,
        };
        if let Some(value) =
            retry_after.and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors)
    }
}

/// Store failures a handler did not map to a domain outcome itself.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::InvalidCursor => ApiError::invalid_cursor(),
            StoreError::ItemTooLarge { .. } => ApiError::PayloadTooLarge,
            StoreError::ConditionFailed | StoreError::TransactionCanceled { .. } => {
                ApiError::conflict(
                    "conflict",
                    "the resource was changed by another request; retry",
                )
            }
            StoreError::ActorRefused(Refusal::Suspended) => ApiError::refused(
                "account_suspended",
                "this account is suspended: it can no longer make changes",
            ),
            StoreError::ActorRefused(Refusal::RoleChanged) => ApiError::refused(
                "role_changed",
                "your role has changed and no longer allows this; sign in again",
            ),
            StoreError::TransactionConflict => ApiError::conflict(
                "conflict",
                "another request changed the same data at the same time; retry",
            ),
            other @ (StoreError::InvalidRequest(_) | StoreError::Corrupt(_)) => {
                ApiError::Internal(other.into())
            }
        }
    }
}

/// Object storage failures: an unreachable bucket is 503; a URL that cannot be signed is a bug.
impl From<ObjectStoreError> for ApiError {
    fn from(error: ObjectStoreError) -> Self {
        match error {
            ObjectStoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            other @ ObjectStoreError::Presign(_) => ApiError::Internal(other.into()),
        }
    }
}

/// An upload over its purpose's limits: 400 for the content type, 413 for the size, each naming the
/// limit.
impl From<LimitError> for ApiError {
    fn from(error: LimitError) -> Self {
        match error {
            LimitError::ContentType { .. } => {
                ApiError::bad_request("content_type_not_allowed", error.to_string())
            }
            LimitError::Empty => ApiError::invalid_field("size", error.to_string()),
            LimitError::TooLarge { .. } => ApiError::LimitExceeded {
                code: "file_too_large",
                message: error.to_string(),
            },
        }
    }
}

/// A user write's domain outcomes: taken claims and stale versions are 409s with their own codes.
impl From<UserWriteError> for ApiError {
    fn from(error: UserWriteError) -> Self {
        match error {
            UserWriteError::EmailTaken => {
                ApiError::conflict("email_taken", "an account with this email already exists")
            }
            UserWriteError::UsernameTaken => {
                ApiError::conflict("username_taken", "this username is already taken")
            }
            UserWriteError::Stale => ApiError::conflict(
                "stale_version",
                "the account was changed by another request; read it again and retry",
            ),
            UserWriteError::Store(e) => e.into(),
        }
    }
}

/// A course write that lost an optimistic-locking race is a 409 the client resolves by re-reading.
impl From<EnrollError> for ApiError {
    fn from(error: EnrollError) -> Self {
        match error {
            EnrollError::AlreadyEnrolled => ApiError::conflict(
                "already_enrolled",
                "you are already enrolled in this course",
            ),
            EnrollError::NotOpen => ApiError::conflict(
                "course_not_open",
                "the course is not open for enrollment (not published)",
            ),
            EnrollError::GuardFailed => ApiError::conflict(
                "payment_not_valid",
                "the payment no longer entitles you to this course",
            ),
            EnrollError::Store(e) => e.into(),
        }
    }
}

impl From<ProgressError> for ApiError {
    fn from(error: ProgressError) -> Self {
        match error {
            ProgressError::NotEnrolled => {
                ApiError::Forbidden("you are not enrolled in this course".into())
            }
            ProgressError::Store(e) => e.into(),
        }
    }
}

impl From<CourseWriteError> for ApiError {
    fn from(error: CourseWriteError) -> Self {
        match error {
            CourseWriteError::Stale => ApiError::conflict(
                "stale_version",
                "the course was changed by another request; read it again and retry",
            ),
            CourseWriteError::HasPaidEnrollments(n) => ApiError::conflict(
                "course_has_paid_enrollments",
                format!(
                    "the course has {n} paid enrollment{}: students' payments entitle them to it, \
                     so it cannot be deleted; archive it instead (POST /api/v1/courses/{{courseId}}/archive: \
                     out of the catalog, no new students, its students keep access), or refund those \
                     payments first",
                    if n == 1 { "" } else { "s" }
                ),
            ),
            CourseWriteError::Store(e) => e.into(),
        }
    }
}

/// A quiz write's domain outcomes: no attempts left and double submissions are 409s with their own
/// codes; a course or quiz deleted meanwhile is a 404.
impl From<QuizWriteError> for ApiError {
    fn from(error: QuizWriteError) -> Self {
        match error {
            QuizWriteError::CourseGone => ApiError::not_found("course"),
            QuizWriteError::QuizGone => ApiError::not_found("quiz"),
            QuizWriteError::AttemptsExhausted => ApiError::conflict(
                "attempts_exhausted",
                "you have started every attempt this quiz allows",
            ),
            QuizWriteError::AlreadySubmitted => {
                ApiError::conflict("already_submitted", "this attempt was already submitted")
            }
            QuizWriteError::Busy => ApiError::conflict(
                "conflict",
                "another request changed the same data at the same time; retry",
            ),
            QuizWriteError::Store(e) => e.into(),
        }
    }
}

/// An assignment or submission write that lost a race is a 409 the client resolves by re-reading; a
/// course deleted meanwhile is a 404.
impl From<AssignmentWriteError> for ApiError {
    fn from(error: AssignmentWriteError) -> Self {
        match error {
            AssignmentWriteError::CourseGone => ApiError::not_found("course"),
            AssignmentWriteError::Stale => ApiError::conflict(
                "stale_version",
                "it was changed by another request; read it again and retry",
            ),
            AssignmentWriteError::FileUnavailable => ApiError::conflict(
                "file_unavailable",
                "a file is being deleted or was handed in with other work meanwhile; list your files again",
            ),
            AssignmentWriteError::Store(e) => e.into(),
        }
    }
}

/// A file that does not fit in a storage quota: 413 `storage_quota_exceeded`, naming the quota, what
/// is used and the file's size. The tenant's figures are named to everyone it refuses: they are one
/// sum of bytes, and the refusal must say why a user with room of their own is refused.
impl From<QuotaExceeded> for ApiError {
    fn from(e: QuotaExceeded) -> Self {
        let (whose, remedy) = match e.scope {
            lectern_domain::file::QuotaScope::User => {
                ("your", "delete files you no longer need to make room")
            }
            lectern_domain::file::QuotaScope::Tenant => (
                "your organisation's",
                "an admin can make room by deleting files",
            ),
        };
        ApiError::LimitExceeded {
            code: "storage_quota_exceeded",
            message: format!(
                "the file's {} bytes do not fit in {whose} storage quota: {} of {} bytes are used; {remedy}",
                e.size, e.used, e.limit
            ),
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::QuotaExceeded(e) => e.into(),
            UploadError::Store(e) => e.into(),
        }
    }
}

/// A file that is part of handed-in work stays: 409 `file_in_submission`.
impl From<FileDeleteError> for ApiError {
    fn from(error: FileDeleteError) -> Self {
        match error {
            FileDeleteError::InSubmission => ApiError::conflict(
                "file_in_submission",
                "the file is part of work handed in for an assignment (submitted or graded) and cannot be deleted",
            ),
            FileDeleteError::Store(e) => e.into(),
        }
    }
}

/// A full hash pool is 503 `server_busy`: a flood of sign-ins waits its turn or is turned away,
/// and by then the queue of some hundred milliseconds' work has moved on.
impl From<lectern_auth::password::HashError> for ApiError {
    fn from(error: lectern_auth::password::HashError) -> Self {
        match error {
            lectern_auth::password::HashError::Busy => ApiError::Busy {
                retry_after_secs: 1,
            },
            other => ApiError::Internal(other.into()),
        }
    }
}

/// Unknown route.
pub async fn not_found_fallback() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// Known route, unknown method.
pub async fn method_not_allowed_fallback() -> ApiError {
    ApiError::MethodNotAllowed
}

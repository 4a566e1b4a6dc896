//! Students start and submit their work; the course's instructor lists it. Contract: seed 002
//! `POST /api/assignments/submit` and `AssignmentSubmission`; issue §Submissions.

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::assignment::{
    Assignment, MAX_CONTENT_CHARS, MAX_FILES, Submission, SubmissionStatus,
};
use lectern_domain::file::{FilePurpose, StoredFile};
use lectern_domain::user::now;
use lectern_domain::{AssignmentId, FieldErrors, FileId, UserId};
use lectern_store::assignments::{AssignmentRepo, AssignmentWriteError};
use lectern_store::files::FileRepo;
use lectern_web::pagination::Paginated;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path, Query, Tagged};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{assignment_for, managers_only, students_only};
use crate::assignments::with_students;
use crate::views::{CourseRef, SubmissionView};

const TAG: &str = "assignments";

/// How often a submission that lost a race is decided again on a fresh read.
const RETRIES: u32 = 5;

fn illegal(e: lectern_domain::assignment::IllegalTransition) -> ApiError {
    ApiError::conflict("illegal_transition", e.to_string())
}

/// Issue §Submissions: start work on an assignment (`not_started → in_progress`).
#[utoipa::path(post, path = "/api/v1/assignments/{assignmentId}/start", tag = TAG,
    security(("bearer" = [])),
    params(("assignmentId" = String, Path, description = "The assignment's id")),
    responses(
        (status = 200, description = "Started", body = SubmissionView),
        (status = 403, description = "Not a student enrolled in the course", body = ErrorBody),
        (status = 404, description = "No such assignment", body = ErrorBody),
        (status = 409, description = "Already started or submitted (`illegal_transition`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn start(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(assignment_id): Path<AssignmentId>,
) -> ApiResult<Json<SubmissionView>> {
    let (assignment, ctx, role) = assignment_for(&state, &caller, assignment_id).await?;
    students_only(role)?;
    let current = ctx
        .submission
        .unwrap_or_else(|| Submission::not_started(&assignment, caller.id, now()));
    let started = current.start(now()).map_err(illegal)?;
    AssignmentRepo::new(state.table.clone())
        .save_submission(&caller.member(), current.version, &started, &[])
        .await
        .map_err(|e| match e {
            // Another request of the same student started or submitted first.
            AssignmentWriteError::Stale => ApiError::conflict(
                "illegal_transition",
                "the submission was started or submitted meanwhile",
            ),
            other => other.into(),
        })?;
    Ok(Json(SubmissionView::new(&started, &assignment, None)))
}

/// Seed 002 `POST /api/assignments/submit`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = SubmitAssignmentRequest)]
pub struct SubmitRequest {
    pub assignment_id: AssignmentId,
    /// The student's text or notes (at most 50,000 characters).
    pub submission_content: Option<String>,
    /// Confirmed (`active`) files the student uploaded with purpose `submission`; at most 10.
    #[serde(default)]
    pub file_ids: Vec<String>,
    /// Seed 002 sends it: when present, the caller's own id.
    pub student_id: Option<UserId>,
    /// Seed 002's one file: the address of a file the student uploaded (its API path
    /// `/api/v1/files/{fileId}`, or its upload or download URL), taken as one more of `fileIds`.
    pub file_url: Option<String>,
    /// Seed 002 sends it: when present, the assignment's own `rubricUrl`.
    pub rubric_url: Option<String>,
}

/// The file a seed-style `fileUrl` names: the last segment of its path (before `/secure-url`), which
/// is the file's id in the API's paths and in the bucket's object keys alike.
fn file_in_url(url: &str) -> Option<FileId> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.rsplit('/').filter(|s| !s.is_empty());
    let last = segments.next()?;
    let id = if last == "secure-url" {
        segments.next()?
    } else {
        last
    };
    FileId::parse(id).ok()
}

/// The seed's extra fields, checked against the caller and the assignment: the files the submission
/// hands in, each with the field that named it.
fn seed_fields(
    body: &SubmitRequest,
    caller: &AuthUser,
    assignment: &Assignment,
) -> ApiResult<Vec<(String, String)>> {
    let mut errors = FieldErrors::new();
    if body.student_id.as_ref().is_some_and(|id| *id != caller.id) {
        errors.add(
            "studentId",
            "must be your own id: a student submits only their own work",
        );
    }
    if body
        .rubric_url
        .as_ref()
        .is_some_and(|url| Some(url) != assignment.rubric_url.as_ref())
    {
        errors.add("rubricUrl", "must be the assignment's own rubricUrl");
    }
    let mut files: Vec<(String, String)> = body
        .file_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("fileIds[{i}]"), id.clone()))
        .collect();
    if let Some(url) = &body.file_url {
        match file_in_url(url) {
            Some(id) => files.push(("fileUrl".to_owned(), id.to_string())),
            None => errors.add(
                "fileUrl",
                "must be the address of a file you uploaded (/api/v1/files/{fileId})",
            ),
        }
    }
    errors.into_result()?;
    Ok(files)
}

/// A file attached to a submission.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedFile {
    pub file_id: FileId,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
}

/// The assignment a submission is for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentRef {
    pub title: String,
    pub description: String,
    pub points: u32,
    pub rubric_url: Option<String>,
    /// -1 = unlimited.
    pub allowed_attempts: i32,
}

/// Seed 002 `AssignmentSubmission`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentSubmission {
    #[serde(flatten)]
    pub submission: SubmissionView,
    pub files: Vec<SubmittedFile>,
    pub assignment: AssignmentRef,
    pub course: CourseRef,
}

/// The files of a submission: each must exist, be confirmed, be the student's own upload for a
/// submission (to this assignment, when the upload named one). One batch get; a bad id → 400 naming
/// it.
async fn submitted_files(
    state: &AppState,
    caller: &AuthUser,
    assignment: &Assignment,
    raw: &[(String, String)],
) -> ApiResult<Vec<StoredFile>> {
    if raw.len() > MAX_FILES {
        return Err(ApiError::invalid_field(
            "fileIds",
            format!("at most {MAX_FILES} files"),
        ));
    }
    let mut errors = FieldErrors::new();
    let mut ids: Vec<FileId> = Vec::new();
    let mut fields: Vec<&str> = Vec::new();
    for (field, id) in raw {
        match FileId::parse(id) {
            Ok(id) if ids.contains(&id) => errors.add(field, "listed twice"),
            Ok(id) => {
                ids.push(id);
                fields.push(field.as_str());
            }
            Err(e) => errors.add(field, e.0),
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = FileRepo::new(state.table.clone())
        .get_many(&caller.tenant, &ids)
        .await?;
    let mut files = Vec::with_capacity(ids.len());
    for ((id, file), field) in ids.iter().zip(found).zip(fields) {
        match file {
            Some(f)
                if f.uploader_id == caller.id
                    && f.purpose == FilePurpose::Submission
                    && f.assignment_id.is_none_or(|a| a == assignment.id) =>
            {
                if !f.is_active() {
                    errors.add(field, format!("file {id} is not confirmed yet"));
                } else if f.deleting_since.is_some() {
                    errors.add(field, format!("file {id} is being deleted"));
                } else if f.submitted_for.is_some_and(|a| a != assignment.id) {
                    errors.add(
                        field,
                        format!("file {id} was handed in for another assignment"),
                    );
                } else {
                    files.push(f);
                }
            }
            // Unknown, someone else's, or not a submission upload: the same answer for all, so a
            // student learns nothing about others' files.
            _ => errors.add(
                field,
                format!("file {id} is not a submission file you uploaded"),
            ),
        }
    }
    errors.into_result()?;
    Ok(files)
}

/// Seed 002 `POST /api/assignments/submit`: submits work (enrolled students). Each submission counts
/// an attempt; past the allowed attempts → 409. Late work is accepted and marked `late` with
/// `secondsLate`; the late policy deducts at grading.
#[utoipa::path(post, path = "/api/v1/assignments/submit", tag = TAG,
    security(("bearer" = [])),
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "Submitted", body = AssignmentSubmission,
            headers(("ETag" = String, description = "The submission's entity tag, for `If-Match` when grading it"))),
        (status = 400, description = "Invalid fields; a file that is unknown, unconfirmed or not the student's; a `studentId` other than the caller's, a `fileUrl` naming no file of theirs, a `rubricUrl` other than the assignment's (named in `details`)", body = ErrorBody),
        (status = 403, description = "Not a student enrolled in the course", body = ErrorBody),
        (status = 404, description = "No such assignment", body = ErrorBody),
        (status = 409, description = "Every allowed attempt is used (`attempts_exhausted`), or a file was deleted or handed in elsewhere meanwhile (`file_unavailable`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn submit(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(body): Json<SubmitRequest>,
) -> ApiResult<(StatusCode, Tagged<AssignmentSubmission>)> {
    let id = body.assignment_id;
    if body
        .submission_content
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CONTENT_CHARS)
    {
        return Err(ApiError::invalid_field(
            "submissionContent",
            format!("must be at most {MAX_CONTENT_CHARS} characters"),
        ));
    }
    let (assignment, ctx, role) = assignment_for(&state, &caller, id).await?;
    students_only(role)?;
    let course = ctx
        .course
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    let wanted = seed_fields(&body, &caller, &assignment)?;
    let files = submitted_files(&state, &caller, &assignment, &wanted).await?;
    // Marked as handed in with this submission; those already handed in for it keep their mark.
    let handed_in: Vec<FileId> = files
        .iter()
        .filter(|f| f.submitted_for.is_none())
        .map(|f| f.id)
        .collect();
    let repo = AssignmentRepo::new(state.table.clone());
    let mut current = ctx.submission;
    let mut retry = 0;
    let submitted = loop {
        let previous = current
            .clone()
            .unwrap_or_else(|| Submission::not_started(&assignment, caller.id, now()));
        if !assignment.allows_another_attempt(previous.attempts) {
            return Err(ApiError::conflict(
                "attempts_exhausted",
                format!(
                    "you have used all {} attempts this assignment allows",
                    assignment.allowed_attempts
                ),
            ));
        }
        let next = previous
            .submit(
                &assignment,
                body.submission_content.clone(),
                files.iter().map(|f| f.id).collect(),
                now(),
            )
            .map_err(illegal)?;
        match repo
            .save_submission(&caller.member(), previous.version, &next, &handed_in)
            .await
        {
            Ok(()) => break next,
            Err(AssignmentWriteError::Stale) if retry < RETRIES => {
                retry += 1;
                current = repo
                    .submission(&caller.tenant, assignment.id, caller.id)
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok((
        StatusCode::CREATED,
        Tagged::new(
            submitted.version,
            AssignmentSubmission {
                submission: SubmissionView::new(&submitted, &assignment, None),
                files: files
                    .into_iter()
                    .map(|f| SubmittedFile {
                        file_id: f.id,
                        file_name: f.file_name,
                        content_type: f.content_type,
                        size: f.size,
                    })
                    .collect(),
                assignment: AssignmentRef {
                    title: assignment.title.clone(),
                    description: assignment.description.clone(),
                    points: assignment.points,
                    rubric_url: assignment.rubric_url.clone(),
                    allowed_attempts: assignment.allowed_attempts,
                },
                course: CourseRef::from(&course),
            },
        ),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SubmissionsParams {
    /// Only submissions with this status.
    pub status: Option<SubmissionStatus>,
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Seed 002 `GET /api/assignments/[assignmentId]/submissions`: every student's submission (the
/// course's instructor and admins), by student, optionally of one status; paginated.
#[utoipa::path(get, path = "/api/v1/assignments/{assignmentId}/submissions", tag = TAG,
    security(("bearer" = [])),
    params(("assignmentId" = String, Path, description = "The assignment's id"), SubmissionsParams),
    responses(
        (status = 200, description = "Submissions", body = Paginated<SubmissionView>),
        (status = 400, description = "An unknown status (allowed values named), an invalid limit or cursor", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such assignment", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, params))]
pub async fn list_submissions(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(assignment_id): Path<AssignmentId>,
    Query(params): Query<SubmissionsParams>,
) -> ApiResult<Paginated<SubmissionView>> {
    let (limit, cursor) = lectern_web::pagination::PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    }
    .parse()?;
    let (assignment, _, role) = assignment_for(&state, &caller, assignment_id).await?;
    managers_only(role)?;
    let (page, next) = AssignmentRepo::new(state.table.clone())
        .submissions(&caller.tenant, assignment.id, params.status, limit, cursor)
        .await?;
    Ok(Paginated {
        data: with_students(&state, &caller, &assignment, page).await?,
        next_cursor: next.map(|c| c.to_string()),
    })
}

//! Grading, the grade change log and grade reports. Contract: issue §Grading; seed 002
//! `POST /api/assignments/[assignmentId]/grade`, `GET /api/grades/[userId]`.

use axum::extract::State;
use lectern_domain::assignment::{
    CriterionAssessment, GradeChange, GradeInput, GradeRefusal, GradeTally, SubmissionStatus,
    round2,
};
use lectern_domain::user::{User, UserRole, now};
use lectern_domain::{AssignmentId, CourseId, UserId};
use lectern_store::assignments::{AssignmentRepo, CourseGradeBook};
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::views::{Envelope, timestamp};
use lectern_web::{
    ApiError, ApiResult, AppState, AuthUser, ErrorBody, IfMatch, Json, Path, Query, Tagged,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{assignment_for, managed_course, managers_only, may_manage};
use crate::views::{GradeChangeView, StudentView, SubmissionView};

const TAG: &str = "grades";

/// A grade: `grade` or a `rubricAssessment` (which sums to it), not both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GradeRequest {
    pub student_id: UserId,
    /// 0 to the assignment's points, before any late deduction.
    pub grade: Option<f64>,
    /// Points per criterion of the assignment's inline rubric, every criterion once.
    pub rubric_assessment: Option<Vec<CriterionAssessment>>,
    pub feedback: Option<String>,
}

/// Issue §Grading: grade (or regrade) a student's submission (the course's instructor or an admin).
/// The late policy's deduction is applied (`pointsDeducted`); every grade set or changed is logged.
#[utoipa::path(post, path = "/api/v1/assignments/{assignmentId}/grade", tag = TAG,
    security(("bearer" = [])),
    params(("assignmentId" = String, Path, description = "The assignment's id"),
           ("If-Match" = Option<String>, Header, description = "The submission's `ETag` (or `\"<version>\"` of a listed submission) as read: a submission changed since (resubmitted, graded by someone else) → 412")),
    request_body = GradeRequest,
    responses(
        (status = 200, description = "Graded", body = Envelope<SubmissionView>,
            headers(("ETag" = String, description = "The submission's new entity tag"))),
        (status = 400, description = "A grade outside 0..points, a rubric assessment that does not fit the rubric, neither or both given", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such assignment, or the student has no submission", body = ErrorBody),
        (status = 409, description = "Nothing submitted yet (`illegal_transition`), or graded meanwhile (`stale_version`)", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the submission is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn grade(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(assignment_id): Path<AssignmentId>,
    if_match: IfMatch,
    Json(body): Json<GradeRequest>,
) -> ApiResult<Tagged<Envelope<SubmissionView>>> {
    let student = body.student_id;
    let input = match (body.grade, body.rubric_assessment) {
        (Some(g), None) => GradeInput::Points(g),
        (None, Some(r)) => GradeInput::Rubric(r),
        _ => {
            return Err(ApiError::invalid_field(
                "grade",
                "give either grade or rubricAssessment",
            ));
        }
    };
    let (assignment, ctx, role) = assignment_for(&state, &caller, assignment_id).await?;
    managers_only(role)?;
    let actor = ctx
        .course
        .as_ref()
        .map(|c| caller.manager_of(c.instructor_id))
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    let repo = AssignmentRepo::new(state.table.clone());
    let current = repo
        .submission(&caller.tenant, assignment.id, student)
        .await?
        .ok_or_else(|| ApiError::not_found("submission"))?;
    if_match.check(current.version)?;
    let graded = current
        .grade(&assignment, input, body.feedback, caller.id, now())
        .map_err(|e| match e {
            GradeRefusal::Invalid(errors) => ApiError::Validation(errors),
            GradeRefusal::Illegal(e) => ApiError::conflict("illegal_transition", e.to_string()),
        })?;
    let change = GradeChange::between(&current, &graded, caller.id);
    repo.grade(&actor, current.version, &graded, &change)
        .await
        .map_err(|e| if_match.lost_race(e))?;
    let message = if current.status == SubmissionStatus::Graded {
        "Submission regraded"
    } else {
        "Submission graded"
    };
    Ok(Tagged::new(
        graded.version,
        Envelope::new(message, SubmissionView::new(&graded, &assignment, None)),
    ))
}

/// Issue §Grading: a course's grade change log, newest first (the course's instructor or an admin).
#[utoipa::path(get, path = "/api/v1/courses/{courseId}/grade-log", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"), PageParams),
    responses(
        (status = 200, description = "Grade changes, newest first", body = Paginated<GradeChangeView>),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, page))]
pub async fn grade_log(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    Query(page): Query<PageParams>,
) -> ApiResult<Paginated<GradeChangeView>> {
    let (limit, cursor) = page.parse()?;
    let course = managed_course(&state, &caller, course_id).await?;
    let (changes, next) = AssignmentRepo::new(state.table.clone())
        .grade_log(&caller.tenant, course.id, limit, cursor)
        .await?;
    Ok(Paginated {
        data: changes.into_iter().map(GradeChangeView::from).collect(),
        next_cursor: next.map(|c| c.to_string()),
    })
}

/// One assignment in a grade report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentGrade {
    pub assignment_id: AssignmentId,
    pub title: String,
    pub points: u32,
    #[schema(value_type = String, format = DateTime)]
    pub due_date: String,
    pub status: SubmissionStatus,
    pub grade: Option<f64>,
    pub points_deducted: Option<f64>,
    pub late: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub graded_at: Option<String>,
}

/// One course in a grade report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseGrades {
    pub course_id: CourseId,
    pub title: String,
    pub assignments: Vec<AssignmentGrade>,
    /// Points earned on graded assignments.
    pub points_earned: f64,
    /// Points possible of the graded assignments.
    pub points_graded: u32,
    /// Percent (one decimal) over graded assignments; null when none is graded.
    pub average_grade: Option<f64>,
}

/// A student's grade report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GradeReport {
    pub user_id: UserId,
    pub student: StudentView,
    pub courses: Vec<CourseGrades>,
    /// Percent (one decimal) over every graded assignment; null when none is graded.
    pub average_grade: Option<f64>,
    pub graded_assignments: u32,
}

/// Seed 002 `GET /api/grades/[userId]`: a student's grades per course and assignment, with averages.
/// The student themselves and admins see every course; an instructor sees the courses they teach
/// (none in common: 403). Reads: the student's grade book (`AssignmentRepo::grade_book`: enrollments,
/// each course's assignments concurrently, the user with the submissions in batch gets).
#[utoipa::path(get, path = "/api/v1/grades/{userId}", tag = TAG,
    security(("bearer" = [])),
    params(("userId" = String, Path, description = "The student's id")),
    responses(
        (status = 200, description = "The grade report", body = GradeReport),
        (status = 403, description = "Another student's report, or a student of none of the caller's courses", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn report(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(student): Path<UserId>,
) -> ApiResult<Json<GradeReport>> {
    let sees_all = caller.id == student || caller.is_admin();
    if !sees_all && caller.role != UserRole::Instructor {
        return Err(ApiError::Forbidden(
            "students see only their own grades".into(),
        ));
    }
    let repo = AssignmentRepo::new(state.table.clone());
    let lectern_store::assignments::StudentGrades {
        student: user,
        courses: book,
    } = repo
        .student_grades(&caller.tenant, student, |c| {
            sees_all || may_manage(&caller, c)
        })
        .await?;
    if !sees_all && book.is_empty() {
        // A user this tenant does not have is 404, as everywhere; one of someone else's courses 403.
        lectern_store::users::UserRepo::new(state.table.clone())
            .get(&caller.tenant, student)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        return Err(ApiError::Forbidden(
            "instructors see the grades of their own courses' students only".into(),
        ));
    }
    let user: User = user.ok_or_else(|| ApiError::not_found("user"))?;
    let mut total = GradeTally::default();
    let mut courses = Vec::with_capacity(book.len());
    for CourseGradeBook { course, entries } in &book {
        let mut tally = GradeTally::default();
        let mut rows = Vec::with_capacity(entries.len());
        for (a, s) in entries {
            tally.add(a.points, s.as_ref());
            rows.push(AssignmentGrade {
                assignment_id: a.assignment_id,
                title: a.title.clone(),
                points: a.points,
                due_date: timestamp(a.due_date),
                status: s
                    .as_ref()
                    .map_or(SubmissionStatus::NotStarted, |s| s.status),
                grade: s.as_ref().and_then(|s| s.grade),
                points_deducted: s.as_ref().and_then(|s| s.points_deducted),
                late: s.as_ref().is_some_and(|s| s.late),
                graded_at: s.as_ref().and_then(|s| s.graded_at).map(timestamp),
            });
        }
        total.merge(tally);
        courses.push(CourseGrades {
            course_id: course.id,
            title: course.title.as_str().to_owned(),
            assignments: rows,
            points_earned: round2(tally.earned),
            points_graded: tally.possible,
            average_grade: tally.percent(),
        });
    }
    Ok(Json(GradeReport {
        user_id: student,
        student: StudentView::from(&user),
        courses,
        average_grade: total.percent(),
        graded_assignments: total.graded,
    }))
}

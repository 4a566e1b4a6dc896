//! Assignments: authors create, replace and delete them; members list a course's; students list
//! theirs across courses; everyone involved reads the details.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use futures::future::try_join_all;
use lectern_domain::assignment::{
    Assignment, AssignmentInput, MAX_ASSIGNMENTS_PER_COURSE, SubmissionStatus,
};
use lectern_domain::course::Course;
use lectern_domain::user::now;
use lectern_domain::{AssignmentId, CourseId, LessonId, UserId};
use lectern_store::Cursor;
use lectern_store::assignments::AssignmentRepo;
use lectern_store::courses::CourseRepo;
use lectern_store::enrollments::EnrollmentRepo;
use lectern_store::users::UserRepo;
use lectern_web::pagination::{PageLinks, PageParams, Paginated};
use lectern_web::views::Envelope;
use lectern_web::{
    ApiError, ApiResult, AppState, AuthUser, ErrorBody, IfMatch, Json, Path, Query, Tagged,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{Role, assignment_for, managers_only, role_in};
use crate::views::{AssignmentListItem, AssignmentView, SubmissionView};

const TAG: &str = "assignments";

/// The page of a course the caller manages, for checking a lesson id (one query).
async fn managed_page(
    state: &AppState,
    caller: &AuthUser,
    course: CourseId,
) -> ApiResult<lectern_store::courses::CoursePage> {
    let page = CourseRepo::new(state.table.clone())
        .page(&caller.tenant, course)
        .await?;
    managers_only(role_in(
        caller,
        page.as_ref().map(|p| &p.course),
        None,
        "course",
    )?)?;
    page.ok_or_else(|| ApiError::not_found("course"))
}

/// Issue §Assignments: create an assignment (the course's instructor or an admin).
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/assignments", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    request_body = AssignmentInput,
    responses(
        (status = 201, description = "Created", body = Envelope<AssignmentView>),
        (status = 400, description = "Invalid fields (named in `details`; a rubric that does not add up to `points`)", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 409, description = "The course holds 100 assignments already (`too_many_assignments`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn create_assignment(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    Json(body): Json<AssignmentInput>,
) -> ApiResult<(StatusCode, Json<Envelope<AssignmentView>>)> {
    let page = managed_page(&state, &caller, course_id).await?;
    if page.assignments.len() >= MAX_ASSIGNMENTS_PER_COURSE as usize {
        return Err(ApiError::conflict(
            "too_many_assignments",
            format!("a course holds at most {MAX_ASSIGNMENTS_PER_COURSE} assignments"),
        ));
    }
    let assignment = Assignment::build(
        caller.tenant.clone(),
        page.course.id,
        &body,
        |l| page.lesson(l).is_some(),
        now(),
    )?;
    AssignmentRepo::new(state.table.clone())
        .create(
            &caller.manager_of(page.course.instructor_id),
            &page.course,
            &assignment,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Envelope::new(
            "Assignment created successfully",
            AssignmentView::from(&assignment),
        )),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CourseAssignmentsParams {
    /// Show this student's status in each assignment (students: only themselves, the default).
    pub student_id: Option<String>,
}

/// A course's assignments.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseAssignments {
    pub course_id: CourseId,
    /// Whose status `status` shows; absent when none was asked (managers).
    pub student_id: Option<UserId>,
    /// By creation.
    pub assignments: Vec<AssignmentListItem>,
}

/// Seed 002 `GET /api/courses/[courseId]/assignments`: the course's assignments for its members, with
/// a student's submission status in each (a student sees only their own).
#[utoipa::path(get, path = "/api/v1/courses/{courseId}/assignments", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"), CourseAssignmentsParams),
    responses(
        (status = 200, description = "The assignments", body = CourseAssignments),
        (status = 400, description = "Invalid studentId", body = ErrorBody),
        (status = 403, description = "Not a member of the course, or another student's status", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, params))]
pub async fn course_assignments(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(id): Path<CourseId>,
    Query(params): Query<CourseAssignmentsParams>,
) -> ApiResult<Json<CourseAssignments>> {
    let asked = params
        .student_id
        .as_deref()
        .map(|s| UserId::parse(s).map_err(|e| ApiError::invalid_field("studentId", e.0)))
        .transpose()?;
    let repo = AssignmentRepo::new(state.table.clone());
    let found = repo.course_assignments(&caller.tenant, id).await?;
    let course = found.as_ref().map(|(c, _)| c);
    // Managers need no enrollment; anyone else is checked against theirs, read with the submissions.
    let manages = course.is_some_and(|c| crate::access::may_manage(&caller, c));
    let student = if manages { asked } else { Some(caller.id) };
    let (summaries, ids) = match &found {
        Some((_, s)) => (s.as_slice(), s.iter().map(|a| a.assignment_id).collect()),
        None => (&[][..], Vec::new()),
    };
    let (enrollment, submissions) = match (student, manages) {
        (None, _) => (None, vec![None; summaries.len()]),
        (Some(s), true) => {
            repo.submissions_with_enrollment(&caller.tenant, id, &ids, s, None)
                .await?
        }
        (Some(s), false) => {
            repo.submissions_with_enrollment(&caller.tenant, id, &ids, s, Some(caller.id))
                .await?
        }
    };
    role_in(&caller, course, enrollment.as_ref(), "course")?;
    if !manages && asked.is_some_and(|a| a != caller.id) {
        return Err(ApiError::Forbidden(
            "students see only their own submissions".into(),
        ));
    }
    Ok(Json(CourseAssignments {
        course_id: id,
        student_id: student,
        assignments: summaries
            .iter()
            .zip(&submissions)
            .map(|(a, s)| AssignmentListItem::new(a, None, s.as_ref(), student.is_some()))
            .collect(),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum AssignmentSort {
    /// Soonest due first (the default).
    DueDate,
    /// Newest first.
    CreatedAt,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MyAssignmentsParams {
    /// Only assignments in which the caller's submission has this status.
    pub status: Option<SubmissionStatus>,
    /// Only this course's assignments.
    pub course_id: Option<String>,
    /// `dueDate` (default) or `createdAt`.
    // Inline: a schema only parameters name is not collected into the description's components.
    #[param(inline)]
    pub sort: Option<AssignmentSort>,
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Seed 002 `GET /api/assignments`: the caller's assignments across the courses they are enrolled in
/// now, with their status in each; filtered, sorted, paginated. Reads: the caller's enrollments
/// (GSI1), each course's assignments (one query per course, concurrently), their submissions (one
/// batch get per 100).
#[utoipa::path(get, path = "/api/v1/assignments", tag = TAG,
    security(("bearer" = [])),
    params(MyAssignmentsParams),
    responses(
        (status = 200, description = "The caller's assignments", body = Paginated<AssignmentListItem>),
        (status = 400, description = "An unknown status or sort (allowed values named), an invalid courseId, limit or cursor", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, params))]
pub async fn my_assignments(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(params): Query<MyAssignmentsParams>,
) -> ApiResult<Paginated<AssignmentListItem>> {
    let (limit, cursor) = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    }
    .parse()?;
    let offset = cursor.as_ref().map(offset_of).transpose()?.unwrap_or(0);
    let only_course = params
        .course_id
        .as_deref()
        .map(|c| CourseId::parse(c).map_err(|e| ApiError::invalid_field("courseId", e.0)))
        .transpose()?;
    let enrollments = EnrollmentRepo::new(state.table.clone())
        .of_student(&caller.tenant, caller.id)
        .await?;
    let courses: Vec<CourseId> = enrollments
        .iter()
        .filter(|e| e.is_active() && only_course.is_none_or(|c| c == e.course_id))
        .map(|e| e.course_id)
        .collect();
    let repo = AssignmentRepo::new(state.table.clone());
    let found = try_join_all(
        courses
            .iter()
            .map(|c| repo.course_assignments(&caller.tenant, *c)),
    )
    .await?;
    let listed: Vec<(Course, lectern_domain::assignment::AssignmentSummary)> = found
        .into_iter()
        .flatten()
        .filter(|(c, _)| c.deleting_since.is_none())
        .flat_map(|(c, summaries)| summaries.into_iter().map(move |s| (c.clone(), s)))
        .collect();
    let ids: Vec<_> = listed.iter().map(|(_, a)| a.assignment_id).collect();
    let submissions = repo.submissions_of(&caller.tenant, &ids, caller.id).await?;
    let mut rows: Vec<_> = listed
        .iter()
        .zip(submissions)
        .filter(|(_, s)| {
            params.status.is_none_or(|wanted| {
                s.as_ref()
                    .map_or(SubmissionStatus::NotStarted, |s| s.status)
                    == wanted
            })
        })
        .collect();
    match params.sort.unwrap_or(AssignmentSort::DueDate) {
        AssignmentSort::DueDate => rows.sort_by_key(|((_, a), _)| (a.due_date, a.assignment_id)),
        AssignmentSort::CreatedAt => rows.sort_by_key(|((_, a), _)| {
            (
                std::cmp::Reverse(a.created_at),
                std::cmp::Reverse(a.assignment_id),
            )
        }),
    }
    // Checked: the offset comes from the client's cursor.
    let end = offset
        .checked_add(limit)
        .ok_or_else(ApiError::invalid_cursor)?;
    let next = (rows.len() > end).then(|| end.to_string());
    Ok(Paginated {
        data: rows
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|((c, a), s)| AssignmentListItem::new(a, Some(c), s.as_ref(), true))
            .collect(),
        next_cursor: next,
    })
}

/// The list position a cursor of [`my_assignments`] holds: a number this list gave out, so at most
/// [`MAX_OFFSET`] (a student's assignments across their courses are far fewer).
fn offset_of(cursor: &Cursor) -> ApiResult<usize> {
    cursor
        .as_str()
        .parse::<usize>()
        .ok()
        .filter(|offset| *offset <= MAX_OFFSET)
        .ok_or_else(ApiError::invalid_cursor)
}

/// The largest list position a cursor of [`my_assignments`] may name.
const MAX_OFFSET: usize = 1_000_000;

/// The lesson an assignment belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonRef {
    pub lesson_id: LessonId,
    pub title: String,
    /// 1-based position in the course.
    pub order: u32,
}

/// Seed 002 `AssignmentDetails`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentDetails {
    #[serde(flatten)]
    pub assignment: AssignmentView,
    pub course: CourseContext,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lesson: Option<LessonRef>,
    /// The caller's own submission (students).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submission: Option<SubmissionView>,
    /// A page of every student's submission (the course's instructor and admins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submissions: Option<Vec<SubmissionView>>,
    /// Pass as `cursor` for the next page of `submissions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseContext {
    pub course_id: CourseId,
    pub title: String,
    pub category: lectern_domain::course::CourseCategory,
}

/// Seed 002 `GET /api/assignments/[assignmentId]`: the assignment with its course and lesson; for a
/// student their submission (`not_started` before they start), for the course's instructor and
/// admins a page of all submissions.
#[utoipa::path(get, path = "/api/v1/assignments/{assignmentId}", tag = TAG,
    security(("bearer" = [])),
    params(("assignmentId" = String, Path, description = "The assignment's id"), PageParams,
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` read before: 304 while it is current")),
    responses(
        (status = 200, description = "The assignment", body = AssignmentDetails,
            headers(("ETag" = String, description = "The assignment's entity tag: its version, and a fingerprint of what the page shows (the caller's submission, or the page of submissions), for `If-None-Match`; `If-Match` on the assignment's writes compares the version"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current (no body)"),
        (status = 403, description = "Not a member of the course", body = ErrorBody),
        (status = 404, description = "No such assignment visible to the caller", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, page))]
pub async fn get_assignment(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(assignment_id): Path<AssignmentId>,
    Query(page): Query<PageParams>,
) -> ApiResult<(Extension<PageLinks>, Tagged<AssignmentDetails>)> {
    let (limit, cursor) = page.parse()?;
    let (assignment, ctx, role) = assignment_for(&state, &caller, assignment_id).await?;
    let course = ctx
        .course
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    let lesson = match (&ctx.lesson, &ctx.outline) {
        (Some(l), Some(o)) => Some(LessonRef {
            lesson_id: l.id,
            title: l.title.as_str().to_owned(),
            order: o.order_of(l.id).unwrap_or(0),
        }),
        _ => None,
    };
    let (submission, submissions, next) = match role {
        Role::Student => {
            let own = ctx.submission.unwrap_or_else(|| {
                let since = ctx.enrollment.as_ref().map_or(assignment.created_at, |e| {
                    e.enrolled_at.max(assignment.created_at)
                });
                lectern_domain::assignment::Submission::not_started(&assignment, caller.id, since)
            });
            (
                Some(SubmissionView::new(&own, &assignment, None)),
                None,
                None,
            )
        }
        Role::Manager => {
            let (all, next) = AssignmentRepo::new(state.table.clone())
                .submissions(&caller.tenant, assignment.id, None, limit, cursor)
                .await?;
            let views = with_students(&state, &caller, &assignment, all).await?;
            (None, Some(views), next.map(|c| c.to_string()))
        }
    };
    // Managers page through the submissions: their page links.
    let links = match &submissions {
        Some(_) => PageLinks::cursor(next.as_deref()),
        None => PageLinks::default(),
    };
    let version = assignment.version;
    let details = Tagged::new(
        version,
        AssignmentDetails {
            assignment: AssignmentView::from(&assignment),
            course: CourseContext {
                course_id: course.id,
                title: course.title.as_str().to_owned(),
                category: course.category,
            },
            lesson,
            submission,
            submissions,
            next_cursor: next,
        },
    );
    Ok((Extension(links), details))
}

/// Submissions with their students' names (one batch get; none for an empty page).
pub(crate) async fn with_students(
    state: &AppState,
    caller: &AuthUser,
    assignment: &Assignment,
    submissions: Vec<lectern_domain::assignment::Submission>,
) -> ApiResult<Vec<SubmissionView>> {
    if submissions.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<UserId> = submissions.iter().map(|s| s.student_id).collect();
    let users = UserRepo::new(state.table.clone())
        .get_many(&caller.tenant, &ids)
        .await?;
    Ok(submissions
        .iter()
        .zip(users)
        .map(|(s, u)| SubmissionView::new(s, assignment, u.as_ref()))
        .collect())
}

/// Issue §Assignments: replace an assignment's fields (the course's instructor or an admin). Grades
/// already given stay as they are.
#[utoipa::path(put, path = "/api/v1/assignments/{assignmentId}", tag = TAG,
    security(("bearer" = [])),
    params(("assignmentId" = String, Path, description = "The assignment's id"),
           ("If-Match" = Option<String>, Header, description = "The assignment's `ETag` as read: an assignment changed since → 412")),
    request_body = AssignmentInput,
    responses(
        (status = 200, description = "Replaced", body = Envelope<AssignmentView>,
            headers(("ETag" = String, description = "The assignment's new entity tag"))),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such assignment", body = ErrorBody),
        (status = 409, description = "Changed meanwhile (`stale_version`)", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the assignment is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn replace_assignment(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(id): Path<AssignmentId>,
    if_match: IfMatch,
    Json(body): Json<AssignmentInput>,
) -> ApiResult<Tagged<Envelope<AssignmentView>>> {
    // The assignment, then its course's page (for the lessons it may name), which also says who the
    // caller is: managers only, so the caller's enrollment and submission need no read.
    let assignment = AssignmentRepo::new(state.table.clone())
        .get(&caller.tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    let page = CourseRepo::new(state.table.clone())
        .page(&caller.tenant, assignment.course_id)
        .await?;
    let course = page.as_ref().map(|p| &p.course);
    managers_only(role_in(&caller, course, None, "assignment")?)?;
    let page = page.ok_or_else(|| ApiError::not_found("assignment"))?;
    if_match.check(assignment.version)?;
    let next = assignment.replaced_by(&body, |l| page.lesson(l).is_some(), now())?;
    AssignmentRepo::new(state.table.clone())
        .update(
            &caller.manager_of(page.course.instructor_id),
            &assignment,
            &next,
        )
        .await
        .map_err(|e| if_match.lost_race(e))?;
    Ok(Tagged::new(
        next.version,
        Envelope::new(
            "Assignment updated successfully",
            AssignmentView::from(&next),
        ),
    ))
}

/// Issue §Assignments: delete an assignment and its submissions (the course's instructor or an
/// admin). The course's grade log keeps its entries.
#[utoipa::path(delete, path = "/api/v1/assignments/{assignmentId}", tag = TAG,
    security(("bearer" = [])),
    params(("assignmentId" = String, Path, description = "The assignment's id"),
           ("If-Match" = Option<String>, Header, description = "The assignment's `ETag` as read: an assignment changed since → 412")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such assignment", body = ErrorBody),
        (status = 409, description = "Changed meanwhile (`stale_version`)", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the assignment is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn delete_assignment(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(assignment_id): Path<AssignmentId>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let (assignment, ctx, role) = assignment_for(&state, &caller, assignment_id).await?;
    managers_only(role)?;
    let course = ctx
        .course
        .ok_or_else(|| ApiError::not_found("assignment"))?;
    if_match.check(assignment.version)?;
    AssignmentRepo::new(state.table.clone())
        .delete(
            &caller.manager_of(course.instructor_id),
            &course,
            &assignment,
        )
        .await
        .map_err(|e| if_match.lost_race(e))?;
    Ok(StatusCode::NO_CONTENT)
}

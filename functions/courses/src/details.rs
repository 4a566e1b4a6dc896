//! The course page and its statistics. Contract: seed 002 `GET /api/courses/[courseId]`
//! (`CourseDetails`), seed 003 course `statistics`.

use axum::extract::State;
use lectern_domain::assignment::{AssignmentSummary, SubmissionStatus};
use lectern_domain::course::Course;
use lectern_domain::enrollment::{Enrollment, EnrollmentStatus, Progress};
use lectern_domain::quiz::QuizSummary;
use lectern_domain::{AssignmentId, CourseId, EnrollmentId, LessonId, UserId};
use lectern_store::courses::{CourseRepo, PageReader};
use lectern_web::views::timestamp;
use lectern_web::{ApiResult, AppState, AuthUser, ErrorBody, Json, MaybeAuthUser, Path, Tagged};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::{managed_course, may_manage, visible_page};
use crate::views::{
    CourseView, InstructorView, LessonView, LinkedCourse, PrerequisiteView, RatingView,
    RequiredByView,
};

const TAG: &str = "courses";

/// Seed 002 `CourseDetails.enrollment`: the caller's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnEnrollmentView {
    pub enrollment_id: EnrollmentId,
    #[schema(value_type = String, format = DateTime)]
    pub enrolled_at: String,
    pub status: EnrollmentStatus,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<String>,
    pub progress: Progress,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseStatisticsView {
    pub course_id: CourseId,
    pub total_enrollments: u32,
    pub total_completions: u32,
    /// Completions over enrollments, percent (one decimal).
    pub completion_rate: f64,
    pub average_rating: f64,
    pub total_ratings: u32,
    pub total_lessons: u32,
    pub total_quizzes: u32,
    pub total_assignments: u32,
}

impl CourseStatisticsView {
    fn new(c: &Course) -> Self {
        let rate = if c.total_enrollments == 0 {
            0.0
        } else {
            (f64::from(c.total_completions) * 1000.0 / f64::from(c.total_enrollments)).round()
                / 10.0
        };
        CourseStatisticsView {
            course_id: c.id,
            total_enrollments: c.total_enrollments,
            total_completions: c.total_completions,
            completion_rate: rate,
            average_rating: c.average_rating(),
            total_ratings: c.total_ratings,
            total_lessons: c.total_lessons,
            total_quizzes: c.total_quizzes,
            total_assignments: c.total_assignments,
        }
    }
}

/// Seed 002 `CourseDetails.assignments[]`. Everyone who may see the course sees an assignment's
/// title, points and due date; the rest is for its members only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseAssignmentView {
    pub assignment_id: AssignmentId,
    pub lesson_id: Option<LessonId>,
    pub title: String,
    pub points: u32,
    #[schema(value_type = String, format = DateTime)]
    pub due_date: String,
    // `description`, `rubricUrl` and `createdAt` are present for the course's members only: its
    // enrolled students, its instructor and admins (the same people who may list
    // `GET /courses/{courseId}/assignments`). Separate optional fields rather than a flattened
    // optional struct, which OpenAPI generators describe as "null or the struct" instead of
    // "these fields, or none of them".
    /// The assignment's description (members only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The rubric's URL, null when it has none (members only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub rubric_url: Option<Option<String>>,
    /// When the assignment was created (members only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<String>,
    /// The caller's submission status, for its enrolled students (`not_started` when they have none;
    /// null for everyone else).
    pub status: Option<SubmissionStatus>,
}

/// Seed 002 `CourseDetails.lessons[]`: a lesson with its assignments.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageLessonView {
    #[serde(flatten)]
    pub lesson: LessonView,
    pub assignments: Vec<CourseAssignmentView>,
}

/// Seed 002 `CourseDetails`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseDetailsView {
    #[serde(flatten)]
    pub course: CourseView,
    pub instructor_id: UserId,
    pub prerequisites: Vec<PrerequisiteView>,
    pub required_by: Vec<RequiredByView>,
    pub lessons: Vec<PageLessonView>,
    /// Every assignment of the course, by due date.
    pub assignments: Vec<CourseAssignmentView>,
    pub quizzes: Vec<QuizSummary>,
    /// The caller's enrollment, when they have one.
    pub enrollment: Option<OwnEnrollmentView>,
    pub ratings: Vec<RatingView>,
    pub statistics: CourseStatisticsView,
}

/// Seed 002 `GET /api/courses/[courseId]`: the course with its lessons, prerequisites, dependent
/// courses, quizzes, latest ratings, statistics, and the caller's enrollment. Assignments show their
/// title, points and due date to everyone; the rest to the course's members only. One query for the course's
/// own items and one batch get for the instructor, the caller's enrollment and the linked courses.
#[utoipa::path(get, path = "/api/v1/courses/{courseId}", tag = TAG,
    security((), ("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"),
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` read before: 304 while it is current")),
    responses(
        (status = 200, description = "The course page (assignment descriptions, rubrics and statuses for the course's members only)", body = CourseDetailsView,
            headers(("ETag" = String, description = "The page's entity tag: the course's version, and a fingerprint of everything the page shows (its lessons, assignments, ratings, the caller's enrollment), for `If-None-Match`; `If-Match` on the course's writes compares the version"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current (no body)"),
        (status = 404, description = "No such course visible to the caller", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn get_course(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<Tagged<CourseDetailsView>> {
    let page = visible_page(&state, caller.as_ref(), course_id).await?;
    let course = &page.course;
    // The caller's own submissions, when they study here (managers see statuses per student instead).
    let learner = caller.as_ref().filter(|c| !may_manage(c, course));
    let reader = caller.as_ref().map(|c| PageReader {
        user: c.id,
        learner: learner.is_some(),
    });
    let context = CourseRepo::new(state.table.clone())
        .page_context(&page, reader)
        .await?;
    let enrollment = context.enrollment;
    // Members see assignments in full; everyone else their title, points and due date, as
    // `GET /courses/{courseId}/assignments` refuses them the rest.
    let member = caller.as_ref().is_some_and(|c| may_manage(c, course))
        || enrollment.as_ref().is_some_and(Enrollment::is_active);
    let assignment_view = |a: &AssignmentSummary| CourseAssignmentView {
        assignment_id: a.assignment_id,
        lesson_id: a.lesson_id,
        title: a.title.clone(),
        points: a.points,
        due_date: timestamp(a.due_date),
        description: member.then(|| a.description.clone()),
        rubric_url: member.then(|| a.rubric_url.clone()),
        created_at: member.then(|| timestamp(a.created_at)),
        status: learner.filter(|_| member).map(|_| {
            context
                .submissions
                .get(&a.assignment_id)
                .map_or(SubmissionStatus::NotStarted, |s| s.status)
        }),
    };
    let quizzes = page.quiz_ids();
    let view = CourseDetailsView {
        course: CourseView::new(
            course,
            context.instructor.as_ref().map(InstructorView::from),
        ),
        instructor_id: course.instructor_id,
        prerequisites: context
            .prerequisites
            .iter()
            .map(|p| PrerequisiteView {
                id: format!("{}:{}", course.id, p.id),
                prerequisite_id: p.id,
                prerequisite: LinkedCourse::new(p),
            })
            .collect(),
        required_by: context
            .required_by
            .iter()
            .filter(|r| r.is_published() || caller.as_ref().is_some_and(|c| may_manage(c, r)))
            .map(|r| RequiredByView {
                id: format!("{}:{}", r.id, course.id),
                course_id: r.id,
                course: LinkedCourse::new(r),
            })
            .collect(),
        lessons: page
            .lessons
            .iter()
            .enumerate()
            .map(|(i, l)| PageLessonView {
                lesson: LessonView::new(l, i as u32 + 1, None),
                assignments: page
                    .assignments
                    .iter()
                    .filter(|a| a.lesson_id == Some(l.id))
                    .map(assignment_view)
                    .collect(),
            })
            .collect(),
        assignments: page.assignments.iter().map(assignment_view).collect(),
        quizzes: page.quizzes.clone(),
        enrollment: enrollment.map(|e| OwnEnrollmentView {
            enrollment_id: e.id,
            enrolled_at: timestamp(e.enrolled_at),
            status: e.status,
            completed_at: e.completed_at.map(timestamp),
            progress: e.progress(&page.lessons, &quizzes),
        }),
        ratings: page
            .recent_ratings
            .ratings
            .iter()
            .map(RatingView::new)
            .collect(),
        statistics: CourseStatisticsView::new(course),
    };
    Ok(Tagged::new(course.version, view))
}

/// Seed 003 course statistics (its instructor or an admin): counters kept on the course, one read.
#[utoipa::path(get, path = "/api/v1/courses/{courseId}/statistics", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    responses(
        (status = 200, description = "The course's statistics", body = CourseStatisticsView),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn statistics(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<Json<CourseStatisticsView>> {
    let course = managed_course(&state, &caller, course_id).await?;
    Ok(Json(CourseStatisticsView::new(&course)))
}

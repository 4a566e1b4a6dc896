//! The course page and its statistics. Contract: seed 002 `GET /api/courses/[courseId]`
//! (`CourseDetails`), seed 003 course `statistics`.

use axum::extract::{Path, State};
use lectern_domain::CourseId;
use std::collections::HashMap;

use lectern_domain::AssignmentId;
use lectern_domain::assignment::{AssignmentSummary, Submission, SubmissionStatus};
use lectern_domain::course::{Course, CourseCategory, DifficultyLevel};
use lectern_domain::enrollment::{Enrollment, EnrollmentStatus, Progress};
use lectern_domain::quiz::QuizSummary;
use lectern_domain::user::User;
use lectern_store::{Key, from_item, keys};
use lectern_web::views::timestamp;
use lectern_web::{ApiResult, AppState, ErrorBody, Json, MaybeAuthUser, Tagged};
use serde::Serialize;
use utoipa::ToSchema;

use crate::enrollment::visible_page;
use crate::handlers::{CourseView, InstructorView, may_manage};
use crate::lessons::LessonView;

const TAG: &str = "courses";

/// Most prerequisite and dependent courses the page names; the rest of its one batch get (100 keys)
/// holds the instructor, the caller's enrollment and their submissions.
const MAX_LINKED: usize = 60;
/// Keys in one batch get.
const MAX_BATCH_KEYS: usize = 100;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkedCourse {
    #[schema(value_type = String, format = Uuid)]
    pub course_id: String,
    pub title: String,
    pub category: CourseCategory,
    pub difficulty_level: DifficultyLevel,
}

impl LinkedCourse {
    pub(crate) fn new(c: &Course) -> Self {
        LinkedCourse {
            course_id: c.id.to_string(),
            title: c.title.as_str().to_owned(),
            category: c.category,
            difficulty_level: c.difficulty_level,
        }
    }
}

/// Seed 002 `CourseDetails.prerequisites[]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrerequisiteView {
    /// The link's id (`{courseId}:{prerequisiteId}`).
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub prerequisite_id: String,
    pub prerequisite: LinkedCourse,
}

/// Seed 002 `CourseDetails.requiredBy[]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequiredByView {
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub course_id: String,
    pub course: LinkedCourse,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewerView {
    pub first_name: String,
    pub last_name: String,
}

/// Seed 002 `CourseDetails.ratings[]` (the latest ten; all of them at `/ratings`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatingView {
    #[schema(value_type = String, format = Uuid)]
    pub rating_id: String,
    pub rating: u8,
    pub review: Option<String>,
    pub student: ReviewerView,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

impl RatingView {
    pub(crate) fn new(r: &lectern_domain::rating::Rating) -> Self {
        RatingView {
            rating_id: r.id.to_string(),
            rating: r.rating,
            review: r.review.clone(),
            student: ReviewerView {
                first_name: r.student_first_name.clone(),
                last_name: r.student_last_name.clone(),
            },
            created_at: timestamp(r.created_at),
            updated_at: timestamp(r.updated_at),
        }
    }
}

/// Seed 002 `CourseDetails.enrollment`: the caller's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnEnrollmentView {
    #[schema(value_type = String, format = Uuid)]
    pub enrollment_id: String,
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
    #[schema(value_type = String, format = Uuid)]
    pub course_id: String,
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
            course_id: c.id.to_string(),
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
    #[schema(value_type = String, format = Uuid)]
    pub assignment_id: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub lesson_id: Option<String>,
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
    #[schema(value_type = String, format = Uuid)]
    pub instructor_id: String,
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
    Path(course_id): Path<String>,
) -> ApiResult<Tagged<CourseDetailsView>> {
    let page = visible_page(&state, caller.as_ref(), &course_id).await?;
    let course = &page.course;
    let tenant = &course.tenant;
    let prerequisites: Vec<CourseId> = course
        .prerequisites
        .iter()
        .copied()
        .take(MAX_LINKED)
        .collect();
    let required_by: Vec<CourseId> = page
        .required_by
        .courses
        .iter()
        .copied()
        .take(MAX_LINKED - prerequisites.len())
        .collect();
    let mut wanted: Vec<Key> = vec![keys::user(tenant, course.instructor_id)];
    if let Some(c) = &caller {
        wanted.push(keys::enrollment(tenant, course.id, c.id));
    }
    // The caller's own submissions, when they study here (managers see statuses per student instead).
    let learner = caller.as_ref().filter(|c| !may_manage(c, course));
    let submissions: Vec<AssignmentId> = match learner {
        Some(_) => page
            .assignments
            .iter()
            .map(|a| a.assignment_id)
            .take(MAX_BATCH_KEYS - wanted.len() - prerequisites.len() - required_by.len())
            .collect(),
        None => Vec::new(),
    };
    if let Some(c) = learner {
        wanted.extend(
            submissions
                .iter()
                .map(|a| keys::submission(tenant, *a, c.id)),
        );
    }
    wanted.extend(
        prerequisites
            .iter()
            .chain(&required_by)
            .map(|id| keys::course(tenant, *id)),
    );
    let mut found = state.table.batch_get(&wanted).await?.into_iter();
    let teacher: Option<User> = found.next().flatten().map(from_item).transpose()?;
    let enrollment: Option<Enrollment> = match &caller {
        Some(_) => found.next().flatten().map(from_item).transpose()?,
        None => None,
    };
    let mut statuses: HashMap<AssignmentId, SubmissionStatus> = HashMap::new();
    for id in &submissions {
        let submission: Option<Submission> = found.next().flatten().map(from_item).transpose()?;
        statuses.insert(
            *id,
            submission.map_or(SubmissionStatus::NotStarted, |s| s.status),
        );
    }
    // Members see assignments in full; everyone else their title, points and due date, as
    // `GET /courses/{courseId}/assignments` refuses them the rest.
    let member = caller.as_ref().is_some_and(|c| may_manage(c, course))
        || enrollment.as_ref().is_some_and(Enrollment::is_active);
    let assignment_view = |a: &AssignmentSummary| CourseAssignmentView {
        assignment_id: a.assignment_id.to_string(),
        lesson_id: a.lesson_id.map(|l| l.to_string()),
        title: a.title.clone(),
        points: a.points,
        due_date: timestamp(a.due_date),
        description: member.then(|| a.description.clone()),
        rubric_url: member.then(|| a.rubric_url.clone()),
        created_at: member.then(|| timestamp(a.created_at)),
        status: learner.filter(|_| member).map(|_| {
            statuses
                .get(&a.assignment_id)
                .copied()
                .unwrap_or(SubmissionStatus::NotStarted)
        }),
    };
    let linked: Vec<Option<Course>> = found
        .map(|item| item.map(from_item).transpose())
        .collect::<Result<_, _>>()?;
    let (pre, req) = linked.split_at(prerequisites.len().min(linked.len()));
    let quizzes = page.quiz_ids();
    let view = CourseDetailsView {
        course: CourseView::new(course, teacher.as_ref().map(InstructorView::from)),
        instructor_id: course.instructor_id.to_string(),
        prerequisites: pre
            .iter()
            .flatten()
            .map(|p| PrerequisiteView {
                id: format!("{}:{}", course.id, p.id),
                prerequisite_id: p.id.to_string(),
                prerequisite: LinkedCourse::new(p),
            })
            .collect(),
        required_by: req
            .iter()
            .flatten()
            .filter(|r| r.is_published() || caller.as_ref().is_some_and(|c| may_manage(c, r)))
            .map(|r| RequiredByView {
                id: format!("{}:{}", r.id, course.id),
                course_id: r.id.to_string(),
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
            enrollment_id: e.id.to_string(),
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
    caller: lectern_web::AuthUser,
    Path(course_id): Path<String>,
) -> ApiResult<Json<CourseStatisticsView>> {
    let course = crate::handlers::managed_course(&state, &caller, &course_id).await?;
    Ok(Json(CourseStatisticsView::new(&course)))
}

//! Enrollment, lesson completion, progress, and a course's students. Contract: seed 002
//! `POST /api/courses/[courseId]/enroll`, `POST /api/lessons/complete`, `CourseProgress`; seed 003
//! course `students`; issue "Courses" §Enrollment and progress.

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::assignment::SubmissionStatus;
use lectern_domain::enrollment::{Enrollment, EnrollmentStatus, Progress};
use lectern_domain::payment::Payment;
use lectern_domain::user::{UserRole, now};
use lectern_domain::{AssignmentId, CourseId, EnrollmentId, LessonId, QuizId, UserId};
use lectern_store::courses::CoursePage;
use lectern_store::enrollments::{CourseWork, EnrollmentRepo};
use lectern_store::payments::PaymentRepo;
use lectern_store::users::UserRepo;
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::views::{Envelope, timestamp};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{course_page, may_manage, may_see, visible_page};
use crate::views::EnrollmentView;

const TAG: &str = "enrollment";

/// 409 `course_archived`: an archived course takes no new students (nor buyers). Said to anyone who
/// tries: it was in the catalog when it was published, so its existence is no secret.
fn course_archived() -> ApiError {
    ApiError::conflict(
        "course_archived",
        "the course is archived: it takes no new enrollments; its enrolled students keep access",
    )
}

/// Enrolls the caller (a student) in a published, free course whose prerequisites they have
/// completed, or again in a paid course whose payment still entitles them (their progress comes back,
/// as for free courses). Paid courses are bought through payments: 402 here otherwise.
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/enroll", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    responses(
        (status = 201, description = "Enrolled", body = Envelope<EnrollmentView>),
        (status = 402, description = "A paid course the caller has no payment entitling them to (`payment_required`)", body = ErrorBody),
        (status = 403, description = "Not a student", body = ErrorBody),
        (status = 404, description = "No such published course", body = ErrorBody),
        (status = 409, description = "Already enrolled (`already_enrolled`), prerequisites not completed (`prerequisites_missing`, listed in `details`), or an archived course, which takes no new students (`course_archived`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn enroll(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<(StatusCode, Json<Envelope<EnrollmentView>>)> {
    if caller.role != UserRole::Student {
        return Err(ApiError::Forbidden(
            "only students enroll in courses".into(),
        ));
    }
    let page = course_page(&state, Some(&caller), course_id).await?;
    let course = &page.course;
    if course.is_archived() {
        return Err(course_archived());
    }
    if !course.is_published() {
        return Err(ApiError::not_found("course"));
    }
    // A paid course admits a student whose payment for it still entitles them (one who unenrolled
    // comes back without paying again); others buy it through payments.
    let payment = if course.price.is_free() {
        None
    } else {
        let payment = PaymentRepo::new(state.table.clone())
            .current_purchase(&caller.tenant, caller.id, course.id)
            .await?
            .filter(Payment::entitles);
        if payment.is_none() {
            return Err(ApiError::PaymentRequired(format!(
                "this course costs {} {} (minor units); pay for it through payments to enroll",
                course.price.amount, course.price.currency
            )));
        }
        payment
    };
    let repo = EnrollmentRepo::new(state.table.clone());
    let (previous, unmet) = repo.admission(course, caller.id).await?;
    if !unmet.is_empty() && payment.is_none() {
        return Err(ApiError::prerequisites_missing(&unmet));
    }
    let enrollment = match &payment {
        Some(payment) => {
            repo.enroll_paid(Some(&caller.member()), course, payment, previous, now())
                .await?
        }
        None => {
            repo.enroll(&caller.member(), course, previous, now())
                .await?
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(Envelope::new(
            "Enrolled successfully",
            EnrollmentView::new(&enrollment, &page),
        )),
    ))
}

/// Unenrolls the caller. Their progress is kept: enrolling again picks up where they stopped.
#[utoipa::path(delete, path = "/api/v1/courses/{courseId}/enroll", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    responses(
        (status = 204, description = "Unenrolled"),
        (status = 404, description = "No such course, or not enrolled in it", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn unenroll(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<StatusCode> {
    // The course and the caller's enrollment in one read: both keys are known from the path.
    let repo = EnrollmentRepo::new(state.table.clone());
    let membership = repo
        .membership(&caller.tenant, caller.id, course_id)
        .await?;
    let enrollment = membership.enrollment.filter(Enrollment::is_active);
    // An archived course's enrolled students still see it, and may leave it.
    let course = membership
        .course
        .filter(|c| may_see(Some(&caller), c) || (c.is_archived() && enrollment.is_some()))
        .ok_or_else(|| ApiError::not_found("course"))?;
    let enrollment = enrollment.ok_or_else(|| ApiError::not_found("enrollment"))?;
    repo.unenroll(Some(&caller.member()), &course, &enrollment, now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonProgressView {
    pub lesson_id: LessonId,
    pub title: String,
    pub order: u32,
    pub estimated_time: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuizProgressView {
    pub quiz_id: QuizId,
    pub title: String,
    pub total_points: u32,
    /// The score that stands under the quiz's scoring policy, once an attempt was submitted.
    pub score: Option<u32>,
    pub percentage: Option<f64>,
    /// Attempts started.
    pub attempts: u32,
    /// `passed`, `attempted` or `not_started`.
    pub status: String,
    /// When the quiz was passed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<String>,
}

/// Seed 002 `CourseProgress.assignments[]`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentProgressView {
    pub assignment_id: AssignmentId,
    pub title: String,
    pub points: u32,
    #[schema(value_type = String, format = DateTime)]
    pub due_date: String,
    pub status: SubmissionStatus,
    /// The grade after any late deduction, once graded.
    pub grade: Option<f64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<String>,
}

/// Seed 002 `CourseProgress.progress`: lessons and quizzes (which make completion) and assignments
/// (graded ones count as completed).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    #[serde(flatten)]
    pub progress: Progress,
    pub total_assignments: u32,
    pub completed_assignments: u32,
}

/// Seed 002 `CourseProgress`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CourseProgressView {
    pub course_id: CourseId,
    pub course_title: String,
    pub enrollment_id: EnrollmentId,
    #[schema(value_type = String, format = DateTime)]
    pub enrolled_at: String,
    pub status: EnrollmentStatus,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_activity: Option<String>,
    pub progress: ProgressView,
    pub lessons: Vec<LessonProgressView>,
    pub assignments: Vec<AssignmentProgressView>,
    pub quizzes: Vec<QuizProgressView>,
}

impl CourseProgressView {
    fn new(page: &CoursePage, e: &Enrollment, work: &CourseWork) -> Self {
        let standings = &work.standings;
        let assignments: Vec<AssignmentProgressView> = page
            .assignments
            .iter()
            .zip(work.submissions.iter().chain(std::iter::repeat(&None)))
            .map(|(a, s)| AssignmentProgressView {
                assignment_id: a.assignment_id,
                title: a.title.clone(),
                points: a.points,
                due_date: timestamp(a.due_date),
                status: s
                    .as_ref()
                    .map_or(SubmissionStatus::NotStarted, |s| s.status),
                grade: s.as_ref().and_then(|s| s.grade),
                submitted_at: s.as_ref().and_then(|s| s.submitted_at).map(timestamp),
            })
            .collect();
        CourseProgressView {
            course_id: page.course.id,
            course_title: page.course.title.as_str().to_owned(),
            enrollment_id: e.id,
            enrolled_at: timestamp(e.enrolled_at),
            status: e.status,
            completed_at: e.completed_at.map(timestamp),
            last_activity: e.last_activity.map(timestamp),
            progress: ProgressView {
                progress: e.progress(&page.lessons, &page.quiz_ids()),
                total_assignments: assignments.len() as u32,
                completed_assignments: assignments
                    .iter()
                    .filter(|a| a.status == SubmissionStatus::Graded)
                    .count() as u32,
            },
            assignments,
            lessons: page
                .lessons
                .iter()
                .enumerate()
                .map(|(i, l)| LessonProgressView {
                    lesson_id: l.id,
                    title: l.title.as_str().to_owned(),
                    order: i as u32 + 1,
                    estimated_time: l.estimated_time,
                    completed_at: e.lesson_completed_at(l.id).map(str::to_owned),
                })
                .collect(),
            quizzes: page
                .quizzes
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    let passed = e.passed_quizzes.get(&q.quiz_id);
                    let standing = standings.get(i).cloned().flatten().unwrap_or_default();
                    let status = match (passed, standing.count) {
                        (Some(_), _) => "passed",
                        (None, 0) => "not_started",
                        (None, _) => "attempted",
                    };
                    QuizProgressView {
                        quiz_id: q.quiz_id,
                        title: q.title.clone(),
                        total_points: q.total_points,
                        score: standing.kept_score,
                        percentage: standing.kept_percentage,
                        attempts: standing.count,
                        status: status.into(),
                        completed_at: passed.cloned(),
                    }
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompleteLessonRequest {
    pub lesson_id: LessonId,
    pub course_id: CourseId,
}

/// Marks a lesson completed for the caller (an enrolled student). Completing it again changes
/// nothing. Answers the course progress afterwards.
#[utoipa::path(post, path = "/api/v1/lessons/complete", tag = TAG,
    security(("bearer" = [])),
    request_body = CompleteLessonRequest,
    responses(
        (status = 200, description = "The updated course progress", body = Envelope<CourseProgressView>),
        (status = 400, description = "Invalid ids", body = ErrorBody),
        (status = 403, description = "Not enrolled in the course", body = ErrorBody),
        (status = 404, description = "No such course or lesson", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn complete_lesson(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(body): Json<CompleteLessonRequest>,
) -> ApiResult<Json<Envelope<CourseProgressView>>> {
    let lesson = body.lesson_id;
    let page = visible_page(&state, Some(&caller), body.course_id).await?;
    if page.lesson(lesson).is_none() {
        return Err(ApiError::not_found("lesson"));
    }
    let repo = EnrollmentRepo::new(state.table.clone());
    let enrollment = repo
        .complete_lesson(&caller.member(), &page, lesson, now())
        .await?;
    let work = repo.work_in(&page, caller.id).await?;
    Ok(Json(Envelope::new(
        "Lesson completed",
        CourseProgressView::new(&page, &enrollment, &work),
    )))
}

/// Seed 002 `CourseProgress` for the caller.
#[utoipa::path(get, path = "/api/v1/courses/{courseId}/progress", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    responses(
        (status = 200, description = "The caller's progress", body = CourseProgressView),
        (status = 404, description = "No such course, or the caller never enrolled", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn progress(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<Json<CourseProgressView>> {
    let page = visible_page(&state, Some(&caller), course_id).await?;
    let repo = EnrollmentRepo::new(state.table.clone());
    let enrollment = repo
        .get(&caller.tenant, page.course.id, caller.id)
        .await?
        .ok_or_else(|| ApiError::not_found("enrollment"))?;
    let work = repo.work_in(&page, caller.id).await?;
    Ok(Json(CourseProgressView::new(&page, &enrollment, &work)))
}

/// A student of a course, with their progress.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CourseStudent)]
pub struct StudentView {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub enrollment: EnrollmentView,
}

/// The course's students (its instructor or an admin), with each one's progress; by student id.
#[utoipa::path(get, path = "/api/v1/courses/{courseId}/students", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"), PageParams),
    responses(
        (status = 200, description = "A page of students", body = Paginated<StudentView>),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, params))]
pub async fn students(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    Query(params): Query<PageParams>,
) -> ApiResult<Paginated<StudentView>> {
    let (limit, cursor) = params.parse()?;
    let page = visible_page(&state, Some(&caller), course_id).await?;
    if !may_manage(&caller, &page.course) {
        return Err(ApiError::Forbidden(
            "only the course's instructor or an admin may list its students".into(),
        ));
    }
    let enrollments = EnrollmentRepo::new(state.table.clone())
        .of_course(&caller.tenant, page.course.id, limit, cursor)
        .await?;
    let ids: Vec<UserId> = enrollments
        .enrollments
        .iter()
        .map(|e| e.student_id)
        .collect();
    let users = UserRepo::new(state.table.clone())
        .get_many(&caller.tenant, &ids)
        .await?;
    let data = enrollments
        .enrollments
        .iter()
        .zip(users)
        .map(|(e, user)| StudentView {
            id: e.student_id,
            first_name: user
                .as_ref()
                .map(|u| u.first_name.as_str().to_owned())
                .unwrap_or_default(),
            last_name: user
                .as_ref()
                .map(|u| u.last_name.as_str().to_owned())
                .unwrap_or_default(),
            username: user
                .as_ref()
                .map(|u| u.username.as_str().to_owned())
                .unwrap_or_default(),
            enrollment: EnrollmentView::new(e, &page),
        })
        .collect();
    Ok(Paginated {
        data,
        next_cursor: enrollments.next.map(|c| c.to_string()),
    })
}

//! Quizzes of a course: authors create and delete them; enrolled students start attempts, submit them
//! and are graded at once; everyone involved reads results. Contract: issue "Quizzes"; seed 002
//! `POST /api/quizzes`, `GET /api/quizzes/[quizId]/results`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::quiz::{
    Attempt, AttemptStatus, MAX_QUIZZES_PER_COURSE, Question, QuestionResult, QuestionType, Quiz,
    QuizInput, ScoringPolicy, SubmitRefusal,
};
use lectern_domain::user::now;
use lectern_domain::{AttemptId, CourseId, QuestionId, QuizId, UserId};
use lectern_store::Power;
use lectern_store::courses::CourseRepo;
use lectern_store::enrollments::EnrollmentRepo;
use lectern_store::quizzes::{QuizRepo, QuizWriteError, StudentContext};
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::views::{Envelope, timestamp};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::access::{QuizRole, managed_course, manager, quiz_role, students_only};

const TAG: &str = "quizzes";

/// A question; `correctAnswer` only for the quiz's instructor and admins.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuestionView {
    pub question_id: QuestionId,
    #[serde(rename = "type")]
    pub question_type: QuestionType,
    pub prompt: String,
    /// Choice questions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// An option index, a list of indices, a boolean or a string, by type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct_answer: Option<Value>,
    pub points: u32,
}

impl QuestionView {
    fn new(question: &Question, with_answer: bool) -> Self {
        QuestionView {
            question_id: question.question_id,
            question_type: question.question_type(),
            prompt: question.prompt.clone(),
            options: question.options().map(<[String]>::to_vec),
            correct_answer: with_answer.then(|| question.correct_answer()),
            points: question.points,
        }
    }
}

/// A quiz with its questions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuizView {
    pub quiz_id: QuizId,
    pub course_id: CourseId,
    pub title: String,
    pub description: Option<String>,
    /// Minutes; null = untimed.
    pub time_limit: Option<u32>,
    /// -1 = unlimited.
    pub allowed_attempts: i32,
    /// Percent needed to pass.
    pub passing_score: u8,
    pub scoring_policy: ScoringPolicy,
    pub total_questions: u32,
    pub total_points: u32,
    /// Absent when the caller may not see them now: a student sees a timed quiz's questions only
    /// inside an open attempt (`?attemptId=`), so the clock runs before the questions are read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<QuestionView>>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

/// Which of a quiz's questions a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Questions {
    /// With the correct answers (the quiz's instructor and admins).
    WithAnswers,
    /// Without them (a student who may see the questions now).
    WithoutAnswers,
    /// None (a student and a timed quiz, outside an open attempt).
    Hidden,
}

fn question_views(quiz: &Quiz, with_answers: bool) -> Vec<QuestionView> {
    quiz.questions
        .iter()
        .map(|q| QuestionView::new(q, with_answers))
        .collect()
}

impl QuizView {
    fn new(quiz: &Quiz, questions: Questions) -> Self {
        QuizView {
            quiz_id: quiz.id,
            course_id: quiz.course_id,
            title: quiz.title.clone(),
            description: quiz.description.clone(),
            time_limit: quiz.time_limit,
            allowed_attempts: quiz.allowed_attempts,
            passing_score: quiz.passing_score,
            scoring_policy: quiz.scoring_policy,
            total_questions: quiz.questions.len() as u32,
            total_points: quiz.total_points(),
            questions: match questions {
                Questions::WithAnswers => Some(question_views(quiz, true)),
                Questions::WithoutAnswers => Some(question_views(quiz, false)),
                Questions::Hidden => None,
            },
            created_at: timestamp(quiz.created_at),
            updated_at: timestamp(quiz.updated_at),
        }
    }
}

/// The quiz at the path, or 404 (another tenant's, gone).
async fn find_quiz(state: &AppState, caller: &AuthUser, quiz_id: QuizId) -> ApiResult<Quiz> {
    QuizRepo::new(state.table.clone())
        .get(&caller.tenant, quiz_id)
        .await?
        .ok_or_else(|| ApiError::not_found("quiz"))
}

/// The quiz at the path with the caller's context (course, enrollment, standing and optionally an
/// attempt), and the caller's role: one get and one batch get.
async fn quiz_for(
    state: &AppState,
    caller: &AuthUser,
    quiz_id: QuizId,
    attempt: Option<AttemptId>,
) -> ApiResult<(Quiz, StudentContext, QuizRole)> {
    let quiz = find_quiz(state, caller, quiz_id).await?;
    let ctx = QuizRepo::new(state.table.clone())
        .student_context(&quiz, caller.id, attempt)
        .await?;
    let role = quiz_role(caller, ctx.course.as_ref(), ctx.enrollment.as_ref())?;
    Ok((quiz, ctx, role))
}

/// Issue "Quizzes": create a quiz with its questions (the course's instructor or an admin).
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/quizzes", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    request_body = QuizInput,
    responses(
        (status = 201, description = "Created, with the correct answers", body = Envelope<QuizView>),
        (status = 400, description = "Invalid fields, named by path (`questions[2].correctAnswer`)", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 409, description = "The course holds 100 quizzes already (`too_many_quizzes`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn create_quiz(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    Json(body): Json<QuizInput>,
) -> ApiResult<(StatusCode, Json<Envelope<QuizView>>)> {
    let course = managed_course(&state, &caller, course_id).await?;
    if course.total_quizzes >= MAX_QUIZZES_PER_COURSE {
        return Err(ApiError::conflict(
            "too_many_quizzes",
            format!("a course holds at most {MAX_QUIZZES_PER_COURSE} quizzes"),
        ));
    }
    let quiz = Quiz::create(course.tenant.clone(), course.id, &body, now())?;
    QuizRepo::new(state.table.clone())
        .create(&manager(&caller, &course), &quiz)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Envelope::new(
            "Quiz created successfully",
            QuizView::new(&quiz, Questions::WithAnswers),
        )),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct GetQuizParams {
    /// The caller's attempt in progress: with it, a student sees a timed quiz's questions.
    pub attempt_id: Option<String>,
}

/// Whether `attempt` is open now: in progress and, for a timed quiz, before its deadline and grace.
fn is_open(attempt: &Attempt, now: time::OffsetDateTime) -> bool {
    attempt.status == AttemptStatus::InProgress
        && attempt.deadline.is_none_or(|d| now <= d + Attempt::GRACE)
}

/// Issue "Quizzes": read a quiz. Students never see the correct answers, and see a timed quiz's
/// questions only inside an open attempt of theirs (its id as `attemptId`; starting an attempt also
/// answers them). Without one, an enrolled student gets the quiz's summary: everything but
/// `questions`, so they can see the time limit, attempts and passing score before starting the clock.
#[utoipa::path(get, path = "/api/v1/quizzes/{quizId}", tag = TAG,
    security(("bearer" = [])),
    params(("quizId" = String, Path, description = "The quiz's id"), GetQuizParams),
    responses(
        (status = 200, description = "The quiz. Correct answers for its instructor and admins only. For a student, a timed quiz (`timeLimit` set) has no `questions` unless `attemptId` names their attempt in progress, before its deadline; an untimed quiz always has them", body = QuizView),
        (status = 400, description = "`attemptId` is not an attempt id", body = ErrorBody),
        (status = 403, description = "Not enrolled in the course", body = ErrorBody),
        (status = 404, description = "No such quiz visible to the caller", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn get_quiz(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(quiz_id): Path<QuizId>,
    Query(params): Query<GetQuizParams>,
) -> ApiResult<Json<QuizView>> {
    let attempt = params
        .attempt_id
        .as_deref()
        .map(|id| AttemptId::parse(id).map_err(|e| ApiError::invalid_field("attemptId", e.0)))
        .transpose()?;
    let (quiz, ctx, role) = quiz_for(&state, &caller, quiz_id, attempt).await?;
    let questions = match role {
        QuizRole::Manager => Questions::WithAnswers,
        QuizRole::Student if quiz.time_limit.is_none() => Questions::WithoutAnswers,
        // The attempt was read under the caller's own key, so it is theirs.
        QuizRole::Student if ctx.attempt.as_ref().is_some_and(|a| is_open(a, now())) => {
            Questions::WithoutAnswers
        }
        QuizRole::Student => Questions::Hidden,
    };
    Ok(Json(QuizView::new(&quiz, questions)))
}

/// Issue "Quizzes": delete a quiz with its attempts (the course's instructor or an admin).
#[utoipa::path(delete, path = "/api/v1/quizzes/{quizId}", tag = TAG,
    security(("bearer" = [])),
    params(("quizId" = String, Path, description = "The quiz's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such quiz", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn delete_quiz(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(quiz_id): Path<QuizId>,
) -> ApiResult<StatusCode> {
    let quiz = find_quiz(&state, &caller, quiz_id).await?;
    let course = CourseRepo::new(state.table.clone())
        .get(&caller.tenant, quiz.course_id)
        .await?;
    match quiz_role(&caller, course.as_ref(), None)? {
        QuizRole::Manager => {}
        QuizRole::Student => {
            return Err(ApiError::Forbidden(
                "only the course's instructor or an admin may delete its quizzes".into(),
            ));
        }
    }
    let actor = match &course {
        Some(course) => manager(&caller, course),
        None => caller.actor(Power::Admin),
    };
    QuizRepo::new(state.table.clone())
        .delete(&actor, &quiz)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A started attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptStartedView {
    pub attempt_id: AttemptId,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: String,
    /// `startedAt` plus the time limit; null when untimed. Submissions are accepted for 30 s more.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<String>,
    /// 1 for the first attempt.
    pub attempt_number: u32,
    /// The quiz's questions, without the answers: the clock has started.
    pub questions: Vec<QuestionView>,
}

/// Issue "Quizzes": start an attempt (enrolled students), within the quiz's allowed attempts.
#[utoipa::path(post, path = "/api/v1/quizzes/{quizId}/attempts", tag = TAG,
    security(("bearer" = [])),
    params(("quizId" = String, Path, description = "The quiz's id")),
    responses(
        (status = 201, description = "Started", body = AttemptStartedView),
        (status = 403, description = "Not a student enrolled in the course", body = ErrorBody),
        (status = 404, description = "No such quiz", body = ErrorBody),
        (status = 409, description = "Every allowed attempt is used (`attempts_exhausted`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn start_attempt(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(quiz_id): Path<QuizId>,
) -> ApiResult<(StatusCode, Json<AttemptStartedView>)> {
    let (quiz, ctx, role) = quiz_for(&state, &caller, quiz_id, None).await?;
    students_only(role)?;
    let attempt = QuizRepo::new(state.table.clone())
        .start_attempt(&caller.member(), &quiz, ctx.standing, now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AttemptStartedView {
            attempt_id: attempt.id,
            started_at: timestamp(attempt.started_at),
            deadline: attempt.deadline.map(timestamp),
            attempt_number: attempt.attempt_number,
            questions: question_views(&quiz, false),
        }),
    ))
}

/// The answers of a quiz attempt.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = SubmitAttemptRequest)]
pub struct SubmitRequest {
    /// Question id → answer: an option index (single choice), a list of option indices (multiple
    /// choice), a boolean (true/false) or a string (short answer). Unanswered questions score 0.
    pub answers: BTreeMap<String, Value>,
}

/// A graded attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GradedAttemptView {
    pub attempt_id: AttemptId,
    pub score: u32,
    pub max_score: u32,
    /// 0–100, one decimal.
    pub percentage: f64,
    pub passed: bool,
    pub results: Vec<QuestionResult>,
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: String,
}

/// Issue "Quizzes": submit an attempt's answers and get it graded.
#[utoipa::path(post, path = "/api/v1/quizzes/{quizId}/attempts/{attemptId}/submit", tag = TAG,
    security(("bearer" = [])),
    params(
        ("quizId" = String, Path, description = "The quiz's id"),
        ("attemptId" = String, Path, description = "The attempt's id"),
    ),
    request_body = SubmitRequest,
    responses(
        (status = 200, description = "Graded", body = GradedAttemptView),
        (status = 400, description = "An answer of the wrong type, or for no question of the quiz", body = ErrorBody),
        (status = 403, description = "Not a student enrolled in the course", body = ErrorBody),
        (status = 404, description = "No such quiz, or no such attempt of the caller", body = ErrorBody),
        (status = 409, description = "Submitted before (`already_submitted`) or too late (`time_limit_exceeded`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn submit_attempt(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((quiz_id, attempt_id)): Path<(QuizId, AttemptId)>,
    Json(body): Json<SubmitRequest>,
) -> ApiResult<Json<GradedAttemptView>> {
    let (quiz, ctx, role) = quiz_for(&state, &caller, quiz_id, Some(attempt_id)).await?;
    students_only(role)?;
    let attempt = ctx.attempt.ok_or_else(|| ApiError::not_found("attempt"))?;
    let answers = quiz.parse_answers(&body.answers)?;
    let repo = QuizRepo::new(state.table.clone());
    let graded = match attempt.submit(&quiz, answers, now()) {
        Ok(graded) => graded,
        Err(SubmitRefusal::AlreadySubmitted) => {
            return Err(QuizWriteError::AlreadySubmitted.into());
        }
        Err(SubmitRefusal::TimeLimitExceeded(expired)) => {
            if attempt.status == AttemptStatus::InProgress {
                repo.expire_attempt(&quiz.tenant, &expired).await?;
            }
            return Err(ApiError::conflict(
                "time_limit_exceeded",
                "the attempt's time limit has passed; it was recorded as expired",
            ));
        }
    };
    repo.submit_attempt(
        &caller.member(),
        &quiz,
        &graded,
        ctx.standing.unwrap_or_default(),
    )
    .await?;
    let submitted_at = graded.submitted_at.unwrap_or(graded.started_at);
    if graded.passed == Some(true)
        && let Some(course) = &ctx.course
    {
        EnrollmentRepo::new(state.table.clone())
            .record_quiz_passed(&caller.member(), course, quiz.id, submitted_at)
            .await?;
    }
    Ok(Json(GradedAttemptView {
        attempt_id: graded.id,
        score: graded.score.unwrap_or(0),
        max_score: graded.max_score,
        percentage: graded.percentage.unwrap_or(0.0),
        passed: graded.passed.unwrap_or(false),
        results: graded.results,
        submitted_at: timestamp(submitted_at),
    }))
}

/// An attempt in a results list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResultView {
    pub attempt_id: AttemptId,
    pub student_id: UserId,
    pub attempt_number: u32,
    pub status: AttemptStatus,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<String>,
    pub score: Option<u32>,
    pub max_score: u32,
    pub percentage: Option<f64>,
    pub passed: Option<bool>,
    pub results: Vec<QuestionResult>,
}

impl From<Attempt> for AttemptResultView {
    fn from(a: Attempt) -> Self {
        AttemptResultView {
            attempt_id: a.id,
            student_id: a.student_id,
            attempt_number: a.attempt_number,
            status: a.status,
            started_at: timestamp(a.started_at),
            deadline: a.deadline.map(timestamp),
            submitted_at: a.submitted_at.map(timestamp),
            score: a.score,
            max_score: a.max_score,
            percentage: a.percentage,
            passed: a.passed,
            results: a.results,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ResultsParams {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this student's attempts (instructors and admins).
    pub student_id: Option<String>,
}

/// Seed 002 `GET /api/quizzes/[quizId]/results`: a student's own attempts; for the course's instructor
/// and admins, every student's (optionally one's), paginated.
#[utoipa::path(get, path = "/api/v1/quizzes/{quizId}/results", tag = TAG,
    security(("bearer" = [])),
    params(("quizId" = String, Path, description = "The quiz's id"), ResultsParams),
    responses(
        (status = 200, description = "Attempts, by student then in the order they were started", body = Paginated<AttemptResultView>),
        (status = 400, description = "Invalid limit, cursor or student id", body = ErrorBody),
        (status = 403, description = "Not enrolled in the course, or another student's results", body = ErrorBody),
        (status = 404, description = "No such quiz", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, params))]
pub async fn quiz_results(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(quiz_id): Path<QuizId>,
    Query(params): Query<ResultsParams>,
) -> ApiResult<Paginated<AttemptResultView>> {
    let (limit, cursor) = PageParams {
        limit: params.limit,
        cursor: params.cursor.clone(),
    }
    .parse()?;
    let requested = params
        .student_id
        .as_deref()
        .map(|s| UserId::parse(s).map_err(|e| ApiError::invalid_field("studentId", e.0)))
        .transpose()?;
    let (quiz, _, role) = quiz_for(&state, &caller, quiz_id, None).await?;
    let student = match role {
        QuizRole::Manager => requested,
        QuizRole::Student if requested.is_none_or(|s| s == caller.id) => Some(caller.id),
        QuizRole::Student => {
            return Err(ApiError::Forbidden(
                "students see only their own results".into(),
            ));
        }
    };
    let (attempts, next) = QuizRepo::new(state.table.clone())
        .attempts(&quiz.tenant, quiz.id, student, limit, cursor)
        .await?;
    Ok(Paginated {
        data: attempts.into_iter().map(AttemptResultView::from).collect(),
        next_cursor: next.map(|c| c.to_string()),
    })
}

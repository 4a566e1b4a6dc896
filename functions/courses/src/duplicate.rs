//! Course duplication (seed 003 `duplicate`): a new unpublished copy with the lessons and quizzes,
//! for reuse in another term.

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::CourseId;
use lectern_domain::course::{Course, CourseTitle};
use lectern_domain::user::{UserRole, now};
use lectern_store::courses::CourseRepo;
use lectern_web::views::Envelope;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path};

use crate::access::{manager, may_manage, visible_page};
use crate::courses::instructor_view;
use crate::views::CourseView;

const TAG: &str = "courses";

/// Copies a course (its instructor or an admin) into a new draft titled "… (copy)" with the same
/// lessons (content and order) and quizzes; enrollments, ratings and prerequisite links are not
/// copied. The copy belongs to the instructor who asked, or to the original's instructor when an admin
/// asks.
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/duplicate", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course to copy")),
    responses(
        (status = 201, description = "The copy, as a draft", body = Envelope<CourseView>),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn duplicate_course(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<(StatusCode, Json<Envelope<CourseView>>)> {
    let page = visible_page(&state, Some(&caller), course_id).await?;
    let original = &page.course;
    if !may_manage(&caller, original) {
        return Err(ApiError::Forbidden(
            "only the course's instructor or an admin may duplicate it".into(),
        ));
    }
    let title: String = original.title.as_str().chars().take(193).collect();
    let title = CourseTitle::parse(&format!("{title} (copy)"))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("copied title: {e}")))?;
    let owner = if caller.role == UserRole::Admin {
        original.instructor_id
    } else {
        caller.id
    };
    let draft = Course::draft(
        original.tenant.clone(),
        owner,
        title,
        original.description.clone(),
        original.thumbnail_url.clone(),
        original.category,
        original.difficulty_level,
        original.price,
        now(),
    );
    let copy = CourseRepo::new(state.table.clone())
        .duplicate(&manager(&caller, original), &page, draft, now())
        .await?;
    let instructor = instructor_view(&state, &copy).await?;
    Ok((
        StatusCode::CREATED,
        Json(Envelope::new(
            "Course duplicated",
            CourseView::new(&copy, instructor),
        )),
    ))
}

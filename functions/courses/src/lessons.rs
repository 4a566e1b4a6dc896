//! Lessons of a course. Contract: seed 002 `POST /api/courses/[courseId]/lessons`,
//! `GET /api/courses/[courseId]/lessons`, `CourseDetails.lessons`; issue "Courses" §Lessons.

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::lesson::{
    Lesson, LessonContent, LessonTitle, parse_estimated_time, parse_lesson_description,
};
use lectern_domain::user::now;
use lectern_domain::{CourseId, FieldErrors, LessonId, UserId};
use lectern_store::StoreError;
use lectern_store::courses::CoursePage;
use lectern_store::enrollments::EnrollmentRepo;
use lectern_store::lessons::LessonRepo;
use lectern_web::views::Envelope;
use lectern_web::{
    ApiError, ApiResult, AppState, AuthUser, ErrorBody, IfMatch, Json, Path, Tagged,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{manager, may_manage, require_member, visible_page};
use crate::views::LessonView;

const TAG: &str = "lessons";

/// The page of a course the caller manages (404 when they cannot see it, else 403).
async fn managed_page(
    state: &AppState,
    caller: &AuthUser,
    course_id: CourseId,
) -> ApiResult<CoursePage> {
    let page = visible_page(state, Some(caller), course_id).await?;
    if !may_manage(caller, &page.course) {
        return Err(ApiError::Forbidden(
            "only the course's instructor or an admin may change its lessons".into(),
        ));
    }
    Ok(page)
}

/// The page of a course whose members' parts the caller may see.
async fn member_page(
    state: &AppState,
    caller: &AuthUser,
    course_id: CourseId,
) -> ApiResult<CoursePage> {
    let page = visible_page(state, Some(caller), course_id).await?;
    let enrollment = if may_manage(caller, &page.course) {
        None
    } else {
        EnrollmentRepo::new(state.table.clone())
            .get(&caller.tenant, page.course.id, caller.id)
            .await?
    };
    require_member(caller, &page.course, enrollment.as_ref())?;
    Ok(page)
}

/// The outline changed under us (another lesson was added, moved or deleted meanwhile).
fn outline_conflict(error: StoreError) -> ApiError {
    match error {
        StoreError::TransactionCanceled { .. } | StoreError::ConditionFailed => ApiError::conflict(
            "concurrent_change",
            "the course's lessons changed while this request ran; read them again and retry",
        ),
        other => other.into(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLessonRequest {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// 1-based position; later lessons move down. Absent: last.
    pub order: Option<i64>,
    /// Minutes (0–1440).
    #[serde(default)]
    pub estimated_time: i64,
    /// Markdown, at most 100 KB.
    #[serde(default)]
    pub content: String,
    /// Seed 002 sends it: when present, the course's instructor's id.
    pub instructor_id: Option<UserId>,
}

/// Adds a lesson (the course's instructor or an admin).
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/lessons", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    request_body = CreateLessonRequest,
    responses(
        (status = 201, description = "Created", body = Envelope<LessonView>),
        (status = 400, description = "Invalid fields; an `instructorId` that is not the course's", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 409, description = "The lessons changed meanwhile, or the course is full", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn create_lesson(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    Json(body): Json<CreateLessonRequest>,
) -> ApiResult<(StatusCode, Json<Envelope<LessonView>>)> {
    let mut errors = FieldErrors::new();
    let title = errors.check("title", LessonTitle::parse(&body.title));
    let description = errors.check("description", parse_lesson_description(&body.description));
    let minutes = errors.check("estimatedTime", parse_estimated_time(body.estimated_time));
    let content = errors.check("content", LessonContent::parse(&body.content));
    if body.order.is_some_and(|o| o < 1) {
        errors.add("order", "must be 1 or more");
    }
    let (Some(title), Some(description), Some(minutes), Some(content)) =
        (title, description, minutes, content)
    else {
        return Err(errors.into());
    };
    errors.into_result()?;
    let page = managed_page(&state, &caller, course_id).await?;
    if body
        .instructor_id
        .as_ref()
        .is_some_and(|id| *id != page.course.instructor_id)
    {
        return Err(ApiError::invalid_field(
            "instructorId",
            "must be the course's instructor (the course's `instructorId`)",
        ));
    }
    if page.outline.lessons.len() >= lectern_domain::lesson::Outline::MAX_LESSONS {
        return Err(ApiError::conflict(
            "too_many_lessons",
            "a course holds at most 500 lessons",
        ));
    }
    let now = now();
    let lesson = Lesson {
        id: LessonId::new(),
        course_id: page.course.id,
        title,
        description,
        estimated_time: minutes,
        content_bytes: content.as_str().len() as u32,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let order = body.order.map(|o| o.min(i64::from(u32::MAX)) as u32);
    let outline = LessonRepo::new(state.table.clone())
        .create(
            &manager(&caller, &page.course),
            &page.course,
            &page.outline,
            &lesson,
            &content,
            order,
        )
        .await
        .map_err(outline_conflict)?;
    let order = outline.order_of(lesson.id).unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(Envelope::new(
            "Lesson created successfully",
            LessonView::new(&lesson, order, Some(&content)),
        )),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LessonList {
    pub data: Vec<LessonView>,
    pub total: usize,
}

/// The course's lessons in order (enrolled students, its instructor, admins).
#[utoipa::path(get, path = "/api/v1/courses/{courseId}/lessons", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    responses(
        (status = 200, description = "The lessons, in order, without content", body = LessonList),
        (status = 403, description = "Not a member of the course", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn list_lessons(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<Json<LessonList>> {
    let page = member_page(&state, &caller, course_id).await?;
    let data: Vec<LessonView> = page
        .lessons
        .iter()
        .enumerate()
        .map(|(i, l)| LessonView::new(l, i as u32 + 1, None))
        .collect();
    Ok(Json(LessonList {
        total: data.len(),
        data,
    }))
}

/// One lesson with its content (enrolled students, the instructor, admins).
#[utoipa::path(get, path = "/api/v1/courses/{courseId}/lessons/{lessonId}", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"),
           ("lessonId" = String, Path, description = "The lesson's id"),
           ("If-None-Match" = Option<String>, Header, description = "An `ETag` read before: 304 while it is current")),
    responses(
        (status = 200, description = "The lesson with its content", body = LessonView,
            headers(("ETag" = String, description = "The lesson's entity tag (its version, and a fingerprint of what it shows, its position included)"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current (no body)"),
        (status = 403, description = "Not a member of the course", body = ErrorBody),
        (status = 404, description = "No such course or lesson", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn get_lesson(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((course_id, id)): Path<(CourseId, LessonId)>,
) -> ApiResult<Tagged<LessonView>> {
    let page = member_page(&state, &caller, course_id).await?;
    let (lesson, order) = page
        .lesson(id)
        .ok_or_else(|| ApiError::not_found("lesson"))?;
    let content = LessonRepo::new(state.table.clone())
        .content(&caller.tenant, page.course.id, id)
        .await?;
    Ok(Tagged::new(
        lesson.version,
        LessonView::new(lesson, order, content.as_ref()),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateLessonRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Moves the lesson to this 1-based position.
    pub order: Option<i64>,
    pub estimated_time: Option<i64>,
    pub content: Option<String>,
    /// The version read; a stale one → 409.
    pub version: Option<u64>,
}

/// Changes a lesson (the course's instructor or an admin).
#[utoipa::path(put, path = "/api/v1/courses/{courseId}/lessons/{lessonId}", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"),
           ("lessonId" = String, Path, description = "The lesson's id"),
           ("If-Match" = Option<String>, Header, description = "The lesson's `ETag` as read: a lesson changed since → 412")),
    request_body = UpdateLessonRequest,
    responses(
        (status = 200, description = "Updated", body = Envelope<LessonView>,
            headers(("ETag" = String, description = "The lesson's new entity tag"))),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course or lesson", body = ErrorBody),
        (status = 409, description = "Changed since read", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the lesson is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn update_lesson(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((course_id, id)): Path<(CourseId, LessonId)>,
    if_match: IfMatch,
    Json(body): Json<UpdateLessonRequest>,
) -> ApiResult<Tagged<Envelope<LessonView>>> {
    let page = managed_page(&state, &caller, course_id).await?;
    let (lesson, order) = page
        .lesson(id)
        .ok_or_else(|| ApiError::not_found("lesson"))?;
    if_match.check(lesson.version)?;
    if body.version.is_some_and(|v| v != lesson.version) {
        return Err(ApiError::conflict(
            "stale_version",
            format!(
                "the lesson is at version {}, not the one you read",
                lesson.version
            ),
        ));
    }
    let mut errors = FieldErrors::new();
    let mut next = lesson.clone();
    if let Some(v) = &body.title {
        next.title = errors
            .check("title", LessonTitle::parse(v))
            .unwrap_or(next.title);
    }
    if let Some(v) = &body.description {
        next.description = errors
            .check("description", parse_lesson_description(v))
            .unwrap_or(next.description);
    }
    if let Some(v) = body.estimated_time {
        next.estimated_time = errors
            .check("estimatedTime", parse_estimated_time(v))
            .unwrap_or(next.estimated_time);
    }
    let content = match &body.content {
        Some(v) => errors.check("content", LessonContent::parse(v)),
        None => None,
    };
    if body.order.is_some_and(|o| o < 1) {
        errors.add("order", "must be 1 or more");
    }
    errors.into_result()?;
    if let Some(c) = &content {
        next.content_bytes = c.as_str().len() as u32;
    }
    let new_order = body.order.map(|o| o.min(i64::from(u32::MAX)) as u32);
    next.version = lesson.version + 1;
    next.updated_at = now();
    LessonRepo::new(state.table.clone())
        .update(
            &manager(&caller, &page.course),
            &page.course,
            lesson,
            &next,
            content.as_ref(),
            new_order.map(|o| (&page.outline, o)),
        )
        .await
        .map_err(outline_conflict)?;
    let order = match new_order {
        Some(o) => {
            let mut outline = page.outline.clone();
            outline.move_to(id, o);
            outline.order_of(id).unwrap_or(order)
        }
        None => order,
    };
    Ok(Tagged::new(
        next.version,
        Envelope::new(
            "Lesson updated successfully",
            LessonView::new(&next, order, content.as_ref()),
        ),
    ))
}

/// Deletes a lesson and its content; later lessons move up.
#[utoipa::path(delete, path = "/api/v1/courses/{courseId}/lessons/{lessonId}", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"),
           ("lessonId" = String, Path, description = "The lesson's id"),
           ("If-Match" = Option<String>, Header, description = "The lesson's `ETag` as read: a lesson changed since → 412")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course or lesson", body = ErrorBody),
        (status = 409, description = "The lessons changed meanwhile", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the lesson is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn delete_lesson(
    State(state): State<AppState>,
    caller: AuthUser,
    Path((course_id, id)): Path<(CourseId, LessonId)>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let page = managed_page(&state, &caller, course_id).await?;
    let (lesson, _) = page
        .lesson(id)
        .ok_or_else(|| ApiError::not_found("lesson"))?;
    if_match.check(lesson.version)?;
    LessonRepo::new(state.table.clone())
        .delete(
            &manager(&caller, &page.course),
            &page.course,
            &page.outline,
            lesson,
        )
        .await
        .map_err(outline_conflict)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReorderRequest {
    /// Every lesson id of the course, exactly once, in the new order.
    pub lesson_ids: Vec<String>,
}

/// Reorders all lessons at once (the course's instructor or an admin).
#[utoipa::path(put, path = "/api/v1/courses/{courseId}/lessons/order", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    request_body = ReorderRequest,
    responses(
        (status = 200, description = "The lessons in their new order", body = LessonList),
        (status = 400, description = "Not exactly the course's lessons", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 409, description = "The lessons changed meanwhile", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn reorder_lessons(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    Json(body): Json<ReorderRequest>,
) -> ApiResult<Json<LessonList>> {
    let page = managed_page(&state, &caller, course_id).await?;
    let ids = body
        .lesson_ids
        .iter()
        .map(|id| LessonId::parse(id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::invalid_field("lessonIds", e.to_string()))?;
    let mut next = page.outline.clone();
    next.reorder(ids)
        .map_err(|e| ApiError::invalid_field("lessonIds", e.to_string()))?;
    next.version = page.outline.version + 1;
    LessonRepo::new(state.table.clone())
        .reorder(
            &manager(&caller, &page.course),
            &page.course,
            &page.outline,
            &next,
        )
        .await
        .map_err(outline_conflict)?;
    let data: Vec<LessonView> = next
        .lessons
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            page.lesson(*id)
                .map(|(l, _)| LessonView::new(l, i as u32 + 1, None))
        })
        .collect();
    Ok(Json(LessonList {
        total: data.len(),
        data,
    }))
}

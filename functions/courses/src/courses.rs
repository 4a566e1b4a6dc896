//! Courses themselves: create, update, publish, archive and unarchive, delete (cascading,
//! resumable). Contract: seed 002 `POST /api/courses`, `PUT` / `DELETE /api/courses/[courseId]`; issue
//! "Courses".

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::course::{
    Course, CourseCategory, CourseDescription, CourseStatus, CourseTitle, DifficultyLevel,
    HttpsUrl, Price,
};
use lectern_domain::user::{UserRole, now};
use lectern_domain::{CourseId, FieldErrors, UserId};
use lectern_store::courses::CourseRepo;
use lectern_store::users::UserRepo;
use lectern_web::views::Envelope;
use lectern_web::{
    ApiError, ApiResult, AppState, AuthUser, ErrorBody, IfMatch, Instructor, Json, Path,
    RequireRole, Tagged,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{managed_course, manager, may_manage};
use crate::views::{CourseView, InstructorView};

const TAG: &str = "courses";

/// The course's instructor as a course shows them (one get).
pub(crate) async fn instructor_view(
    state: &AppState,
    course: &Course,
) -> ApiResult<Option<InstructorView>> {
    let user = UserRepo::new(state.table.clone())
        .get(&course.tenant, course.instructor_id)
        .await?;
    Ok(user.as_ref().map(InstructorView::from))
}

/// Seed 002 `POST /api/courses`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCourseRequest {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// An https URL.
    pub thumbnail_url: Option<String>,
    pub category: CourseCategory,
    pub difficulty_level: DifficultyLevel,
    /// Minor units (cents); 0 or absent = free.
    pub price: Option<i64>,
    /// ISO 4217; default USD.
    pub currency: Option<String>,
    /// Admins may create a course for an instructor; instructors always create their own.
    pub instructor_id: Option<String>,
}

/// Creates a draft course. Instructors create their own; an admin may name the instructor.
#[utoipa::path(post, path = "/api/v1/courses", tag = TAG,
    security(("bearer" = [])),
    request_body = CreateCourseRequest,
    responses(
        (status = 201, description = "Created, as a draft", body = Envelope<CourseView>),
        (status = 400, description = "Invalid fields (named in `details`)", body = ErrorBody),
        (status = 403, description = "Not an instructor or admin", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub async fn create_course(
    State(state): State<AppState>,
    caller: RequireRole<Instructor>,
    Json(body): Json<CreateCourseRequest>,
) -> ApiResult<(StatusCode, Json<Envelope<CourseView>>)> {
    let mut errors = FieldErrors::new();
    let title = errors.check("title", CourseTitle::parse(&body.title));
    let description = errors.check("description", CourseDescription::parse(&body.description));
    let thumbnail_url = match &body.thumbnail_url {
        Some(url) => errors.check("thumbnailUrl", HttpsUrl::parse(url)).map(Some),
        None => Some(None),
    };
    let price = errors.check(
        "price",
        Price::parse(
            body.price.unwrap_or(0),
            body.currency.as_deref().unwrap_or("USD"),
        ),
    );
    let instructor_id = match (&body.instructor_id, caller.role) {
        (None, _) => Some(caller.id),
        (Some(id), UserRole::Admin) => errors.check("instructorId", UserId::parse(id)),
        (Some(id), _) if *id == caller.id.to_string() => Some(caller.id),
        (Some(_), _) => {
            return Err(ApiError::Forbidden(
                "instructors create courses only for themselves".into(),
            ));
        }
    };
    let (Some(title), Some(description), Some(thumbnail_url), Some(price), Some(instructor_id)) =
        (title, description, thumbnail_url, price, instructor_id)
    else {
        return Err(errors.into());
    };
    let instructor = UserRepo::new(state.table.clone())
        .get(&caller.tenant, instructor_id)
        .await?
        .filter(|u| matches!(u.role, UserRole::Instructor | UserRole::Admin))
        .ok_or_else(|| {
            ApiError::invalid_field("instructorId", "names no instructor of this tenant")
        })?;
    let course = Course::draft(
        caller.tenant.clone(),
        instructor.id,
        title,
        description,
        thumbnail_url,
        body.category,
        body.difficulty_level,
        price,
        now(),
    );
    CourseRepo::new(state.table.clone())
        .create(&caller.actor(), &course)
        .await?;
    let view = CourseView::new(&course, Some(InstructorView::from(&instructor)));
    Ok((
        StatusCode::CREATED,
        Json(Envelope::new("Course created successfully", view)),
    ))
}

/// Every field optional; `version` makes the update conditional on what was read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCourseRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub thumbnail_url: Option<String>,
    pub category: Option<CourseCategory>,
    pub difficulty_level: Option<DifficultyLevel>,
    pub price: Option<i64>,
    pub currency: Option<String>,
    pub version: Option<u64>,
}

/// Updates a course (its instructor or an admin). A stale `version` → 409; a stale `If-Match` → 412.
#[utoipa::path(put, path = "/api/v1/courses/{courseId}", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"),
           ("If-Match" = Option<String>, Header, description = "The course's `ETag` as read: a course changed since → 412")),
    request_body = UpdateCourseRequest,
    responses(
        (status = 200, description = "Updated", body = Envelope<CourseView>,
            headers(("ETag" = String, description = "The course's new entity tag"))),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 409, description = "Changed since read (`stale_version`)", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the course is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn update_course(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    if_match: IfMatch,
    Json(body): Json<UpdateCourseRequest>,
) -> ApiResult<Tagged<Envelope<CourseView>>> {
    let course = managed_course(&state, &caller, course_id).await?;
    if_match.check(course.version)?;
    if body.version.is_some_and(|v| v != course.version) {
        return Err(ApiError::conflict(
            "stale_version",
            format!(
                "the course is at version {}, not the one you read",
                course.version
            ),
        ));
    }
    let mut errors = FieldErrors::new();
    let mut next = course.clone();
    if let Some(v) = &body.title {
        next.title = errors
            .check("title", CourseTitle::parse(v))
            .unwrap_or(next.title);
    }
    if let Some(v) = &body.description {
        next.description = errors
            .check("description", CourseDescription::parse(v))
            .unwrap_or(next.description);
    }
    if let Some(v) = &body.thumbnail_url {
        next.thumbnail_url = errors
            .check("thumbnailUrl", HttpsUrl::parse(v))
            .or(next.thumbnail_url);
    }
    if body.price.is_some() || body.currency.is_some() {
        let amount = body.price.unwrap_or(course.price.amount as i64);
        let currency = body
            .currency
            .clone()
            .unwrap_or_else(|| course.price.currency.to_string());
        next.price = errors
            .check("price", Price::parse(amount, &currency))
            .unwrap_or(next.price);
    }
    next.category = body.category.unwrap_or(next.category);
    next.difficulty_level = body.difficulty_level.unwrap_or(next.difficulty_level);
    errors.into_result()?;
    if next != course {
        next.version = course.version + 1;
        next.updated_at = now();
        CourseRepo::new(state.table.clone())
            .update(&manager(&caller, &course), &course, &next)
            .await
            .map_err(|e| if_match.lost_race(e))?;
    }
    let instructor = instructor_view(&state, &next).await?;
    Ok(Tagged::new(
        next.version,
        Envelope::new(
            "Course updated successfully",
            CourseView::new(&next, instructor),
        ),
    ))
}

/// Publishes a draft: students can see it from now on. Publishing a published course changes nothing.
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/publish", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    responses(
        (status = 200, description = "Published", body = Envelope<CourseView>),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn publish_course(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<Json<Envelope<CourseView>>> {
    let course = managed_course(&state, &caller, course_id).await?;
    let mut next = course.clone();
    if !course.is_published() {
        let now = now();
        next.status = CourseStatus::Published;
        next.published_at = Some(now);
        next.updated_at = now;
        next.version = course.version + 1;
        CourseRepo::new(state.table.clone())
            .update(&manager(&caller, &course), &course, &next)
            .await?;
    }
    let instructor = instructor_view(&state, &next).await?;
    Ok(Json(Envelope::new(
        "Course published",
        CourseView::new(&next, instructor),
    )))
}

/// Archives a published course (Canvas: concludes it): out of the catalog, closed to new
/// enrollments and purchases; its enrolled students keep reading it with their progress and grades.
/// What an instructor does with a course they may not delete (paid enrollments). Archiving an
/// archived course changes nothing; a draft is deleted instead (409 `course_not_published`).
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/archive", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    responses(
        (status = 200, description = "Archived", body = Envelope<CourseView>),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 409, description = "A draft, which has no students to keep (`course_not_published`), or changed meanwhile (`stale_version`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn archive_course(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<Json<Envelope<CourseView>>> {
    let next = move_between(&state, &caller, course_id, CourseStatus::Archived).await?;
    let instructor = instructor_view(&state, &next).await?;
    Ok(Json(Envelope::new(
        "Course archived",
        CourseView::new(&next, instructor),
    )))
}

/// Publishes an archived course again: back in the catalog and open to enrollment. Unarchiving a
/// published course changes nothing; a draft is published instead (409 `course_not_archived`).
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/unarchive", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    responses(
        (status = 200, description = "Published again", body = Envelope<CourseView>),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 409, description = "A draft, which is published instead (`course_not_archived`), or changed meanwhile (`stale_version`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn unarchive_course(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
) -> ApiResult<Json<Envelope<CourseView>>> {
    let next = move_between(&state, &caller, course_id, CourseStatus::Published).await?;
    let instructor = instructor_view(&state, &next).await?;
    Ok(Json(Envelope::new(
        "Course unarchived",
        CourseView::new(&next, instructor),
    )))
}

/// Moves a managed course between published and archived (`to` is one of the two): already there,
/// it is unchanged; a draft is refused (409: deleted or published instead, never archived).
async fn move_between(
    state: &AppState,
    caller: &AuthUser,
    course_id: CourseId,
    to: CourseStatus,
) -> ApiResult<Course> {
    let course = managed_course(state, caller, course_id).await?;
    if course.status == to {
        return Ok(course);
    }
    if course.status == CourseStatus::Draft {
        return Err(match to {
            CourseStatus::Archived => ApiError::conflict(
                "course_not_published",
                "a draft has no students to keep: delete it instead of archiving it",
            ),
            _ => ApiError::conflict(
                "course_not_archived",
                "the course is a draft: publish it instead",
            ),
        });
    }
    let next = with_status(&course, to);
    CourseRepo::new(state.table.clone())
        .update(&manager(caller, &course), &course, &next)
        .await?;
    Ok(next)
}

/// The next version of a course with another status.
fn with_status(course: &Course, status: CourseStatus) -> Course {
    let mut next = course.clone();
    next.status = status;
    next.updated_at = now();
    next.version = course.version + 1;
    next
}

/// Deletes a course with everything in it (its instructor or an admin): lessons, quizzes and their
/// attempts, enrollments, ratings, and prerequisite links. The course disappears at once; the rest
/// follows in batches, and deleting again resumes an interrupted deletion. A course whose payments
/// still entitle students to it is not deleted (409 naming how many): they paid for access, so it
/// is archived instead ([`archive_course`]).
#[utoipa::path(delete, path = "/api/v1/courses/{courseId}", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"),
           ("If-Match" = Option<String>, Header, description = "The course's `ETag` as read: a course changed since → 412")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the course's instructor or an admin", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
        (status = 409, description = "Changed while deleting; retry (`stale_version`), or payments entitle students to the course (`course_has_paid_enrollments`, naming how many: archive it instead)", body = ErrorBody),
        (status = 412, description = "`If-Match` names a version the course is no longer at (`precondition_failed`)", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller))]
pub async fn delete_course(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let repo = CourseRepo::new(state.table.clone());
    // A course being deleted is invisible to everyone, but its managers may resume the deletion.
    let course = repo
        .get(&caller.tenant, course_id)
        .await?
        .filter(|c| c.is_published() || c.deleting_since.is_some() || may_manage(&caller, c))
        .ok_or_else(|| ApiError::not_found("course"))?;
    if !may_manage(&caller, &course) {
        return Err(ApiError::Forbidden(
            "only the course's instructor or an admin may delete it".into(),
        ));
    }
    if_match.check(course.version)?;
    repo.delete_all(&manager(&caller, &course), &course, now())
        .await
        .map_err(|e| if_match.lost_race(e))?;
    Ok(StatusCode::NO_CONTENT)
}

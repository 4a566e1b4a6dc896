//! Ratings and reviews. Contract: seed 002 `CourseDetails.ratings`; issue "Courses" §Ratings.

use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::rating::{Rating, parse_review, parse_stars};
use lectern_domain::user::now;
use lectern_domain::{CourseId, FieldErrors, RatingId};
use lectern_store::StoreError;
use lectern_store::ratings::{Rater, RatingRepo};
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::views::Envelope;
use lectern_web::{
    ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, MaybeAuthUser, Path, Query,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{visible_course, visible_page};
use crate::views::RatingView;

const TAG: &str = "ratings";

/// How often a rating that lost a race with another is retried on fresh data.
const RETRIES: usize = 5;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateRequest {
    /// 1–5.
    pub rating: i64,
    /// At most 2,000 characters.
    #[serde(default)]
    pub review: String,
}

/// Rates the course (enrolled students, one rating each: rating again replaces it).
#[utoipa::path(post, path = "/api/v1/courses/{courseId}/ratings", tag = TAG,
    security(("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id")),
    request_body = RateRequest,
    responses(
        (status = 201, description = "Rated", body = Envelope<RatingView>),
        (status = 200, description = "The caller's rating, replaced", body = Envelope<RatingView>),
        (status = 400, description = "Invalid fields", body = ErrorBody),
        (status = 403, description = "Not enrolled in the course", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, body))]
pub async fn rate(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(course_id): Path<CourseId>,
    Json(body): Json<RateRequest>,
) -> ApiResult<(StatusCode, Json<Envelope<RatingView>>)> {
    let mut errors = FieldErrors::new();
    let stars = errors.check("rating", parse_stars(body.rating));
    let review = errors.check("review", parse_review(&body.review));
    let (Some(stars), Some(review)) = (stars, review) else {
        return Err(errors.into());
    };
    let repo = RatingRepo::new(state.table.clone());
    for _ in 0..RETRIES {
        let page = visible_page(&state, Some(&caller), course_id).await?;
        let course = &page.course;
        let Rater {
            enrollment,
            previous,
            user,
        } = repo.rater(&caller.tenant, course.id, caller.id).await?;
        if !enrollment.is_some_and(|e| e.is_active() || e.is_completed()) {
            return Err(ApiError::Forbidden(
                "only students enrolled in the course may rate it".into(),
            ));
        }
        let user =
            user.ok_or_else(|| ApiError::Unauthorized("the caller no longer exists".into()))?;
        let now = now();
        let rating = Rating {
            id: previous.as_ref().map_or_else(RatingId::new, |p| p.id),
            course_id: course.id,
            student_id: caller.id,
            student_first_name: user.first_name.as_str().to_owned(),
            student_last_name: user.last_name.as_str().to_owned(),
            rating: stars,
            review: review.clone(),
            created_at: previous.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
        };
        match repo
            .rate(
                &caller.member(),
                course,
                &page.recent_ratings,
                previous.as_ref(),
                &rating,
            )
            .await
        {
            Ok(()) => {
                let (status, message) = if previous.is_some() {
                    (StatusCode::OK, "Rating updated")
                } else {
                    (StatusCode::CREATED, "Rating recorded")
                };
                return Ok((
                    status,
                    Json(Envelope::new(message, RatingView::new(&rating))),
                ));
            }
            Err(StoreError::TransactionCanceled { .. } | StoreError::TransactionConflict) => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "concurrent_change",
        "the course's ratings kept changing while this request ran; retry",
    ))
}

/// The course's ratings, newest first (anyone who can see the course).
#[utoipa::path(get, path = "/api/v1/courses/{courseId}/ratings", tag = TAG,
    security((), ("bearer" = [])),
    params(("courseId" = String, Path, description = "The course's id"), PageParams),
    responses(
        (status = 200, description = "A page of ratings", body = Paginated<RatingView>),
        (status = 400, description = "Bad limit or cursor", body = ErrorBody),
        (status = 404, description = "No such course", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, caller, params))]
pub async fn list_ratings(
    State(state): State<AppState>,
    MaybeAuthUser(caller): MaybeAuthUser,
    Path(course_id): Path<CourseId>,
    Query(params): Query<PageParams>,
) -> ApiResult<Paginated<RatingView>> {
    let (limit, cursor) = params.parse()?;
    let course = visible_course(&state, caller.as_ref(), course_id).await?;
    let page = RatingRepo::new(state.table.clone())
        .of_course(&course.tenant, course.id, limit, cursor)
        .await?;
    Ok(Paginated {
        data: page.ratings.iter().map(RatingView::new).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    })
}

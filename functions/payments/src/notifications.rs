//! The caller's notifications: list, mark read. Contract: seed 002 (`GET /notifications`, `POST
//! /notifications/read`). They are written by what causes them (see [`crate::settle`]).

use axum::extract::State;
use lectern_store::notifications::NotificationRepo;
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::TAG;
use crate::views::NotificationView;

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = TAG,
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of notifications", body = Paginated<NotificationView>),
        (status = 400, description = "Invalid limit or cursor", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(params): Query<PageParams>,
) -> ApiResult<Paginated<NotificationView>> {
    let (limit, cursor) = params.parse()?;
    let (items, next) = NotificationRepo::new(state.table.clone())
        .of_user(&caller.tenant, caller.id, limit, cursor)
        .await?;
    Ok(Paginated {
        data: items.iter().map(NotificationView::from).collect(),
        next_cursor: next.map(|c| c.to_string()),
    })
}

/// `POST /notifications/read`: which to mark read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkRead {
    /// The notifications' ids; absent: all of the latest 100.
    pub ids: Option<Vec<String>>,
}

/// How many notifications changed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkedRead {
    pub marked: usize,
}

/// Marks the caller's notifications read (seed 002 `POST /notifications/read`).
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = TAG,
    security(("bearer" = [])),
    request_body = MarkRead,
    responses(
        (status = 200, description = "Marked", body = MarkedRead),
        (status = 400, description = "More than 100 ids", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn mark_notifications_read(
    State(state): State<AppState>,
    caller: AuthUser,
    Json(body): Json<MarkRead>,
) -> ApiResult<Json<MarkedRead>> {
    if body.ids.as_ref().is_some_and(|ids| ids.len() > 100) {
        return Err(ApiError::invalid_field("ids", "at most 100 ids"));
    }
    let marked = NotificationRepo::new(state.table.clone())
        .mark_read(&caller.member(), body.ids.as_deref())
        .await?;
    Ok(Json(MarkedRead { marked }))
}

//! Dead letters: what the payment queues could not process after their max receive count. Admins list
//! them and send them back once the cause is fixed. Contract: issue "Paid courses…" (admin
//! dead letters).

use std::sync::Arc;

use axum::Extension;
use lectern_queue::Queue;
use lectern_web::{Admin, ApiError, ApiResult, ErrorBody, Json, Query, RequireRole};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::Payments;
use crate::handlers::TAG;

/// A message in a dead-letter queue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    /// `payment-events` or `payment-confirmations`.
    pub queue: String,
    pub message_id: String,
    /// The message as it was sent (a provider event, or `{tenant, paymentId}`).
    pub body: String,
    /// How often it was received before it was set aside.
    pub receive_count: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<String>,
}

/// Which queue (both when absent).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct QueueSelection {
    /// `payment-events` or `payment-confirmations`.
    pub queue: Option<String>,
}

fn selected<'a>(ctx: &'a Payments, which: Option<&str>) -> ApiResult<Vec<&'a Arc<dyn Queue>>> {
    let all = [&ctx.ingest.events, &ctx.confirmations];
    match which {
        None => Ok(all.to_vec()),
        Some(name) => all
            .into_iter()
            .find(|q| q.name() == name)
            .map(|q| vec![q])
            .ok_or_else(|| {
                ApiError::invalid_field("queue", "must be payment-events or payment-confirmations")
            }),
    }
}

fn unavailable(e: lectern_queue::QueueError) -> ApiError {
    ApiError::Unavailable(anyhow::Error::new(e).context("dead-letter queue"))
}

/// Up to 10 messages of each dead-letter queue (looking does not remove them).
#[utoipa::path(get, path = "/api/v1/admin/dead-letters", tag = TAG,
    security(("bearer" = [])),
    params(QueueSelection),
    responses(
        (status = 200, description = "Dead letters", body = [DeadLetterView]),
        (status = 403, description = "Admins only", body = ErrorBody),
    ))]
pub async fn dead_letters(
    Extension(ctx): Extension<Arc<Payments>>,
    _admin: RequireRole<Admin>,
    Query(selection): Query<QueueSelection>,
) -> ApiResult<Json<Vec<DeadLetterView>>> {
    let mut out = Vec::new();
    for queue in selected(&ctx, selection.queue.as_deref())? {
        for letter in queue.dead_letters(10).await.map_err(unavailable)? {
            out.push(DeadLetterView {
                queue: queue.name().to_owned(),
                message_id: letter.id,
                body: letter.body,
                receive_count: letter.receive_count,
                sent_at: letter.sent_at.map(lectern_web::views::timestamp),
            });
        }
    }
    Ok(Json(out))
}

/// How many messages went back.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Redriven {
    pub redriven: usize,
}

/// Sends every dead letter back to its queue, to be processed again.
#[utoipa::path(post, path = "/api/v1/admin/dead-letters/redrive", tag = TAG,
    security(("bearer" = [])),
    params(QueueSelection),
    responses(
        (status = 200, description = "Moved back", body = Redriven),
        (status = 403, description = "Admins only", body = ErrorBody),
    ))]
pub async fn redrive(
    Extension(ctx): Extension<Arc<Payments>>,
    _admin: RequireRole<Admin>,
    Query(selection): Query<QueueSelection>,
) -> ApiResult<Json<Redriven>> {
    let mut redriven = 0;
    for queue in selected(&ctx, selection.queue.as_deref())? {
        redriven += queue.redrive().await.map_err(unavailable)?;
    }
    Ok(Json(Redriven { redriven }))
}

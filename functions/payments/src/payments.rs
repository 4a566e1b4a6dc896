//! A student's payments: list, read, confirm. Contract: issue "Paid courses…" §Money after the fact;
//! seed 003 (`confirm_payment`).

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use lectern_domain::payment::{Payment, PaymentStatus};
use lectern_domain::user::now;
use lectern_domain::{CourseId, PaymentId};
use lectern_payments::IntentStatus;
use lectern_queue::OutgoingMessage;
use lectern_store::payments::PaymentRepo;
use lectern_web::pagination::{PageParams, Paginated};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path, Query};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::visible_payment;
use crate::facts::{self, Applied, Fact, ProviderEvent};
use crate::provider::provider_error;
use crate::settle::SettleMessage;
use crate::views::PaymentView;
use crate::{Payments, TAG};

/// Filters of the payments list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    /// pending | completed | failed | refunded | disputed
    pub status: Option<String>,
    pub course_id: Option<String>,
    /// Admins: one student's payments.
    pub user_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The caller's payments, newest first; an admin's: the tenant's (or one student's).
#[utoipa::path(get, path = "/api/v1/payments", tag = TAG,
    security(("bearer" = [])),
    params(PaymentFilter),
    responses(
        (status = 200, description = "A page of payments", body = Paginated<PaymentView>),
        (status = 400, description = "Invalid filter or cursor", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn list_payments(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(filter): Query<PaymentFilter>,
) -> ApiResult<Paginated<PaymentView>> {
    let (limit, cursor) = PageParams {
        limit: filter.limit,
        cursor: filter.cursor.clone(),
    }
    .parse()?;
    let status = filter
        .status
        .as_deref()
        .map(|s| {
            PaymentStatus::parse(s).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "must be pending, completed, failed, refunded or disputed",
                )
            })
        })
        .transpose()?;
    let course = filter
        .course_id
        .as_deref()
        .map(|c| CourseId::parse(c).map_err(|e| ApiError::invalid_field("courseId", e.to_string())))
        .transpose()?;
    let user = filter
        .user_id
        .as_deref()
        .map(|u| {
            lectern_domain::UserId::parse(u)
                .map_err(|e| ApiError::invalid_field("userId", e.to_string()))
        })
        .transpose()?;
    let keep = |p: &Payment| {
        status.is_none_or(|s| p.status() == s) && course.is_none_or(|c| p.course_id == c)
    };
    let repo = PaymentRepo::new(state.table.clone());
    let page = match (caller.is_admin(), user) {
        (true, None) => repo.all(&caller.tenant, limit, cursor, keep).await?,
        (true, Some(user)) => {
            repo.of_user(&caller.tenant, user, limit, cursor, keep)
                .await?
        }
        (false, _) => {
            repo.of_user(&caller.tenant, caller.id, limit, cursor, keep)
                .await?
        }
    };
    Ok(Paginated {
        data: page.payments.iter().map(PaymentView::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    })
}

/// One payment (the payer's or an admin's).
#[utoipa::path(get, path = "/api/v1/payments/{paymentId}", tag = TAG,
    security(("bearer" = [])),
    params(("paymentId" = String, Path, description = "The payment's id")),
    responses(
        (status = 200, description = "The payment", body = PaymentView),
        (status = 404, description = "No such payment the caller may see", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn get_payment(
    State(state): State<AppState>,
    caller: AuthUser,
    Path(payment_id): Path<PaymentId>,
) -> ApiResult<Json<PaymentView>> {
    let payment = visible_payment(&state, &caller, payment_id).await?;
    Ok(Json(PaymentView::from(&payment)))
}

/// The payment's current state (seed 003 `confirm_payment`). When the provider says the payment
/// succeeded and its webhook has not been processed yet, this records the success and queues the same
/// settlement the webhook would (once: the fact is written with a confirmation event id of its own,
/// and settling is idempotent).
#[utoipa::path(post, path = "/api/v1/payments/{paymentId}/confirm", tag = TAG,
    security(("bearer" = [])),
    params(("paymentId" = String, Path, description = "The payment's id")),
    responses(
        (status = 200, description = "The payment as it is now", body = PaymentView),
        (status = 404, description = "No such payment the caller may see", body = ErrorBody),
        (status = 503, description = "The provider or the queue could not be reached", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn confirm_payment(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<Payments>>,
    caller: AuthUser,
    Path(payment_id): Path<PaymentId>,
) -> ApiResult<Json<PaymentView>> {
    let payment = visible_payment(&state, &caller, payment_id).await?;
    if payment.succeeded_at.is_some() {
        return Ok(Json(PaymentView::from(&payment)));
    }
    let intent = ctx
        .provider
        .retrieve_intent(&payment.provider_payment_id)
        .await
        .map_err(provider_error)?;
    if intent.status != IntentStatus::Succeeded {
        return Ok(Json(PaymentView::from(&payment)));
    }
    let at = now();
    let event = ProviderEvent {
        provider: payment.provider.clone(),
        id: format!("confirm:{}", payment.provider_payment_id),
        event_type: "payment_intent.succeeded".into(),
        created: at,
        payment_intent: Some(payment.provider_payment_id.clone()),
        amount: Some(intent.amount),
        currency: Some(intent.currency.clone()),
        names_our_payment: true,
        fact: Some(Fact::Succeeded),
    };
    let repo = PaymentRepo::new(state.table.clone());
    let payment_id = payment.id;
    let applied = facts::apply_to(&repo, &event, Some(payment), at)
        .await
        .map_err(|e| match e {
            facts::ApplyError::Store(e) => ApiError::from(e),
            other => ApiError::Internal(other.into()),
        })?;
    let current = match applied {
        Applied::Changed { payment, .. } => *payment,
        Applied::Mismatch => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "the provider's amount or currency differs from payment {payment_id}"
            )));
        }
        // Applied by another path meanwhile: answer what it recorded.
        _ => repo
            .get(&caller.tenant, payment_id)
            .await?
            .ok_or_else(|| ApiError::not_found("payment"))?,
    };
    queue_settlement(&ctx, &current).await?;
    Ok(Json(PaymentView::from(&current)))
}

/// Puts a payment on the confirmation queue. The deduplication id names the payment's version, so
/// the same state is settled once however many paths ask.
pub async fn queue_settlement(ctx: &Payments, payment: &Payment) -> ApiResult<()> {
    let body = serde_json::to_string(&SettleMessage::of(payment))
        .map_err(|e| ApiError::Internal(e.into()))?;
    ctx.confirmations
        .send(OutgoingMessage {
            body,
            dedup_id: Some(format!("{}:{}", payment.id, payment.version)),
            delay: None,
        })
        .await
        .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e).context("confirmation queue")))
}

//! Refunds through the provider. Contract: issue "Paid courses…" §Money after the fact (refunds).
//! The payment changes when the provider's `charge.refunded` event arrives, as any fact does.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use lectern_domain::PaymentId;
use lectern_payments::CreateRefund;
use lectern_store::payments::PaymentRepo;
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{may_refund, refund_power};
use crate::provider::provider_error;
use crate::views::PaymentView;
use crate::{Payments, TAG};

/// `POST /payments/{paymentId}/refund`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    /// Minor units; the whole remaining amount when absent.
    pub amount: Option<i64>,
    pub reason: Option<String>,
}

/// The refund the provider accepted. The payment changes when the provider's `charge.refunded` event
/// arrives (and a whole refund revokes the enrollment).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundAccepted {
    /// The provider's refund id (`re_…`).
    pub refund_id: String,
    pub status: String,
    pub amount: i64,
    pub payment: PaymentView,
}

/// Refunds a payment through the provider: admins, or the course's instructor within the refund
/// window after the payment (`LECTERN_REFUND_WINDOW_DAYS`, default 14).
#[utoipa::path(post, path = "/api/v1/payments/{paymentId}/refund", tag = TAG,
    security(("bearer" = [])),
    params(("paymentId" = String, Path, description = "The payment's id")),
    request_body = RefundRequest,
    responses(
        (status = 202, description = "The provider accepted the refund; the payment follows with its event", body = RefundAccepted),
        (status = 400, description = "Invalid amount", body = ErrorBody),
        (status = 403, description = "Not the course's instructor, or past the refund window", body = ErrorBody),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, description = "Not paid, or refunded already (`not_refundable`)", body = ErrorBody),
        (status = 502, description = "The payment provider refused", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(user_id = %caller.id))]
pub async fn refund_payment(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<Payments>>,
    caller: AuthUser,
    Path(id): Path<PaymentId>,
    Json(body): Json<RefundRequest>,
) -> ApiResult<(StatusCode, Json<RefundAccepted>)> {
    let repo = PaymentRepo::new(state.table.clone());
    let power = refund_power(&caller)?;
    // The refund happens at the provider, where no transaction of ours can check who asks: the
    // repository reads the caller's account beside the payment.
    let payment = repo
        .for_refund(&caller.actor(power), id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    may_refund(&state, &ctx, &caller, &payment).await?;
    let remaining = payment.amount - payment.refunded_amount;
    if payment.succeeded_at.is_none() || remaining <= 0 {
        return Err(ApiError::conflict(
            "not_refundable",
            "only a paid payment that is not wholly refunded can be refunded",
        ));
    }
    let amount = body.amount.unwrap_or(remaining);
    if amount <= 0 || amount > remaining {
        return Err(ApiError::invalid_field(
            "amount",
            format!("must be between 1 and {remaining} (what is left to refund)"),
        ));
    }
    let mut metadata = BTreeMap::from([
        ("tenantId".to_owned(), payment.tenant.to_string()),
        ("paymentId".to_owned(), payment.id.to_string()),
        ("requestedBy".to_owned(), caller.id.to_string()),
    ]);
    if let Some(reason) = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        metadata.insert("reason".into(), reason.chars().take(500).collect());
    }
    let refund = ctx
        .provider
        .refund(&CreateRefund {
            payment_intent: payment.provider_payment_id.clone(),
            amount: Some(amount),
            // The same refund asked twice (a retried request) is one refund at the provider.
            idempotency_key: format!("refund:{}:{}:{amount}", payment.id, payment.refunded_amount),
            metadata,
        })
        .await
        .map_err(provider_error)?;
    if let Some(local) = &ctx.local {
        // Stripe sends `charge.refunded` after a refund; the local provider's is delivered here.
        crate::simulation::deliver_local_refund(&ctx, local, &payment, amount).await?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(RefundAccepted {
            refund_id: refund.id,
            status: refund.status,
            amount: refund.amount,
            payment: PaymentView::from(&payment),
        }),
    ))
}

//! The local provider's stand-in for Stripe's side. Contract: issue "Paid courses…" §Creating a
//! payment (local provider).
//!
//! With the local provider, `POST /dev/payments/{paymentId}/simulate` settles the payment's intent as
//! a card payment would, builds the Stripe-format event, signs it with the webhook secret and hands it
//! to the webhook endpoint's [`receive`], so the whole path (signature, queue, workers) runs offline.
//! A refund through the local provider is followed by its `charge.refunded` the same way.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use lectern_domain::PaymentId;
use lectern_domain::payment::Payment;
use lectern_domain::user::now;
use lectern_payments::{LocalProvider, Outcome, PaymentProvider, events, webhook};
use lectern_web::{ApiError, ApiResult, AppState, AuthUser, ErrorBody, Json, Path};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Payments;
use crate::access::visible_payment;
use crate::context::Ingest;
use crate::provider::provider_error;
use crate::views::PaymentView;
use crate::webhook::{TAG, receive};

/// Signs an event as Stripe would and hands it to the webhook endpoint's handler.
async fn deliver(ctx: &Ingest, event: &serde_json::Value) -> ApiResult<()> {
    let body = serde_json::to_vec(event).map_err(|e| ApiError::Internal(e.into()))?;
    let header = webhook::sign(
        ctx.secret()?,
        time::OffsetDateTime::now_utc().unix_timestamp(),
        &body,
    );
    receive(ctx, Some(&header), &body).await.map(|_| ())
}

/// `POST /dev/payments/{paymentId}/simulate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    pub outcome: SimulatedOutcome,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SimulatedOutcome {
    Succeeded,
    Failed,
}

/// What the simulation sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Simulated {
    /// The id of the event posted to the webhook endpoint.
    pub event_id: String,
    pub event_type: String,
    /// The payment as it is now (the workers update it shortly after).
    pub payment: PaymentView,
}

/// Local provider only: pays (or fails) a payment as the student's card would, and posts the
/// provider's signed event to the webhook endpoint. The payment's owner or an admin may call it.
#[utoipa::path(post, path = "/api/v1/dev/payments/{paymentId}/simulate", tag = TAG,
    security(("bearer" = [])),
    params(("paymentId" = String, Path, description = "The payment's id")),
    request_body = Simulation,
    responses(
        (status = 202, description = "The event was posted to the webhook endpoint", body = Simulated),
        (status = 404, description = "No such payment, or the local provider is not active", body = ErrorBody),
        (status = 409, description = "The intent cannot take this outcome (already succeeded)", body = ErrorBody),
    ))]
pub async fn simulate(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<Payments>>,
    caller: AuthUser,
    Path(payment_id): Path<PaymentId>,
    Json(body): Json<Simulation>,
) -> ApiResult<(axum::http::StatusCode, Json<Simulated>)> {
    let Some(local) = &ctx.local else {
        return Err(ApiError::not_found("route"));
    };
    let payment = visible_payment(&state, &caller, payment_id).await?;
    let (outcome, kind) = match body.outcome {
        SimulatedOutcome::Succeeded => (Outcome::Succeeded, "payment_intent.succeeded"),
        SimulatedOutcome::Failed => (Outcome::Failed, "payment_intent.payment_failed"),
    };
    let intent = local
        .settle(&payment.provider_payment_id, outcome)
        .map_err(|e| match e {
            lectern_payments::ProviderError::Rejected { message, .. } => {
                ApiError::conflict("cannot_simulate", message)
            }
            other => provider_error(other),
        })?;
    let event_id = events::new_event_id();
    let event = events::payment_intent_event(
        kind,
        &intent,
        &event_id,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    );
    deliver(&ctx.ingest, &event).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(Simulated {
            event_id,
            event_type: kind.into(),
            payment: PaymentView::from(&payment),
        }),
    ))
}

/// Stripe's `charge.refunded` after a refund through the local provider.
pub async fn deliver_local_refund(
    ctx: &Payments,
    local: &Arc<LocalProvider>,
    payment: &Payment,
    amount: i64,
) -> ApiResult<()> {
    let intent = local
        .retrieve_intent(&payment.provider_payment_id)
        .await
        .map_err(provider_error)?;
    let charge = intent
        .latest_charge
        .clone()
        .unwrap_or_else(|| format!("ch_for_{}", intent.id));
    let event = events::charge_refunded_event(
        &charge,
        &intent.id,
        payment.amount,
        payment.refunded_amount + amount,
        payment.currency.as_str(),
        &events::new_event_id(),
        now().unix_timestamp(),
    );
    deliver(&ctx.ingest, &event).await
}

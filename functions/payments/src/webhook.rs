//! Stripe webhooks in. Contract: issue "Paid courses…" §Stripe webhook ingestion.
//!
//! `POST /webhooks/stripe` is its own Lambda: it verifies the `Stripe-Signature` of the raw body,
//! puts the raw event on the events queue (deduplicated by event id) and answers 200. Nothing else
//! happens in the request: the webhook worker does the work. The local provider's simulation
//! ([`crate::simulation`]) posts its events through the same [`receive`].

use std::sync::Arc;

use axum::Extension;
use axum::http::HeaderMap;
use lectern_payments::webhook;
use lectern_queue::OutgoingMessage;
use lectern_web::{ApiError, ApiResult, ErrorBody, Json, RawBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::context::Ingest;

pub(crate) const TAG: &str = "webhooks";

/// How far a signature's timestamp may be from now (Stripe's default tolerance).
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// The acknowledgement Stripe gets.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Received {
    pub received: bool,
}

#[derive(Deserialize)]
struct EventId {
    id: String,
}

/// Verifies and enqueues one webhook. Shared by the endpoint and the local simulation.
pub async fn receive(ctx: &Ingest, signature: Option<&str>, body: &[u8]) -> ApiResult<Received> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    webhook::verify(
        signature,
        body,
        ctx.secret()?,
        now,
        SIGNATURE_TOLERANCE_SECS,
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "webhook refused");
        ApiError::bad_request("invalid_signature", format!("webhook signature: {e}"))
    })?;
    let event: EventId = serde_json::from_slice(body).map_err(|_| {
        ApiError::bad_request(
            "invalid_event",
            "the body is not a provider event with an id",
        )
    })?;
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("invalid_event", "the body is not UTF-8"))?;
    ctx.events
        .send(OutgoingMessage {
            body,
            dedup_id: Some(event.id.clone()),
            delay: None,
        })
        .await
        .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e).context("events queue")))?;
    tracing::info!(event_id = %event.id, "webhook queued");
    Ok(Received { received: true })
}

/// Stripe's webhook endpoint: signature checked against the raw body, event queued, 200.
#[utoipa::path(post, path = "/api/v1/webhooks/stripe", tag = TAG,
    params(("Stripe-Signature" = String, Header, description = "`t=…,v1=…`: HMAC-SHA256 of `{t}.{body}` with the endpoint's signing secret")),
    request_body(content = Object, description = "A Stripe event, exactly as Stripe sent it"),
    responses(
        (status = 200, description = "Verified and queued", body = Received),
        (status = 400, description = "Missing, malformed, stale or wrong signature (`invalid_signature`), or not an event", body = ErrorBody),
        (status = 503, description = "The queue could not be reached; Stripe retries", body = ErrorBody),
    ))]
pub async fn stripe_webhook(
    Extension(ctx): Extension<Arc<Ingest>>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<Received>> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    receive(&ctx, signature, &body).await.map(Json)
}

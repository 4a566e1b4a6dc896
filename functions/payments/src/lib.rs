//! The payments route groups and workers: paid courses through a payment provider (Stripe, or a local
//! stand-in), webhooks in through a queue, payments settled by queue workers, invoices, refunds,
//! disputes, the wallet and revenue analytics.
//!
//! Contract: issue "Paid courses: Stripe payments, webhook ingestion through SQS, payment
//! confirmation, invoices, refunds and disputes"; seed 003; seed 000 (wallet). Under `/api/v1`.
//!
//! # Flow
//! `POST /payments/course` → a pending payment and the provider's client secret → the student pays →
//! the provider posts `payment_intent.succeeded` to `POST /webhooks/stripe` (its own Lambda: verify,
//! enqueue, 200) → the events worker applies it to the payment once and queues the payment for
//! settlement → the confirmation worker pays the invoice (gapless number), enrolls the student and
//! notifies them.
//!
//! # Layout
//! - [`access`]: who may see a payment, refund it, read revenue, see dead letters.
//! - [`views`]: the response shapes shared by several endpoints.
//! - [`provider`]: the provider's refusals in our words; a payment's client secret.
//! - [`checkout`]: buying a course (create a payment).
//! - [`payments`]: list, read, confirm a payment.
//! - [`refunds`]: refund a payment through the provider.
//! - [`invoices`]: invoices, overdue invoices.
//! - [`disputes`]: the tenant's disputes.
//! - [`wallet`]: the student's wallet and spending.
//! - [`analytics`]: revenue by period and by course.
//! - [`notifications`]: the caller's notifications.
//! - [`dead_letters`]: dead letters: list, redrive (a tenant's admin their tenant's, platform
//!   operators all).
//! - [`webhook`]: the Stripe webhook endpoint.
//! - [`simulation`]: the local provider's stand-in for Stripe's side (`/dev/…/simulate`, refunds'
//!   events).
//! - [`facts`], [`settle`], [`workers`]: `lectern_payments`' (the queue workers are their own
//!   function, `functions/payment-workers`, which does not link the HTTP stack): applying a provider
//!   event to its payment, settling a payment, the two queue workers.
//! - [`context`]: the provider, webhook secret and queues, from the environment; [`queues`] opens
//!   the queues, [`operators`] names the platform operators.
//! - `routes` / `webhook_group::routes` (with the OpenAPI description) and `router` / `webhook_router`
//!   (without it): the two Lambdas' route tables and apps.

pub mod access;
pub mod analytics;
pub mod checkout;
pub mod context;
pub mod dead_letters;
pub mod disputes;
pub mod invoices;
pub mod notifications;
pub mod operators;
pub mod payments;
pub mod provider;
pub mod queues;
pub mod refunds;
pub mod simulation;
pub mod views;
pub mod wallet;
pub mod webhook;

pub use lectern_payments::{facts, settle, workers};

use std::sync::Arc;

use axum::routing::post;
use axum::{Extension, Router};
pub use context::{Ingest, Payments};
use lectern_web::AppState;

/// The OpenAPI tag of the payments group's operations.
pub const TAG: &str = "payments";

lectern_web::route_group! {
    "/api/v1/payments/course" => { POST => checkout::create_course_payment },
    "/api/v1/payments" => { GET => payments::list_payments },
    "/api/v1/payments/analytics" => { GET => analytics::analytics },
    "/api/v1/payments/{paymentId}" => { GET => payments::get_payment },
    "/api/v1/payments/{paymentId}/confirm" => { POST => payments::confirm_payment },
    "/api/v1/payments/{paymentId}/refund" => { POST => refunds::refund_payment },
    "/api/v1/invoices" => { GET => invoices::list_invoices },
    "/api/v1/invoices/overdue" => { GET => invoices::overdue_invoices },
    "/api/v1/invoices/{invoiceId}" => { GET => invoices::get_invoice },
    "/api/v1/disputes" => { GET => disputes::list_disputes },
    "/api/v1/wallet" => { GET => wallet::wallet },
    "/api/v1/notifications" => { GET => notifications::notifications },
    "/api/v1/notifications/read" => { POST => notifications::mark_notifications_read },
    "/api/v1/admin/dead-letters" => { GET => dead_letters::dead_letters },
    "/api/v1/admin/dead-letters/redrive" => { POST => dead_letters::redrive },
}

/// The Stripe webhook endpoint (its own Lambda). It needs only the signing secret and the events
/// queue ([`Ingest`]), no store and no token keys: its routes take no `AppState`.
pub mod webhook_group {
    lectern_web::route_group! {
        state = ();
        "/api/v1/webhooks/stripe" => { POST => crate::webhook::stripe_webhook },
    }
}

/// The local provider's simulation route: only served when the local provider is active, and not part
/// of the deployed API's description.
pub fn dev_routes(payments: &Payments) -> Router<AppState> {
    match payments.local {
        Some(_) => Router::new().route(
            "/api/v1/dev/payments/{paymentId}/simulate",
            post(simulation::simulate),
        ),
        None => Router::new(),
    }
}

/// The payments Lambda's app.
pub fn router(state: AppState, payments: Arc<Payments>) -> Router {
    let routes = plain_routes().merge(dev_routes(&payments));
    let routes = lectern_web::idempotency::layer(routes, &state);
    let ingest = payments.ingest.clone();
    lectern_web::finish(lectern_web::limits::layer(routes, &state).with_state(state))
        .layer(Extension(payments))
        .layer(Extension(ingest))
}

/// The webhook Lambda's app.
pub fn webhook_router(ingest: Arc<Ingest>) -> Router {
    lectern_web::finish(webhook_group::plain_routes()).layer(Extension(ingest))
}

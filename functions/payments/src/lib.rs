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
//! - [`context`]: the provider, webhook secret and queues, from the environment.
//! - [`handlers`]: create, list, read, confirm, refund a payment.
//! - [`money`]: invoices, overdue invoices, disputes, wallet, analytics, notifications.
//! - [`admin`]: dead letters: list, redrive.
//! - [`webhook`]: the Stripe webhook endpoint, and the local provider's simulation.
//! - [`facts`]: applying a provider event to its payment, once, in any order.
//! - [`settle`]: what follows from a payment's facts: invoice, enrollment, notification.
//! - [`workers`]: the two queue workers (`Handler`s).
//! - `payment_routes` / `webhook_routes` / `router` / `webhook_router`: the two Lambdas' apps.

pub mod admin;
pub mod context;
pub mod facts;
pub mod handlers;
pub mod money;
pub mod settle;
pub mod views;
pub mod webhook;
pub mod workers;

use std::sync::Arc;

use axum::routing::post;
use axum::{Extension, Router};
pub use context::{Ingest, Payments};
use lectern_web::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The payments group's routes, described for OpenAPI.
pub fn payment_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::create_course_payment))
        .routes(routes!(handlers::list_payments))
        .routes(routes!(money::analytics))
        .routes(routes!(handlers::get_payment))
        .routes(routes!(handlers::confirm_payment))
        .routes(routes!(handlers::refund_payment))
        .routes(routes!(money::list_invoices))
        .routes(routes!(money::overdue_invoices))
        .routes(routes!(money::get_invoice))
        .routes(routes!(money::list_disputes))
        .routes(routes!(money::wallet))
        .routes(routes!(money::notifications))
        .routes(routes!(money::mark_notifications_read))
        .routes(routes!(admin::dead_letters))
        .routes(routes!(admin::redrive))
}

/// The Stripe webhook endpoint (its own Lambda).
pub fn webhook_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(webhook::stripe_webhook))
}

/// The local provider's simulation route: only served when the local provider is active, and not part
/// of the deployed API's description.
pub fn dev_routes(payments: &Payments) -> Router<AppState> {
    match payments.local {
        Some(_) => Router::new().route(
            "/api/v1/dev/payments/{paymentId}/simulate",
            post(webhook::simulate),
        ),
        None => Router::new(),
    }
}

/// The payments Lambda's app.
pub fn router(state: AppState, payments: Arc<Payments>) -> Router {
    let (routes, _api) = payment_routes().split_for_parts();
    let routes = routes.merge(dev_routes(&payments));
    let ingest = payments.ingest.clone();
    lectern_web::finish(routes.with_state(state))
        .layer(Extension(payments))
        .layer(Extension(ingest))
}

/// The webhook Lambda's app.
pub fn webhook_router(state: AppState, ingest: Arc<Ingest>) -> Router {
    let (routes, _api) = webhook_routes().split_for_parts();
    lectern_web::finish(routes.with_state(state)).layer(Extension(ingest))
}

//! Lectern's payment provider port and its two providers: Stripe for AWS, an in-memory stand-in
//! for laptops and tests. Also what the webhook function and workers need to trust and read
//! Stripe's webhooks (signatures and event types), and what the settlement workers do with them
//! (facts applied to payments, settlement, the queue handlers), which the payments function shares
//! for its confirm route and the local server for its workers. No Lambda or HTTP-server types here.
//!
//! # Layout
//! - [`provider`]: the port: [`PaymentProvider`] (create, retrieve and refund PaymentIntents), its
//!   request and answer types, and [`ProviderError`] (refused vs. retry later).
//! - [`stripe`]: [`StripeClient`], Stripe's REST API over the hyper client and rustls (aws-lc-rs)
//!   the AWS SDKs already link, with a pinned API version ([`STRIPE_API_VERSION`]), idempotency
//!   keys and timeouts.
//! - [`local`]: [`LocalProvider`], in memory, with Stripe's ids, idempotency and refund rules, and
//!   [`LocalProvider::settle`] to decide a payment's outcome.
//! - [`events`]: builders of Stripe-shaped webhook events, and [`StripeEvent::parse`] for the ones
//!   Stripe sends.
//! - [`webhook`]: `Stripe-Signature` signing and verification, and the local signing secret.
//! - [`facts`]: applying a provider event to its payment, once, in any order.
//! - [`settle`]: what follows from a payment's facts: invoice, enrollment, notification.
//! - [`workers`]: the two queue workers (`Handler`s) and the names of their queues.
//! - `wire` (private): Stripe's JSON objects as they arrive.

// `events` writes Stripe's objects as `json!` literals of 40-odd fields, deeper than the default limit.
#![recursion_limit = "256"]

pub mod events;
pub mod facts;
pub mod local;
pub mod provider;
pub mod settle;
pub mod stripe;
pub mod webhook;
mod wire;
pub mod workers;

pub use events::{EventObject, EventParseError, StripeEvent};
pub use local::{LocalProvider, Outcome};
pub use provider::{
    CreateIntent, CreateRefund, Intent, IntentStatus, PaymentProvider, ProviderError, Refund,
};
pub use stripe::{STRIPE_API_VERSION, StripeClient};
pub use webhook::SignatureError;

/// Which provider: `LECTERN_PAYMENTS_PROVIDER` (`stripe` | `local`); by default Stripe when
/// `STRIPE_SECRET_KEY` is set, else the local one. The template sets `stripe`, so a deployment
/// without a key fails at start instead of serving the local provider. `var` reads a configuration
/// variable (the function's, which finds secrets read at start too).
pub fn provider_name(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<&'static str> {
    match var("LECTERN_PAYMENTS_PROVIDER").as_deref() {
        Some("stripe") => Ok("stripe"),
        Some("local") => Ok("local"),
        None if var("STRIPE_SECRET_KEY").is_some() => Ok("stripe"),
        None => Ok("local"),
        Some(other) => {
            anyhow::bail!("LECTERN_PAYMENTS_PROVIDER must be stripe or local, not {other:?}")
        }
    }
}

//! Lectern's payment provider port and its two providers: Stripe for AWS, an in-memory stand-in
//! for laptops and tests. Also what the webhook function and workers need to trust and read
//! Stripe's webhooks: signatures and event types. No Lambda or HTTP-server types here.
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
//! - `wire` (private): Stripe's JSON objects as they arrive.

// `events` writes Stripe's objects as `json!` literals of 40-odd fields, deeper than the default limit.
#![recursion_limit = "256"]

pub mod events;
pub mod local;
pub mod provider;
pub mod stripe;
pub mod webhook;
mod wire;

pub use events::{EventObject, EventParseError, StripeEvent};
pub use local::{LocalProvider, Outcome};
pub use provider::{
    CreateIntent, CreateRefund, Intent, IntentStatus, PaymentProvider, ProviderError, Refund,
};
pub use stripe::{STRIPE_API_VERSION, StripeClient};
pub use webhook::SignatureError;

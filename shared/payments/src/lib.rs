//! Lectern's payment provider port and its two providers: Stripe for AWS, an in-memory stand-in
//! for laptops and tests. Also what the webhook function and workers need to trust and read
//! Stripe's webhooks: signatures and event types. No Lambda or HTTP-server types here.
//!
//! # Layout
//! - [`provider`]: the port: [`PaymentProvider`] (create, retrieve and refund PaymentIntents), its
//!   request and answer types, and [`ProviderError`] (refused vs. retry later).
//! - [`webhook`]: `Stripe-Signature` signing and verification, and the local signing secret.

pub mod provider;
pub mod webhook;

pub use provider::{
    CreateIntent, CreateRefund, Intent, IntentStatus, PaymentProvider, ProviderError, Refund,
};
pub use webhook::SignatureError;

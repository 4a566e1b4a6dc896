//! Stripe's JSON objects as they arrive (API responses and webhook events): only the fields Lectern
//! reads, unknown fields ignored, and the conversions into the port's types.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::provider::{Intent, IntentStatus, Refund};

/// A reference Stripe may send as an id or, when expanded, as the object itself.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Expandable {
    Id(String),
    Object { id: String },
}

impl Expandable {
    pub(crate) fn into_id(self) -> String {
        match self {
            Expandable::Id(id) | Expandable::Object { id } => id,
        }
    }
}

/// The id of a reference, expanded or not.
pub(crate) fn id_of(reference: Option<Expandable>) -> Option<String> {
    reference.map(Expandable::into_id)
}

/// A PaymentIntent object (`"object": "payment_intent"`).
#[derive(Deserialize)]
pub(crate) struct PaymentIntentObject {
    pub id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub status: IntentStatus,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub latest_charge: Option<Expandable>,
}

impl From<PaymentIntentObject> for Intent {
    fn from(object: PaymentIntentObject) -> Intent {
        Intent {
            id: object.id,
            client_secret: object.client_secret,
            status: object.status,
            amount: object.amount,
            currency: object.currency.to_ascii_uppercase(),
            metadata: object.metadata,
            latest_charge: id_of(object.latest_charge),
        }
    }
}

/// A Refund object (`"object": "refund"`).
#[derive(Deserialize)]
pub(crate) struct RefundObject {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    pub amount: i64,
    pub currency: String,
}

impl From<RefundObject> for Refund {
    fn from(object: RefundObject) -> Refund {
        Refund {
            id: object.id,
            // Stripe documents the status as nullable; a refund without one has not settled yet.
            status: object.status.unwrap_or_else(|| "pending".to_owned()),
            amount: object.amount,
            currency: object.currency.to_ascii_uppercase(),
        }
    }
}

/// A Charge object (`"object": "charge"`).
#[derive(Deserialize)]
pub(crate) struct ChargeObject {
    pub id: String,
    #[serde(default)]
    pub payment_intent: Option<Expandable>,
    pub amount: i64,
    #[serde(default)]
    pub amount_refunded: i64,
    pub currency: String,
    #[serde(default)]
    pub refunded: bool,
}

/// A Dispute object (`"object": "dispute"`).
#[derive(Deserialize)]
pub(crate) struct DisputeObject {
    pub id: String,
    pub charge: Expandable,
    #[serde(default)]
    pub payment_intent: Option<Expandable>,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    pub status: String,
}

/// Stripe's error body: `{"error": {"type", "code", "message", …}}`.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

/// The `error` member of Stripe's error body.
#[derive(Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

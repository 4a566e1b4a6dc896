//! Stripe webhook events, both ways. Builders make events in the exact shape Stripe posts (API
//! version [`STRIPE_API_VERSION`]), so the local provider's simulate route and the tests feed the
//! webhook function what production will; [`StripeEvent::parse`] reads any event Stripe sends,
//! typing the objects Lectern acts on (payment intents, charges, disputes) and keeping the rest as
//! JSON.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::provider::{Intent, IntentStatus};
use crate::stripe::STRIPE_API_VERSION;
use crate::wire::{ChargeObject, DisputeObject, PaymentIntentObject, id_of};

/// A fresh event id, `evt_local_<32 hex digits>`: Stripe-like, and plainly not from Stripe.
pub fn new_event_id() -> String {
    format!("evt_local_{}", Uuid::new_v4().simple())
}

/// A `payment_intent.*` event (`kind` is `payment_intent.succeeded`,
/// `payment_intent.payment_failed`, … or just `succeeded`, `payment_failed`) carrying `intent` as
/// Stripe's PaymentIntent object. A `payment_failed` event carries a `card_declined`
/// `last_payment_error`, as Stripe's test card `4000 0000 0000 0002` produces.
pub fn payment_intent_event(kind: &str, intent: &Intent, event_id: &str, created: i64) -> Value {
    let kind = qualified(kind, "payment_intent");
    let succeeded = intent.status == IntentStatus::Succeeded;
    let last_payment_error = if kind == "payment_intent.payment_failed" {
        json!({
            "charge": intent.latest_charge,
            "code": "card_declined",
            "decline_code": "generic_decline",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": "Your card was declined.",
            "type": "card_error"
        })
    } else {
        Value::Null
    };
    let object = json!({
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": if succeeded { intent.amount } else { 0 },
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": { "allow_redirects": "always", "enabled": true },
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic_async",
        "client_secret": intent.client_secret,
        "confirmation_method": "automatic",
        "created": created,
        "currency": intent.currency.to_ascii_lowercase(),
        "customer": null,
        "description": null,
        "invoice": null,
        "last_payment_error": last_payment_error,
        "latest_charge": intent.latest_charge,
        "livemode": false,
        "metadata": intent.metadata,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": null,
        "payment_method_configuration_details": null,
        "payment_method_options": {
            "card": {
                "installments": null,
                "mandate_options": null,
                "network": null,
                "request_three_d_secure": "automatic"
            }
        },
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": intent.status.as_str(),
        "transfer_data": null,
        "transfer_group": null
    });
    envelope(&kind, object, event_id, created)
}

/// A `charge.refunded` event: the charge `charge_id` of `payment_intent`, of `amount`, of which
/// `amount_refunded` is now refunded (all of it makes `refunded: true`).
pub fn charge_refunded_event(
    charge_id: &str,
    payment_intent: &str,
    amount: i64,
    amount_refunded: i64,
    currency: &str,
    event_id: &str,
    created: i64,
) -> Value {
    let billing_details = json!({
        "address": {
            "city": null, "country": null, "line1": null, "line2": null,
            "postal_code": null, "state": null
        },
        "email": null,
        "name": null,
        "phone": null
    });
    let outcome = json!({
        "network_status": "approved_by_network",
        "reason": null,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": "Payment complete.",
        "type": "authorized"
    });
    let payment_method_details = json!({
        "card": {
            "brand": "visa",
            "country": "US",
            "exp_month": 12,
            "exp_year": 2034,
            "funding": "credit",
            "last4": "4242",
            "network": "visa"
        },
        "type": "card"
    });
    let object = json!({
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": null,
        "billing_details": billing_details,
        "calculated_statement_descriptor": "LECTERN",
        "captured": true,
        "created": created,
        "currency": currency.to_ascii_lowercase(),
        "customer": null,
        "description": null,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": null,
        "failure_message": null,
        "fraud_details": {},
        "invoice": null,
        "livemode": false,
        "metadata": {},
        "on_behalf_of": null,
        "outcome": outcome,
        "paid": true,
        "payment_intent": payment_intent,
        "payment_method": null,
        "payment_method_details": payment_method_details,
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": amount_refunded >= amount,
        "review": null,
        "shipping": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": "succeeded",
        "transfer_data": null,
        "transfer_group": null
    });
    envelope("charge.refunded", object, event_id, created)
}

/// A `charge.dispute.*` event (`kind` is `charge.dispute.created`, `charge.dispute.closed`, … or
/// just `created`, `closed`) about the dispute `dispute_id` (`du_…`) of the charge `charge_id`.
/// `reason` is Stripe's (`fraudulent`, `product_not_received`, …); `status` too
/// (`needs_response` when opened; `won` or `lost` when closed).
// The arguments are the dispute's own fields, in Stripe's order; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn dispute_event(
    kind: &str,
    dispute_id: &str,
    charge_id: &str,
    payment_intent: &str,
    amount: i64,
    currency: &str,
    reason: &str,
    status: &str,
    event_id: &str,
    created: i64,
) -> Value {
    let kind = qualified(kind, "charge.dispute");
    let evidence: serde_json::Map<String, Value> = DISPUTE_EVIDENCE_FIELDS
        .iter()
        .map(|field| ((*field).to_owned(), Value::Null))
        .collect();
    let object = json!({
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge_id,
        "created": created,
        "currency": currency.to_ascii_lowercase(),
        "evidence": evidence,
        "evidence_details": {
            "due_by": created + 7 * 24 * 3600,
            "has_evidence": false,
            "past_due": false,
            "submission_count": 0
        },
        "is_charge_refundable": false,
        "livemode": false,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": reason,
        "status": status
    });
    envelope(&kind, object, event_id, created)
}

/// The fields of a dispute's `evidence`, all empty until the merchant answers.
const DISPUTE_EVIDENCE_FIELDS: [&str; 27] = [
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
];

/// `succeeded` → `payment_intent.succeeded`; a full type is kept as it is.
fn qualified(kind: &str, family: &str) -> String {
    if kind
        .strip_prefix(family)
        .is_some_and(|rest| rest.starts_with('.'))
    {
        kind.to_owned()
    } else {
        format!("{family}.{kind}")
    }
}

/// Stripe's event envelope around `object`.
fn envelope(kind: &str, object: Value, event_id: &str, created: i64) -> Value {
    json!({
        "id": event_id,
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": created,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind
    })
}

/// A Stripe event as Lectern reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeEvent {
    /// `evt_…`: the key of idempotent processing.
    pub id: String,
    /// `payment_intent.succeeded`, `charge.refunded`, …
    pub event_type: String,
    /// When Stripe created the event (seconds since the epoch).
    pub created: i64,
    /// `data.object`, typed by its `object` field.
    pub object: EventObject,
}

/// The object an event is about (`data.object`), chosen by its `object` field.
#[derive(Debug, Clone, PartialEq)]
pub enum EventObject {
    /// `"object": "payment_intent"`
    PaymentIntent {
        id: String,
        amount: i64,
        /// ISO 4217, upper-case.
        currency: String,
        status: IntentStatus,
        metadata: BTreeMap<String, String>,
        latest_charge: Option<String>,
    },
    /// `"object": "charge"`
    Charge {
        id: String,
        payment_intent: Option<String>,
        amount: i64,
        amount_refunded: i64,
        /// ISO 4217, upper-case.
        currency: String,
        /// Whether the whole charge is refunded.
        refunded: bool,
    },
    /// `"object": "dispute"`
    Dispute {
        id: String,
        charge: String,
        payment_intent: Option<String>,
        amount: i64,
        /// ISO 4217, upper-case.
        currency: String,
        reason: String,
        status: String,
    },
    /// Any other object, as Stripe sent it.
    Other(Value),
}

/// A body that is not a Stripe event, or whose payment intent, charge or dispute lacks a field
/// Lectern needs.
#[derive(thiserror::Error, Debug)]
#[error("not a Stripe event Lectern can read: {0}")]
pub struct EventParseError(#[from] serde_json::Error);

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    object: Value,
}

impl StripeEvent {
    /// Reads the raw webhook body (after its signature is verified). Unknown fields are ignored
    /// and unknown event types parse, with their object as [`EventObject::Other`].
    pub fn parse(body: &[u8]) -> Result<StripeEvent, EventParseError> {
        let raw: RawEvent = serde_json::from_slice(body)?;
        let object = match raw.data.object.get("object").and_then(Value::as_str) {
            Some("payment_intent") => {
                let object: PaymentIntentObject = serde_json::from_value(raw.data.object)?;
                EventObject::PaymentIntent {
                    id: object.id,
                    amount: object.amount,
                    currency: object.currency.to_ascii_uppercase(),
                    status: object.status,
                    metadata: object.metadata,
                    latest_charge: id_of(object.latest_charge),
                }
            }
            Some("charge") => {
                let object: ChargeObject = serde_json::from_value(raw.data.object)?;
                EventObject::Charge {
                    id: object.id,
                    payment_intent: id_of(object.payment_intent),
                    amount: object.amount,
                    amount_refunded: object.amount_refunded,
                    currency: object.currency.to_ascii_uppercase(),
                    refunded: object.refunded,
                }
            }
            Some("dispute") => {
                let object: DisputeObject = serde_json::from_value(raw.data.object)?;
                EventObject::Dispute {
                    id: object.id,
                    charge: object.charge.into_id(),
                    payment_intent: id_of(object.payment_intent),
                    amount: object.amount,
                    currency: object.currency.to_ascii_uppercase(),
                    reason: object.reason,
                    status: object.status,
                }
            }
            _ => EventObject::Other(raw.data.object),
        };
        Ok(StripeEvent {
            id: raw.id,
            event_type: raw.event_type,
            created: raw.created,
            object,
        })
    }

    /// The payment intent the event is about, whatever its object: the intent itself, or the
    /// charge's or dispute's `payment_intent`.
    pub fn payment_intent_id(&self) -> Option<&str> {
        match &self.object {
            EventObject::PaymentIntent { id, .. } => Some(id),
            EventObject::Charge { payment_intent, .. }
            | EventObject::Dispute { payment_intent, .. } => payment_intent.as_deref(),
            EventObject::Other(object) => object.get("payment_intent").and_then(Value::as_str),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_kinds_are_qualified_and_full_ones_kept() {
        assert_eq!(
            qualified("succeeded", "payment_intent"),
            "payment_intent.succeeded"
        );
        assert_eq!(
            qualified("payment_intent.payment_failed", "payment_intent"),
            "payment_intent.payment_failed"
        );
        assert_eq!(
            qualified("closed", "charge.dispute"),
            "charge.dispute.closed"
        );
        assert_eq!(
            qualified("charge.dispute.created", "charge.dispute"),
            "charge.dispute.created"
        );
    }

    #[test]
    fn event_ids_are_local_and_unique() {
        let (a, b) = (new_event_id(), new_event_id());
        assert!(
            a.starts_with("evt_local_") && a.len() == "evt_local_".len() + 32,
            "{a}"
        );
        assert_ne!(a, b);
    }
}

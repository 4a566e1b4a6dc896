//! The payment provider port: what Lectern asks of a payment provider (create a PaymentIntent, read
//! it back, refund it), in Stripe's vocabulary because Stripe is the provider, and the two ways a
//! call can fail (refused, or worth retrying).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A request to open a payment: one PaymentIntent per Lectern payment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIntent {
    /// The amount in the currency's minor unit (cents; yen for JPY).
    pub amount: i64,
    /// ISO 4217 code in any case; providers send it lower-case, as Stripe wants.
    pub currency: String,
    /// Copied onto the intent and echoed in its webhook events: `tenantId`, `paymentId`, `courseId`,
    /// `userId`, so a worker can find the payment an event is about.
    pub metadata: BTreeMap<String, String>,
    /// Sent as `Idempotency-Key`: a retry with the same key returns the intent first created.
    pub idempotency_key: String,
    /// Shown in the provider's dashboard and on receipts.
    pub description: Option<String>,
}

/// A PaymentIntent as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    /// The provider's id (`pi_…`).
    pub id: String,
    /// What the client-side SDK needs to confirm the payment; only for the paying user.
    pub client_secret: Option<String>,
    /// Where the intent stands.
    pub status: IntentStatus,
    /// The amount in minor units.
    pub amount: i64,
    /// ISO 4217, upper-case.
    pub currency: String,
    /// The metadata given at creation.
    pub metadata: BTreeMap<String, String>,
    /// The latest charge (`ch_…`): the successful one once the intent succeeded, or the last
    /// failed attempt.
    pub latest_charge: Option<String>,
}

/// A PaymentIntent's status, from Stripe's snake_case strings; a status this code does not know
/// yet is kept as [`IntentStatus::Other`] instead of failing the whole response.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum IntentStatus {
    /// `requires_payment_method`: created, or the last attempt failed.
    RequiresPaymentMethod,
    /// `requires_confirmation`
    RequiresConfirmation,
    /// `requires_action`: 3-D Secure or another customer step.
    RequiresAction,
    /// `processing`
    Processing,
    /// `requires_capture`
    RequiresCapture,
    /// `canceled`
    Canceled,
    /// `succeeded`: the money moved.
    Succeeded,
    /// Any other status string, kept verbatim.
    Other(String),
}

impl IntentStatus {
    /// Stripe's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            IntentStatus::RequiresPaymentMethod => "requires_payment_method",
            IntentStatus::RequiresConfirmation => "requires_confirmation",
            IntentStatus::RequiresAction => "requires_action",
            IntentStatus::Processing => "processing",
            IntentStatus::RequiresCapture => "requires_capture",
            IntentStatus::Canceled => "canceled",
            IntentStatus::Succeeded => "succeeded",
            IntentStatus::Other(other) => other,
        }
    }
}

impl From<&str> for IntentStatus {
    fn from(value: &str) -> Self {
        match value {
            "requires_payment_method" => IntentStatus::RequiresPaymentMethod,
            "requires_confirmation" => IntentStatus::RequiresConfirmation,
            "requires_action" => IntentStatus::RequiresAction,
            "processing" => IntentStatus::Processing,
            "requires_capture" => IntentStatus::RequiresCapture,
            "canceled" => IntentStatus::Canceled,
            "succeeded" => IntentStatus::Succeeded,
            other => IntentStatus::Other(other.to_owned()),
        }
    }
}

impl From<String> for IntentStatus {
    fn from(value: String) -> Self {
        IntentStatus::from(value.as_str())
    }
}

impl From<IntentStatus> for String {
    fn from(value: IntentStatus) -> Self {
        match value {
            IntentStatus::Other(other) => other,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for IntentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to refund a succeeded intent, in full (`amount: None`) or in part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRefund {
    /// The intent to refund (`pi_…`).
    pub payment_intent: String,
    /// Minor units; `None` refunds what is left.
    pub amount: Option<i64>,
    /// Sent as `Idempotency-Key`.
    pub idempotency_key: String,
    /// Copied onto the refund.
    pub metadata: BTreeMap<String, String>,
}

/// A refund as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// The provider's id (`re_…`).
    pub id: String,
    /// Stripe's refund status: `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    pub status: String,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217, upper-case.
    pub currency: String,
}

/// Why a provider call failed: the caller either reports a refusal or retries later.
#[derive(thiserror::Error, Debug)]
pub enum ProviderError {
    /// The provider refused the request (4xx): Stripe's error type/code/message. `code` is Stripe's
    /// `code` (e.g. `card_declined`, `resource_missing`), or its error `type` when there is no code.
    /// Retrying the same request gets the same answer.
    #[error("the payment provider refused the request (HTTP {status}, {}): {message}", code.as_deref().unwrap_or("no code"))]
    Rejected {
        /// The HTTP status Stripe answered (402 for a declined card, 404 for an unknown id, …).
        status: u16,
        /// Stripe's error `code`, else its error `type`.
        code: Option<String>,
        /// Stripe's message; for card errors it is meant to be shown to the customer.
        message: String,
    },
    /// Network error, timeout, 5xx, 429: worth retrying (with the same idempotency key).
    #[error("the payment provider is unavailable: {0:#}")]
    Unavailable(anyhow::Error),
}

impl ProviderError {
    /// Whether retrying later (with the same idempotency key) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ProviderError::Unavailable(_))
    }

    /// Stripe's error code of a refusal (`card_declined`, `resource_missing`, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            ProviderError::Rejected { code, .. } => code.as_deref(),
            ProviderError::Unavailable(_) => None,
        }
    }

    /// A refusal with Stripe's `resource_missing` shape.
    pub(crate) fn missing(kind: &str, id: &str) -> ProviderError {
        ProviderError::Rejected {
            status: 404,
            code: Some("resource_missing".to_owned()),
            message: format!("No such {kind}: '{id}'"),
        }
    }

    /// A 400 refusal, as Stripe's `invalid_request_error`.
    pub(crate) fn invalid(code: &str, message: impl Into<String>) -> ProviderError {
        ProviderError::Rejected {
            status: 400,
            code: Some(code.to_owned()),
            message: message.into(),
        }
    }
}

/// A payment provider: Stripe in AWS, the in-memory local provider on a laptop.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// `"stripe"` or `"local"`: stored beside a payment so it is clear which provider holds it.
    fn name(&self) -> &'static str;

    /// Opens a PaymentIntent. The same `idempotency_key` returns the same intent.
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, ProviderError>;

    /// Reads an intent back (`pi_…`); an unknown id is `Rejected` with status 404.
    async fn retrieve_intent(&self, id: &str) -> Result<Intent, ProviderError>;

    /// Refunds a succeeded intent.
    async fn refund(&self, request: &CreateRefund) -> Result<Refund, ProviderError>;
}

#[async_trait]
impl<P: PaymentProvider + ?Sized> PaymentProvider for Arc<P> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, ProviderError> {
        (**self).create_intent(request).await
    }

    async fn retrieve_intent(&self, id: &str) -> Result<Intent, ProviderError> {
        (**self).retrieve_intent(id).await
    }

    async fn refund(&self, request: &CreateRefund) -> Result<Refund, ProviderError> {
        (**self).refund(request).await
    }
}

/// Stripe takes idempotency keys of up to 255 characters; a key that could not travel in a header
/// is refused before anything is sent, by every provider alike.
pub(crate) fn check_idempotency_key(key: &str) -> Result<(), ProviderError> {
    let fits = !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic());
    if fits {
        Ok(())
    } else {
        Err(ProviderError::invalid(
            "idempotency_key_invalid",
            "the idempotency key must be 1 to 255 visible ASCII characters",
        ))
    }
}

/// Whether `id` looks like a Stripe object id (`pi_3Mtw…`): letters, digits and underscores only,
/// so it can be put in a URL path as it is.
pub(crate) fn is_object_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_stripe_strings() {
        for text in [
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
            "processing",
            "requires_capture",
            "canceled",
            "succeeded",
            "something_new",
        ] {
            let status: IntentStatus = serde_json::from_value(serde_json::json!(text)).unwrap();
            assert_eq!(status.as_str(), text);
            assert_eq!(
                serde_json::to_value(&status).unwrap(),
                serde_json::json!(text)
            );
        }
        assert_eq!(IntentStatus::from("succeeded"), IntentStatus::Succeeded);
        assert_eq!(
            IntentStatus::from("something_new"),
            IntentStatus::Other("something_new".into())
        );
    }

    #[test]
    fn idempotency_keys_must_fit_a_header() {
        assert!(check_idempotency_key("payment-01J9Z").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key("a b").is_err());
        assert!(check_idempotency_key("a\r\nX-Evil: 1").is_err());
        assert!(check_idempotency_key(&"k".repeat(256)).is_err());
    }

    #[test]
    fn object_ids_are_path_safe() {
        assert!(is_object_id("pi_3MtwBwLkdIwHu7ix28a3tqPa"));
        assert!(!is_object_id("pi_1/../../v1/charges"));
        assert!(!is_object_id("pi_1?expand[]=customer"));
        assert!(!is_object_id(""));
    }
}

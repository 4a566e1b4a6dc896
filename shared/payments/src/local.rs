//! The local provider: an in-memory stand-in for Stripe, the default when no Stripe key is
//! configured, so the whole payment flow runs on a laptop. It keeps Stripe's rules that callers
//! rely on (ids, client secrets, idempotency keys, refundable amounts, error codes), and lets a
//! developer or a test decide each payment's outcome with [`LocalProvider::settle`].
//!
//! State lives in one process: the local server (all routes in one process) sees one provider;
//! separate `cargo lambda watch` processes each have their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rand::Rng as _;
use rand::distributions::Alphanumeric;
use uuid::Uuid;

use crate::provider::{
    CreateIntent, CreateRefund, Intent, IntentStatus, PaymentProvider, ProviderError, Refund,
    check_idempotency_key, is_object_id,
};

/// How a simulated payment attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The card was charged: the intent succeeds with a new charge.
    Succeeded,
    /// The card was declined: as in Stripe, the intent goes back to `requires_payment_method`
    /// (its `latest_charge` is the failed attempt) and the customer may try again.
    Failed,
}

/// The in-memory provider. Clones share the same state, so the HTTP routes (through the
/// [`PaymentProvider`] port) and a simulate route (through [`LocalProvider::settle`]) see the same
/// intents.
#[derive(Debug, Clone, Default)]
pub struct LocalProvider {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    intents: HashMap<String, LocalIntent>,
    /// Results kept per idempotency key. Like Stripe, a key belongs to one request: the same
    /// request replays the first result, another request with the key is refused. Unlike Stripe,
    /// only successes are kept, so a refund refused before its intent settled can be retried with
    /// the same key.
    replays: HashMap<String, Replay>,
}

#[derive(Debug)]
struct LocalIntent {
    intent: Intent,
    amount_refunded: i64,
}

#[derive(Debug)]
enum Replay {
    Intent {
        request: CreateIntent,
        response: Intent,
    },
    Refund {
        request: CreateRefund,
        response: Refund,
    },
}

impl LocalProvider {
    /// An empty provider.
    pub fn new() -> LocalProvider {
        LocalProvider::default()
    }

    /// Ends the pending payment attempt of intent `id` with `outcome` and returns the intent as it
    /// now is, ready for [`crate::events::payment_intent_event`]. An intent that already succeeded
    /// or was canceled is refused with Stripe's `payment_intent_unexpected_state`.
    pub fn settle(&self, id: &str, outcome: Outcome) -> Result<Intent, ProviderError> {
        let mut state = self.lock();
        let local = state
            .intents
            .get_mut(id)
            .ok_or_else(|| ProviderError::missing("payment_intent", id))?;
        let intent = &mut local.intent;
        if matches!(
            intent.status,
            IntentStatus::Succeeded | IntentStatus::Canceled
        ) {
            return Err(ProviderError::invalid(
                "payment_intent_unexpected_state",
                format!(
                    "This PaymentIntent's payment cannot be settled because it has a status of {}.",
                    intent.status
                ),
            ));
        }
        // Every attempt is a charge, failed or not, and becomes the intent's latest one.
        intent.latest_charge = Some(local_id("ch_local"));
        intent.status = match outcome {
            Outcome::Succeeded => IntentStatus::Succeeded,
            Outcome::Failed => IntentStatus::RequiresPaymentMethod,
        };
        Ok(intent.clone())
    }

    /// The intent `id` as it now is, without going through the async port.
    pub fn intent(&self, id: &str) -> Option<Intent> {
        self.lock()
            .intents
            .get(id)
            .map(|local| local.intent.clone())
    }

    /// How much of intent `id` has been refunded so far, in minor units (for
    /// [`crate::events::charge_refunded_event`]).
    pub fn amount_refunded(&self, id: &str) -> Option<i64> {
        self.lock()
            .intents
            .get(id)
            .map(|local| local.amount_refunded)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated (every change is a
        // single insert or field write), so a poisoned lock is still safe to use.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl PaymentProvider for LocalProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, ProviderError> {
        check_idempotency_key(&request.idempotency_key)?;
        let mut normalized = request.clone();
        normalized.currency = request.currency.to_ascii_lowercase();
        let mut state = self.lock();
        match state.replays.get(&request.idempotency_key) {
            Some(Replay::Intent {
                request: first,
                response,
            }) if *first == normalized => return Ok(response.clone()),
            Some(_) => return Err(reused_key()),
            None => {}
        }
        if request.amount < 1 {
            return Err(ProviderError::invalid(
                "parameter_invalid_integer",
                "This value must be greater than or equal to 1.",
            ));
        }
        if !(normalized.currency.len() == 3
            && normalized.currency.bytes().all(|b| b.is_ascii_lowercase()))
        {
            return Err(ProviderError::invalid(
                "parameter_invalid_string",
                format!("Invalid currency: {}.", normalized.currency),
            ));
        }
        let id = local_id("pi_local");
        let secret: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        let intent = Intent {
            client_secret: Some(format!("{id}_secret_{secret}")),
            id: id.clone(),
            status: IntentStatus::RequiresPaymentMethod,
            amount: request.amount,
            currency: request.currency.to_ascii_uppercase(),
            metadata: request.metadata.clone(),
            latest_charge: None,
        };
        state.intents.insert(
            id,
            LocalIntent {
                intent: intent.clone(),
                amount_refunded: 0,
            },
        );
        state.replays.insert(
            request.idempotency_key.clone(),
            Replay::Intent {
                request: normalized,
                response: intent.clone(),
            },
        );
        Ok(intent)
    }

    async fn retrieve_intent(&self, id: &str) -> Result<Intent, ProviderError> {
        if !is_object_id(id) {
            return Err(ProviderError::missing("payment_intent", id));
        }
        self.intent(id)
            .ok_or_else(|| ProviderError::missing("payment_intent", id))
    }

    async fn refund(&self, request: &CreateRefund) -> Result<Refund, ProviderError> {
        check_idempotency_key(&request.idempotency_key)?;
        let mut state = self.lock();
        match state.replays.get(&request.idempotency_key) {
            Some(Replay::Refund {
                request: first,
                response,
            }) if first == request => return Ok(response.clone()),
            Some(_) => return Err(reused_key()),
            None => {}
        }
        let local = state
            .intents
            .get_mut(&request.payment_intent)
            .ok_or_else(|| ProviderError::missing("payment_intent", &request.payment_intent))?;
        if local.intent.status != IntentStatus::Succeeded {
            return Err(ProviderError::invalid(
                "payment_intent_unexpected_state",
                "This PaymentIntent does not have a successful charge to refund.",
            ));
        }
        let left = local.intent.amount - local.amount_refunded;
        if left == 0 {
            return Err(ProviderError::invalid(
                "charge_already_refunded",
                "Charge has already been refunded.",
            ));
        }
        let amount = request.amount.unwrap_or(left);
        if amount < 1 {
            return Err(ProviderError::invalid(
                "parameter_invalid_integer",
                "This value must be greater than or equal to 1.",
            ));
        }
        if amount > left {
            return Err(ProviderError::invalid(
                "amount_too_large",
                format!(
                    "Refund amount ({amount}) is greater than unrefunded amount on charge ({left})."
                ),
            ));
        }
        local.amount_refunded += amount;
        let refund = Refund {
            id: local_id("re_local"),
            status: "succeeded".to_owned(),
            amount,
            currency: local.intent.currency.clone(),
        };
        state.replays.insert(
            request.idempotency_key.clone(),
            Replay::Refund {
                request: request.clone(),
                response: refund.clone(),
            },
        );
        Ok(refund)
    }
}

fn reused_key() -> ProviderError {
    ProviderError::Rejected {
        status: 400,
        code: Some("idempotency_error".to_owned()),
        message: "Keys for idempotent requests can only be used with the same parameters they \
                  were first used with."
            .to_owned(),
    }
}

/// `{prefix}_{uuid, 32 hex digits}`: Stripe-like, and plainly not a real Stripe id.
fn local_id(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::new_v4().simple())
}

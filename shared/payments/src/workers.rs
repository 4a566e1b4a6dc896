//! The two queue workers. Contract: issue "Paid courses…" §Stripe webhook ingestion.
//!
//! - [`EventsWorker`]: one provider event per message: applied to its payment once (see
//!   [`crate::facts`]); a payment that succeeded goes on the confirmation queue.
//! - [`ConfirmationWorker`]: one `{tenant, paymentId}` per message: settled (see [`crate::settle`]).
//!
//! Both are plain [`Handler`]s: in AWS each runs as a Lambda behind an SQS event source mapping that
//! reports partial batch failures; locally the local server polls the SQLite queues. An `Err` leaves
//! the message to be retried, and after the queue's max receive count it goes to the dead-letter queue.

use std::sync::Arc;

use crate::{EventObject, StripeEvent};
use anyhow::Context;
use async_trait::async_trait;
use lectern_domain::payment::Dispute;
use lectern_queue::{Handler, Message, OutgoingMessage, Queue};
use lectern_store::Table;
use lectern_store::payments::PaymentRepo;
use time::OffsetDateTime;

use crate::facts::{self, Applied, Fact, ProviderEvent};
use crate::settle::{self, SettleMessage};

/// Queue names (also the local backend's queue names): raw provider events, from the webhook
/// endpoint to the events worker; payments to settle, from the events worker (and confirm) to the
/// confirmation worker.
pub const EVENTS_QUEUE: &str = "payment-events";
pub const CONFIRMATIONS_QUEUE: &str = "payment-confirmations";

/// Applies provider events.
pub struct EventsWorker {
    pub table: Arc<dyn Table>,
    /// The provider whose events these are (`stripe` | `local`): the namespace of its ids.
    pub provider: String,
    pub confirmations: Arc<dyn Queue>,
}

/// Settles payments.
pub struct ConfirmationWorker {
    pub table: Arc<dyn Table>,
}

/// The platform's reading of a Stripe event.
pub fn provider_event(provider: &str, event: &StripeEvent) -> ProviderEvent {
    let created =
        OffsetDateTime::from_unix_timestamp(event.created).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out = ProviderEvent {
        provider: provider.to_owned(),
        id: event.id.clone(),
        event_type: event.event_type.clone(),
        created,
        payment_intent: None,
        amount: None,
        currency: None,
        names_our_payment: false,
        fact: None,
    };
    match &event.object {
        EventObject::PaymentIntent {
            id,
            amount,
            currency,
            metadata,
            ..
        } => {
            out.payment_intent = Some(id.clone());
            out.amount = Some(*amount);
            out.currency = Some(currency.clone());
            out.names_our_payment = metadata.contains_key("paymentId");
            out.fact = match event.event_type.as_str() {
                "payment_intent.succeeded" => Some(Fact::Succeeded),
                "payment_intent.payment_failed" => Some(Fact::Failed {
                    reason: Some("the payment attempt failed".into()),
                }),
                _ => None,
            };
        }
        EventObject::Charge {
            payment_intent,
            amount,
            amount_refunded,
            currency,
            ..
        } => {
            out.payment_intent = payment_intent.clone();
            out.amount = Some(*amount);
            out.currency = Some(currency.clone());
            out.fact = (event.event_type == "charge.refunded").then_some(Fact::Refunded {
                amount_refunded: *amount_refunded,
            });
        }
        EventObject::Dispute {
            id,
            payment_intent,
            amount,
            currency,
            reason,
            status,
            ..
        } => {
            out.payment_intent = payment_intent.clone();
            // A dispute may be for part of the charge: only its currency is checked.
            out.currency = Some(currency.clone());
            let closed = event.event_type == "charge.dispute.closed";
            out.fact = event.event_type.starts_with("charge.dispute.").then(|| {
                Fact::Dispute(Dispute {
                    id: id.clone(),
                    status: status.clone(),
                    reason: Some(reason.clone()).filter(|r| !r.is_empty()),
                    amount: *amount,
                    opened_at: created,
                    closed_at: closed.then_some(created),
                })
            });
        }
        EventObject::Other(_) => {}
    }
    out
}

#[async_trait]
impl Handler for EventsWorker {
    async fn handle(&self, message: &Message) -> anyhow::Result<()> {
        let event = StripeEvent::parse(message.body.as_bytes())
            .context("the message is not a provider event")?;
        let event = provider_event(&self.provider, &event);
        let repo = PaymentRepo::new(self.table.clone());
        let now = OffsetDateTime::now_utc();
        let applied = facts::apply(&repo, &event, now).await?;
        tracing::info!(event_id = %event.id, event_type = %event.event_type, outcome = ?outcome_name(&applied), "event handled");
        let payment = match applied {
            Applied::Changed {
                payment,
                settle: true,
            } => Some(*payment),
            // A redelivery after the fact was written but before the settlement was queued: queue it
            // again (settling is idempotent, and the deduplication id collapses repeats).
            Applied::Duplicate | Applied::Unchanged => match &event.payment_intent {
                Some(intent) => repo
                    .find_by_provider_id(&event.provider, intent)
                    .await?
                    .filter(|p| p.succeeded_at.is_some()),
                None => None,
            },
            Applied::Changed { settle: false, .. } | Applied::Foreign | Applied::Mismatch => None,
        };
        if let Some(payment) = payment {
            let body = serde_json::to_string(&SettleMessage::of(&payment))?;
            self.confirmations
                .send(OutgoingMessage {
                    body,
                    dedup_id: Some(format!("{}:{}", payment.id, payment.version)),
                    delay: None,
                })
                .await
                .context("queueing the settlement")?;
        }
        Ok(())
    }
}

fn outcome_name(applied: &Applied) -> &'static str {
    match applied {
        Applied::Changed { .. } => "changed",
        Applied::Unchanged => "unchanged",
        Applied::Duplicate => "duplicate",
        Applied::Foreign => "foreign",
        Applied::Mismatch => "mismatch",
    }
}

#[async_trait]
impl Handler for ConfirmationWorker {
    async fn handle(&self, message: &Message) -> anyhow::Result<()> {
        let settle: SettleMessage = serde_json::from_str(&message.body)
            .context("the message is not a settlement ({tenant, paymentId})")?;
        let settled = settle::settle(&self.table, &settle, OffsetDateTime::now_utc()).await?;
        tracing::info!(payment_id = %settle.payment_id, ?settled, "payment settled");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_queue::{QueuePolicy, SqliteQueue, handle_batch};
    use lectern_store::sqlite::SqliteTable;

    fn sample(name: &str) -> Vec<u8> {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn read(name: &str) -> ProviderEvent {
        provider_event("stripe", &StripeEvent::parse(&sample(name)).unwrap())
    }

    #[test]
    fn the_sample_events_read_as_their_facts() {
        let succeeded = read("stripe-payment-intent-succeeded.json");
        assert_eq!(succeeded.fact, Some(Fact::Succeeded));
        assert_eq!(
            succeeded.payment_intent.as_deref(),
            Some("pi_3QxLectern0000Demo")
        );
        assert_eq!(succeeded.amount, Some(4900));
        assert!(succeeded.currency.unwrap().eq_ignore_ascii_case("eur"));
        assert!(succeeded.names_our_payment);

        let refunded = read("stripe-charge-refunded.json");
        assert_eq!(
            refunded.fact,
            Some(Fact::Refunded {
                amount_refunded: 4900
            })
        );
        assert_eq!(
            refunded.payment_intent.as_deref(),
            Some("pi_3QxLectern0000Demo")
        );

        let disputed = read("stripe-charge-dispute-created.json");
        match disputed.fact {
            Some(Fact::Dispute(d)) => {
                assert_eq!(
                    (d.id.as_str(), d.status.as_str()),
                    ("du_1QxLectern0000Demo", "needs_response")
                );
                assert_eq!(d.reason.as_deref(), Some("fraudulent"));
                assert!(d.closed_at.is_none());
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_sample_batch_fails_only_the_record_naming_an_unknown_payment_of_ours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        let worker = EventsWorker {
            table: Arc::new(SqliteTable::open(&path).unwrap()),
            provider: "stripe".into(),
            confirmations: Arc::new(
                SqliteQueue::open(&path, "payment-confirmations", QueuePolicy::new(3)).unwrap(),
            ),
        };
        let batch = serde_json::from_slice(&sample("sqs-payment-events.json")).unwrap();
        let response = handle_batch(batch, &worker).await;
        // The success names one of our payments (its metadata) that is not recorded: retried. The
        // refund's charge carries no metadata and matches no payment: recorded as foreign, done.
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["059f36b4-87a3-44ab-83d2-66197544d701"]);
        let repo = PaymentRepo::new(worker.table.clone());
        assert!(
            repo.event_seen("stripe", "evt_3QxLectern0000Refd")
                .await
                .unwrap()
        );
        assert!(
            !repo
                .event_seen("stripe", "evt_3QxLectern0000Succ")
                .await
                .unwrap()
        );
    }
}

//! Applying what the payment provider reports. Contract: issue "Paid courses…" §Stripe webhook
//! ingestion (webhook worker).
//!
//! An event is found a payment by the provider's payment id through our own mapping (the event's
//! metadata is a hint, never trusted over the stored record); an amount or currency that differs from
//! the record is refused and logged. The fact is merged into the payment (see
//! `lectern_domain::payment`: the result does not depend on the order of events) and written together
//! with the event's id, so an event delivered twice is applied once.

use lectern_domain::payment::{Dispute, Payment};
use lectern_store::StoreError;
use lectern_store::payments::{PaymentRepo, RecordError};
use time::OffsetDateTime;

/// What an event says happened to a payment.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    Succeeded,
    Failed {
        reason: Option<String>,
    },
    /// The charge's refunded total so far (cumulative).
    Refunded {
        amount_refunded: i64,
    },
    Dispute(Dispute),
}

/// A provider event, reduced to what the worker needs.
#[derive(Debug, Clone)]
pub struct ProviderEvent {
    /// `stripe` or `local`: the provider whose ids these are.
    pub provider: String,
    pub id: String,
    pub event_type: String,
    /// When the provider created the event: the time of the fact, so a redelivery records the same.
    pub created: OffsetDateTime,
    /// The payment intent the event is about (none for events about something else).
    pub payment_intent: Option<String>,
    /// The amount and currency the event states, checked against the record.
    pub amount: Option<i64>,
    pub currency: Option<String>,
    /// Whether the event's metadata names one of our payments (a hint: our mapping decides).
    pub names_our_payment: bool,
    /// `None`: a type the platform does not act on (recorded and acknowledged).
    pub fact: Option<Fact>,
}

/// What applying an event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The payment changed; `settle` says whether its consequences (invoice, enrollment,
    /// notification) need settling.
    Changed { payment: Box<Payment>, settle: bool },
    /// Recorded; nothing to change (news already known, a type we do not act on).
    Unchanged,
    /// The event was applied before.
    Duplicate,
    /// About no payment of ours (another application on the same provider account): recorded.
    Foreign,
    /// The amount or currency does not match the record: refused (recorded, logged).
    Mismatch,
}

/// Why an event could not be applied now (the message is retried).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The event names one of our payments that is not recorded (yet): a payment whose creation is
    /// still committing, or lost. Retried, then dead-lettered for a person to look at.
    #[error("no payment is recorded for provider payment {0}")]
    UnknownPayment(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often a fact is reapplied on fresh data when the payment changed under it.
const RETRIES: u32 = 8;

impl Fact {
    /// Merges the fact into `payment`; returns the newly refunded amount (0 unless a refund) and
    /// whether anything changed.
    fn merge(&self, payment: &mut Payment, at: OffsetDateTime) -> (bool, i64) {
        match self {
            Fact::Succeeded => (payment.record_success(at), 0),
            Fact::Failed { reason } => (payment.record_failure(at, reason.clone()), 0),
            Fact::Refunded { amount_refunded } => {
                let added = payment.record_refunded(*amount_refunded, at);
                (added > 0, added)
            }
            Fact::Dispute(dispute) => (payment.record_dispute(dispute.clone()), 0),
        }
    }
}

/// Whether the event's amount and currency agree with the record. Refund and dispute events state the
/// charge's amount, which is the payment's.
fn matches_record(event: &ProviderEvent, payment: &Payment) -> bool {
    let amount_ok = event.amount.is_none_or(|a| a == payment.amount);
    let currency_ok = event
        .currency
        .as_deref()
        .is_none_or(|c| c.eq_ignore_ascii_case(payment.currency.as_str()));
    amount_ok && currency_ok
}

/// Applies one event.
pub async fn apply(
    repo: &PaymentRepo,
    event: &ProviderEvent,
    now: OffsetDateTime,
) -> Result<Applied, ApplyError> {
    apply_to(repo, event, None, now).await
}

/// Applies one event, starting from `read`, the event's payment as the caller read it (its provider
/// payment id must be the event's), which saves looking it up by provider id. A stale `read` costs
/// nothing but the retry that re-reads it.
#[tracing::instrument(skip_all, fields(event_id = %event.id, event_type = %event.event_type))]
pub async fn apply_to(
    repo: &PaymentRepo,
    event: &ProviderEvent,
    mut read: Option<Payment>,
    now: OffsetDateTime,
) -> Result<Applied, ApplyError> {
    let provider = event.provider.as_str();
    if repo.event_seen(provider, &event.id).await? {
        return Ok(Applied::Duplicate);
    }
    let record_only = |outcome: Applied| async move {
        if repo
            .record_event(provider, &event.id, &event.event_type, now)
            .await?
        {
            Ok(outcome)
        } else {
            Ok(Applied::Duplicate)
        }
    };
    let (Some(fact), Some(intent)) = (&event.fact, &event.payment_intent) else {
        return record_only(Applied::Unchanged).await;
    };
    let mut attempt = 0;
    loop {
        let before = match read.take() {
            Some(payment) if payment.provider_payment_id == *intent => Some(payment),
            _ => repo.find_by_provider_id(provider, intent).await?,
        };
        let Some(before) = before else {
            if event.names_our_payment {
                return Err(ApplyError::UnknownPayment(intent.clone()));
            }
            tracing::info!(payment_intent = %intent, "event about a payment that is not ours");
            return record_only(Applied::Foreign).await;
        };
        if !matches_record(event, &before) {
            tracing::error!(
                payment_id = %before.id,
                event_amount = ?event.amount,
                event_currency = ?event.currency,
                amount = before.amount,
                currency = %before.currency,
                "refused: the event's amount or currency differs from the payment's"
            );
            return record_only(Applied::Mismatch).await;
        }
        let mut after = before.clone();
        let (changed, refunded) = fact.merge(&mut after, event.created);
        if !changed {
            return record_only(Applied::Unchanged).await;
        }
        after.version += 1;
        after.updated_at = now;
        let settle = after.succeeded_at.is_some()
            && (before.succeeded_at.is_none() || before.entitles() != after.entitles());
        match repo
            .record_facts(
                &before,
                &after,
                (provider, &event.id, &event.event_type),
                now,
                refunded,
            )
            .await
        {
            Ok(()) => {
                return Ok(Applied::Changed {
                    payment: Box::new(after),
                    settle,
                });
            }
            Err(RecordError::Duplicate) => return Ok(Applied::Duplicate),
            Err(RecordError::Stale) if attempt < RETRIES => attempt += 1,
            Err(RecordError::Stale) => {
                return Err(ApplyError::Store(StoreError::TransactionConflict));
            }
            Err(RecordError::Store(e)) => return Err(e.into()),
        }
    }
}

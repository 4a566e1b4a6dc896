//! Settling a payment: making everything that follows from its facts true. Contract: issue "Paid
//! courses…" §confirmation worker.
//!
//! The payment-confirmation queue carries `{tenant, paymentId}`; settling reads the payment as it is
//! now and converges: a paid payment's invoice is paid (numbered, counted in revenue: one transaction,
//! see `InvoiceRepo::pay`); a payment that entitles its student enrolls them (the enrollment's
//! transaction checks that the payment still entitles them, so a refund recorded meanwhile wins); a
//! payment that no longer does (refunded, dispute lost) revokes the enrollment; the settlement records
//! `payment.completed` / `payment.refunded` once per payment, and the event router's notifications
//! consumer tells the student. Each step is idempotent, so a retried or duplicated message changes nothing more.
//!
//! An enrollment records what grants it: a payment that no longer entitles revokes only the enrollment
//! it granted (a late event about an old, refunded payment leaves alone the access a newer payment
//! bought), and a payment whose enrollment the student ended is not enrolled again by a repeated
//! settlement.
//!
//! A payment that entitles its student to a course deleted meanwhile (a course with entitling payments
//! cannot be deleted, but a pending one may succeed after) is not dropped: settling it fails, so the
//! message is retried and then kept in the dead-letter queue, naming the payment for an admin to
//! refund.
//!
//! Refunds revoke access: a refunded student is unenrolled (their progress is kept, as with any
//! unenrollment, and comes back if they buy the course again). This is not a tenant setting.

use std::sync::Arc;

use lectern_domain::enrollment::Grant;
use lectern_domain::event::{DomainEvent, EventEnvelope, EventType, PaymentSettled};
use lectern_domain::payment::Payment;
use lectern_domain::{CourseId, PaymentId, TenantId};
use lectern_store::courses::CourseRepo;
use lectern_store::enrollments::{EnrollError, EnrollmentRepo, ProgressError};
use lectern_store::invoices::InvoiceRepo;
use lectern_store::outbox;
use lectern_store::payments::PaymentRepo;
use lectern_store::{StoreError, Table};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The message on the payment-confirmation queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleMessage {
    pub tenant: TenantId,
    pub payment_id: PaymentId,
}

impl SettleMessage {
    pub fn of(payment: &Payment) -> SettleMessage {
        SettleMessage {
            tenant: payment.tenant.clone(),
            payment_id: payment.id,
        }
    }
}

/// What settling found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settled {
    pub invoice_number: Option<String>,
    pub enrolled: bool,
    pub revoked: bool,
}

/// Why a payment could not be settled (the message is retried, then dead-lettered).
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The payment entitles its student to a course that was deleted (or is being deleted) since
    /// they started paying. Left for a person: the dead letter names the payment to refund.
    #[error("payment entitles its student to course {0}, which no longer exists: refund it")]
    CourseGone(CourseId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often settling starts over when the payment changed under it.
const RETRIES: u32 = 5;

/// Settles one payment. `Ok` also when there is nothing (left) to do.
#[tracing::instrument(skip(table), fields(payment_id = %message.payment_id))]
pub async fn settle(
    table: &Arc<dyn Table>,
    message: &SettleMessage,
    now: OffsetDateTime,
) -> Result<Settled, SettleError> {
    let payments = PaymentRepo::new(table.clone());
    let enrollments = EnrollmentRepo::new(table.clone());
    let invoices = InvoiceRepo::new(table.clone());
    let mut settled = Settled::default();
    let mut attempt = 0;
    loop {
        let Some(payment) = payments.get(&message.tenant, message.payment_id).await? else {
            tracing::warn!("settling a payment that does not exist");
            return Ok(settled);
        };
        let Some(paid_at) = payment.succeeded_at else {
            return Ok(settled);
        };
        if let Some(invoice) = invoices.pay(&payment, paid_at).await? {
            settled.invoice_number = invoice.number;
        }
        let course = CourseRepo::new(table.clone())
            .get(&payment.tenant, payment.course_id)
            .await?;
        let Some(course) = course.filter(|c| c.deleting_since.is_none()) else {
            if payment.entitles() {
                // Paid for a course that is gone: kept (retried, then dead-lettered) for an admin to
                // refund, never dropped.
                return Err(SettleError::CourseGone(payment.course_id));
            }
            return Ok(settled);
        };
        let enrollment = enrollments
            .get(&payment.tenant, payment.course_id, payment.user_id)
            .await?;
        if payment.entitles() {
            // Enroll unless already in, or unless this payment's enrollment was ended since (the
            // student left: a settlement repeated later must not enroll them behind their back).
            let enroll = match &enrollment {
                None => true,
                Some(e) => {
                    !e.is_active()
                        && e.granted_by
                            != Some(Grant::Payment {
                                payment_id: payment.id,
                            })
                }
            };
            if enroll {
                match enrollments
                    // The settlement enrolls for the provider's fact, not for a signed-in user.
                    .enroll_paid(None, &course, &payment, enrollment, now)
                    .await
                {
                    Ok(_) => settled.enrolled = true,
                    Err(EnrollError::AlreadyEnrolled) if attempt < RETRIES => {
                        attempt += 1;
                        continue;
                    }
                    Err(EnrollError::GuardFailed) if attempt < RETRIES => {
                        attempt += 1;
                        continue;
                    }
                    Err(EnrollError::NotOpen) => {
                        return Err(SettleError::CourseGone(course.id));
                    }
                    Err(EnrollError::AlreadyEnrolled | EnrollError::GuardFailed) => {
                        return Err(StoreError::TransactionConflict.into());
                    }
                    Err(EnrollError::Store(e)) => return Err(e.into()),
                }
            }
            outbox::publish(
                table.as_ref(),
                &settled_event(&payment, EventType::PaymentCompleted, paid_at),
            )
            .await?;
        } else {
            if let Some(current) = enrollment.filter(|e| e.is_active()) {
                // Only what this payment granted is revoked: a newer payment's (or a free) enrollment
                // stays, however late this payment's news arrives.
                let purchase = match current.granted_by {
                    Some(_) => None,
                    None => payments
                        .current_purchase(&payment.tenant, payment.user_id, payment.course_id)
                        .await?
                        .map(|p| p.id),
                };
                if current.granted_by_payment(payment.id, purchase) {
                    // A revocation for the provider's fact, not for a signed-in user.
                    match enrollments.unenroll(None, &course, &current, now).await {
                        Ok(_) => settled.revoked = true,
                        Err(ProgressError::NotEnrolled) if attempt < RETRIES => {
                            attempt += 1;
                            continue;
                        }
                        Err(ProgressError::NotEnrolled) => {
                            return Err(StoreError::TransactionConflict.into());
                        }
                        Err(ProgressError::Store(e)) => return Err(e.into()),
                    }
                }
            }
            if let Some(refunded_at) = payment.refunded_at {
                outbox::publish(
                    table.as_ref(),
                    &settled_event(&payment, EventType::PaymentRefunded, refunded_at),
                )
                .await?;
            }
        }
        return Ok(settled);
    }
}

/// `payment.completed` or `payment.refunded`: once per payment (its id is the cause), at the time
/// of the provider's fact, whoever settles it and however often. The student's notification is
/// written by its consumer (the event router).
fn settled_event(payment: &Payment, event_type: EventType, at: OffsetDateTime) -> EventEnvelope {
    let settled = PaymentSettled {
        payment_id: payment.id,
        course_id: payment.course_id,
        course_title: payment.course_title.clone(),
        student_id: payment.user_id,
        amount: payment.amount,
        refunded_amount: payment.refunded_amount,
        currency: payment.currency,
    };
    let event = match event_type {
        EventType::PaymentRefunded => DomainEvent::PaymentRefunded(settled),
        _ => DomainEvent::PaymentCompleted(settled),
    };
    EventEnvelope::new(
        payment.tenant.clone(),
        event,
        &payment.id.to_string(),
        at,
        None,
    )
}

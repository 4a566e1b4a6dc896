//! Payments for courses, invoices and disputes. Contract: issue "Paid courses: Stripe payments, webhook
//! ingestion through SQS, payment confirmation, invoices, refunds and disputes"; seed 003 (Payment:
//! amount, currency, provider, status pending | completed | failed | refunded, the provider's payment
//! intent id).
//!
//! # Facts, not transitions
//! The provider tells us what happened through events that can arrive late, twice, or out of order (a
//! refund before the success it refunds). A payment therefore records *facts*, each applied by a
//! monotonic merge (a success is never undone; the refunded amount only grows, as Stripe's cumulative
//! `amount_refunded` does; a closed dispute is never reopened by a late "created"), and its status is a
//! function of the facts ([`Payment::status`]). Applying the same events in any order, any number of
//! times, gives the same payment. What follows from the status (an enrollment, a paid invoice) is
//! settled afterwards, idempotently, from the payment as it then is.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::course::{CourseCategory, Currency};
use crate::ids::{CourseId, InvoiceId, PaymentId, TenantId, UserId};

/// What a client sees of a payment's state (seed 003's statuses plus `disputed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created; the student has not paid (yet).
    Pending,
    /// The provider says the money arrived.
    Completed,
    /// The last attempt to pay failed; the student may try again with the same payment.
    Failed,
    /// The whole amount went back to the student (a refund, or a dispute the platform lost).
    Refunded,
    /// The student's bank disputes the charge; access is kept until the dispute is decided.
    Disputed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Completed => "completed",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Disputed => "disputed",
        }
    }

    pub fn parse(value: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Pending,
            PaymentStatus::Completed,
            PaymentStatus::Failed,
            PaymentStatus::Refunded,
            PaymentStatus::Disputed,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// A dispute (chargeback) of a payment, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dispute {
    /// The provider's dispute id (`dp_…`).
    pub id: String,
    /// The provider's status (`needs_response`, `under_review`, `won`, `lost`, …).
    pub status: String,
    pub reason: Option<String>,
    /// Minor units.
    pub amount: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub closed_at: Option<OffsetDateTime>,
}

impl Dispute {
    /// Whether the dispute is decided (Stripe's final statuses).
    pub fn is_closed(&self) -> bool {
        matches!(
            self.status.as_str(),
            "won" | "lost" | "warning_closed" | "charge_refunded"
        )
    }

    pub fn is_lost(&self) -> bool {
        self.status == "lost"
    }

    /// Merges a report of the same dispute: a closed dispute is never reopened by a late report of an
    /// earlier state.
    pub fn merge(&mut self, report: Dispute) {
        if self.is_closed() && !report.is_closed() {
            return;
        }
        let opened_at = self.opened_at.min(report.opened_at);
        *self = Dispute {
            opened_at,
            closed_at: report.closed_at.or(self.closed_at),
            ..report
        };
    }
}

/// A payment for one course by one student.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: PaymentId,
    pub tenant: TenantId,
    pub user_id: UserId,
    pub course_id: CourseId,
    /// The course's title when the payment was made (what the invoice says).
    pub course_title: String,
    /// The course's category when the payment was made (the wallet's spending by category).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_category: Option<CourseCategory>,
    /// Minor units (cents), the course's price when the payment was made.
    pub amount: i64,
    pub currency: Currency,
    /// `stripe` or `local`.
    pub provider: String,
    /// The provider's payment intent (`pi_…`).
    pub provider_payment_id: String,
    /// The invoice issued with the payment (open until paid).
    pub invoice_id: InvoiceId,
    /// The client's `Idempotency-Key` and a digest of the request it came with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<IdempotencyRecord>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Fact: the provider reported the payment succeeded.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub succeeded_at: Option<OffsetDateTime>,
    /// Fact: the latest attempt failed, and why (ignored once succeeded).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub failed_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Fact: how much has been refunded so far (minor units; only grows).
    #[serde(default)]
    pub refunded_amount: i64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub refunded_at: Option<OffsetDateTime>,
    /// Fact: the charge's dispute, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<Dispute>,
    pub version: u64,
}

/// The idempotency key a payment was created with, and a digest of the request body, so that the same
/// key with another body is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub key: String,
    pub request_digest: String,
}

impl Payment {
    /// A new pending payment.
    #[allow(clippy::too_many_arguments)]
    pub fn pending(
        tenant: TenantId,
        user_id: UserId,
        course_id: CourseId,
        course_title: String,
        amount: i64,
        currency: Currency,
        provider: String,
        provider_payment_id: String,
        now: OffsetDateTime,
    ) -> Payment {
        Payment {
            id: PaymentId::new(),
            tenant,
            user_id,
            course_id,
            course_title,
            course_category: None,
            amount,
            currency,
            provider,
            provider_payment_id,
            invoice_id: InvoiceId::new(),
            idempotency: None,
            created_at: now,
            updated_at: now,
            succeeded_at: None,
            failed_at: None,
            failure_reason: None,
            refunded_amount: 0,
            refunded_at: None,
            dispute: None,
            version: 1,
        }
    }

    /// The status the facts add up to, whatever order they arrived in.
    pub fn status(&self) -> PaymentStatus {
        if let Some(dispute) = &self.dispute {
            if dispute.is_lost() {
                return PaymentStatus::Refunded;
            }
            if !dispute.is_closed() {
                return PaymentStatus::Disputed;
            }
        }
        if self.refunded_amount >= self.amount && self.refunded_at.is_some() {
            PaymentStatus::Refunded
        } else if self.succeeded_at.is_some() {
            PaymentStatus::Completed
        } else if self.failed_at.is_some() {
            PaymentStatus::Failed
        } else {
            PaymentStatus::Pending
        }
    }

    /// Whether the payment entitles the student to the course: paid, not wholly refunded, no dispute
    /// lost. A dispute in progress keeps access (most are decided for the merchant).
    pub fn entitles(&self) -> bool {
        matches!(
            self.status(),
            PaymentStatus::Completed | PaymentStatus::Disputed
        )
    }

    /// Whether a new payment for the same course may replace this one: it can no longer be paid.
    pub fn is_settled(&self) -> bool {
        self.succeeded_at.is_some()
    }

    /// Applies "the payment succeeded". Returns whether anything changed.
    pub fn record_success(&mut self, at: OffsetDateTime) -> bool {
        if self.succeeded_at.is_some() {
            return false;
        }
        self.succeeded_at = Some(at);
        true
    }

    /// Applies "an attempt failed": kept only while the payment has not succeeded, and only if newer
    /// than the failure already recorded.
    pub fn record_failure(&mut self, at: OffsetDateTime, reason: Option<String>) -> bool {
        if self.succeeded_at.is_some() || self.failed_at.is_some_and(|f| f >= at) {
            return false;
        }
        self.failed_at = Some(at);
        self.failure_reason = reason;
        true
    }

    /// Applies "the charge has `amount_refunded` refunded in total" (cumulative, as Stripe reports it).
    /// Returns the newly refunded amount (0 when the report is not news).
    pub fn record_refunded(&mut self, amount_refunded: i64, at: OffsetDateTime) -> i64 {
        let amount_refunded = amount_refunded.min(self.amount);
        if amount_refunded <= self.refunded_amount {
            return 0;
        }
        let added = amount_refunded - self.refunded_amount;
        self.refunded_amount = amount_refunded;
        self.refunded_at = Some(self.refunded_at.map_or(at, |r| r.max(at)));
        added
    }

    /// Applies a report of the charge's dispute. Returns whether anything changed.
    pub fn record_dispute(&mut self, report: Dispute) -> bool {
        let before = self.dispute.clone();
        match &mut self.dispute {
            Some(current) if current.id == report.id => current.merge(report),
            _ => self.dispute = Some(report),
        }
        before != self.dispute
    }
}

/// An invoice's state: open while unpaid, paid once the payment succeeded, void when replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Open,
    Paid,
    Void,
}

/// The invoice of a payment. Its number (`INV-000001`, sequential per tenant, no gaps) is given when it
/// is paid: paid invoices are the documents an accountant counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: InvoiceId,
    pub tenant: TenantId,
    pub payment_id: PaymentId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub description: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: InvoiceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub paid_at: Option<OffsetDateTime>,
    /// Refunded so far (minor units).
    #[serde(default)]
    pub refunded_amount: i64,
}

/// How long a student has to pay an open invoice before it counts as overdue.
pub const INVOICE_TERMS: time::Duration = time::Duration::days(3);

impl Invoice {
    /// The open invoice of a new payment.
    pub fn open_for(payment: &Payment) -> Invoice {
        Invoice {
            id: payment.invoice_id,
            tenant: payment.tenant.clone(),
            payment_id: payment.id,
            user_id: payment.user_id,
            course_id: payment.course_id,
            description: format!("Course: {}", payment.course_title),
            amount: payment.amount,
            currency: payment.currency,
            status: InvoiceStatus::Open,
            number: None,
            issued_at: payment.created_at,
            due_at: payment.created_at + INVOICE_TERMS,
            paid_at: None,
            refunded_amount: 0,
        }
    }

    /// Whether it is unpaid past its due date.
    pub fn is_overdue(&self, now: OffsetDateTime) -> bool {
        self.status == InvoiceStatus::Open && self.due_at < now
    }
}

/// Currencies without minor units (Stripe's list of zero-decimal currencies).
const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// An amount in minor units as people read it: `49.00 USD`, `4900 JPY`.
pub fn format_amount(amount: i64, currency: Currency) -> String {
    if ZERO_DECIMAL.contains(&currency.as_str()) {
        return format!("{amount} {currency}");
    }
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}

/// The text form of the `n`th invoice number of a tenant.
pub fn invoice_number(n: u64) -> String {
    format!("INV-{n:06}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn payment() -> Payment {
        Payment::pending(
            TenantId::parse("t").unwrap(),
            UserId::new(),
            CourseId::new(),
            "Rust".into(),
            4_900,
            Currency::parse("usd").unwrap(),
            "local".into(),
            "pi_1".into(),
            datetime!(2026-11-01 10:00 UTC),
        )
    }

    fn dispute(status: &str) -> Dispute {
        Dispute {
            id: "dp_1".into(),
            status: status.into(),
            reason: Some("fraudulent".into()),
            amount: 4_900,
            opened_at: datetime!(2026-11-03 10:00 UTC),
            closed_at: None,
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Fact {
        Success,
        Failure,
        Refund(i64),
        Dispute(&'static str),
    }

    fn apply(p: &mut Payment, fact: Fact) {
        let at = datetime!(2026-11-02 10:00 UTC);
        match fact {
            Fact::Success => {
                p.record_success(at);
            }
            Fact::Failure => {
                p.record_failure(at, Some("card_declined".into()));
            }
            Fact::Refund(n) => {
                p.record_refunded(n, at);
            }
            Fact::Dispute(s) => {
                p.record_dispute(dispute(s));
            }
        }
    }

    fn permutations(facts: &[Fact]) -> Vec<Vec<Fact>> {
        if facts.len() <= 1 {
            return vec![facts.to_vec()];
        }
        let mut out = Vec::new();
        for i in 0..facts.len() {
            let mut rest = facts.to_vec();
            let first = rest.remove(i);
            for mut tail in permutations(&rest) {
                tail.insert(0, first);
                out.push(tail);
            }
        }
        out
    }

    #[test]
    fn the_status_does_not_depend_on_the_order_of_the_events() {
        let cases: [(&[Fact], PaymentStatus); 6] = [
            (
                &[Fact::Success, Fact::Refund(4_900)],
                PaymentStatus::Refunded,
            ),
            (&[Fact::Failure, Fact::Success], PaymentStatus::Completed),
            (
                &[Fact::Success, Fact::Refund(1_000), Fact::Refund(2_000)],
                PaymentStatus::Completed,
            ),
            (
                &[Fact::Success, Fact::Dispute("needs_response")],
                PaymentStatus::Disputed,
            ),
            (
                &[
                    Fact::Success,
                    Fact::Dispute("needs_response"),
                    Fact::Dispute("won"),
                ],
                PaymentStatus::Completed,
            ),
            (
                &[
                    Fact::Success,
                    Fact::Dispute("needs_response"),
                    Fact::Dispute("lost"),
                    Fact::Failure,
                ],
                PaymentStatus::Refunded,
            ),
        ];
        for (facts, expected) in cases {
            let mut outcomes = Vec::new();
            for order in permutations(facts) {
                let mut p = payment();
                for fact in &order {
                    apply(&mut p, *fact);
                    // Every event delivered twice changes nothing more.
                    apply(&mut p, *fact);
                }
                assert_eq!(p.status(), expected, "{order:?}");
                outcomes.push((p.refunded_amount, p.dispute.clone(), p.succeeded_at));
            }
            outcomes.dedup();
            assert_eq!(outcomes.len(), 1, "{facts:?}");
        }
    }

    #[test]
    fn refunds_are_cumulative_and_capped() {
        let mut p = payment();
        p.record_success(datetime!(2026-11-01 11:00 UTC));
        let at = datetime!(2026-11-02 10:00 UTC);
        assert_eq!(p.record_refunded(1_000, at), 1_000);
        assert_eq!(p.record_refunded(1_000, at), 0);
        assert_eq!(p.record_refunded(900, at), 0);
        assert_eq!(p.record_refunded(10_000, at), 3_900);
        assert_eq!(p.status(), PaymentStatus::Refunded);
        assert!(!p.entitles());
    }

    #[test]
    fn a_dispute_keeps_access_until_lost() {
        let mut p = payment();
        p.record_success(datetime!(2026-11-01 11:00 UTC));
        p.record_dispute(dispute("needs_response"));
        assert!(p.entitles());
        p.record_dispute(dispute("lost"));
        assert!(!p.entitles());
    }

    #[test]
    fn invoices_are_due_after_the_terms_and_numbered_with_six_digits() {
        let p = payment();
        let invoice = Invoice::open_for(&p);
        assert!(!invoice.is_overdue(p.created_at + time::Duration::days(2)));
        assert!(invoice.is_overdue(p.created_at + time::Duration::days(4)));
        assert_eq!(invoice_number(42), "INV-000042");
        assert_eq!(
            format_amount(4_905, Currency::parse("usd").unwrap()),
            "49.05 USD"
        );
        assert_eq!(
            format_amount(4_900, Currency::parse("jpy").unwrap()),
            "4900 JPY"
        );
    }
}

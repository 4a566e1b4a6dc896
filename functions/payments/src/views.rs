//! The payments group's API shapes (camelCase, times as RFC 3339 with milliseconds, amounts in minor
//! units with an upper-case ISO 4217 currency).

use lectern_domain::notification::{Notification, NotificationKind};
use lectern_domain::payment::{Dispute, Invoice, InvoiceStatus, Payment, PaymentStatus};
use lectern_domain::{CourseId, InvoiceId, PaymentId, UserId};
use lectern_web::views::timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A payment (seed 003 Payment, with the provider's facts).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub id: PaymentId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub course_title: String,
    /// Minor units (cents).
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
    /// `stripe`, or `local` when no Stripe key is configured.
    pub payment_method: String,
    /// The provider's PaymentIntent id (`pi_…`).
    pub provider_payment_id: String,
    pub invoice_id: InvoiceId,
    /// Why the last attempt failed, while the payment has not succeeded.
    pub failure_reason: Option<String>,
    pub refunded_amount: i64,
    pub dispute: Option<DisputeView>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub refunded_at: Option<String>,
}

impl From<&Payment> for PaymentView {
    fn from(p: &Payment) -> Self {
        PaymentView {
            id: p.id,
            user_id: p.user_id,
            course_id: p.course_id,
            course_title: p.course_title.clone(),
            amount: p.amount,
            currency: p.currency.to_string(),
            status: p.status(),
            payment_method: p.provider.clone(),
            provider_payment_id: p.provider_payment_id.clone(),
            invoice_id: p.invoice_id,
            failure_reason: p
                .failure_reason
                .clone()
                .filter(|_| p.succeeded_at.is_none()),
            refunded_amount: p.refunded_amount,
            dispute: p.dispute.as_ref().map(DisputeView::from),
            created_at: timestamp(p.created_at),
            updated_at: timestamp(p.updated_at),
            completed_at: p.succeeded_at.map(timestamp),
            refunded_at: p.refunded_at.map(timestamp),
        }
    }
}

/// A dispute of a payment's charge.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisputeView {
    /// The provider's dispute id (`dp_…`).
    pub id: String,
    /// The provider's status: `needs_response`, `under_review`, `won`, `lost`, …
    pub status: String,
    pub reason: Option<String>,
    pub amount: i64,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<String>,
}

impl From<&Dispute> for DisputeView {
    fn from(d: &Dispute) -> Self {
        DisputeView {
            id: d.id.clone(),
            status: d.status.clone(),
            reason: d.reason.clone(),
            amount: d.amount,
            opened_at: timestamp(d.opened_at),
            closed_at: d.closed_at.map(timestamp),
        }
    }
}

/// A dispute in the admin's list, with its payment.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisputedPayment {
    pub dispute: DisputeView,
    pub payment: PaymentView,
}

/// A new payment and what the client needs to pay it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCreated {
    pub payment: PaymentView,
    /// The PaymentIntent's client secret, for Stripe.js / the mobile SDKs to confirm the payment.
    pub client_secret: Option<String>,
}

/// An invoice.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceView {
    pub id: InvoiceId,
    /// `INV-000001`, sequential per tenant; given when the invoice is paid.
    pub number: Option<String>,
    pub payment_id: PaymentId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub description: String,
    pub amount: i64,
    pub currency: String,
    pub status: InvoiceStatus,
    pub refunded_amount: i64,
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<String>,
}

impl From<&Invoice> for InvoiceView {
    fn from(i: &Invoice) -> Self {
        InvoiceView {
            id: i.id,
            number: i.number.clone(),
            payment_id: i.payment_id,
            user_id: i.user_id,
            course_id: i.course_id,
            description: i.description.clone(),
            amount: i.amount,
            currency: i.currency.to_string(),
            status: i.status,
            refunded_amount: i.refunded_amount,
            issued_at: timestamp(i.issued_at),
            due_at: timestamp(i.due_at),
            paid_at: i.paid_at.map(timestamp),
        }
    }
}

/// A notification.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub id: String,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub read: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        NotificationView {
            id: n.id.clone(),
            kind: n.kind,
            title: n.title.clone(),
            body: n.body.clone(),
            data: n.data.clone(),
            read: n.read,
            created_at: timestamp(n.created_at),
        }
    }
}

//! Notifications: what the platform tells a user about something that happened to them (a purchase
//! confirmed, a refund). Each is written once per cause: its id is derived from what caused it, so a
//! retried worker does not notify twice.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{TenantId, UserId};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A payment went through and the student is enrolled.
    PurchaseConfirmed,
    /// A payment was refunded.
    PaymentRefunded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Derived from the cause (`{kind}:{paymentId}`), so the same cause cannot notify twice.
    pub id: String,
    pub tenant: TenantId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// What it refers to, e.g. `{"paymentId": …, "courseId": …}`.
    pub data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default)]
    pub read: bool,
}

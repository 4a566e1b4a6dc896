//! Notifications from events: a student is told when their payment went through or was refunded.
//! Contract: issue "Paid courses…" §confirmation worker (the student is notified once per cause).
//!
//! Idempotent by cause: a notification's id is `{kind}:{paymentId}` and its time is the event's, so a
//! redelivered event writes the same item, once; and its `notification.new` event, whose id is the
//! notification's, once.

use std::sync::Arc;

use async_trait::async_trait;
use lectern_domain::event::{
    DomainEvent, EventEnvelope, EventType, NotificationNew, PaymentSettled,
};
use lectern_domain::notification::{Notification, NotificationKind};
use lectern_domain::payment::format_amount;
use lectern_store::Table;
use lectern_store::notifications::NotificationRepo;
use lectern_store::outbox;

use crate::router::Consumer;

/// Writes the payment notifications.
pub struct PaymentNotifications {
    table: Arc<dyn Table>,
}

impl PaymentNotifications {
    pub fn new(table: Arc<dyn Table>) -> Self {
        PaymentNotifications { table }
    }
}

#[async_trait]
impl Consumer for PaymentNotifications {
    fn name(&self) -> &str {
        "payment-notifications"
    }

    fn subscribes_to(&self, event_type: EventType) -> bool {
        matches!(
            event_type,
            EventType::PaymentCompleted | EventType::PaymentRefunded
        )
    }

    async fn consume(&self, event: &EventEnvelope) -> anyhow::Result<()> {
        let notification = match &event.event {
            DomainEvent::PaymentCompleted(p) => {
                notification(event, p, NotificationKind::PurchaseConfirmed)
            }
            DomainEvent::PaymentRefunded(p) => {
                notification(event, p, NotificationKind::PaymentRefunded)
            }
            _ => return Ok(()),
        };
        NotificationRepo::new(self.table.clone())
            .notify(&notification)
            .await?;
        // Then the notification's own event, for the consumers that push it to the user. Both writes
        // are idempotent and the event is not marked handled until both are done, so a failure between
        // them is repaired by the redelivery.
        outbox::publish(self.table.as_ref(), &notification_new(event, &notification)).await?;
        Ok(())
    }
}

fn notification(
    event: &EventEnvelope,
    payment: &PaymentSettled,
    kind: NotificationKind,
) -> Notification {
    let (name, title, body) = match kind {
        NotificationKind::PurchaseConfirmed => (
            "purchase_confirmed",
            "You're enrolled".to_owned(),
            format!(
                "Your payment of {} for \"{}\" went through; the course is yours.",
                format_amount(payment.amount, payment.currency),
                payment.course_title
            ),
        ),
        NotificationKind::PaymentRefunded => (
            "payment_refunded",
            "Payment refunded".to_owned(),
            format!(
                "Your payment for \"{}\" was refunded ({}).",
                payment.course_title,
                format_amount(payment.refunded_amount, payment.currency)
            ),
        ),
    };
    Notification {
        id: format!("{name}:{}", payment.payment_id),
        tenant: event.tenant.clone(),
        user_id: payment.student_id,
        kind,
        title,
        body,
        data: serde_json::json!({
            "paymentId": payment.payment_id.to_string(),
            "courseId": payment.course_id.to_string(),
        }),
        created_at: event.occurred_at,
        read: false,
    }
}

/// `notification.new` for a notification just written: its cause is the notification's id.
fn notification_new(cause: &EventEnvelope, notification: &Notification) -> EventEnvelope {
    EventEnvelope::new(
        cause.tenant.clone(),
        DomainEvent::NotificationNew(NotificationNew {
            notification_id: notification.id.clone(),
            user_id: notification.user_id,
            kind: notification.kind,
            title: notification.title.clone(),
        }),
        &notification.id,
        notification.created_at,
        None,
    )
}

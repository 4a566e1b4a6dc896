//! The Lambda side of the router: a DynamoDB Streams batch to the [`EventRouter`], the failures back.
//!
//! The event source mapping has `FunctionResponseTypes: [ReportBatchItemFailures]`. A stream shard is
//! ordered, and Lambda resumes a shard from the lowest sequence number reported: so records are routed
//! one after another, and the first that fails is reported and ends the batch (the ones after it come
//! again with it). That keeps one subject's events in order (they share a partition key, hence a
//! shard) at the price of holding back the rest of the shard while a record is retried; after the
//! mapping's `MaximumRetryAttempts` the record goes to the on-failure destination and the shard moves
//! on.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use lectern_store::outbox::item_from_dynamodb_json;
use serde::{Deserialize, Serialize};

use crate::router::EventRouter;

/// A DynamoDB Streams event, as much of it as the router reads.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StreamRecord {
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName", default)]
    pub event_name: Option<String>,
    #[serde(default)]
    pub dynamodb: Option<StreamChange>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamChange {
    #[serde(default)]
    pub sequence_number: Option<String>,
    /// The item after the change (the stream's view type is `NEW_IMAGE`); absent for a removal.
    #[serde(default)]
    pub new_image: Option<serde_json::Value>,
}

/// The partial batch response: the record to resume from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StreamBatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// Routes the batch's records in order and reports the first that failed (none when all were
/// delivered). Removals (an event's TTL expiring) carry no new image and are skipped.
pub async fn handle_batch(event: StreamEvent, router: &EventRouter) -> StreamBatchResponse {
    for record in event.records {
        let Some(change) = record.dynamodb else {
            continue;
        };
        let Some(image) = change.new_image else {
            continue;
        };
        // Without a sequence number the record cannot be named: an empty identifier makes Lambda
        // retry the whole batch, the only answer that loses nothing.
        let sequence = change.sequence_number.unwrap_or_default();
        let outcome = match item_from_dynamodb_json(&image) {
            Ok(item) => router.route(item).await,
            Err(e) => Err(anyhow::Error::new(e).context("decoding the stream record")),
        };
        if let Err(e) = outcome {
            tracing::warn!(
                sequence_number = %sequence,
                event_name = ?record.event_name,
                error = format!("{e:#}"),
                "event not delivered; it will be retried from here"
            );
            return StreamBatchResponse {
                batch_item_failures: vec![BatchItemFailure {
                    item_identifier: sequence,
                }],
            };
        }
    }
    StreamBatchResponse::default()
}

/// Runs the router as a Lambda function: every stream batch goes through [`handle_batch`].
pub async fn run_lambda(router: EventRouter) -> Result<(), lambda_runtime::Error> {
    let router = Arc::new(router);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let router = Arc::clone(&router);
        async move { Ok::<_, lambda_runtime::Error>(handle_batch(event.payload, &router).await) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use lectern_domain::event::{EventEnvelope, EventId, EventType, Subject};
    use lectern_domain::{TenantId, UserId};
    use lectern_store::Table;
    use lectern_store::notifications::NotificationRepo;
    use lectern_store::sqlite::SqliteTable;

    use super::*;
    use crate::{Consumer, platform_consumers};

    fn sample() -> StreamEvent {
        let path = format!(
            "{}/../../events/dynamodb-stream-outbox.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_slice(&text).unwrap()
    }

    fn table() -> (tempfile::TempDir, Arc<dyn Table>) {
        let dir = tempfile::tempdir().unwrap();
        let table = SqliteTable::open(&dir.path().join("lectern.db")).unwrap();
        (dir, Arc::new(table))
    }

    async fn notification_kinds(table: &Arc<dyn Table>) -> Vec<String> {
        let student = UserId::parse("01938e69-7d2e-7b18-a6c3-90e4f15b2d08").unwrap();
        let (notifications, _) = NotificationRepo::new(table.clone())
            .of_user(&TenantId::parse("default").unwrap(), student, 10, None)
            .await
            .unwrap();
        notifications.iter().map(|n| n.id.clone()).collect()
    }

    #[tokio::test]
    async fn the_sample_batch_notifies_the_student_once_however_often_it_is_delivered() {
        // GIVEN the router with the platform's consumers
        let (_dir, table) = table();
        let router = EventRouter::new(table.clone(), platform_consumers(&table));
        // WHEN the sample batch (a payment completed, then refunded, and an expired event's removal)
        // arrives twice, as a retried batch does
        let first = handle_batch(sample(), &router).await;
        let again = handle_batch(sample(), &router).await;
        // THEN nothing failed, and the student has one notification per cause, newest first
        assert_eq!(first, StreamBatchResponse::default());
        assert_eq!(again, StreamBatchResponse::default());
        assert_eq!(
            notification_kinds(&table).await,
            [
                "payment_refunded:01938e6c-4b1a-7c3e-9f21-5d0a8e7b4c10",
                "purchase_confirmed:01938e6c-4b1a-7c3e-9f21-5d0a8e7b4c10"
            ]
        );
        // AND each notification recorded its own `notification.new`, once
        let student = UserId::parse("01938e69-7d2e-7b18-a6c3-90e4f15b2d08").unwrap();
        let tenant = TenantId::parse("default").unwrap();
        for id in ["purchase_confirmed", "payment_refunded"] {
            let id = format!("{id}:01938e6c-4b1a-7c3e-9f21-5d0a8e7b4c10");
            let key = lectern_store::keys::event(
                &tenant,
                &Subject::User { user_id: student },
                &EventId::of(EventType::NotificationNew, &id),
            );
            let item = table.get(&key).await.unwrap().expect("notification.new");
            let recorded = lectern_store::outbox::recorded(item).unwrap().unwrap();
            assert_eq!(recorded.event.event_type(), EventType::NotificationNew);
        }
    }

    /// Refuses refunds.
    struct RefusesRefunds;

    #[async_trait]
    impl Consumer for RefusesRefunds {
        fn name(&self) -> &str {
            "refuses-refunds"
        }
        fn subscribes_to(&self, event_type: EventType) -> bool {
            event_type == EventType::PaymentRefunded
        }
        async fn consume(&self, _: &EventEnvelope) -> anyhow::Result<()> {
            anyhow::bail!("not now")
        }
    }

    #[tokio::test]
    async fn a_failing_record_is_reported_and_ends_the_batch_so_its_subject_stays_in_order() {
        // GIVEN a consumer that fails the refund
        let (_dir, table) = table();
        let router = EventRouter::new(table.clone(), platform_consumers(&table))
            .with(Arc::new(RefusesRefunds));
        // WHEN the sample batch arrives
        let response = handle_batch(sample(), &router).await;
        // THEN the refund's record is the one to resume from; the completion before it was delivered,
        // and the refund's other consumer, which succeeded, will not be handed it again
        assert_eq!(
            response.batch_item_failures,
            [BatchItemFailure {
                item_identifier: "4872300000000012345678002".into()
            }]
        );
        assert_eq!(notification_kinds(&table).await.len(), 2);
    }
}

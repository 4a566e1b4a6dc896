//! Router and worker tests: real API Gateway v2 events and SQS batches from `events/` go through
//! `lambda_http`'s own parser into the payments function's routers, and through the batch plumbing
//! into its workers, as in Lambda.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use lectern_domain::user::UserRole;
use lectern_queue::{Queue, QueuePolicy, SqliteQueue, handle_batch};
use lectern_testkit::counting::CountingTable;
use lectern_testkit::lambda::{
    access_token, send_event as send, sqlite_config, sqlite_state, with_bearer,
};
use payments_function::queues::{EVENTS_QUEUE, LocalQueues};
use payments_function::workers::ConfirmationWorker;
use payments_function::{Ingest, Payments};

const PAYMENTS_LIST: &str = include_str!("../../../events/payments-list.json");
const WALLET: &str = include_str!("../../../events/payments-wallet.json");
const STRIPE_WEBHOOK: &str = include_str!("../../../events/stripe-webhook-payment-succeeded.json");
const CONFIRMATIONS: &str = include_str!("../../../events/sqs-payment-confirmations.json");

/// The payments group's router on a fresh SQLite store (the local provider, local queues in the
/// store's file), and a student's token.
async fn payments_router() -> (tempfile::TempDir, axum::Router, String) {
    let (dir, state) = sqlite_state();
    let config = sqlite_config(dir.path());
    let queues = LocalQueues {
        policy: QueuePolicy::new(3),
        visibility: Duration::from_secs(1),
    };
    let payments = Payments::build(&config, queues, None).await.unwrap();
    let (_, token) = access_token(&state, UserRole::Student);
    let router = payments_function::router(state, Arc::new(payments));
    (dir, router, token)
}

#[tokio::test]
async fn a_payments_list_event_with_a_forged_token_is_a_401() {
    let (_dir, router, _) = payments_router().await;
    let (status, _, body) = send(&router, PAYMENTS_LIST).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn a_payments_list_event_lists_nothing_for_a_student_who_bought_nothing() {
    // GIVEN a student who bought nothing WHEN the sample event arrives with their token
    let (_dir, router, token) = payments_router().await;
    let (status, _, body) = send(&router, &with_bearer(PAYMENTS_LIST, &token)).await;

    // THEN the (last) page is empty
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], serde_json::json!([]));
    assert!(body.get("nextCursor").is_none(), "{body}");
}

#[tokio::test]
async fn a_wallet_event_answers_an_empty_wallet_for_a_student_who_bought_nothing() {
    let (_dir, router, token) = payments_router().await;
    let (status, _, body) = send(&router, &with_bearer(WALLET, &token)).await;
    assert_eq!(status, 200, "{body}");
    for list in ["payments", "invoices", "refunds", "disputes", "totals"] {
        assert_eq!(body[list], serde_json::json!([]), "{list}: {body}");
    }
}

/// The webhook endpoint's router with its secret and events queue, as its Lambda function has them.
fn webhook_router(dir: &std::path::Path) -> (axum::Router, Arc<dyn Queue>) {
    let events: Arc<dyn Queue> = Arc::new(
        SqliteQueue::open(&dir.join("queues.db"), EVENTS_QUEUE, QueuePolicy::new(3)).unwrap(),
    );
    let ingest = Ingest {
        webhook_secret: Some(SECRET.into()),
        events: events.clone(),
    };
    (payments_function::webhook_router(Arc::new(ingest)), events)
}

const SECRET: &str = "whsec_lectern_events_test";

#[tokio::test]
async fn the_stripe_webhook_sample_as_signed_long_ago_is_refused_and_queues_nothing() {
    // GIVEN the endpoint WHEN the sample arrives with its signature of November 2026
    let dir = tempfile::tempdir().unwrap();
    let (router, events) = webhook_router(dir.path());
    let (status, _, body) = send(&router, STRIPE_WEBHOOK).await;

    // THEN it is refused, and nothing reaches the events worker
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_signature");
    let queued = events.receive(10, Duration::from_secs(1)).await.unwrap();
    assert!(queued.is_empty());
}

#[tokio::test]
async fn the_stripe_webhook_sample_signed_now_is_queued_exactly_as_sent() {
    // GIVEN the sample event signed now with the endpoint's secret
    let dir = tempfile::tempdir().unwrap();
    let (router, events) = webhook_router(dir.path());
    let mut event: serde_json::Value = serde_json::from_str(STRIPE_WEBHOOK).unwrap();
    let payload = event["body"].as_str().unwrap().to_owned();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    event["headers"]["stripe-signature"] =
        lectern_payments::webhook::sign(SECRET, now, payload.as_bytes()).into();

    // WHEN it arrives
    let (status, _, body) = send(&router, &event.to_string()).await;

    // THEN it is acknowledged, and its raw body is what the events worker will receive
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["received"], true);
    let queued = events.receive(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].message.body, payload);
}

#[tokio::test]
async fn the_confirmations_sample_batch_settles_nothing_for_an_unknown_payment_and_fails_no_record()
{
    // GIVEN the confirmation worker on an empty store that counts its calls, and the sample batch
    // (one settlement of a payment the store does not hold) with a second record that is no
    // settlement
    let (_dir, sqlite) = lectern_testkit::temp_sqlite();
    let table = Arc::new(CountingTable::new(sqlite));
    let worker = ConfirmationWorker {
        table: table.clone(),
    };
    let mut batch: serde_json::Value = serde_json::from_str(CONFIRMATIONS).unwrap();
    let mut garbled = batch["Records"][0].clone();
    garbled["messageId"] = "059f36b4-87a3-44ab-83d2-66197544d7ff".into();
    garbled["body"] = "{\"settle\": \"nothing\"}".into();
    batch["Records"].as_array_mut().unwrap().push(garbled);
    let event: SqsEvent = serde_json::from_value(batch).unwrap();

    // WHEN the batch is handled as Lambda hands it over
    let response = handle_batch(event, &worker).await;

    // THEN only the record that is no settlement is failed (and retried): a settlement of an
    // unknown payment is done, and wrote nothing
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["059f36b4-87a3-44ab-83d2-66197544d7ff"]);
    let calls = table.take();
    assert_eq!(calls.writes(), 0, "{calls:?}");
    assert_eq!(calls.get, 1, "the payment, looked up once: {calls:?}");
}

//! The Lambda adapter: an SQS event through `handle_batch`, only the failed records reported.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lectern_queue::{Handler, Message, handle_batch};

/// Records every message it sees; fails the ones whose body contains "poison", panics on "panic".
#[derive(Default)]
struct Recorder {
    seen: Mutex<HashMap<String, Message>>,
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, message: &Message) -> anyhow::Result<()> {
        self.seen
            .lock()
            .unwrap()
            .insert(message.id.clone(), message.clone());
        if message.body.contains("panic") {
            panic!("the handler panicked on {}", message.id);
        }
        if message.body.contains("poison") {
            anyhow::bail!("cannot process {}", message.id);
        }
        Ok(())
    }
}

impl Recorder {
    fn seen(&self) -> HashMap<String, Message> {
        self.seen.lock().unwrap().clone()
    }
}

/// A record as Lambda delivers it.
fn record(id: Option<&str>, body: Option<&str>) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = id.map(str::to_owned);
    record.body = body.map(str::to_owned);
    record
        .attributes
        .insert("ApproximateReceiveCount".into(), "1".into());
    record
}

fn event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

fn failures(response: &SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn only_the_failed_records_id_is_reported_and_every_record_is_handled() {
    // GIVEN a real SQS event of three records, the second of which the handler fails
    let event: SqsEvent = serde_json::from_str(include_str!("events/sqs-batch.json")).unwrap();
    let handler = Recorder::default();

    // WHEN the batch is handled
    let response = handle_batch(event, &handler).await;

    // THEN the response names exactly the failed record, and all three were handled, with their
    // bodies and receive counts
    assert_eq!(
        failures(&response),
        ["2e1424d4-f796-459a-8184-9c92662be6da"]
    );
    let seen = handler.seen();
    assert_eq!(seen.len(), 3);
    let poison = &seen["2e1424d4-f796-459a-8184-9c92662be6da"];
    assert_eq!(poison.body, r#"{"event_id":"evt_2","type":"poison"}"#);
    assert_eq!(poison.receive_count, 3);
    assert_eq!(
        seen["059f36b4-87a3-44ab-83d2-661975830a7d"].receive_count,
        1
    );
}

#[tokio::test]
async fn the_response_is_the_json_lambda_reads() {
    // GIVEN the response to a batch with one failure
    let event: SqsEvent = serde_json::from_str(include_str!("events/sqs-batch.json")).unwrap();
    let response = handle_batch(event, &Recorder::default()).await;

    // WHEN serialized THEN it is Lambda's partial batch response
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        serde_json::json!({
            "batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]
        })
    );
}

#[tokio::test]
async fn a_batch_without_failures_reports_none() {
    let handler = Recorder::default();
    let response = handle_batch(
        event(vec![
            record(Some("a"), Some("ok")),
            record(Some("b"), Some("ok")),
        ]),
        &handler,
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(handler.seen().len(), 2);
}

#[tokio::test]
async fn failures_early_in_the_batch_do_not_stop_the_records_after_them() {
    // GIVEN a batch whose first two records fail
    let handler = Recorder::default();
    let records = vec![
        record(Some("a"), Some("poison")),
        record(Some("b"), Some("poison")),
        record(Some("c"), Some("ok")),
        record(Some("d"), Some("ok")),
    ];

    // WHEN it is handled THEN both failures are reported and the rest were handled
    let response = handle_batch(event(records), &handler).await;
    assert_eq!(failures(&response), ["a", "b"]);
    assert_eq!(handler.seen().len(), 4);
}

#[tokio::test]
async fn a_panicking_handler_fails_only_its_record() {
    let handler = Recorder::default();
    let records = vec![
        record(Some("a"), Some("ok")),
        record(Some("b"), Some("panic")),
        record(Some("c"), Some("ok")),
    ];
    let response = handle_batch(event(records), &handler).await;
    assert_eq!(failures(&response), ["b"]);
    assert_eq!(handler.seen().len(), 3);
}

#[tokio::test]
async fn a_record_without_a_body_is_failed_by_its_id_and_not_handled() {
    let handler = Recorder::default();
    let records = vec![record(Some("a"), None), record(Some("b"), Some("ok"))];
    let response = handle_batch(event(records), &handler).await;
    assert_eq!(failures(&response), ["a"]);
    assert_eq!(handler.seen().keys().collect::<Vec<_>>(), ["b"]);
}

#[tokio::test]
async fn a_record_without_an_id_is_reported_with_an_empty_identifier() {
    // GIVEN a record SQS could not have sent (no message id) beside a good one
    let handler = Recorder::default();
    let records = vec![record(None, Some("ok")), record(Some("b"), Some("ok"))];

    // WHEN handled THEN the nameless record is a failure Lambda cannot match, so it retries the
    // whole batch rather than lose the record; the good one was handled all the same
    let response = handle_batch(event(records), &handler).await;
    assert_eq!(failures(&response), [""]);
    assert_eq!(handler.seen().keys().collect::<Vec<_>>(), ["b"]);
}

#[tokio::test]
async fn a_record_without_a_receive_count_counts_as_received_once() {
    let handler = Recorder::default();
    let mut r = record(Some("a"), Some("ok"));
    r.attributes.clear();
    handle_batch(event(vec![r]), &handler).await;
    assert_eq!(handler.seen()["a"].receive_count, 1);
}

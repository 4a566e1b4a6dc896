//! The Lambda side of a queue: an SQS event's records to a [`Handler`], and the failures back to SQS.
//!
//! The event source mapping must have `FunctionResponseTypes: [ReportBatchItemFailures]`: then only
//! the records named in the response go back to the queue (and on to its dead-letter queue after its
//! maximum receive count), and the others are deleted. So every record is handled, whatever happened
//! to the others, and the invocation itself succeeds unless the process dies.
//!
//! A handler's panic is caught as its record's failure only where panics unwind: the debug builds
//! of tests and local runs. The release profile the deployed functions are built with has
//! `panic = "abort"`: a panic ends the process, the invocation fails, and Lambda deletes nothing, so
//! every record of the batch comes back after its visibility timeout with its receive count one
//! higher (those already handled are handled again, which idempotent handlers survive). A message
//! that always panics is retried with its batch until the maximum receive count sends it to the
//! dead-letter queue, and records that keep sharing its batch can follow it there: handlers return
//! errors, they do not panic.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::FutureExt;
use futures::future::join_all;
use lambda_runtime::{LambdaEvent, service_fn};

use crate::queue::{Handler, Message};

/// Handles every record of `event` (concurrently) and names the ones that failed, so that only they
/// are retried. A handler's error fails its record only; so does a panic where panics unwind (in the
/// deployed release builds a panic aborts the process and the whole batch is retried: see the
/// module's documentation).
///
/// A record without a body is failed by its id. One without an id cannot be named: it is reported
/// with an empty identifier, which makes Lambda retry the whole batch (its documented reading of an
/// identifier it cannot match), the only answer that does not lose the record. SQS always sets both,
/// so either is logged as an error.
pub async fn handle_batch(event: SqsEvent, handler: &dyn Handler) -> SqsBatchResponse {
    let outcomes = join_all(
        event
            .records
            .into_iter()
            .map(|record| handle_record(record, handler)),
    );
    let mut response = SqsBatchResponse::default();
    for failed in outcomes.await.into_iter().flatten() {
        response.add_failure(failed);
    }
    response
}

/// Handles one record: `None` if it was processed, else the identifier to report.
async fn handle_record(record: SqsMessage, handler: &dyn Handler) -> Option<String> {
    let Some(id) = record.message_id else {
        tracing::error!(
            source = ?record.event_source_arn,
            "an SQS record without a message id: failing the batch"
        );
        return Some(String::new());
    };
    let Some(body) = record.body else {
        tracing::error!(message_id = %id, "an SQS record without a body");
        return Some(id);
    };
    let receive_count = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    let message = Message {
        id,
        body,
        receive_count,
    };
    // Where panics unwind (debug builds), a panic is one record's failure, not the batch's. Release
    // builds abort on panic, before this can catch anything.
    match AssertUnwindSafe(handler.handle(&message))
        .catch_unwind()
        .await
    {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::warn!(
                message_id = %message.id,
                receive_count,
                error = format!("{e:#}"),
                "message not processed; it will be retried"
            );
            Some(message.id)
        }
        Err(_) => {
            tracing::error!(message_id = %message.id, receive_count, "the handler panicked");
            Some(message.id)
        }
    }
}

/// Runs a queue worker's Lambda function: every SQS event goes through [`handle_batch`]. For a
/// worker's `main`, after tracing and the handler are set up.
pub async fn run_lambda(handler: impl Handler + 'static) -> Result<(), lambda_runtime::Error> {
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, lambda_runtime::Error>(handle_batch(event.payload, &*handler).await) }
    }))
    .await
}

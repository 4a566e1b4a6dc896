//! The production backend: one SQS queue and its dead-letter queue, on aws-sdk-sqs.
//!
//! SQS does the work: visibility timeouts, receive counts, and the move to the dead-letter queue
//! (the source queue's `RedrivePolicy`, set where the queues are created, decides after how many
//! receives). This adapter applies the port's limits before a call, maps SQS's errors onto
//! [`QueueError`], and does the two things SQS has no single call for:
//! - peeking at dead letters is a receive on the dead-letter queue with a visibility timeout of 0:
//!   the messages stay visible, but each peek adds one to their receive count (harmless: nothing
//!   consumes the dead-letter queue by count);
//! - a redrive receives from the dead-letter queue, sends each body to the source queue, then deletes
//!   it from the dead-letter queue, until a receive comes back empty (a crash in between can send a
//!   message twice, never lose it). A short-polling receive samples a subset of SQS's servers, so
//!   with very few dead letters one may be missed; `dead_letters` then still shows it and another
//!   redrive moves it.
//!
//! Receives never wait (`WaitTimeSeconds=0`): the worker loop decides how often to poll, and moto,
//! which the tests run against, serves one request at a time, so a long poll would stall the others.
//!
//! A queue whose URL ends in `.fifo` is a FIFO queue. There a dedup id is sent as the
//! `MessageDeduplicationId` and also as the `MessageGroupId`, so one failing message holds up no
//! other (FIFO queues are used here for deduplication, not order); a message without one gets a
//! fresh id for both, as no content-based deduplication is assumed. FIFO queues take no per-message
//! delay: a delayed send is refused. On standard queues the dedup id is not sent (SQS has no
//! deduplication there); the consumers are idempotent anyway.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::queue::{
    DeadLetter, MAX_RECEIVE, Message, OutgoingMessage, Queue, QueueError, QueueResult, Received,
    check_peek, check_receive, check_send,
};

/// How long a redrive hides the dead letters it is moving: ample for a send and a delete.
const REDRIVE_VISIBILITY: Duration = Duration::from_secs(30);

/// One SQS queue, with the dead-letter queue its redrive policy names (if the caller wants to peek
/// at it or redrive it).
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: Option<String>,
    name: String,
}

impl SqsQueue {
    /// The queue at `queue_url`; `dead_letter_url` is its redrive policy's dead-letter queue, needed
    /// by [`Queue::dead_letters`] and [`Queue::redrive`] only (they are refused without it).
    pub fn new(client: Client, queue_url: String, dead_letter_url: Option<String>) -> Self {
        let name = queue_url
            .rsplit('/')
            .next()
            .unwrap_or(&queue_url)
            .to_owned();
        SqsQueue {
            client,
            queue_url,
            dead_letter_url,
            name,
        }
    }

    fn dead_letter_url(&self) -> QueueResult<&str> {
        self.dead_letter_url.as_deref().ok_or_else(|| {
            QueueError::InvalidRequest(format!(
                "queue {} was opened without its dead-letter queue's URL",
                self.name
            ))
        })
    }

    /// Sends a body to a queue, FIFO or not (by its URL).
    async fn send_to(&self, url: &str, message: OutgoingMessage) -> QueueResult<()> {
        let mut request = self
            .client
            .send_message()
            .queue_url(url)
            .message_body(message.body);
        if url.ends_with(".fifo") {
            if message.delay.is_some() {
                return Err(QueueError::InvalidRequest(
                    "FIFO queues take no per-message delay".into(),
                ));
            }
            let id = message
                .dedup_id
                .unwrap_or_else(|| Uuid::new_v4().to_string());
            request = request.message_deduplication_id(&id).message_group_id(id);
        } else if let Some(delay) = message.delay {
            request = request.delay_seconds(whole_seconds(delay));
        }
        request.send().await.map_err(failed("SendMessage"))?;
        Ok(())
    }

    /// One receive from a queue, never waiting, with the receive count and sent time of each message.
    async fn receive_from(
        &self,
        url: &str,
        max: usize,
        visibility: Duration,
    ) -> QueueResult<Vec<(Received, Option<OffsetDateTime>)>> {
        let output = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(i32::try_from(max).unwrap_or(10))
            .visibility_timeout(whole_seconds(visibility))
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(failed("ReceiveMessage"))?;
        output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let attribute = |name: &MessageSystemAttributeName| {
                    m.attributes.as_ref().and_then(|a| a.get(name)).cloned()
                };
                let receive_count = attribute(&MessageSystemAttributeName::ApproximateReceiveCount)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                let sent_at = attribute(&MessageSystemAttributeName::SentTimestamp)
                    .and_then(|ms| ms.parse::<i128>().ok())
                    .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok());
                let (Some(id), Some(receipt)) = (m.message_id, m.receipt_handle) else {
                    return Err(QueueError::Unavailable(anyhow::anyhow!(
                        "SQS returned a message without an id or receipt handle"
                    )));
                };
                let message = Message {
                    id,
                    body: m.body.unwrap_or_default(),
                    receive_count,
                };
                Ok((Received { message, receipt }, sent_at))
            })
            .collect()
    }

    async fn delete_from(&self, url: &str, receipt: &str) -> QueueResult<()> {
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(failed("DeleteMessage"))?;
        Ok(())
    }
}

/// SQS counts delays and timeouts in whole seconds: round up, so nothing is shorter than asked.
fn whole_seconds(d: Duration) -> i32 {
    let seconds = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(seconds).unwrap_or(i32::MAX)
}

/// Maps an SDK error of `operation`: SQS's refusals of the request to the port's, the rest (network,
/// throttling, a missing queue) to `Unavailable` with the SDK's whole error chain.
fn failed<E>(operation: &'static str) -> impl FnOnce(SdkError<E>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        let message = e.message().unwrap_or("no message").to_owned();
        match e.code() {
            Some("ReceiptHandleIsInvalid") => QueueError::InvalidReceipt(message),
            Some(
                "InvalidParameterValue"
                | "InvalidMessageContents"
                | "MissingParameter"
                | "InvalidParameterCombination",
            ) => QueueError::InvalidRequest(format!("{operation}: {message}")),
            _ => QueueError::Unavailable(anyhow::Error::new(e).context(format!("SQS {operation}"))),
        }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    fn name(&self) -> &str {
        &self.name
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name))]
    async fn send(&self, message: OutgoingMessage) -> QueueResult<()> {
        check_send(&message)?;
        self.send_to(&self.queue_url, message).await
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name, max))]
    async fn receive(&self, max: usize, visibility: Duration) -> QueueResult<Vec<Received>> {
        check_receive(max, visibility)?;
        let received = self.receive_from(&self.queue_url, max, visibility).await?;
        Ok(received.into_iter().map(|(r, _)| r).collect())
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name))]
    async fn delete(&self, receipt: &str) -> QueueResult<()> {
        if receipt.is_empty() {
            return Err(QueueError::InvalidReceipt("an empty receipt".into()));
        }
        self.delete_from(&self.queue_url, receipt).await
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name, max))]
    async fn dead_letters(&self, max: usize) -> QueueResult<Vec<DeadLetter>> {
        check_peek(max)?;
        let url = self.dead_letter_url()?;
        // Peeked messages stay visible, so the next receive may bring the same ones again: stop at a
        // receive that was not full (the dead-letter queue is read through) or brought nothing new.
        let mut seen = HashSet::new();
        let mut letters = Vec::new();
        while letters.len() < max {
            let asked = (max - letters.len()).min(MAX_RECEIVE);
            let batch = self.receive_from(url, asked, Duration::ZERO).await?;
            let full = batch.len() == asked;
            let before = letters.len();
            for (received, sent_at) in batch {
                let Message {
                    id,
                    body,
                    receive_count,
                } = received.message;
                if seen.insert(id.clone()) && letters.len() < max {
                    letters.push(DeadLetter {
                        id,
                        body,
                        receive_count,
                        sent_at,
                    });
                }
            }
            if !full || letters.len() == before {
                break;
            }
        }
        Ok(letters)
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name))]
    async fn redrive(&self) -> QueueResult<usize> {
        let url = self.dead_letter_url()?;
        let mut moved = 0;
        loop {
            let batch = self
                .receive_from(url, MAX_RECEIVE, REDRIVE_VISIBILITY)
                .await?;
            if batch.is_empty() {
                break;
            }
            for (received, _) in batch {
                // On a FIFO source the dead letter's id dedups a repeated move of the same letter.
                let outgoing =
                    OutgoingMessage::new(received.message.body).dedup_id(received.message.id);
                if let Err(e) = self.send_to(&self.queue_url, outgoing).await {
                    tracing::error!(moved, "redrive stopped part way");
                    return Err(e);
                }
                self.delete_from(url, &received.receipt).await?;
                moved += 1;
            }
        }
        tracing::info!(moved, "dead letters moved back to the queue");
        Ok(moved)
    }

    #[tracing::instrument(skip_all, fields(queue = %self.name))]
    async fn redrive_ids(&self, ids: &[String]) -> QueueResult<usize> {
        let url = self.dead_letter_url()?;
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        let mut moved = 0;
        // The dead-letter queue is read through, as a redrive reads it; the letters not chosen are
        // made visible again at once, so that they stay to be listed and redriven.
        loop {
            let batch = self
                .receive_from(url, MAX_RECEIVE, REDRIVE_VISIBILITY)
                .await?;
            let mut new = false;
            for (received, _) in batch {
                let id = received.message.id.clone();
                new |= seen.insert(id.clone());
                if wanted.contains(id.as_str()) {
                    let outgoing = OutgoingMessage::new(received.message.body).dedup_id(id);
                    self.send_to(&self.queue_url, outgoing).await?;
                    self.delete_from(url, &received.receipt).await?;
                    moved += 1;
                } else {
                    self.client
                        .change_message_visibility()
                        .queue_url(url)
                        .receipt_handle(&received.receipt)
                        .visibility_timeout(0)
                        .send()
                        .await
                        .map_err(failed("ChangeMessageVisibility"))?;
                }
            }
            if !new || moved == wanted.len() {
                break;
            }
        }
        tracing::info!(moved, "chosen dead letters moved back to the queue");
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO), 0);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }
}

//! The `Queue` port: what a producer sends, what a consumer receives, and SQS's limits on both.
//!
//! The semantics are SQS's (standard queues), so that code tested against the local backend behaves
//! the same in AWS:
//! - at least once: a received message is hidden for the visibility timeout and comes back, with its
//!   receive count one higher, unless it is deleted with the receipt of that delivery;
//! - a message received more times than the queue's maximum receive count is moved to the
//!   dead-letter queue the next time it would be delivered, instead of being delivered;
//! - a message may be delayed; a message sent with the dedup id of one sent in the last five minutes
//!   is accepted and dropped (locally always; in SQS on FIFO queues only).
//!
//! Order is not part of the contract (a standard queue's order is best effort).

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

/// The most messages one receive returns (SQS's `MaxNumberOfMessages`).
pub const MAX_RECEIVE: usize = 10;
/// The longest a received message can stay hidden (SQS: 12 hours).
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);
/// The longest a message can be delayed (SQS: 15 minutes).
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// The largest body SQS takes, in bytes of UTF-8 (1 MiB since August 2025; it was 256 KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long a dedup id keeps a second message with it from being delivered (SQS: 5 minutes).
pub const DEDUP_WINDOW: Duration = Duration::from_secs(5 * 60);

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The payload, usually JSON. Not empty; only the characters XML allows (SQS's rule).
    pub body: String,
    /// Messages with the same dedup id sent within [`DEDUP_WINDOW`] are delivered once. Locally
    /// always; in SQS only on FIFO queues (standard queues ignore it: consumers are idempotent).
    pub dedup_id: Option<String>,
    /// Not visible to receivers before this has passed (at most [`MAX_DELAY`]; SQS counts whole
    /// seconds and rounds up).
    pub delay: Option<Duration>,
}

impl OutgoingMessage {
    /// A message with this body, no dedup id and no delay.
    pub fn new(body: impl Into<String>) -> Self {
        OutgoingMessage {
            body: body.into(),
            dedup_id: None,
            delay: None,
        }
    }

    /// The same message with a dedup id.
    pub fn dedup_id(mut self, dedup_id: impl Into<String>) -> Self {
        self.dedup_id = Some(dedup_id.into());
        self
    }

    /// The same message, delayed.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// A message as a worker sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The queue's id of the message: the same on every delivery.
    pub id: String,
    /// The payload as sent.
    pub body: String,
    /// How many times the message has been received, this delivery included (so 1 the first time).
    pub receive_count: u32,
}

/// A received message: the message plus the handle to delete it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub message: Message,
    /// Deletes this delivery of the message. Once the message has been received again, this receipt
    /// no longer deletes it (locally never; SQS says it "might not").
    pub receipt: String,
}

/// A message in the dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: String,
    pub body: String,
    /// How many times it was received, at least the maximum receive count of the source queue (in
    /// SQS each peek adds one).
    pub receive_count: u32,
    /// When it was first sent, if the backend says.
    pub sent_at: Option<OffsetDateTime>,
}

/// Why a queue operation failed.
#[derive(thiserror::Error, Debug)]
pub enum QueueError {
    /// A request the queue refuses whatever its contents (an empty or oversized body, a delay over
    /// 15 minutes, more than 10 messages at once, a dead-letter call on a queue without one).
    #[error("invalid queue request: {0}")]
    InvalidRequest(String),
    /// A receipt this queue did not issue (a stale receipt of a message since received again is not
    /// this: deleting with it succeeds and does nothing).
    #[error("invalid receipt: {0}")]
    InvalidReceipt(String),
    /// The backend failed or could not be reached.
    #[error("queue unavailable")]
    Unavailable(#[source] anyhow::Error),
}

/// The result of a queue operation.
pub type QueueResult<T> = Result<T, QueueError>;

/// One queue (with its dead-letter queue). Object-safe; used as `Arc<dyn Queue>`.
#[async_trait]
pub trait Queue: Send + Sync {
    /// The queue's name, for logs.
    fn name(&self) -> &str;

    /// Puts a message on the queue.
    async fn send(&self, message: OutgoingMessage) -> QueueResult<()>;

    /// Up to `max` (1..=10) visible messages, hidden for `visibility` after. A message received more
    /// than the policy's max receive count goes to the dead-letter queue instead of being returned
    /// (SQS redrive semantics). Never waits for messages: an empty queue answers at once.
    async fn receive(&self, max: usize, visibility: Duration) -> QueueResult<Vec<Received>>;

    /// Deletes a received message, given the receipt of its latest delivery.
    async fn delete(&self, receipt: &str) -> QueueResult<()>;

    /// Peeks at (up to `max`) messages in the dead-letter queue without removing them.
    async fn dead_letters(&self, max: usize) -> QueueResult<Vec<DeadLetter>>;

    /// Moves every dead letter back to the queue (receive count reset); returns how many moved.
    async fn redrive(&self) -> QueueResult<usize>;

    /// Moves the dead letters with these ids back to the queue (receive count reset), leaving the
    /// others where they are; returns how many moved (ids no longer dead are skipped).
    async fn redrive_ids(&self, ids: &[String]) -> QueueResult<usize>;
}

/// What a worker does with one message. `Err` = not processed; the message will be retried (and
/// dead-lettered after the queue's maximum receive count). Must be idempotent: a message can be
/// delivered more than once.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, message: &Message) -> anyhow::Result<()>;
}

/// The limits on a send, checked by every backend before it touches data, so that what the local
/// queue accepts SQS accepts too.
pub fn check_send(message: &OutgoingMessage) -> QueueResult<()> {
    let invalid = |why: String| Err(QueueError::InvalidRequest(why));
    if message.body.is_empty() {
        return invalid("a message body must not be empty".into());
    }
    if message.body.len() > MAX_BODY_BYTES {
        return invalid(format!(
            "a message body of {} bytes exceeds the {MAX_BODY_BYTES}-byte limit",
            message.body.len()
        ));
    }
    if let Some(c) = message.body.chars().find(|&c| !allowed_in_body(c)) {
        return invalid(format!(
            "a message body must not contain the character U+{:04X}",
            u32::from(c)
        ));
    }
    if let Some(delay) = message.delay
        && delay > MAX_DELAY
    {
        return invalid(format!(
            "a delay of {delay:?} exceeds the {MAX_DELAY:?} limit"
        ));
    }
    if let Some(id) = &message.dedup_id
        && (id.is_empty() || id.len() > 128)
    {
        return invalid("a dedup id must have 1 to 128 characters".into());
    }
    Ok(())
}

/// The limits on a receive.
pub fn check_receive(max: usize, visibility: Duration) -> QueueResult<()> {
    if !(1..=MAX_RECEIVE).contains(&max) {
        return Err(QueueError::InvalidRequest(format!(
            "a receive takes 1 to {MAX_RECEIVE} messages, not {max}"
        )));
    }
    if visibility > MAX_VISIBILITY {
        return Err(QueueError::InvalidRequest(format!(
            "a visibility timeout of {visibility:?} exceeds the {MAX_VISIBILITY:?} limit"
        )));
    }
    Ok(())
}

/// The limit on a dead-letter peek: at least one.
pub fn check_peek(max: usize) -> QueueResult<()> {
    if max == 0 {
        return Err(QueueError::InvalidRequest(
            "a dead-letter peek takes at least 1 message".into(),
        ));
    }
    Ok(())
}

/// SQS's characters: `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF` (the rest
/// of #xD800-#xDFFF cannot be in a Rust string anyway).
fn allowed_in_body(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_with_a_control_character_or_a_non_character_is_refused() {
        for body in ["a\u{0}b", "bell\u{7}", "\u{FFFE}", "\u{FFFF}"] {
            assert!(
                matches!(
                    check_send(&OutgoingMessage::new(body)),
                    Err(QueueError::InvalidRequest(_))
                ),
                "{body:?}"
            );
        }
    }

    #[test]
    fn a_body_of_tabs_newlines_and_any_script_is_accepted() {
        let body = "{\"a\":\"tab\there\r\nßü€ 日本 🎓 \u{E000}\u{10FFFF}\"}";
        assert!(check_send(&OutgoingMessage::new(body)).is_ok());
    }

    #[test]
    fn receive_takes_1_to_10_messages() {
        let second = Duration::from_secs(1);
        assert!(check_receive(0, second).is_err());
        assert!(check_receive(1, second).is_ok());
        assert!(check_receive(10, second).is_ok());
        assert!(check_receive(11, second).is_err());
        assert!(check_receive(1, MAX_VISIBILITY + second).is_err());
    }

    #[test]
    fn a_delay_of_15_minutes_is_accepted_and_a_second_more_refused() {
        let at = |d| check_send(&OutgoingMessage::new("x").delay(d));
        assert!(at(MAX_DELAY).is_ok());
        assert!(at(MAX_DELAY + Duration::from_secs(1)).is_err());
    }
}

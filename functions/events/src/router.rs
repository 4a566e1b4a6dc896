//! Handing one recorded event to the consumers that subscribe to its type, once each.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use futures::future::join_all;
use lectern_domain::event::{EventEnvelope, EventType};
use lectern_store::outbox::{self, DeliveryRepo};
use lectern_store::{Item, Table};
use time::OffsetDateTime;

/// Something that reacts to events. A consumer is idempotent by event id: the router marks each
/// consumer's success and skips it on redelivery, but a success whose marker was not written (the
/// function stopped in between) is delivered again.
#[async_trait]
pub trait Consumer: Send + Sync {
    /// The consumer's stable name (its markers carry it: renaming a consumer delivers again what is
    /// still in the outbox). Letters, digits, `-` and `_`.
    fn name(&self) -> &str;

    /// Whether it wants events of this type.
    fn subscribes_to(&self, event_type: EventType) -> bool;

    /// Handles one event; an error has it delivered again later.
    async fn consume(&self, event: &EventEnvelope) -> anyhow::Result<()>;
}

/// What routing a record came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routed {
    /// Not an outbox item (the stream's filter keeps these out in AWS).
    NotAnEvent,
    /// Every subscribed consumer has handled it: this many now, the others before.
    Delivered { now: usize, before: usize },
}

/// The router: the consumers, and the table their markers are kept in.
pub struct EventRouter {
    consumers: Vec<Arc<dyn Consumer>>,
    deliveries: DeliveryRepo,
}

impl EventRouter {
    pub fn new(table: Arc<dyn Table>, consumers: Vec<Arc<dyn Consumer>>) -> Self {
        EventRouter {
            consumers,
            deliveries: DeliveryRepo::new(table),
        }
    }

    /// Adds a consumer (tests add one to watch deliveries).
    pub fn with(mut self, consumer: Arc<dyn Consumer>) -> Self {
        self.consumers.push(consumer);
        self
    }

    /// Delivers the event an item (a stream record's new image) holds to each subscribed consumer
    /// that has not handled it yet, concurrently, marking each success. `Err` when any consumer failed
    /// (the others' successes are marked): the record is to be delivered again.
    #[tracing::instrument(skip_all)]
    pub async fn route(&self, image: Item) -> anyhow::Result<Routed> {
        let Some(recorded) = outbox::recorded(image).context("reading the event")? else {
            return Ok(Routed::NotAnEvent);
        };
        let event_type = recorded.event.event_type();
        let subscribed: Vec<&Arc<dyn Consumer>> = self
            .consumers
            .iter()
            .filter(|c| c.subscribes_to(event_type))
            .collect();
        let names: Vec<&str> = subscribed.iter().map(|c| c.name()).collect();
        let handled = self.deliveries.handled(&recorded, &names).await?;
        let pending: Vec<&Arc<dyn Consumer>> = subscribed
            .into_iter()
            .zip(&handled)
            .filter(|(_, done)| !**done)
            .map(|(c, _)| c)
            .collect();
        let before = handled.len() - pending.len();
        let recorded = &recorded;
        let outcomes = join_all(pending.iter().map(|consumer| async move {
            consumer
                .consume(&recorded.event)
                .await
                .with_context(|| format!("consumer {}", consumer.name()))?;
            self.deliveries
                .mark_handled(recorded, consumer.name(), OffsetDateTime::now_utc())
                .await
                .with_context(|| format!("marking consumer {} done", consumer.name()))
        }))
        .await;
        let failures: Vec<String> = outcomes
            .into_iter()
            .filter_map(Result::err)
            .map(|e| format!("{e:#}"))
            .collect();
        if !failures.is_empty() {
            anyhow::bail!(
                "event {} ({event_type}): {}",
                recorded.event.id,
                failures.join("; ")
            );
        }
        tracing::debug!(event_id = %recorded.event.id, %event_type, now = pending.len(), before, "event delivered");
        Ok(Routed::Delivered {
            now: pending.len(),
            before,
        })
    }
}

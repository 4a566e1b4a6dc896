//! Event latency: from a write committing its domain event to a consumer holding it, through the
//! local server's event router (the SQLite file's stream), as `make run` delivers events.
//!
//! An instructor renames a course `--updates` times, one after another; a probe consumer of
//! `course.updated` records, for each event, its arrival minus the event's `occurredAt` (the time the
//! handler stamped the change with, just before its transaction committed: the figure includes the
//! commit itself, never less than the delivery).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use async_trait::async_trait;
use events_function::Consumer;
use lectern_domain::event::{EventEnvelope, EventType};
use reqwest::Method;
use serde_json::json;
use time::OffsetDateTime;

use crate::api::Api;
use crate::server::LocalServer;
use crate::stats::Summary;
use crate::targets::KeyPair;

/// Records how long each `course.updated` took to reach it.
#[derive(Default)]
struct Probe {
    latencies: Mutex<Vec<Duration>>,
}

#[async_trait]
impl Consumer for Probe {
    fn name(&self) -> &str {
        "latency-probe"
    }

    fn subscribes_to(&self, event_type: EventType) -> bool {
        event_type == EventType::CourseUpdated
    }

    async fn consume(&self, event: &EventEnvelope) -> anyhow::Result<()> {
        let latency = OffsetDateTime::now_utc() - event.occurred_at;
        let latency = Duration::try_from(latency).unwrap_or_default();
        self.latencies
            .lock()
            .map_err(|_| anyhow::anyhow!("the probe's lock is poisoned"))?
            .push(latency);
        Ok(())
    }
}

/// Event committed → consumer latency over `updates` course updates.
pub async fn run(updates: usize) -> anyhow::Result<Summary> {
    ensure!(updates > 0, "--updates must be positive");
    let data = tempfile::tempdir().context("a temporary data folder")?;
    let keys = KeyPair::generate()?;
    let probe = Arc::new(Probe::default());
    let server = LocalServer::start_with_consumers(
        crate::server::config(data.path(), &keys.private_pem)?,
        2,
        vec![probe.clone()],
    )
    .await?;
    let api = Api::new(&server.base)?;
    api.instructor("teacher@events.example.org", "events-teacher")
        .await?;
    let teacher = api.signin("teacher@events.example.org").await?;
    let course = api.published_course(&teacher, 0, 1, 0).await?;
    // Publishing recorded one course.updated already.
    let expected = updates + 1;
    for n in 0..updates {
        api.expect(
            Method::PUT,
            &format!("/api/v1/courses/{}", course.id),
            Some(&teacher),
            Some(&json!({ "title": format!("Course 0, revision {n}") })),
            200,
        )
        .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = probe
            .latencies
            .lock()
            .map_err(|_| anyhow::anyhow!("the probe's lock is poisoned"))?
            .clone();
        if seen.len() >= expected {
            return Ok(Summary::of(&seen));
        }
        ensure!(
            Instant::now() < deadline,
            "only {} of {expected} events arrived",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

//! Opening the queues a function names: SQS in AWS, or the local backend in the store's SQLite file.
//! A function opens its backend once at cold start, however many queues it uses.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lectern_queue::{Queue, QueuePolicy, SqliteQueue, SqsQueue};
use lectern_store::sqlite::SharedConnection;

use crate::config::{Config, StoreConfig, var};

/// The local queues' settings.
#[derive(Debug, Clone)]
pub struct LocalQueues {
    /// Dead-lettering after this many receives, and the deduplication window.
    pub policy: QueuePolicy,
    /// How long a worker hides a message while handling it (SQS's visibility timeout).
    pub visibility: Duration,
}

/// The local queues' settings: `LECTERN_QUEUE_MAX_RECEIVES` (default 5) and
/// `LECTERN_QUEUE_VISIBILITY_SECS` (default 30), the template's SQS settings scaled to a laptop.
pub fn local_queues() -> anyhow::Result<LocalQueues> {
    let max_receives = u32::try_from(number("LECTERN_QUEUE_MAX_RECEIVES", 5)?)
        .context("LECTERN_QUEUE_MAX_RECEIVES is too large")?;
    Ok(LocalQueues {
        policy: QueuePolicy::new(max_receives),
        visibility: Duration::from_secs(number("LECTERN_QUEUE_VISIBILITY_SECS", 30)?),
    })
}

fn number(name: &str, default: u64) -> anyhow::Result<u64> {
    var(name).map_or(Ok(default), |v| {
        v.trim()
            .parse()
            .with_context(|| format!("{name} must be a whole number, not {v:?}"))
    })
}

/// One queue: SQS when `LECTERN_QUEUE=sqs` (`LECTERN_{NAME}_QUEUE_URL` and `…_DLQ_URL`, the name
/// upper-cased with `_` for `-`: `LECTERN_PAYMENT_EVENTS_QUEUE_URL`; `LECTERN_SQS_ENDPOINT` for an
/// emulator), else the local backend in the SQLite file (the store's, or `queues.db` in the data
/// folder when the store is DynamoDB).
pub async fn queue(
    config: &Config,
    name: &str,
    policy: &QueuePolicy,
    store: Option<&SharedConnection>,
) -> anyhow::Result<Arc<dyn Queue>> {
    queues(config, [name], policy, store)
        .await?
        .pop()
        .context("one queue asked, none built")
}

/// Several queues as [`queue`] builds one, sharing one SQS client, or one connection to the SQLite
/// file: a function opens its backend once at cold start, however many queues it uses. Local
/// queues in the store's file go on `store`, the connection the function's store already has open
/// on it, where given: a Lambda function then opens the file and reads its schema once. (The local
/// server gives none: its workers poll the queues on a connection of their own, so that a poll
/// never waits behind a request's store call.)
pub async fn queues<const N: usize>(
    config: &Config,
    names: [&str; N],
    policy: &QueuePolicy,
    store: Option<&SharedConnection>,
) -> anyhow::Result<Vec<Arc<dyn Queue>>> {
    match var("LECTERN_QUEUE").as_deref() {
        Some("sqs") => {
            let endpoint = var("LECTERN_SQS_ENDPOINT");
            let client =
                aws_sdk_sqs::Client::new(&lectern_aws::sdk_config(endpoint.as_deref()).await);
            names
                .iter()
                .map(|name| {
                    let prefix = format!("LECTERN_{}", name.to_uppercase().replace('-', "_"));
                    let url = var(&format!("{prefix}_QUEUE_URL")).with_context(|| {
                        format!("{prefix}_QUEUE_URL must be set when LECTERN_QUEUE=sqs")
                    })?;
                    Ok(Arc::new(SqsQueue::new(
                        client.clone(),
                        url,
                        var(&format!("{prefix}_DLQ_URL")),
                    )) as Arc<dyn Queue>)
                })
                .collect()
        }
        None | Some("local") => {
            let (path, store) = match &config.store {
                StoreConfig::Sqlite { path } => (path.clone(), store),
                StoreConfig::Dynamo { .. } => (config.data_dir.join("queues.db"), None),
            };
            local_queues_in(&path, store, &names, policy)
        }
        Some(other) => anyhow::bail!("LECTERN_QUEUE must be local or sqs, not {other:?}"),
    }
}

/// The local queues `names` in the SQLite file at `path`, on `open`, a connection to it, if given.
fn local_queues_in(
    path: &Path,
    open: Option<&SharedConnection>,
    names: &[&str],
    policy: &QueuePolicy,
) -> anyhow::Result<Vec<Arc<dyn Queue>>> {
    let opening = |name: &str| format!("opening the local queue {name} in {}", path.display());
    let Some((head, rest)) = names.split_first() else {
        return Ok(Vec::new());
    };
    let first = match open {
        Some(conn) => SqliteQueue::on_connection(conn.clone(), head, *policy),
        None => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            SqliteQueue::open(path, head, *policy)
        }
    }
    .with_context(|| opening(head))?;
    let mut opened: Vec<Arc<dyn Queue>> = Vec::with_capacity(names.len());
    for name in rest {
        opened.push(Arc::new(
            first.sibling(name).with_context(|| opening(name))?,
        ));
    }
    opened.insert(0, Arc::new(first));
    Ok(opened)
}

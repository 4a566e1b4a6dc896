//! The webhook (events) worker as a Lambda function behind the events queue, reporting partial batch
//! failures.

use lectern_payments::workers::{CONFIRMATIONS_QUEUE, EventsWorker};
use lectern_runtime::queues::{local_queues, queue};

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = lectern_runtime::start().await?;
    // The table only: the worker checks no token, so the keys are not loaded. A local
    // confirmations queue in the store's SQLite file shares its connection.
    let store = lectern_runtime::store::open_store(&config).await?;
    let policy = local_queues()?.policy;
    let confirmations = queue(&config, CONFIRMATIONS_QUEUE, &policy, store.sqlite.as_ref()).await?;
    lectern_queue::run_lambda(EventsWorker {
        table: store.table,
        provider: lectern_payments::provider_name(lectern_runtime::var)?.to_owned(),
        confirmations,
    })
    .await
}

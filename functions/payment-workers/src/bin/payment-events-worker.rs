//! The webhook (events) worker as a Lambda function behind the events queue, reporting partial batch
//! failures.

use payments_function::context::{CONFIRMATIONS_QUEUE, local_queues, provider_name, queue};
use payments_function::workers::EventsWorker;

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lectern_web::telemetry::init();
    let config = lectern_web::Config::from_env()?;
    // The table only: the worker checks no token, so the keys are not loaded. A local
    // confirmations queue in the store's SQLite file shares its connection.
    let store = lectern_web::state::open_store(&config).await?;
    let policy = local_queues()?.policy;
    let confirmations = queue(&config, CONFIRMATIONS_QUEUE, &policy, store.sqlite.as_ref()).await?;
    lectern_queue::run_lambda(EventsWorker {
        table: store.table,
        provider: provider_name()?.to_owned(),
        confirmations,
    })
    .await
}

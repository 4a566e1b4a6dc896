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
    // The table only: the worker checks no token, so the keys are not loaded.
    let table = lectern_web::state::open_table(&config).await?;
    let confirmations = queue(&config, CONFIRMATIONS_QUEUE, &local_queues()?.policy).await?;
    lectern_queue::run_lambda(EventsWorker {
        table,
        provider: provider_name()?.to_owned(),
        confirmations,
    })
    .await
}

//! The confirmation worker as a Lambda function behind the confirmation queue (partial batch
//! failures).

use payments_function::workers::ConfirmationWorker;

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lectern_web::telemetry::init();
    let config = lectern_web::Config::from_env()?;
    // The table only: the worker checks no token, so the keys are not loaded.
    let table = lectern_web::state::open_table(&config).await?;
    lectern_queue::run_lambda(ConfirmationWorker { table }).await
}

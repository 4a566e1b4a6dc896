//! The confirmation worker as a Lambda function behind the confirmation queue (partial batch
//! failures).

use lectern_payments::workers::ConfirmationWorker;

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = lectern_runtime::start().await?;
    // The table only: the worker checks no token, so the keys are not loaded.
    let table = lectern_runtime::store::open_table(&config).await?;
    lectern_queue::run_lambda(ConfirmationWorker { table }).await
}

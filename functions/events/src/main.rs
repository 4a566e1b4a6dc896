//! The event router as a Lambda function behind the table's stream (DynamoDB Streams, filtered to
//! outbox items), reporting partial batch failures.

use events_function::{EventRouter, platform_consumers};

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = lectern_runtime::start().await?;
    // The table only: the router checks no token, so the keys are not loaded.
    let table = lectern_runtime::store::open_table(&config).await?;
    let router = EventRouter::new(table.clone(), platform_consumers(&table));
    events_function::stream::run_lambda(router).await
}

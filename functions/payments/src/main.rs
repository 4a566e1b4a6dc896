//! The payments route group as a Lambda function.

use std::sync::Arc;

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Stripe's key is read from Secrets Manager in AWS (template.yaml).
    let config = lectern_runtime::start().await?;
    // Local queues in the store's SQLite file share its connection: one open at cold start.
    let store = lectern_runtime::store::open_store(&config).await?;
    let payments =
        Arc::new(payments_function::Payments::from_env(&config, store.sqlite.as_ref()).await?);
    let state = lectern_web::AppState::with_table(&config, store.table)?;
    lambda_http::run(payments_function::router(state, payments)).await
}

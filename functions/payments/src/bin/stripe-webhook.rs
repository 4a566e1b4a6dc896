//! The Stripe webhook endpoint as a Lambda function: verify the signature, enqueue, answer 200. It
//! holds the signing secret and the events queue only (no provider key, no table access).

use std::sync::Arc;

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // The signing secret is read from Secrets Manager in AWS (template.yaml). No `AppState`: the
    // endpoint reads no table and checks no token, so the store is not opened and the keys are not
    // loaded.
    let config = lectern_runtime::start().await?;
    let local = payments_function::queues::local_queues()?;
    let ingest = Arc::new(payments_function::Ingest::from_env(&config, &local.policy).await?);
    lambda_http::run(payments_function::webhook_router(ingest)).await
}

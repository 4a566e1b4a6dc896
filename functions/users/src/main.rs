//! The users route group as a Lambda function.

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let config = lectern_runtime::start().await?;
    let state = lectern_web::AppState::build(&config).await?;
    lambda_http::run(users_function::router(state)).await
}

//! Hello world on `lambda_runtime`, the floor the benchmark measures every function against: the
//! same runtime crate, the same tokio runtime and the same release profile, and nothing else (as in
//! lambda-perf's Rust hello world). It answers any event with an empty 200.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({ "statusCode": 200, "body": "" }))
    }))
    .await
}

//! Hello world on `lambda_runtime`, the floor the benchmark measures every function against: the
//! same runtime crate, the same tokio runtime, the same release profile, target and allocator as the
//! functions are built with (static musl with dlmalloc as deployed), and nothing else (lambda-perf's
//! Rust hello world, built like Lectern's functions). It answers any event with an empty 200.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

// The functions' allocator in their static musl builds (lectern_runtime's `allocator`).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({ "statusCode": 200, "body": "" }))
    }))
    .await
}

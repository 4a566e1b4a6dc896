//! The auth route group as a Lambda function.

// Lambda hands an execution environment one event at a time: a current-thread runtime starts no
// worker threads at cold start (docs/performance.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    return_hash_memory_to_the_os();
    // The signing key is read from Secrets Manager in AWS (template.yaml).
    let config = lectern_runtime::start().await?;
    let state = lectern_web::AppState::build(&config).await?;
    lambda_http::run(auth_function::router(state)?).await
}

/// Every argon2id hash allocates 19 MiB. glibc's adaptive mmap threshold rises to that size after
/// the first one is freed, and later blocks then stay in its heaps: peak RSS reached 316 MiB over
/// 500 hashes (the template gives the function 256 MB). A fixed threshold returns each block to the
/// OS when its hash is done: 29 MiB (docs/performance.md). The static musl build the template
/// deploys allocates with dlmalloc (lectern_runtime's allocator), which after the first hashes keeps
/// one block and reuses it for every hash: peak RSS 26.8 MiB, and no 19 MiB of page faults per
/// sign-in.
fn return_hash_memory_to_the_os() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets an allocator parameter, before any hash is computed.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

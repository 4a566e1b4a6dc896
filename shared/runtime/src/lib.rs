//! What every Lectern function does at cold start, before it serves anything: HTTP functions
//! (`lectern_web` builds their state from these pieces) and queue workers alike, so that a worker
//! starts without the HTTP stack.
//!
//! # Layout
//! - [`config`]: [`Config`], the deployment's typed configuration from the environment, and [`var`].
//! - [`secrets`]: secrets a function's start reads from Secrets Manager before its configuration.
//! - [`telemetry`]: JSON logs through `tracing`.
//! - [`store`]: opening the table (SQLite or DynamoDB) and the object store.
//! - [`queues`]: opening queues (SQS, or local ones in the store's SQLite file).
//! - `allocator`: in the static musl builds the template deploys, the allocator of every function.
//!
//! A function's `main` is [`start`], then what it opens:
//!
//! ```text
//! let config = lectern_runtime::start().await?;
//! let table = lectern_runtime::store::open_table(&config).await?;
//! ```

#[cfg(target_env = "musl")]
mod allocator;
pub mod config;
pub mod queues;
pub mod store;
pub mod telemetry;

pub use config::{Config, var};
pub use lectern_aws::secrets;

/// A function's start: logs set up, the secrets its environment names read from Secrets Manager
/// (none named: no call), then the configuration read.
pub async fn start() -> anyhow::Result<Config> {
    telemetry::init();
    secrets::load_from_env().await?;
    Config::from_env()
}

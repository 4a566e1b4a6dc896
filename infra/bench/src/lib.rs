//! Lectern's performance harness (issue 6): the figures behind the budgets in ARCHITECTURE.md,
//! produced by one command rather than by timed tests.
//!
//! `bench` starts each function's release binary against a Lambda Runtime API emulator, as Lambda
//! would, and measures init, first and warm invocation latency, peak memory and package size, next to
//! a hello-world `lambda_runtime` binary (the floor, `infra/bench/floor`) measured in the same run.
//! `load` drives the local server with a realistic mix of requests. `catalog` measures catalog pages
//! as the catalog grows; `events`, how soon a committed event reaches its consumer. `docs/performance.md` explains the
//! figures.
//!
//! # Layout
//! - `emulator`: the Runtime API on 127.0.0.1 (`/next`, `/response`, `/error`, `/init/error`).
//! - `targets`: the functions, the environment the template gives them (pointed at SQLite), their
//!   events from `events/` and the status each must answer.
//! - `bench`: the cold-start and warm-latency run, its table and JSON.
//! - `package`: binary and zipped `bootstrap` sizes.
//! - `server`: the local server on its own runtime thread; `api`: a typed client to seed and drive it.
//! - `load`: the load run against the local server.
//! - `catalog`: catalog pages at 100 to 10,000 courses seeded through the repositories: latency and
//!   items read per page (the counting store), on SQLite or moto's DynamoDB.
//! - `events`: domain-event latency, a write's commit to a consumer, through the local router.
//! - `stats`: percentiles and medians.

pub mod api;
pub mod bench;
pub mod catalog;
pub mod emulator;
pub mod events;
pub mod load;
pub mod package;
pub mod server;
pub mod stats;
pub mod targets;

use std::path::PathBuf;

/// The checkout this harness was built from (where `events/` and `Cargo.toml` are).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Cargo's target folder: `CARGO_TARGET_DIR` when set, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

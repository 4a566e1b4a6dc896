//! `lectern-bench bench [--functions auth,courses] [--invocations N] [--cold-starts N] [--no-build]`
//! measures the functions under the Runtime API emulator; `lectern-bench load [--duration S]
//! [--concurrency 2,8,32]` drives the local server. Both print a table and write JSON under
//! `target/bench/`; both exit non-zero when any request failed. `lectern-bench catalog [--sizes
//! 100,1000,10000] [--requests 200] [--limit 20] [--backend sqlite|dynamo]` measures catalog pages as
//! the catalog grows, and exits non-zero when a page reads more items than its budget. `lectern-bench
//! events [--updates 200]` measures how soon a committed domain event reaches a consumer locally.

use std::time::Duration;

use anyhow::{Context, bail};
use lectern_bench::bench::{self, BenchOptions, Build, Profile};
use lectern_bench::catalog;
use lectern_bench::load::{self, LoadOptions};
use lectern_bench::targets::{FUNCTIONS, Function};

const USAGE: &str = "usage:
  lectern-bench bench [--functions auth,users,courses,payments] [--invocations 1000] [--cold-starts 40] [--no-build] [--debug] [--target TRIPLE|host] [--env KEY=VALUE]...
  lectern-bench load  [--duration 20] [--concurrency 2,8,32] [--courses 50] [--lessons 4] [--server-workers 2]
  lectern-bench catalog [--sizes 100,1000,10000] [--requests 200] [--limit 20] [--backend sqlite|dynamo]
  lectern-bench events [--updates 200]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let flags: Vec<String> = args.collect();
    match command.as_str() {
        "bench" => run_bench(&flags).await,
        "load" => run_load(&flags).await,
        "catalog" => run_catalog(&flags).await,
        "events" => run_events(&flags).await,
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}

/// The value after flag `name` (`--name value` or `--name=value`).
fn value<'a>(flags: &'a [String], name: &str) -> anyhow::Result<Option<&'a str>> {
    for (i, flag) in flags.iter().enumerate() {
        if flag == name {
            return flags
                .get(i + 1)
                .map(|v| Some(v.as_str()))
                .with_context(|| format!("{name} needs a value"));
        }
        if let Some(v) = flag.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

fn number(flags: &[String], name: &str, default: usize) -> anyhow::Result<usize> {
    value(flags, name)?
        .map(|v| {
            v.parse()
                .with_context(|| format!("{name} {v:?} is not a number"))
        })
        .transpose()
        .map(|v| v.unwrap_or(default))
}

fn check_flags(flags: &[String], known: &[&str]) -> anyhow::Result<()> {
    let mut skip = false;
    for flag in flags {
        if skip {
            skip = false;
            continue;
        }
        let name = flag.split('=').next().unwrap_or_default();
        if !known.contains(&name) {
            bail!("unknown option {flag:?}\n{USAGE}");
        }
        skip = !flag.contains('=') && !matches!(name, "--no-build" | "--debug");
    }
    Ok(())
}

async fn run_bench(flags: &[String]) -> anyhow::Result<()> {
    check_flags(
        flags,
        &[
            "--functions",
            "--invocations",
            "--cold-starts",
            "--no-build",
            "--debug",
            "--env",
            "--target",
        ],
    )?;
    let mut extra_env = Vec::new();
    for (i, flag) in flags.iter().enumerate() {
        let pair = match flag.strip_prefix("--env=") {
            Some(pair) => Some(pair),
            None if flag == "--env" => Some(
                flags
                    .get(i + 1)
                    .map(String::as_str)
                    .context("--env needs KEY=VALUE")?,
            ),
            None => None,
        };
        if let Some(pair) = pair {
            let (key, value) = pair
                .split_once('=')
                .with_context(|| format!("--env {pair:?} is not KEY=VALUE"))?;
            extra_env.push((key.to_owned(), value.to_owned()));
        }
    }
    let functions = match value(flags, "--functions")? {
        Some(list) => list
            .split(',')
            .map(|n| Function::named(n.trim()))
            .collect::<anyhow::Result<Vec<_>>>()?,
        None => FUNCTIONS.to_vec(),
    };
    let target_dir = lectern_bench::target_dir();
    let options = BenchOptions {
        functions,
        invocations: number(flags, "--invocations", 1000)?,
        cold_starts: number(flags, "--cold-starts", 40)?,
        build: if flags.iter().any(|f| f == "--no-build") {
            Build::Never
        } else {
            Build::Always
        },
        profile: if flags.iter().any(|f| f == "--debug") {
            Profile::Debug
        } else {
            Profile::Release
        },
        // The template deploys static musl builds; this machine's architecture stands in for arm64.
        target: match value(flags, "--target")? {
            Some("host") => None,
            Some(triple) => Some(triple.to_owned()),
            None => Some(lectern_bench::bench::deployed_target()),
        },
        extra_env,
        root: lectern_bench::workspace_root(),
        output: target_dir.join("bench").join("results.json"),
        target_dir,
    };
    let report = bench::run(&options).await?;
    print!("{}", bench::render_table(&report));
    println!("JSON: {}", options.output.display());
    if report.errors() > 0 {
        bail!("{} invocations failed", report.errors());
    }
    Ok(())
}

async fn run_load(flags: &[String]) -> anyhow::Result<()> {
    check_flags(
        flags,
        &[
            "--duration",
            "--concurrency",
            "--courses",
            "--lessons",
            "--server-workers",
        ],
    )?;
    let concurrency = value(flags, "--concurrency")?
        .unwrap_or("2,8,32")
        .split(',')
        .map(|c| {
            c.trim()
                .parse()
                .with_context(|| format!("--concurrency {c:?} is not a number"))
        })
        .collect::<anyhow::Result<Vec<usize>>>()?;
    let options = LoadOptions {
        duration: Duration::from_secs(number(flags, "--duration", 20)? as u64),
        concurrency,
        courses: number(flags, "--courses", 50)?,
        lessons: number(flags, "--lessons", 4)?,
        server_workers: number(flags, "--server-workers", 2)?,
        output: lectern_bench::target_dir().join("bench").join("load.json"),
    };
    let report = load::run(&options).await?;
    print!("{}", load::render_table(&report));
    println!("JSON: {}", options.output.display());
    if report.errors() > 0 {
        bail!("{} requests failed", report.errors());
    }
    Ok(())
}

/// Event committed → consumer latency through the local server's router.
async fn run_events(flags: &[String]) -> anyhow::Result<()> {
    check_flags(flags, &["--updates"])?;
    let updates = number(flags, "--updates", 200)?;
    let summary = lectern_bench::events::run(updates).await?;
    println!(
        "event committed -> consumer, {} events: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        summary.count, summary.p50_ms, summary.p95_ms, summary.p99_ms, summary.max_ms
    );
    Ok(())
}

async fn run_catalog(flags: &[String]) -> anyhow::Result<()> {
    check_flags(flags, &["--sizes", "--requests", "--limit", "--backend"])?;
    let sizes = value(flags, "--sizes")?
        .unwrap_or("100,1000,10000")
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .with_context(|| format!("--sizes {s:?} is not a number"))
        })
        .collect::<anyhow::Result<Vec<usize>>>()?;
    let backend = match value(flags, "--backend")?.unwrap_or("sqlite") {
        "sqlite" => catalog::Backend::Sqlite,
        "dynamo" => catalog::Backend::Dynamo,
        other => bail!("--backend {other:?}: sqlite or dynamo"),
    };
    let options = catalog::CatalogOptions {
        sizes,
        requests: number(flags, "--requests", 200)?,
        limit: number(flags, "--limit", 20)?,
        backend,
        output: lectern_bench::target_dir()
            .join("bench")
            .join(format!("catalog-{backend:?}.json").to_lowercase()),
    };
    let report = catalog::run(&options).await?;
    print!("{}", catalog::render_table(&report));
    println!("JSON: {}", options.output.display());
    if !report.over_budget().is_empty() {
        bail!("catalog pages read more items than their budget");
    }
    Ok(())
}

//! The `bench` run: builds the floor and the functions, starts each under the Runtime API emulator
//! several times (cold starts interleaved, floor first, so that the machine's noise falls on all of
//! them alike), drives the last process of each with N warm invocations, reads its peak RSS, sizes
//! its package, and reports a table and JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use lectern_queue::{QueuePolicy, SqliteQueue};
use payments_function::queues::EVENTS_QUEUE;

use crate::api::Api;
use crate::emulator::{Emulator, Outcome};
use crate::package::{PackageSize, build_label, package};
use crate::server::{ADMIN_EMAIL, LocalServer, STORE_FILE};
use crate::stats::{Summary, median, median_interval, median_of, ms};
use crate::targets::{
    EventPlan, Expect, FLOOR_PACKAGE, Function, KeyPair, Kind, Seeded, SeededPayment,
    aws_environment, bench_secrets, events_of, function_environment, lambda_environment,
};

/// How long one invocation may take before it counts as an error (the template's `Timeout`).
const INVOCATION_LIMIT: Duration = Duration::from_secs(10);
/// How long a process may take to poll for its first event.
const INIT_LIMIT: Duration = Duration::from_secs(30);
/// How many failed invocations the report quotes.
const ERROR_SAMPLES: usize = 5;

/// The cargo profile the binaries are built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Release,
    /// For the CI smoke: no LTO build needed; the figures mean nothing.
    Debug,
}

impl Profile {
    fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// When to run `cargo build` for a binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// Always (cargo does nothing when the binary is fresh).
    Always,
    /// Only when the binary is missing (the CI smoke, where `cargo test --workspace` built most).
    Missing,
    /// Never (`--no-build`): a missing binary is an error.
    Never,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub functions: Vec<Function>,
    pub invocations: usize,
    pub cold_starts: usize,
    pub build: Build,
    pub profile: Profile,
    /// The target triple the functions and the floor are built for (`--target`); `None` builds
    /// them for this machine's default target. The CLI's default is [`deployed_target`].
    pub target: Option<String>,
    /// Extra variables for the function processes (`--env KEY=VALUE`), for experiments.
    pub extra_env: Vec<(String, String)>,
    /// The checkout (where `events/` is).
    pub root: PathBuf,
    /// Where the binaries are (`<target>/<profile>/`).
    pub target_dir: PathBuf,
    /// Where the JSON goes.
    pub output: PathBuf,
}

/// The figures of one binary: a function or the floor.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    pub name: String,
    pub package: String,
    pub binary: String,
    /// `http` (API Gateway events), `worker` (SQS batches), or `floor`.
    pub kind: &'static str,
    /// Every cold start's init (exec to first `GET /next`), in order.
    pub init_ms: Vec<f64>,
    pub init_median_ms: f64,
    /// The median over the cold-start rounds of this init divided by the floor's in the same round
    /// (the floor starts first in each round): the ratio the budget is read from. Pairing by round
    /// keeps the machine's drift during the run out of it.
    pub init_ratio_to_floor: f64,
    /// A ~95% confidence interval of that median, from the rounds' ratios (`null` under 6 rounds):
    /// how far it could be from the median of many more rounds of this run. Runs on another day
    /// can differ by more (the machine changes).
    pub init_ratio_interval: Option<[f64; 2]>,
    /// This init's median over the floor's median, for comparison.
    pub init_ratio_of_medians: f64,
    /// Init with the template's AWS settings (DynamoDB, and SQS and Stripe for the payments group:
    /// the SDK clients built, no call made): every cold start, the median and its ratio to the floor.
    /// Empty for the floor.
    pub init_aws_ms: Vec<f64>,
    pub init_aws_median_ms: f64,
    /// As `init_ratio_to_floor` and `init_ratio_interval`, for the init with the AWS settings.
    pub init_aws_ratio_to_floor: f64,
    pub init_aws_ratio_interval: Option<[f64; 2]>,
    /// The first invocation after each cold start (median), and the event it was.
    pub first_invocation_median_ms: f64,
    pub first_event: String,
    /// Warm invocations of the last process, all events; and only its GET events (none for the
    /// workers).
    pub warm: Summary,
    pub warm_reads: Summary,
    pub events: Vec<EventResult>,
    /// VmHWM of the last process after its warm invocations.
    pub peak_rss_kib: u64,
    pub invocations: usize,
    pub errors: usize,
    pub error_samples: Vec<String>,
    pub package_size: Option<PackageSize>,
}

/// The warm figures of one event.
#[derive(Debug, Clone, Serialize)]
pub struct EventResult {
    pub name: String,
    pub method: String,
    pub expected: String,
    pub latency: Summary,
}

/// Where it ran.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
    pub load_average_before: String,
    pub load_average_after: String,
    pub unix_time: u64,
}

/// Everything a `bench` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub machine: Machine,
    pub profile: Profile,
    /// What the functions were built for: a target triple, or this machine's default target.
    pub target: String,
    pub package_build: String,
    pub invocations: usize,
    pub cold_starts: usize,
    pub floor: TargetResult,
    pub functions: Vec<TargetResult>,
}

impl BenchReport {
    /// Errors over every binary (must be 0).
    pub fn errors(&self) -> usize {
        self.floor.errors + self.functions.iter().map(|f| f.errors).sum::<usize>()
    }
}

/// One binary under test and how to start it.
struct Target {
    name: String,
    kind: &'static str,
    package: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    /// The template's own AWS settings (DynamoDB, SQS; the SDK clients are built at init), for an
    /// init-only cold start: nothing is invoked, as no AWS service answers here.
    aws_env: Option<Vec<(String, String)>>,
    events: Vec<EventPlan>,
    /// Function targets sign the admin in before their warm run (the token lasts 15 minutes).
    needs_admin: bool,
    acc: Accumulator,
}

#[derive(Default)]
struct Accumulator {
    init: Vec<Duration>,
    init_aws: Vec<Duration>,
    first: Vec<Duration>,
    warm: Vec<(usize, Duration)>,
    peak_rss_kib: u64,
    invocations: usize,
    errors: usize,
    error_samples: Vec<String>,
}

impl Accumulator {
    fn error(&mut self, message: String) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.error_samples.push(message);
        }
    }
}

/// Runs the benchmark and writes the JSON; the caller prints [`render_table`].
pub async fn run(options: &BenchOptions) -> anyhow::Result<BenchReport> {
    ensure!(options.cold_starts >= 1, "--cold-starts must be at least 1");
    let load_before = load_average();
    let function_dir = match &options.target {
        Some(triple) => options.target_dir.join(triple).join(options.profile.dir()),
        None => options.target_dir.join(options.profile.dir()),
    };
    // The floor is built exactly as the functions are (same target, profile and allocator), so
    // that static linking and the allocator do not count for or against a function.
    let mut binaries: Vec<(&str, &str, Option<&str>)> =
        std::iter::once((FLOOR_PACKAGE, FLOOR_PACKAGE, options.target.as_deref()))
            .chain(
                options
                    .functions
                    .iter()
                    .map(|f| (f.package, f.binary, options.target.as_deref())),
            )
            .collect();
    binaries.dedup();
    if let (Some(triple), false) = (&options.target, options.build == Build::Never) {
        ensure_target(triple).await?;
    }
    let mut built: Vec<&str> = Vec::new();
    for (package, binary, triple) in binaries {
        let path = function_dir.join(binary);
        let wanted =
            options.build == Build::Always || (options.build == Build::Missing && !path.is_file());
        if wanted && !built.contains(&package) {
            cargo_build(&options.root, package, options.profile, triple).await?;
            built.push(package);
        }
        ensure!(
            path.is_file(),
            "{} is missing: build it (cargo build {}{}-p {package}) or drop --no-build",
            path.display(),
            if options.profile == Profile::Release {
                "--release "
            } else {
                ""
            },
            triple.map(|t| format!("--target {t} ")).unwrap_or_default()
        );
    }

    // The functions' data: one SQLite file, seeded through the local server with the same keys.
    let data = tempfile::tempdir().context("a temporary data folder")?;
    let keys = KeyPair::generate()?;
    let server = LocalServer::start(crate::server::config(data.path(), &keys.private_pem)?, 1)
        .await
        .context("starting the local server to seed the functions' data")?;
    let api = Api::new(&server.base)?;
    let mut seeded = seed(&api).await.context("seeding the functions' data")?;
    // The server holds the shared file open for the whole run; a file a function has to itself (the
    // webhook function's queue) is held open here, so that every function opens its file alike:
    // another process has it open, its WAL and shared memory exist. Without it, each cold start of
    // that function created the shared-memory file, recovered the WAL and removed both on exit.
    let _held = hold_open(data.path(), &options.functions)?;
    // Secrets Manager for the inits with the AWS settings, which read their secrets at cold start.
    let secrets = lectern_testkit::secrets::FakeSecretsManager::start(bench_secrets(&keys))
        .await
        .context("starting the bench's Secrets Manager")?;

    let mut targets = vec![Target {
        name: "floor (hello world)".into(),
        kind: "floor",
        package: FLOOR_PACKAGE.into(),
        binary: function_dir.join(FLOOR_PACKAGE),
        env: Vec::new(),
        aws_env: None,
        events: floor_events(&options.root)?,
        needs_admin: false,
        acc: Accumulator::default(),
    }];
    for function in &options.functions {
        let with_extra = |mut env: Vec<(String, String)>| {
            env.extend(options.extra_env.iter().cloned());
            env
        };
        targets.push(Target {
            name: function.name.into(),
            kind: match function.kind {
                Kind::Http => "http",
                Kind::Worker => "worker",
            },
            package: function.package.into(),
            binary: function_dir.join(function.binary),
            env: with_extra(function_environment(function, data.path(), &keys)),
            aws_env: Some(with_extra(aws_environment(
                function,
                data.path(),
                &keys,
                &secrets.endpoint,
            ))),
            events: events_of(&options.root, function.events)?,
            needs_admin: true,
            acc: Accumulator::default(),
        });
    }

    let logs = data.path().join("logs");
    std::fs::create_dir_all(&logs)?;
    let mut counter = 0usize;
    for round in 0..options.cold_starts {
        let warm = round + 1 == options.cold_starts;
        for target in &mut targets {
            if warm && target.needs_admin {
                seeded.admin_token = api.signin(ADMIN_EMAIL).await?;
            }
            let log = logs.join(format!("{}-{round}.log", target.name));
            let invocations = if warm { options.invocations } else { 0 };
            if let Err(e) = cold_start(target, &seeded, invocations, &log, &mut counter).await {
                target.acc.error(format!("{e:#}"));
            }
            if let Some(env) = target.aws_env.clone() {
                let log = logs.join(format!("{}-aws-{round}.log", target.name));
                match init_only(target, &env, &log).await {
                    Ok(init) => target.acc.init_aws.push(init),
                    Err(e) => target.acc.error(format!("{e:#}")),
                }
            }
        }
    }
    drop(server);

    let zips = options.target_dir.join("bench");
    let mut results: Vec<TargetResult> = Vec::new();
    for target in &targets {
        // A debug binary is no package (and deflating hundreds of MB of debug info takes minutes).
        let size = match options.profile {
            Profile::Release => Some(package(
                &target.binary,
                &zips.join(binary_name(target)).join("bootstrap.zip"),
            )?),
            Profile::Debug => None,
        };
        results.push(result_of(target, size));
    }
    let floor_init = results[0].init_ms.clone();
    let floor_median = results[0].init_median_ms;
    for result in &mut results {
        let ratios = paired_ratios(&result.init_ms, &floor_init);
        result.init_ratio_to_floor = median_of(&ratios);
        result.init_ratio_interval = median_interval(&ratios).map(|(lo, hi)| [lo, hi]);
        let ratios = paired_ratios(&result.init_aws_ms, &floor_init);
        result.init_aws_ratio_to_floor = median_of(&ratios);
        result.init_aws_ratio_interval = median_interval(&ratios).map(|(lo, hi)| [lo, hi]);
        result.init_ratio_of_medians = if floor_median > 0.0 {
            result.init_median_ms / floor_median
        } else {
            0.0
        };
    }
    let floor = results.remove(0);
    let target = target_label(options.target.as_deref());
    let report = BenchReport {
        machine: machine(load_before),
        profile: options.profile,
        package_build: match options.profile {
            Profile::Release => build_label(&target),
            Profile::Debug => "not measured (debug build: a smoke run)".into(),
        },
        target,
        invocations: options.invocations,
        cold_starts: options.cold_starts,
        floor,
        functions: results,
    };
    if let Some(parent) = options.output.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&options.output, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", options.output.display()))?;
    Ok(report)
}

/// `inits[i] / floor[i]` over the rounds both have: round i's cold starts ran one after the other,
/// the floor's first. (A failed cold start, which the report counts as an error, shifts the later
/// rounds' pairs.)
fn paired_ratios(inits: &[f64], floor: &[f64]) -> Vec<f64> {
    inits
        .iter()
        .zip(floor)
        .filter(|(_, f)| **f > 0.0)
        .map(|(i, f)| i / f)
        .collect()
}

/// Opens each function's SQLite file other than the server's, as the function does (its queue).
fn hold_open(data_dir: &Path, functions: &[Function]) -> anyhow::Result<Vec<SqliteQueue>> {
    let mut files: Vec<&str> = functions
        .iter()
        .map(|f| f.sqlite_file)
        .filter(|file| *file != STORE_FILE)
        .collect();
    files.sort_unstable();
    files.dedup();
    files
        .into_iter()
        .map(|file| {
            let path = data_dir.join(file);
            SqliteQueue::open(&path, EVENTS_QUEUE, QueuePolicy::default())
                .with_context(|| format!("opening {}", path.display()))
        })
        .collect()
}

/// The functions' seeded data: a published course with lessons and an assignment, a student enrolled
/// in it (Ada, whom `events/auth-signin.json` signs in), her completed payment for a paid course (bought, paid through
/// the local provider's signed webhook, settled by the local server's workers), and the admin's token.
async fn seed(api: &Api) -> anyhow::Result<Seeded> {
    api.instructor("teacher@bench.example.org", "bench-teacher")
        .await?;
    let teacher = api.signin("teacher@bench.example.org").await?;
    let course = api.published_course(&teacher, 1, 3, 0).await?;
    let paid = api.published_course(&teacher, 2, 1, 4900).await?;
    let ada = api.register("ada@example.org", "ada", "student").await?;
    let student = api.signin("ada@example.org").await?;
    api.expect(
        Method::POST,
        &format!("/api/v1/courses/{}/enroll", course.id),
        Some(&student),
        Some(&json!({})),
        201,
    )
    .await?;
    api.expect(
        Method::POST,
        &format!("/api/v1/courses/{}/assignments", course.id),
        Some(&teacher),
        Some(&json!({
            "title": "Essay", "description": "Write about what you learnt.", "points": 100,
            "dueDate": "2099-01-01T00:00:00Z"
        })),
        201,
    )
    .await?;
    let payment = api.paid_payment(&student, &paid.id).await?;
    Ok(Seeded {
        lesson_id: course.lessons.first().cloned().unwrap_or_default(),
        course_id: course.id,
        student_token: student,
        admin_token: api.signin(ADMIN_EMAIL).await?,
        nonce: format!("{:x}", std::process::id()),
        payment: SeededPayment {
            id: payment.id,
            intent: payment.intent,
            user_id: ada,
            course_id: paid.id,
            amount: payment.amount,
            currency: payment.currency,
        },
    })
}

/// The floor answers every event alike; it gets all of them, unchanged.
fn floor_events(root: &Path) -> anyhow::Result<Vec<EventPlan>> {
    let mut events = Vec::new();
    for function in crate::targets::FUNCTIONS {
        for mut plan in events_of(root, function.events)? {
            plan.expect = Expect::Status(200);
            plan.rewrite = crate::targets::Rewrite::None;
            events.push(plan);
        }
    }
    Ok(events)
}

/// Starts `target` with `env` against a fresh emulator; answers the process, the emulator and the init.
async fn start(
    target: &Target,
    env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<(tokio::process::Child, Emulator, Duration)> {
    let function_name = format!("lectern-bench-{}", target.name);
    let emulator = Emulator::start(&function_name).await?;
    let log_file = std::fs::File::create(log)?;
    let mut command = tokio::process::Command::new(&target.binary);
    command
        .env_clear()
        .envs(lambda_environment(&function_name, &emulator.runtime_api()))
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file.try_clone()?))
        .stderr(Stdio::from(log_file))
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", target.binary.display()))?;
    let ready = tokio::select! {
        ready = emulator.wait_ready(INIT_LIMIT) => ready,
        exit = child.wait() => Err(anyhow::anyhow!("{} exited before polling: {exit:?}", target.name)),
    };
    let ready = ready.map_err(|e| e.context(log_tail(log)))?;
    Ok((child, emulator, ready.duration_since(started)))
}

/// A cold start that is only timed: exec to the first poll, then the process is stopped.
async fn init_only(
    target: &Target,
    env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<Duration> {
    let (mut child, _emulator, init) = start(target, env, log).await?;
    let _ = child.kill().await;
    Ok(init)
}

/// One cold start of `target`: exec, wait for the first poll, one invocation, then `invocations`
/// warm ones (cycling through the events) and the peak RSS.
async fn cold_start(
    target: &mut Target,
    seeded: &Seeded,
    invocations: usize,
    log: &Path,
    counter: &mut usize,
) -> anyhow::Result<()> {
    let env = target.env.clone();
    let (mut child, emulator, init) = start(target, &env, log).await?;
    target.acc.init.push(init);

    let outcome = async {
        let first = &target.events[0];
        let latency = invoke(&emulator, first, seeded, counter, &mut target.acc).await?;
        target.acc.first.push(latency);
        for i in 0..invocations {
            let index = i % target.events.len();
            let latency = invoke(
                &emulator,
                &target.events[index],
                seeded,
                counter,
                &mut target.acc,
            )
            .await?;
            target.acc.warm.push((index, latency));
        }
        if let Some(pid) = child.id().filter(|_| invocations > 0) {
            target.acc.peak_rss_kib = peak_rss_kib(pid)?;
        }
        anyhow::Ok(())
    }
    .await;
    let _ = child.kill().await;
    outcome.map_err(|e| e.context(log_tail(log)))
}

/// One invocation, checked; answers its latency. A wrong status is counted and the run goes on; no
/// answer at all ends this process's run.
async fn invoke(
    emulator: &Emulator,
    plan: &EventPlan,
    seeded: &Seeded,
    counter: &mut usize,
    acc: &mut Accumulator,
) -> anyhow::Result<Duration> {
    *counter += 1;
    let event = plan.render(*counter, seeded)?;
    acc.invocations += 1;
    let (outcome, latency) = emulator
        .invoke(event, INVOCATION_LIMIT)
        .await
        .with_context(|| format!("invoking with {}", plan.name))?;
    match outcome {
        Outcome::Response(body) => {
            if !plan.expect.accepts(&body) {
                acc.error(format!(
                    "{}: expected {:?}, got {}",
                    plan.name,
                    plan.expect,
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
            }
        }
        Outcome::Error { error_type, body } => acc.error(format!(
            "{}: invocation error {error_type:?}: {}",
            plan.name,
            String::from_utf8_lossy(&body)
        )),
    }
    Ok(latency)
}

/// The peak resident set (`VmHWM`) of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/<pid>/status")
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    format!("the process's last output ({}):\n{tail}", log.display())
}

fn result_of(target: &Target, package_size: Option<PackageSize>) -> TargetResult {
    let acc = &target.acc;
    let all: Vec<Duration> = acc.warm.iter().map(|(_, d)| *d).collect();
    let reads: Vec<Duration> = acc
        .warm
        .iter()
        .filter(|(i, _)| target.events[*i].method == "GET")
        .map(|(_, d)| *d)
        .collect();
    let mut by_event: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    for (i, d) in &acc.warm {
        by_event.entry(*i).or_default().push(*d);
    }
    TargetResult {
        name: target.name.clone(),
        package: target.package.clone(),
        binary: binary_name(target).to_owned(),
        kind: target.kind,
        init_ms: acc.init.iter().map(|d| ms(*d)).collect(),
        init_median_ms: median(&acc.init),
        init_ratio_to_floor: 0.0,
        init_ratio_interval: None,
        init_ratio_of_medians: 0.0,
        init_aws_ms: acc.init_aws.iter().map(|d| ms(*d)).collect(),
        init_aws_median_ms: median(&acc.init_aws),
        init_aws_ratio_to_floor: 0.0,
        init_aws_ratio_interval: None,
        first_invocation_median_ms: median(&acc.first),
        first_event: target.events[0].name.clone(),
        warm: Summary::of(&all),
        warm_reads: Summary::of(&reads),
        events: by_event
            .into_iter()
            .map(|(i, samples)| {
                let plan = &target.events[i];
                EventResult {
                    name: plan.name.clone(),
                    method: plan.method.clone(),
                    expected: plan.expect.label(),
                    latency: Summary::of(&samples),
                }
            })
            .collect(),
        peak_rss_kib: acc.peak_rss_kib,
        invocations: acc.invocations,
        errors: acc.errors,
        error_samples: acc.error_samples.clone(),
        package_size,
    }
}

async fn cargo_build(
    root: &Path,
    package: &str,
    profile: Profile,
    triple: Option<&str>,
) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = tokio::process::Command::new(&cargo);
    command.current_dir(root).args(["build", "-p", package]);
    if profile == Profile::Release {
        command.arg("--release");
    }
    if let Some(triple) = triple {
        command.args(["--target", triple]);
    }
    eprintln!(
        "building {package} ({}{})",
        profile.dir(),
        triple.map(|t| format!(", {t}")).unwrap_or_default()
    );
    let status = command
        .status()
        .await
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("cargo build -p {package} failed ({status})");
    }
    Ok(())
}

/// This machine's equivalent of what the template deploys: `<arch>-unknown-linux-musl`, a static
/// build (the template's is for aarch64).
pub fn deployed_target() -> String {
    format!("{}-unknown-linux-musl", std::env::consts::ARCH)
}

/// Makes sure `triple` can be built for: its standard library is installed (`rustup target add`
/// when it is not) and, for a musl target, there is a C compiler for the bundled C libraries (SQLite,
/// aws-lc): `musl-gcc` on the PATH, which the `cc` crate finds by itself, or `CC_<triple>`.
async fn ensure_target(triple: &str) -> anyhow::Result<()> {
    let installed = tokio::process::Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .await
        .context("running rustup to list the installed targets (or pass --target host)")?;
    if !String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == triple)
    {
        eprintln!("installing the {triple} standard library (rustup target add {triple})");
        let status = tokio::process::Command::new("rustup")
            .args(["target", "add", triple])
            .status()
            .await
            .context("running rustup target add")?;
        ensure!(
            status.success(),
            "rustup target add {triple} failed ({status})"
        );
    }
    let cc_variable = format!("CC_{}", triple.replace('-', "_"));
    if triple.ends_with("-musl") && std::env::var_os(&cc_variable).is_none() && !on_path("musl-gcc")
    {
        bail!(
            "building for {triple} needs a musl C compiler for SQLite and aws-lc: install musl-gcc \
             (Debian and Ubuntu: apt-get install musl-tools), set {cc_variable}, or pass --target host"
        );
    }
    Ok(())
}

/// Whether an executable of that name is in a folder of `PATH`.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}

/// What the functions are built for, as the report says it.
fn target_label(triple: Option<&str>) -> String {
    match triple {
        Some(triple) => triple.to_owned(),
        None => format!("this machine's default ({} gnu)", std::env::consts::ARCH),
    }
}

/// The file name of a target's binary.
fn binary_name(target: &Target) -> &str {
    target
        .binary
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(&target.package)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine(load_before: String) -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.into());
    Machine {
        cpu,
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_default(),
        load_average_before: load_before,
        load_average_after: load_average(),
        unix_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The report as text: one row per binary, then each function's events, then the budgets.
pub fn render_table(report: &BenchReport) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "Lectern bench: {} build of the functions and the floor for {}, {} cold starts, {} warm invocations per binary",
        match report.profile {
            Profile::Release => "release",
            Profile::Debug => "debug",
        },
        report.target,
        report.cold_starts,
        report.invocations
    );
    let _ = writeln!(
        out,
        "machine: {} x{} ({}), load {} -> {}\n",
        m.cpu, m.cores, m.kernel, m.load_average_before, m.load_average_after
    );
    let _ = writeln!(
        out,
        "{:<20} {:>9} {:>7} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8} {:>6}",
        "binary",
        "init ms",
        "x floor",
        "aws init",
        "x floor",
        "1st ms",
        "warm p50",
        "p95",
        "p99",
        "GET p50",
        "RSS MiB",
        "bin MiB",
        "zip MiB",
        "errors"
    );
    for r in std::iter::once(&report.floor).chain(&report.functions) {
        let (bin, zip) = r
            .package_size
            .as_ref()
            .map(|p| (mib(p.binary_bytes), mib(p.zip_bytes)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<20} {:>9.2} {:>7.2} {:>9.2} {:>7.2} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>8.1} {:>9.2} {:>8.2} {:>6}",
            r.name,
            r.init_median_ms,
            r.init_ratio_to_floor,
            r.init_aws_median_ms,
            r.init_aws_ratio_to_floor,
            r.first_invocation_median_ms,
            r.warm.p50_ms,
            r.warm.p95_ms,
            r.warm.p99_ms,
            r.warm_reads.p50_ms,
            r.peak_rss_kib as f64 / 1024.0,
            bin,
            zip,
            r.errors
        );
    }
    let _ = writeln!(out, "\nwarm latency by event (ms):");
    let _ = writeln!(
        out,
        "{:<34} {:<6} {:>7} {:>6} {:>9} {:>9} {:>9}",
        "event", "method", "expect", "n", "p50", "p95", "p99"
    );
    for r in &report.functions {
        for e in &r.events {
            let _ = writeln!(
                out,
                "{:<34} {:<6} {:>7} {:>6} {:>9.3} {:>9.3} {:>9.3}",
                e.name,
                e.method,
                e.expected,
                e.latency.count,
                e.latency.p50_ms,
                e.latency.p95_ms,
                e.latency.p99_ms
            );
        }
    }
    let floor_p50 = report.floor.warm.p50_ms;
    let _ = writeln!(
        out,
        "\nbudgets (handler overhead = GET p50 minus the floor's p50 of {floor_p50:.3} ms, the emulator's own round trip):"
    );
    for r in &report.functions {
        let overhead = r.warm_reads.p50_ms - floor_p50;
        let reads = if r.warm_reads.count > 0 {
            format!(
                "read overhead p50 {overhead:.3} ms (< 0.5: {})",
                verdict(overhead < 0.5)
            )
        } else {
            "no reads".to_owned()
        };
        // The init budget is the HTTP functions' (a worker's cold start delays a queue, not a caller).
        let init = |ratio: f64, interval: Option<[f64; 2]>| {
            let interval = interval
                .map(|[lo, hi]| format!("95% CI {lo:.2}-{hi:.2}"))
                .unwrap_or_else(|| "too few rounds for an interval".into());
            match r.kind {
                "http" => format!(
                    "{ratio:.2}x floor ({interval}; <= 1.5x: {})",
                    verdict(ratio <= 1.5)
                ),
                _ => format!("{ratio:.2}x floor ({interval})"),
            }
        };
        let rss = r.peak_rss_kib as f64 / 1024.0;
        let _ = writeln!(
            out,
            "{:<14} init {}, with the AWS settings {}, {reads}, peak RSS {:.1} MiB (< 30: {}), errors {}",
            r.name,
            init(r.init_ratio_to_floor, r.init_ratio_interval),
            init(r.init_aws_ratio_to_floor, r.init_aws_ratio_interval),
            rss,
            verdict(rss < 30.0),
            r.errors
        );
    }
    for r in std::iter::once(&report.floor).chain(&report.functions) {
        for sample in &r.error_samples {
            let _ = writeln!(out, "error in {}: {sample}", r.name);
        }
    }
    let _ = writeln!(
        out,
        "\ninit: exec to the first GET /next, median of {} cold starts (SQLite store and local queues; \"aws init\": the template's DynamoDB and SQS settings, init only); x floor: median over the rounds of init / the floor's init in the same round, with a distribution-free 95% confidence interval of that median (runs on other days move more than it)",
        report.cold_starts
    );
    let _ = writeln!(out, "package sizes: {}", report.package_build);
    out
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_paired_by_round_and_a_slow_round_does_not_move_them() {
        // The machine slows down in the third round: the floor and the function with it.
        let floor = [2.0, 2.0, 4.0];
        let function = [3.0, 3.2, 6.0];
        assert!((median_of(&paired_ratios(&function, &floor)) - 1.5).abs() < 1e-9);
        assert!(paired_ratios(&[], &floor).is_empty());
        assert!(paired_ratios(&[3.0], &[0.0]).is_empty());
    }
}

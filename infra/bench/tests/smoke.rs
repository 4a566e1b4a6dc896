//! CI's smoke of the harness, so that it cannot rot: the auth function's and the floor's DEBUG builds
//! under the Runtime API emulator, one cold start and twenty invocations. The figures of a debug build
//! mean nothing; what is checked is that every invocation answered as expected and that init, latency
//! and memory were measured. The full run is `cargo run -p lectern-bench --release -- bench`.

use lectern_bench::bench::{self, BenchOptions, Build, Profile};
use lectern_bench::targets::Function;

/// One cold start of each named function's debug build (built here when missing), then `invocations`
/// warm ones; the JSON goes to `out`.
fn debug_run(names: &[&str], invocations: usize, out: &std::path::Path) -> BenchOptions {
    BenchOptions {
        functions: names.iter().map(|n| Function::named(n).unwrap()).collect(),
        invocations,
        cold_starts: 1,
        build: Build::Missing,
        profile: Profile::Debug,
        target: None,
        extra_env: Vec::new(),
        root: lectern_bench::workspace_root(),
        target_dir: lectern_bench::target_dir(),
        output: out.join("results.json"),
    }
}

#[tokio::test]
async fn the_emulator_runs_the_auth_function_and_measures_it_without_errors() {
    // GIVEN debug builds of the floor and the auth function (`cargo build` here when missing)
    let out = tempfile::tempdir().unwrap();
    let options = debug_run(&["auth"], 20, out.path());
    // WHEN the bench runs
    let report = bench::run(&options).await.unwrap();
    // THEN nothing failed and every figure was measured
    let auth = &report.functions[0];
    assert_eq!(report.errors(), 0, "{}", bench::render_table(&report));
    assert_eq!(
        auth.invocations, 21,
        "the first invocation and twenty warm ones"
    );
    assert_eq!(auth.init_ms.len(), 1);
    assert!(auth.init_median_ms > 0.0);
    assert!(report.floor.init_median_ms > 0.0);
    assert!(auth.init_ratio_to_floor > 0.0);
    assert_eq!(
        auth.init_ratio_interval, None,
        "one round gives no interval"
    );
    assert!(auth.first_invocation_median_ms > 0.0);
    assert_eq!(auth.warm.count, 20);
    assert!(auth.warm.p50_ms > 0.0 && auth.warm.p99_ms >= auth.warm.p50_ms);
    assert!(auth.warm_reads.count > 0, "the GET events were invoked");
    assert!(
        auth.events
            .iter()
            .any(|e| e.name == "auth-register" && e.latency.count > 0),
        "the POST events were invoked"
    );
    assert!(auth.peak_rss_kib > 1024, "peak RSS read from /proc");
    assert!(auth.package_size.is_none(), "a debug binary is not sized");
    // AND the JSON was written
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&options.output).unwrap()).unwrap();
    assert_eq!(json["functions"][0]["name"], "auth");
    assert!(json["functions"][0]["init_ratio_interval"].is_null());
}

#[tokio::test]
async fn the_auth_function_built_as_deployed_answers_its_events() {
    // GIVEN the auth function's DEBUG build as the template deploys it: a static musl binary, whose
    // Rust allocations go to dlmalloc (lectern-runtime's allocator.rs), and the floor built the same
    // way; built here when missing, the target added with rustup (the test command installs
    // musl-gcc for its C libraries)
    let out = tempfile::tempdir().unwrap();
    let mut options = debug_run(&["auth"], 10, out.path());
    options.target = Some(bench::deployed_target());
    // WHEN the bench runs it: registrations and sign-ins (a 19 MiB argon2 block each) and reads
    let report = bench::run(&options).await.unwrap();
    // THEN it started with both settings and answered every event as expected
    assert_eq!(report.errors(), 0, "{}", bench::render_table(&report));
    let auth = &report.functions[0];
    assert_eq!(auth.invocations, 11);
    assert!(auth.init_median_ms > 0.0 && auth.init_aws_median_ms > 0.0);
    assert!(
        auth.events
            .iter()
            .any(|e| e.name == "auth-signin" && e.latency.count > 0),
        "sign-ins were invoked"
    );
    assert_eq!(report.target, bench::deployed_target());
    // AND the binary it ran is static: no program interpreter (dynamic loader) in its headers
    let binary = options
        .target_dir
        .join(bench::deployed_target())
        .join("debug")
        .join("auth-function");
    let elf = std::fs::read(&binary).unwrap();
    assert!(
        !has_interpreter(&elf),
        "{} is dynamically linked",
        binary.display()
    );
}

/// Whether a 64-bit little-endian ELF file has a `PT_INTERP` program header.
fn has_interpreter(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF");
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([elf[at], elf[at + 1]]));
    let phoff = usize::try_from(u64::from_le_bytes(elf[32..40].try_into().unwrap())).unwrap();
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    (0..phnum).any(|i| {
        let at = phoff + i * phentsize;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == 3 // PT_INTERP
    })
}

#[tokio::test]
async fn the_webhook_function_and_the_workers_answer_their_events_without_errors() {
    // GIVEN debug builds of the floor, the Stripe webhook function and the two SQS workers
    let out = tempfile::tempdir().unwrap();
    let names = ["stripe-webhook", "payment-events", "confirmations"];
    let mut options = debug_run(&names, 10, out.path());
    // AND a token key none of them may load (they check no token): one that would fail to parse
    options.extra_env = vec![("LECTERN_JWT_PUBLIC_KEY".into(), "not a PEM".into())];
    // WHEN the bench runs: signed webhooks, and SQS batches about the seeded, paid payment
    let report = bench::run(&options).await.unwrap();
    // THEN each started, with the local backends and with the template's AWS settings, and every
    // webhook answered 200 and every batch came back without a failed record
    assert_eq!(report.errors(), 0, "{}", bench::render_table(&report));
    for (function, name) in report.functions.iter().zip(names) {
        assert_eq!(function.name, name);
        assert_eq!(function.invocations, 11, "{name}");
        assert_eq!(function.warm.count, 10, "{name}");
        assert!(function.init_median_ms > 0.0 && function.init_aws_median_ms > 0.0);
        assert!(function.peak_rss_kib > 1024, "{name}");
    }
    let kinds: Vec<&str> = report.functions.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, ["http", "worker", "worker"]);
    let expected: Vec<&str> = report
        .functions
        .iter()
        .flat_map(|f| f.events.iter().map(|e| e.expected.as_str()))
        .collect();
    assert_eq!(expected, ["200", "no fail", "no fail"]);
}

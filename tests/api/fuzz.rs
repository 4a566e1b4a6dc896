//! schemathesis over every operation of `docs/openapi.json` against a test server, as a student, an
//! instructor and an admin: generated requests (valid and invalid) must never get a server error, and
//! every answer must have a documented status, the documented content type and a body matching its
//! schema. The fuzzer is installed on first use (`infra/scripts/install-fuzzer.sh`); the number of
//! cases per operation is bounded so that the suite's time stays in budget, and the seed is fixed so a
//! failure reproduces.

use std::path::{Path, PathBuf};
use std::process::Command;

use lectern_web::limits::Rate;

use crate::helpers::{Session, TestApp};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Cases per operation and role.
const EXAMPLES: &str = "8";
const SEED: &str = "20261203";

fn install() {
    let script = workspace().join("infra/scripts/install-fuzzer.sh");
    let status = Command::new("bash")
        .arg(&script)
        .status()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(status.success(), "{} failed", script.display());
}

/// Runs the fuzzer as `who`; answers its report, or fails the test with it.
fn fuzz(base: &str, role: &str, who: &Session) -> String {
    let root = workspace();
    let output = Command::new(root.join("target/tools/fuzzer/bin/schemathesis"))
        .current_dir(&root)
        .args(["run", "docs/openapi.json", "--url", base])
        .args(["--header", &format!("Authorization: Bearer {}", who.access)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--max-examples", EXAMPLES, "--seed", SEED])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--workers", "1", "--no-shrink", "--generation-database", "none"])
        .args(["--no-color", "--output-truncate", "true"])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .unwrap_or_else(|e| panic!("starting schemathesis: {e}"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("schemathesis as {role}:\n{report}");
    // The whole report is printed above; the failure names the summary.
    let lines: Vec<&str> = report.lines().collect();
    let summary = lines[lines.len().saturating_sub(30)..].join("\n");
    assert!(
        output.status.success(),
        "schemathesis as {role} failed (its report is printed above):\n{summary}"
    );
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_as_each_role_get_documented_answers_and_no_server_error() {
    // GIVEN a server with files, and a student, an instructor and an admin signed in
    install();
    // (limits that the fuzzer's thousands of requests a minute from one address do not meet)
    let app = TestApp::spawn_with_files_configured(|c| {
        c.limits.anonymous = Rate::new(1_000_000, 60);
        c.limits.writes = Rate::new(1_000_000, 60);
    })
    .await;
    let admin = app.admin().await;
    let instructor = app
        .user("teacher@example.org", "teacher", "instructor")
        .await;
    let student = app.user("student@example.org", "student", "student").await;

    // WHEN the fuzzer runs every operation as each of them
    let base = app.base.clone();
    let reports = tokio::task::spawn_blocking(move || {
        [
            ("a student", &student),
            ("an instructor", &instructor),
            ("an admin", &admin),
        ]
        .map(|(role, who)| fuzz(&base, role, who))
    })
    .await
    .unwrap();

    // THEN every run passed every check (fuzz() fails the test otherwise), over every operation
    for report in reports {
        assert!(report.contains("passed"), "{report}");
    }
}

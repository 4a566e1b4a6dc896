//! The TypeScript client web and mobile teams build from: generated from `docs/openapi.json` with
//! Orval (versions pinned in `clients/typescript/package-lock.json`), type-checked with `tsc --strict`,
//! then a whole course's flow written against the generated functions runs against a server
//! (`clients/typescript/src/flow.ts`). A description a generator cannot turn into a client that works
//! fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{ADMIN_EMAIL, PASSWORD, TestApp};

fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/typescript")
}

/// Runs a command in the client's folder; its output is printed, and a failure fails the test.
fn run(what: &str, command: &mut Command) -> String {
    let output = command
        .current_dir(client_dir())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e} (node and npm must be installed)"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{what}:\n{stdout}{stderr}");
    assert!(output.status.success(), "{what} failed:\n{stdout}{stderr}");
    stdout
}

/// Installs the pinned packages once (`npm ci`, from the lockfile), or again when the lockfile is
/// newer than the install.
fn install() {
    let dir = client_dir();
    let installed = dir.join("node_modules/.package-lock.json");
    let stale = match (
        std::fs::metadata(&installed).and_then(|m| m.modified()),
        std::fs::metadata(dir.join("package-lock.json")).and_then(|m| m.modified()),
    ) {
        (Ok(install), Ok(lock)) => install < lock,
        _ => true,
    };
    if stale {
        run(
            "npm ci",
            Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]),
        );
    }
}

#[tokio::test]
async fn a_client_generated_from_the_description_runs_a_whole_course() {
    // GIVEN the client generated from docs/openapi.json and compiled with strict type checks
    install();
    run(
        "orval",
        Command::new("node_modules/.bin/orval").args(["--config", "orval.config.ts"]),
    );
    run(
        "tsc --strict",
        Command::new("node_modules/.bin/tsc").args(["-p", "tsconfig.json"]),
    );
    // AND a server with file storage and the default tenant's admin
    let app = TestApp::spawn_with_files().await;
    app.admin().await;

    // WHEN the flow runs against it (on a blocking thread: the server shares this test's runtime)
    let base = app.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        run(
            "the flow",
            Command::new("node")
                .arg("dist/flow.js")
                .env("LECTERN_BASE_URL", base)
                .env("LECTERN_ADMIN_EMAIL", ADMIN_EMAIL)
                .env("LECTERN_ADMIN_PASSWORD", PASSWORD)
                .env("LECTERN_FLOW_RUN", "ts")
                .env("LECTERN_FLOW_PASSWORD", PASSWORD),
        )
    })
    .await
    .unwrap();

    // THEN every step got the answer it expected
    assert!(output.contains("flow complete"), "{output}");
    // AND the student's grade and handed-in file are stored
    let tokens = app
        .signin("student-ts@example.org", PASSWORD)
        .await
        .assert(200)
        .body;
    let (id, access) = (
        tokens["user"]["id"].as_str().unwrap(),
        tokens["accessToken"].as_str().unwrap(),
    );
    let report = app
        .get(&format!("/api/v1/grades/{id}"), Some(access))
        .await
        .assert(200)
        .body;
    assert_eq!(report["gradedAssignments"], 1, "{report}");
    let grade = &report["courses"][0]["assignments"][0];
    assert_eq!(grade["grade"].as_f64(), Some(9.0), "{report}");
}

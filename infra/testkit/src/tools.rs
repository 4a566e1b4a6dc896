//! The Python tools the test suites run (moto's server, the OpenAPI validator), in a virtualenv
//! under `target/tools`, installed on first use by `infra/scripts/install-tools.sh`.
//!
//! Parallel test binaries may all ask at once: the install runs under a file lock, once; the others
//! wait for it. No test is skipped for a missing tool.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The stamp `install-tools.sh` writes last, when everything is installed; bumped with its list.
const STAMP: &str = ".lectern-tools-v3";

/// The workspace root (this crate is `infra/testkit`).
pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `target/tools` of the workspace: the virtualenv and the tools' logs.
pub(crate) fn tools_dir() -> PathBuf {
    workspace().join("target/tools")
}

/// The path of `program` in the tools' virtualenv (`python`, `moto_server`,
/// `openapi-spec-validator`), installing the tools first if they are not there yet.
pub fn venv_program(program: &str) -> anyhow::Result<PathBuf> {
    let tools = tools_dir();
    let venv = tools.join("venv");
    let installed = || venv.join(STAMP).exists();
    if !installed() {
        std::fs::create_dir_all(&tools).with_context(|| format!("creating {}", tools.display()))?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(tools.join("install.lock"))
            .context("opening the tools' install lock")?;
        // Exclusive across processes: parallel test binaries wait for the one installing.
        lock.lock().context("locking the tools' install lock")?;
        if !installed() {
            let script = workspace().join("infra/scripts/install-tools.sh");
            let status = Command::new("bash")
                .arg(&script)
                .env("LECTERN_TOOLS_LOCK_HELD", "1")
                .status()
                .with_context(|| format!("running {}", script.display()))?;
            if !status.success() {
                bail!("{} failed ({status})", script.display());
            }
        }
        drop(lock);
    }
    let path = venv.join("bin").join(program);
    if !path.exists() {
        bail!("{} is not in the tools' virtualenv", path.display());
    }
    Ok(path)
}

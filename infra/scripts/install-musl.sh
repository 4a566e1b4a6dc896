#!/usr/bin/env bash
# Installs musl-gcc (Debian's and Ubuntu's musl-tools) when it is missing: the smoke test of the
# deployed build (infra/bench/tests/smoke.rs) compiles SQLite and aws-lc for musl with it. rustup
# adds the Rust target itself. Idempotent; a no-op when musl-gcc is on the PATH.
set -euo pipefail
if command -v musl-gcc >/dev/null; then exit 0; fi
as_root=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then as_root="sudo -n"; fi
if ! command -v apt-get >/dev/null || { [ "$(id -u)" != 0 ] && [ -z "$as_root" ]; }; then
    echo "install-musl: musl-gcc is missing; install musl-tools (or a musl-gcc) and run again" >&2
    exit 1
fi
echo "install-musl: installing musl-tools (musl-gcc)" >&2
apt="$as_root apt-get -y -q -o DPkg::Lock::Timeout=300"
$apt install musl-tools >/dev/null || { $apt update >/dev/null && $apt install musl-tools >/dev/null; }

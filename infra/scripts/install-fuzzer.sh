#!/usr/bin/env bash
# Installs schemathesis, the fuzzer the test suite runs over docs/openapi.json
# (tests/api/fuzz.rs), into a virtualenv of its own under target/tools (its dependencies are not
# moto's or the SAM CLI's), once. Idempotent, quick once done (a stamp says so), and safe to run from
# several processes at once (a lock).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="$root/target/tools"
venv="$tools/fuzzer"
version="4.32.5"
stamp="$venv/.lectern-fuzzer-$version"

if [ -f "$stamp" ]; then exit 0; fi
mkdir -p "$tools"
if command -v flock >/dev/null; then
    exec 9>"$tools/fuzzer.lock"
    flock 9
    if [ -f "$stamp" ]; then exit 0; fi
fi
echo "install-fuzzer: installing schemathesis $version into $venv (once)" >&2
python3 -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
touch "$stamp"

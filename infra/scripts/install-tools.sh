#!/usr/bin/env bash
# Installs the Python tools the test suite needs (moto's server for the DynamoDB backend's tests,
# cfn-lint and the SAM CLI's `sam validate --lint` for the template, openapi-spec-validator for
# docs/openapi.json) into a virtualenv under target/tools, once. Idempotent, and quick
# once done (a stamp file says so). Safe to run from several processes at once: it takes a lock on
# target/tools/install.lock, unless the caller already holds it (the test kit does, and says so with
# LECTERN_TOOLS_LOCK_HELD=1).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="$root/target/tools"
venv="$tools/venv"
# Bump the suffix when the list below changes, so that existing venvs are brought up to date.
stamp="$venv/.lectern-tools-v3"

if [ -f "$stamp" ]; then exit 0; fi
mkdir -p "$tools"
if [ "${LECTERN_TOOLS_LOCK_HELD:-}" != 1 ] && command -v flock >/dev/null; then
    exec 9>"$tools/install.lock"
    flock 9
    # Another process may have finished the install while this one waited.
    if [ -f "$stamp" ]; then exit 0; fi
fi

echo "install-tools: installing moto, cfn-lint, the SAM CLI and openapi-spec-validator into $venv (once)" >&2
# --clear: a venv without its stamp is a fresh one or a broken earlier attempt; start over either way.
python3 -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "moto[server]==5.*" "cfn-lint==1.*" "aws-sam-cli==1.*" "openapi-spec-validator==0.*"
touch "$stamp"

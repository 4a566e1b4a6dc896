#!/usr/bin/env bash
# Installs the Python tools the test suite needs (moto's server for the DynamoDB adapter tests,
# cfn-lint for the SAM template) into a virtualenv under target/, once. Idempotent and quick when done.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/tools/venv"
stamp="$venv/.lectern-tools-v1"
if [ -f "$stamp" ]; then exit 0; fi
mkdir -p "$root/target/tools"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]>=5.1,<6" "cfn-lint>=1,<2"
touch "$stamp"

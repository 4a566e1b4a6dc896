#!/usr/bin/env bash
# Installs Node.js and npm (Debian's and Ubuntu's packages) when they are missing: the test of the
# generated TypeScript client (tests/api/typescript.rs) runs Orval, tsc and the client's flow with them.
# Idempotent; a no-op when node (18 or later) and npm are on the PATH.
set -euo pipefail
if command -v npm >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null; then
    exit 0
fi
as_root=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then as_root="sudo -n"; fi
if ! command -v apt-get >/dev/null || { [ "$(id -u)" != 0 ] && [ -z "$as_root" ]; }; then
    echo "install-node: node 18+ and npm are missing; install them and run again" >&2
    exit 1
fi
echo "install-node: installing nodejs and npm" >&2
apt="$as_root apt-get -y -q -o DPkg::Lock::Timeout=300"
$apt install nodejs npm >/dev/null || { $apt update >/dev/null && $apt install nodejs npm >/dev/null; }

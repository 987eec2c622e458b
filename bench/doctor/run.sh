#!/usr/bin/env bash
# Setup check benchmark (issue 19): `tokendesk doctor`'s checks side by side against the same
# checks one after another, for a sign-in and a client-credentials profile against the local
# oidc-provider (tests/provider/server.mjs) on 127.0.0.1. Secrets in memory (no keychain).
# Usage: bench/doctor/run.sh   Env: DOCTOR_BENCH_N (40)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -d "$root/tests/provider/node_modules/oidc-provider" ] ||
  npm ci --prefix "$root/tests/provider" --no-audit --no-fund >/dev/null
cd "$root"
exec cargo bench -q -p tokendesk-core --bench doctor

#!/usr/bin/env bash
# Refresher benchmark: 1,000 client-credentials profiles with 60-second tokens against the local
# test provider (node, 127.0.0.1), the background refresher running for a few minutes; prints
# late refreshes (must be 0) and TokenDesk's CPU per refresh. See bench/refresher/README.md.
#
# Usage: bench/refresher/run.sh [SECONDS]     (refresher window; default 180)
# Env:   REFRESHER_BENCH_SECS (180) REFRESHER_BENCH_PROFILES (1000) REFRESHER_BENCH_TTL (60)
#        REFRESHER_BENCH_STAGGER_SECS (20) REFRESHER_BENCH_BASELINE_N (2000)
#        REFRESHER_BENCH_PACED_N (500) REFRESHER_BENCH_SCAN_SECS (2)
#        REFRESHER_BENCH_KEYCHAIN (memory; os: secrets in gnome-keyring, in a private session)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
  *) export REFRESHER_BENCH_SECS="$1" ;;
esac

if ! command -v node >/dev/null 2>&1; then
  echo "bench: node is needed for the test provider (scripts/deps.sh installs it)" >&2
  exit 1
fi
if [ ! -d "$root/tests/provider/node_modules/oidc-provider" ]; then
  echo "bench: npm ci in tests/provider" >&2
  npm ci --prefix "$root/tests/provider" --no-audit --no-fund >/dev/null
fi

cd "$root"
if [ "${REFRESHER_BENCH_KEYCHAIN:-memory}" = os ]; then
  exec scripts/with-keyring.sh cargo bench -p tokendesk-core --bench refresher
fi
exec cargo bench -p tokendesk-core --bench refresher

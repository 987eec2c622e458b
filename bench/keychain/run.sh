#!/usr/bin/env bash
# Keychain benchmark: one kept Secret Service session vs a new session per call, for writes and
# reads of a token value, against gnome-keyring in a private D-Bus session; with --sizes, also
# kept-session calls on a keyring of that many entries and a sustained write rate at the largest.
# See README.md.
#
# Usage: bench/keychain/run.sh [--sizes 0,1000,10000]
# Env: KEYCHAIN_BENCH_N (200 timed calls per case), KEYCHAIN_BENCH_SIZES (same as --sizes),
#      KEYCHAIN_BENCH_RATE (333 writes/s), KEYCHAIN_BENCH_SECONDS (20),
#      KEYCHAIN_BENCH_CONCURRENCY (8 callers, the refresher's renewals at once),
#      KEYCHAIN_BENCH_FILL_SECONDS (no limit: filling stops then, sizes not reached are cut)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) export KEYCHAIN_BENCH_SIZES="$2"; shift 2 ;;
    --sizes=*) export KEYCHAIN_BENCH_SIZES="${1#*=}"; shift ;;
    *) echo "usage: $0 [--sizes 0,1000,10000]" >&2; exit 2 ;;
  esac
done
echo "loadavg at start: $(cat /proc/loadavg)"
cargo bench --no-run -q -p tokendesk-core --bench keychain
scripts/with-keyring.sh cargo bench -q -p tokendesk-core --bench keychain
echo "loadavg at end: $(cat /proc/loadavg)"

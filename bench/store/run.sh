#!/usr/bin/env bash
# Store benchmark: one renewal's write to a store of 10,000 profiles, as shipped and with each
# index taken away, in turns. See README.md.
#
# Usage: bench/store/run.sh   Env: STORE_BENCH_PROFILES (10000), STORE_BENCH_WRITES (4000),
#                             STORE_BENCH_ROUNDS (5), STORE_BENCH_HISTORY (3)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
exec cargo bench -q -p tokendesk-core --bench store

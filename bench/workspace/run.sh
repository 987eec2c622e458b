#!/usr/bin/env bash
# Workspace benchmark: 1,000 profile files opened and listed, and one changed file re-synced
# next to a full re-read. See README.md.
#
# Usage: bench/workspace/run.sh   Env: WORKSPACE_BENCH_FILES (1000), WORKSPACE_BENCH_RUNS (5)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# PROFILE=dev measures a debug build (as recorded in README.md); default: the bench profile.
exec cargo bench -q --profile "${PROFILE:-bench}" -p tokendesk-core --bench workspace

#!/usr/bin/env bash
# The long run of the parser property tests (issue #16, crates/tokendesk-core/tests/properties):
# PROPTEST_CASES cases per property (20,000 unless set; CI runs 256). A debug build, as in CI, so
# that an arithmetic overflow is a panic the properties see. About 30 minutes on 2 cores.
# A failure prints its minimal input: save it under crates/tokendesk-core/tests/corpus/<parser>/
# with the fix (see crates/tokendesk-core/tests/properties/corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${PROPTEST_CASES:-20000}"
echo "property suite: $PROPTEST_CASES cases per property"
start=$(date +%s)
cargo test -p tokendesk-core --test properties -- --test-threads "${THREADS:-2}" "$@"
echo "property suite: $PROPTEST_CASES cases per property in $(( $(date +%s) - start )) s"

#!/usr/bin/env bash
# Keychain benchmark: one kept Secret Service session vs a new session per call, for writes and
# reads of a token value, against gnome-keyring in a private D-Bus session. See README.md.
#
# Usage: bench/keychain/run.sh        Env: KEYCHAIN_BENCH_N (200 timed calls per case)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cargo bench --no-run -q -p tokendesk-core --bench keychain
exec scripts/with-keyring.sh cargo bench -q -p tokendesk-core --bench keychain

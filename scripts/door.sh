#!/usr/bin/env bash
# Builds `tokendesk`, the door scripts call, as the packages ship it, and prints its path.
#
# On Linux x86-64 that is the door without a C library (crates/tokendesk-door/src/main.rs: its own
# entry point and system calls; `--profile door`, which aborts on panic), in target/door/.
# Elsewhere it is the same door on std, in target/release/. `tokendesk-cli` is built apart
# (`cargo build --release -p tokendesk-cli`); the door hands it every command it does not answer.
#
# Usage: scripts/door.sh [--locked]
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  cargo build -q "$@" -p tokendesk-door --profile door --no-default-features --features bare
  echo "$target/door/tokendesk"
else
  cargo build -q "$@" -p tokendesk-door --release
  echo "$target/release/tokendesk"
fi

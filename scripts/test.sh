#!/usr/bin/env bash
# Installs what is missing, then runs every test: formatting, lints, type checks, unit tests,
# protocol tests against a real authorization server, keychain tests against a real Secret
# Service, and the end-to-end tests of the built app under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*" >&2; }

step "dependencies"
scripts/deps.sh --test
npm ci --prefix tests/provider --no-audit --no-fund --loglevel=error
if [ -f ui/package.json ]; then
  npm ci --prefix ui --no-audit --no-fund --loglevel=error
fi

if [ -f ui/package.json ]; then
  step "UI: type check, unit and component tests, build (the app embeds ui/dist)"
  npm run --prefix ui check
  npm test --prefix ui
  npm run --prefix ui build
fi

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  # The door without a C library is a build of its own (scripts/door.sh).
  cargo clippy -p tokendesk-door --profile door --no-default-features --features bare --bins \
    --locked -- -D warnings
fi

step "Rust tests (real provider on loopback, real Secret Service)"
# The command line's tests run `tokendesk` as it ships (on Linux x86-64: the door without a C
# library); the door's own tests run that build and the one on std.
TOKENDESK_TEST_DOOR=$(scripts/door.sh --locked)
export TOKENDESK_TEST_DOOR
scripts/with-keyring.sh cargo test --workspace --locked

if [ -x tests/e2e/run.sh ]; then
  step "end-to-end: the built app under Xvfb"
  tests/e2e/run.sh
fi

step "packages: build the .deb and .rpm, install the .deb, run it from the installed paths, remove it"
scripts/package-test.sh

#!/usr/bin/env bash
# Installs what is missing, builds TokenDesk and opens it with the built-in sandbox provider
# ready (ready-made profiles for both grants and both response styles), so every flow works with
# no account anywhere. Extra arguments go to the app.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
npm ci --prefix ui --no-audit --no-fund --loglevel=error
npm run --prefix ui build
cargo build --release -p src-tauri -p tokendesk-cli -p tokendesk-door
echo "TokenDesk is built: the app is target/release/tokendesk-app, the command line target/release/tokendesk (with tokendesk-cli beside it)." >&2
# A desktop session provides the keychain; a bare shell gets a private one for this run.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "No D-Bus session: using a private keyring for this run (secrets last until it ends)." >&2
  exec scripts/with-keyring.sh env TOKENDESK_SANDBOX_PROFILES=1 target/release/tokendesk-app "$@"
fi
exec env TOKENDESK_SANDBOX_PROFILES=1 target/release/tokendesk-app "$@"

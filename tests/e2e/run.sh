#!/usr/bin/env bash
# End-to-end tests of the built app: TokenDesk under Xvfb, driven over WebDriver
# (tauri-driver + WebKitWebDriver), against a real authorization server, with a private keyring.
# UPDATE_SCREENSHOTS=1 also refreshes the screenshots in docs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! cargo install --list | grep -q '^tauri-driver v2.1.0:'; then
  cargo install tauri-driver --locked --version 2.1.0
fi
export PATH="$HOME/.cargo/bin:$PATH"
npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
npm ci --prefix tests/provider --no-audit --no-fund --loglevel=error
# The app embeds ui/dist: build it every time (about a second), so a dist left from an older
# checkout is never what the tests look at.
[ -d ui/node_modules ] || npm ci --prefix ui --no-audit --no-fund --loglevel=error
npm run --prefix ui build >/dev/null
cargo build -p src-tauri -p tokendesk-cli -p tokendesk-door --locked
xvfb-run -a -s "-screen 0 1400x900x24" scripts/with-keyring.sh npm test --prefix tests/e2e

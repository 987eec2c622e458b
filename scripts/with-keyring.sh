#!/usr/bin/env bash
# Runs a command in a private D-Bus session with an unlocked gnome-keyring Secret Service, so
# keychain tests use a real Secret Service without touching the user's own keyring.
# Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [ -z "${TOKENDESK_KEYRING_SESSION:-}" ]; then
  exec env TOKENDESK_KEYRING_SESSION=1 dbus-run-session -- "$0" "$@"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(echo -n tokendesk-test | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
# Wait until the Secret Service answers on the bus.
for _ in $(seq 50); do
  if busctl --user status org.freedesktop.secrets >/dev/null 2>&1 || \
     secret-tool search --all tokendesk-probe x >/dev/null 2>&1; then break; fi
  sleep 0.1
done
"$@"

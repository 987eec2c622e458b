#!/usr/bin/env bash
# Runs a command in a private D-Bus session with an unlocked gnome-keyring Secret Service, so
# keychain tests use a real Secret Service without touching the user's own keyring.
# Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [ -z "${TOKENDESK_KEYRING_SESSION:-}" ]; then
  exec env TOKENDESK_KEYRING_SESSION=1 dbus-run-session -- "$0" "$@"
fi
scratch=$(mktemp -d)
cleanup() {
  # Our keyring daemon outlives the bus it served: stop it (it is the one with our runtime dir).
  for pid in $(pgrep -f gnome-keyring-daemon 2>/dev/null); do
    if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "XDG_RUNTIME_DIR=$scratch/run"; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(echo -n tokendesk-test | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
# Wait until our daemon owns the Secret Service name: a client asking earlier would make D-Bus
# start a second, locked daemon that prompts for a password (and fails headless).
owned() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'
}
for _ in $(seq 100); do owned && break; sleep 0.1; done
# Then until it really stores and finds a secret in its default collection.
ready=0
for _ in $(seq 100); do
  if printf probe | secret-tool store --label="tokendesk probe" tokendesk-probe ready 2>/dev/null &&
     [ "$(secret-tool lookup tokendesk-probe ready 2>/dev/null)" = probe ]; then
    secret-tool clear tokendesk-probe ready 2>/dev/null || true
    ready=1
    break
  fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "with-keyring: the Secret Service (gnome-keyring) did not come up" >&2
  exit 1
fi
"$@"

#!/usr/bin/env bash
# Start-up and memory benchmark: TokenDesk against a bare Tauri 2 window (see README.md).
# Installs what is missing, builds both in release, runs both under Xvfb in a private keyring
# session, prints a table, the ratios and PASS/MISS per target.
# Usage: bench/startup/run.sh [--runs N] [--no-sandbox] [--no-diagnostic] [bench.py options]
#   --no-sandbox     skip the variant "app+sandbox" (TOKENDESK_SANDBOX_PROFILES=1)
#   --no-diagnostic  skip the variant "bare+ui" (the bare window serving the app's ui/dist)
#   bench.py --help lists the rest (--runs, --settle, --interval, --quiet-busy, --out ...)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

sandbox=1 diagnostic=1 args=()
for a in "$@"; do
  case "$a" in
    --no-sandbox) sandbox=0 ;;
    --no-diagnostic) diagnostic=0 ;;
    *) args+=("$a") ;;
  esac
done
variants=()
[ "$sandbox" = 1 ] && variants+=(--sandbox)
[ "$diagnostic" = 1 ] && variants+=(--bare-ui "$root/target/release/tokendesk-bench-bare-ui")

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Build and keyring dependencies (the project's own list), then what the benchmark adds: Xvfb.
# The poller reads the display through libX11 with Python's ctypes: no Python packages.
scripts/deps.sh
missing=()
for p in xvfb xauth python3 libx11-6 fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The UI is embedded at compile time: build it first if it is not there.
if [ ! -f ui/dist/index.html ]; then
  npm ci --prefix ui --no-audit --no-fund --loglevel=error
  npm run --prefix ui build
fi

# Both in release, in the shared target directory. The app is built with the same package set
# as scripts/run.sh so feature unification (and so the artifacts) are the same.
cargo build --release -p src-tauri -p tokendesk-cli -p tokendesk-door
# The baseline lives outside the workspace; the main Cargo.lock pins the same versions.
cp Cargo.lock "$here/bare-window/Cargo.lock"
CARGO_TARGET_DIR="$root/target" cargo build --release --manifest-path "$here/bare-window/Cargo.toml"

app="$root/target/release/tokendesk-app"
bare="$root/target/release/tokendesk-bench-bare-window"

# Every process this run starts (Xvfb, the D-Bus session, gnome-keyring, the apps and WebKit's
# children) inherits this marker; the trap ends exactly those, even ones that daemonised.
export TOKENDESK_BENCH_STARTUP_RUN="$$-$RANDOM$RANDOM"
cleanup() {
  local pids=() pid
  for env in /proc/[0-9]*/environ; do
    pid=${env#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    if grep -qzx "TOKENDESK_BENCH_STARTUP_RUN=$TOKENDESK_BENCH_STARTUP_RUN" "$env" 2>/dev/null; then
      pids+=("$pid")
    fi
  done
  if [ "${#pids[@]}" -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    sleep 0.5
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

xvfb-run -a -s "-screen 0 1400x900x24" \
  scripts/with-keyring.sh \
  python3 "$here/bench.py" --app "$app" --bare "$bare" "${variants[@]}" "${args[@]}"

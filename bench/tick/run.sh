#!/usr/bin/env bash
# The countdown-tick benchmark: the cost of one tick of the shared clock with 500 live tokens in
# the real built UI (ui/dist) under Debian's headless Chromium, with a 1-token and an empty-page
# baseline from the same run.
#
#   bench/tick/run.sh               run the benchmark (TOKENS=500 TICKS=200 WARMUP=30)
#                                   BEFORE=<commit> or BEFORE_DIST=dir: that build measured in the
#                                   same run, in the same rounds (tick, scroll and churn)
#   bench/tick/run.sh scroll        10,000 tokens: scroll frame times and sidebar filter keystrokes,
#                                   against 10 tokens (ROWS=10000 BASE_ROWS=10 FRAMES=240 ROUNDS=3)
#   bench/tick/run.sh churn         10,000 tokens renewed ~333 times a second while scrolling, against
#                                   none (RATE=333 FRAMES=300 ROUNDS=4); BEFORE=<commit> builds that
#                                   commit's UI and measures it in the same run (or BEFORE_DIST=dir)
#   bench/tick/run.sh shots [DIR]   screenshots of every view, light and dark (default /tmp/ui-shots)
#
# Installs its npm dependencies and the UI's if missing, and builds the UI if it is missing or
# older than its sources. Needs /usr/bin/chromium (apt-get install chromium) or CHROMIUM=path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ui="$(cd "$here/../../ui" && pwd)"

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "No Chromium at $chromium: apt-get install chromium (or set CHROMIUM=/path/to/chrome)." >&2
  exit 1
fi
export CHROMIUM="$chromium"

if [ ! -d "$ui/node_modules" ]; then
  npm ci --prefix "$ui" --no-audit --no-fund --loglevel=error
fi
if [ ! -f "$ui/dist/index.html" ] ||
  [ -n "$(find "$ui/src" "$ui/index.html" "$ui/vite.config.ts" -newer "$ui/dist/index.html" -print -quit)" ]; then
  npm run --prefix "$ui" build
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/esbuild" ]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
fi

# The baseline build (tick, scroll, churn): an earlier commit's UI, built apart (its own copy of
# ui/, with this checkout's node_modules).
if [ "${1:-tick}" != shots ] && [ -n "${BEFORE:-}" ] && [ -z "${BEFORE_DIST:-}" ]; then
  before="$(mktemp -d "${TMPDIR:-/tmp}/tokendesk-before.XXXXXX")"
  trap 'rm -rf "$before"' EXIT
  git -C "$here" archive "$BEFORE" ui | tar -x -C "$before"
  ln -s "$ui/node_modules" "$before/ui/node_modules"
  (cd "$before/ui" && npx vite build --logLevel error)
  export BEFORE_DIST="$before/ui/dist"
fi

cd "$here"
case "${1:-tick}" in
  shots) shift; exec node shots.mjs "$@" ;;
  tick) node tick.mjs ;;
  scroll) node scroll.mjs ;;
  churn) node churn.mjs ;;
  *) echo "usage: $0 [tick | scroll | churn | shots [DIR]]" >&2; exit 2 ;;
esac

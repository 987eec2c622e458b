#!/usr/bin/env bash
# The countdown-tick benchmark: the cost of one tick of the shared clock with 500 live tokens in
# the real built UI (ui/dist) under Debian's headless Chromium, with a 1-token and an empty-page
# baseline from the same run.
#
#   bench/tick/run.sh               run the benchmark (TOKENS=500 TICKS=200 WARMUP=30)
#   bench/tick/run.sh scroll        10,000 tokens: scroll frame times and sidebar filter keystrokes,
#                                   against 10 tokens (ROWS=10000 BASE_ROWS=10 FRAMES=240 ROUNDS=3)
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

cd "$here"
case "${1:-tick}" in
  shots) shift; exec node shots.mjs "$@" ;;
  tick) exec node tick.mjs ;;
  scroll) exec node scroll.mjs ;;
  *) echo "usage: $0 [tick | scroll | shots [DIR]]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# `tokendesk discover URL --json` (release build) against the bare requests it makes, done with
# curl: the test API's 401, its protected-resource metadata, the authorization server's
# metadata, all on the loopback test provider (tests/provider/server.mjs + api.mjs). Both in one
# `hyperfine -N` run, so the ratio is measured under the same load. See bench/discover/README.md.
#
# Usage: bench/discover/run.sh [--no-build]
# Env:   RUNS (40) WARMUP (5); KEEP=1 keeps the temp dir (hyperfine JSON, provider log).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
self="$root/bench/discover/run.sh"
. "$root/bench/lib.sh"

if [ "${1:-}" != "--inner" ]; then
  build=1
  for a in "$@"; do
    case "$a" in
      --no-build) build=0 ;;
      *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
    esac
  done
  need_commands hyperfine curl python3 node=nodejs
  [ -d "$root/tests/provider/node_modules/oidc-provider" ] ||
    npm ci --prefix "$root/tests/provider" --no-audit --no-fund >/dev/null
  if [ "$build" = 1 ]; then
    echo "bench: cargo build -p tokendesk-cli -p tokendesk-door --release" >&2
    (cd "$root" && cargo build -q -p tokendesk-cli -p tokendesk-door --release)
  fi
  # The store and keychain of a throwaway home: a private Secret Service, as everywhere else.
  exec "$root/scripts/with-keyring.sh" "$self" --inner
fi

RUNS=${RUNS:-40}
WARMUP=${WARMUP:-5}
TD=$(release_tokendesk)
bench_tmp discover
start_provider
api="$issuer/api/me"
export TOKENDESK_HOME="$T/tokendesk" HOME="$T/home"
mkdir -p "$HOME"

# What discover asks, in order (checked below against its own --json steps).
urls=("$api" "$issuer/.well-known/oauth-protected-resource/api" "$issuer/.well-known/oauth-authorization-server")
"$TD" discover "$api" --json >"$T/walk.json"
python3 - "$T/walk.json" "${urls[@]}" <<'PY'
import json, sys
walk = json.load(open(sys.argv[1]))
seen = [s["url"] for s in walk["steps"]]
assert walk.get("error") is None, walk["error"]
assert seen == sys.argv[2:], f"discover asked {seen}, the baseline asks {sys.argv[2:]}"
PY

# The baseline a script would run: one curl per link, in sequence (each answer names the next).
cat >"$T/curl-chain.sh" <<SH
#!/bin/sh
set -e
curl -s -o /dev/null '${urls[0]}'
curl -sf -o /dev/null '${urls[1]}'
curl -sf -o /dev/null '${urls[2]}'
SH
chmod +x "$T/curl-chain.sh"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "measuring ($RUNS runs of each command, one command after the other, in one hyperfine run)"
hyperfine -N --style basic --runs "$RUNS" --warmup "$WARMUP" --output null \
  --export-json "$T/hf.json" \
  --command-name discover "$TD discover $api --json" \
  --command-name curl-chain "$T/curl-chain.sh" \
  --command-name curl-one "curl -s -o /dev/null -o /dev/null -o /dev/null ${urls[0]} ${urls[1]} ${urls[2]}" \
  --command-name floor "$TD-cli --version" >"$T/hf.txt" 2>&1 ||
  { log "hyperfine failed:"; cat "$T/hf.txt" >&2; exit 1; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "tokendesk $("$TD" --version | cut -d' ' -f2) ($TD); $(curl --version | head -1 | cut -d' ' -f1-2); $(hyperfine --version)"
echo "$(nproc) CPUs; load average (1/5/15 min): $load_before before, $load_after after"
python3 - "$T/hf.json" <<'PY'
import json, sys
res = {r["command"]: sorted(t * 1000 for t in r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
def med(xs):
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
labels = {
    "discover": "tokendesk discover URL --json",
    "curl-chain": "sh: curl per link (3 processes)",
    "curl-one": "one curl, the 3 URLs",
    "floor": "tokendesk-cli --version (start)",
}
print()
print(f"{'case':<36} {'runs':>4} {'median':>8} {'p95':>8} {'min':>8}")
for k, xs in res.items():
    p95 = xs[min(len(xs) - 1, -(-95 * len(xs) // 100) - 1)]
    print(f"{labels[k]:<36} {len(xs):>4} {med(xs):>8.2f} {p95:>8.2f} {xs[0]:>8.2f}")
print("(ms, wall time of one process run, hyperfine -N)")
r = med(res["discover"]) / med(res["curl-chain"])
print(f"\ndiscover / curl per link (medians): {r:.2f}x -> {'PASS' if r <= 1.3 else 'MISS'} (target <= 1.3x)")
print(f"discover / one curl (medians):      {med(res['discover']) / med(res['curl-one']):.2f}x (a floor: no process per link)")
PY

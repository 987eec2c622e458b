#!/usr/bin/env bash
# CLI token latency: `tokendesk token` (agent, direct store + keychain, fresh fetch) side by side
# with oidc-agent's `oidc-token` (cached baseline) and a bare `curl` to the token endpoint (fresh
# baseline), all against the same local oidc-provider on 127.0.0.1. See bench/cli/README.md.
#
# Usage: bench/cli/run.sh [--no-install] [--no-build]
# Env:   RUNS_CACHED (50) RUNS_FRESH (20) WARMUP_CACHED (5) WARMUP_FRESH (3) RUNS_REFRESH (30)
#        KEEP=1 keeps the temp dir (logs, hyperfine JSON) and prints its path.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
self="$root/bench/cli/run.sh"

# ---------------------------------------------------------------------------------------------
# Outside the keyring session: install, build, then re-exec inside scripts/with-keyring.sh.
# ---------------------------------------------------------------------------------------------
if [ "${1:-}" != "--inner" ]; then
  install=1 build=1
  for a in "$@"; do
    case "$a" in
      --no-install) install=0 ;;
      --no-build) build=0 ;;
      *) echo "usage: $0 [--no-install] [--no-build]" >&2; exit 2 ;;
    esac
  done
  if [ "$install" = 1 ]; then
    # command -> Debian package
    declare -A pkg=([hyperfine]=hyperfine [oidc-agent]=oidc-agent-cli [oidc-gen]=oidc-agent-cli
      [oidc-token]=oidc-agent-cli [curl]=curl [python3]=python3 [dbus-run-session]=dbus-daemon
      [gnome-keyring-daemon]=gnome-keyring [secret-tool]=libsecret-tools [busctl]=systemd
      [perf]=linux-perf)
    missing=()
    for c in "${!pkg[@]}"; do
      command -v "$c" >/dev/null 2>&1 || missing+=("${pkg[$c]}")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
      mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
      echo "bench: installing ${missing[*]}" >&2
      sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
      sudo_ apt-get update -qq
      sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    fi
    if [ ! -d "$root/tests/provider/node_modules/oidc-provider" ]; then
      echo "bench: npm ci in tests/provider" >&2
      npm ci --prefix "$root/tests/provider" --no-audit --no-fund >/dev/null
    fi
  fi
  if [ "$build" = 1 ]; then
    echo "bench: cargo build -p tokendesk-cli -p tokendesk-door --release; scripts/door.sh" >&2
    (cd "$root" && cargo build -q -p tokendesk-cli -p tokendesk-door --release)
    "$root/scripts/door.sh" >/dev/null
  fi
  exec "$root/scripts/with-keyring.sh" "$self" --inner
fi

# ---------------------------------------------------------------------------------------------
# Inside the keyring session.
# ---------------------------------------------------------------------------------------------
RUNS_CACHED=${RUNS_CACHED:-50}
RUNS_FRESH=${RUNS_FRESH:-20}
WARMUP_CACHED=${WARMUP_CACHED:-5}
WARMUP_FRESH=${WARMUP_FRESH:-3}
RUNS_REFRESH=${RUNS_REFRESH:-30}

target_dir=$(cd "$root" && cargo metadata --no-deps --format-version 1 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])') ||
  target_dir="$root/target"
T=$(mktemp -d /tmp/tokendesk-bench-cli.XXXXXX)
# The door as the packages ship it (scripts/door.sh: on Linux x86-64 the one without a C library),
# installed beside the release tokendesk-cli; TOKENDESK_BIN: another build (tokendesk-cli beside it).
# STD_DOOR: the same door on std (`cargo build --release`), measured beside it.
STD_DOOR=$target_dir/release/tokendesk
if [ -n "${TOKENDESK_BIN:-}" ]; then
  TD=$TOKENDESK_BIN
else
  shipped=$target_dir/door/tokendesk
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || shipped=$STD_DOOR
  for f in "$shipped" "$target_dir/release/tokendesk-cli"; do
    [ -x "$f" ] || { echo "bench: $f missing (run without --no-build)" >&2; rm -rf "$T"; exit 1; }
  done
  mkdir -p "$T/bin"
  cp "$shipped" "$T/bin/tokendesk"
  ln -s "$target_dir/release/tokendesk-cli" "$T/bin/tokendesk-cli"
  TD=$T/bin/tokendesk
fi
[ -x "$TD" ] || { echo "bench: $TD missing (run without --no-build)" >&2; exit 1; }
provider_pid="" td_agent_pid="" oidcd_pid=""
cleanup() {
  set +e
  [ -n "$td_agent_pid" ] && kill "$td_agent_pid" 2>/dev/null
  [ -n "$oidcd_pid" ] && kill "$oidcd_pid" 2>/dev/null
  [ -n "$provider_pid" ] && kill "$provider_pid" 2>/dev/null
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then
    echo "bench: kept $T" >&2
  else
    rm -rf "$T" # the tokendesk agent also exits within 2 s once its socket is gone
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }
plog="$T/provider.log"
# Count of successful grants of one type in the provider's access log.
grants() { grep -c "grant.success: $1 " "$plog" || true; }

# --- the provider: long-lived tokens so nothing expires during the cached runs; the fresh
# case forces a fetch with --min-valid larger than any lifetime.
TTL=3600
coproc PROVIDER { exec node "$root/tests/provider/server.mjs" --access-ttl "$TTL" 2>"$plog"; }
provider_pid=$PROVIDER_PID
exec 8<&"${PROVIDER[0]}" 9>&"${PROVIDER[1]}" # keep the pipes past coproc bookkeeping
read -r -t 30 hello <&8 || { log "provider did not start:"; cat "$plog" >&2; exit 1; }
issuer=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["issuer"])' "$hello")
log "provider at $issuer (pid $provider_pid)"

# --- tokendesk: its own home (and keychain namespace) in the temp dir
export TOKENDESK_HOME="$T/tokendesk" HOME="$T/home"
mkdir -p "$HOME"
for p in cached fresh; do
  echo cc-basic-secret | "$TD" profile add "$p" --issuer "$issuer" --client-id cc-basic \
    --client-secret-stdin --grant client-credentials --scope api:read >/dev/null
done
# The rotating pair: the provider's Apigee-style gateway hands out a new refresh token with every
# refresh and accepts each one once (refresh_count counts them).
echo gw-secret | "$TD" profile add gw --token-url "$issuer/gateway/token" --client-id gw-client \
  --auth-method post --client-secret-stdin --header "x-api-key: gw-client" >/dev/null
TOKENDESK_NO_AGENT=1 "$TD" token gw >/dev/null
# First token for the cached profile: direct path (store + keychain), which also starts the
# agent in the background; then wait for the agent's socket.
"$TD" token cached >/dev/null 8>&- 9>&- # (the agent must not inherit the provider's pipes)
sock="$TOKENDESK_HOME/run/agent.sock"
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { log "the tokendesk agent did not start"; exit 1; }
# Find the agent's pid (for cleanup): our binary, `agent`, with our TOKENDESK_HOME.
cli_real=$(readlink -f "$TD-cli")
for d in /proc/[0-9]*; do
  [ "$(readlink "$d/exe" 2>/dev/null)" = "$cli_real" ] || continue
  tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qx agent || continue
  tr '\0' '\n' <"$d/environ" 2>/dev/null | grep -qx "TOKENDESK_HOME=$TOKENDESK_HOME" || continue
  td_agent_pid=${d#/proc/}
done
log "tokendesk agent pid ${td_agent_pid:-?}"
tok_agent=$("$TD" token cached)
tok_direct=$(TOKENDESK_NO_AGENT=1 "$TD" token cached)
[ -n "$tok_agent" ] && [ "$tok_agent" = "$tok_direct" ] ||
  { log "agent and direct path disagree on the cached token"; exit 1; }

# --- oidc-agent: refresh flow with a refresh token for web-app from a headless PKCE login.
# oidc-agent 4.2.6 has no client-credentials flow (oidc-gen --flow: code|device|password|refresh).
oidc_ok=0 oidc_why=""
setup_oidc() {
  export OIDC_CONFIG_DIR="$T/oidc/config" TMPDIR="$T/oidc/tmp"
  mkdir -p "$OIDC_CONFIG_DIR" "$TMPDIR"
  # oidc-gen only takes http://localhost:<port>/... redirect URIs; the provider accepts any port
  # on http://localhost/callback. Nothing needs to listen there: login.mjs --no-follow only
  # reports the redirect, and oidc-gen's refresh flow never uses it.
  local cb_port redirect v c url out code tok
  # oidc-gen wants a port in 1024..49151 (below the ephemeral range): pick a free one there.
  cb_port=$(python3 -c 'import random, socket
for _ in range(100):
    p = random.randint(20000, 49151)
    try:
        socket.socket().bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass')
  redirect="http://localhost:$cb_port/callback"
  v=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  c=$(python3 -c 'import hashlib,base64,sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).rstrip(b"=").decode())' "$v")
  url=$(python3 -c 'import sys,urllib.parse as u; print(sys.argv[1] + "/auth?" + u.urlencode({
    "response_type": "code", "client_id": "web-app", "redirect_uri": sys.argv[2],
    "scope": "openid offline_access api:read", "prompt": "consent", "state": "bench",
    "code_challenge": sys.argv[3], "code_challenge_method": "S256"}, quote_via=u.quote))' \
    "$issuer" "$redirect" "$c")
  out=$(node "$root/tests/provider/login.mjs" "$url" --no-follow 2>"$T/oidc/login.err") ||
    { oidc_why="headless login failed: $(tail -3 "$T/oidc/login.err")"; return 1; }
  code=$(python3 -c 'import sys,json,urllib.parse as u
r = json.loads(sys.argv[1].splitlines()[0])["redirect"]
print(u.parse_qs(u.urlparse(r).query)["code"][0])' "$out") ||
    { oidc_why="no code in the login redirect: $out"; return 1; }
  tok=$(curl -sf -u web-app:web-app-secret -d grant_type=authorization_code -d "code=$code" \
    -d "code_verifier=$v" --data-urlencode "redirect_uri=$redirect" "$issuer/token") ||
    { oidc_why="code exchange failed"; return 1; }
  export OIDC_REFRESH_TOKEN
  OIDC_REFRESH_TOKEN=$(python3 -c 'import sys,json; print(json.loads(sys.argv[1])["refresh_token"])' "$tok")
  local agent_env
  agent_env=$(oidc-agent --socket-path="$T/oidc/agent.sock" --quiet 8>&- 9>&-) ||
    { oidc_why="oidc-agent did not start"; return 1; }
  eval "$agent_env" >/dev/null
  oidcd_pid=${OIDCD_PID:-}
  [ -n "${OIDC_SOCK:-}" ] || { oidc_why="oidc-agent printed no OIDC_SOCK: $agent_env"; return 1; }
  export OIDC_ENCRYPTION_PW=tokendesk-bench
  # The plain-http loopback issuer is accepted as is by 4.2.6 (no flag needed).
  if ! timeout 60 oidc-gen bench --issuer="$issuer" --client-id=web-app \
      --client-secret=web-app-secret --rt-env --scope="openid offline_access api:read" \
      --redirect-uri="$redirect" --pw-env --confirm-yes --no-url-call --prompt=none \
      </dev/null >"$T/oidc/gen.out" 2>&1; then
    oidc_why="oidc-gen failed: $(tail -3 "$T/oidc/gen.out")"; return 1
  fi
  unset OIDC_REFRESH_TOKEN
  local a b
  a=$(oidc-token bench) && b=$(oidc-token bench) ||
    { oidc_why="oidc-token failed: $a"; return 1; }
  [ -n "$a" ] && [ "$a" = "$b" ] || { oidc_why="oidc-token does not return a cached token"; return 1; }
  log "oidc-agent pid $oidcd_pid, account 'bench' ready"
}
if setup_oidc; then oidc_ok=1; else log "oidc-agent: $oidc_why (measuring the rest)"; fi

# --- measurements
# Other work on the machine (a parallel cargo build...) skews everything: say so.
cpu_busy() { # percent of all CPUs busy during the next second (the bench is idle meanwhile)
  local a b
  a=$(head -1 /proc/stat); sleep 1; b=$(head -1 /proc/stat)
  python3 -c 'import sys
a, b = ([int(x) for x in s.split()[1:]] for s in sys.argv[1:3])
d = [y - x for x, y in zip(a, b)]
print(round(100 * (1 - (d[3] + d[4]) / max(1, sum(d)))))' "$a" "$b"
}
hogs() { # processes using >= 20% of a CPU right now
  top -b -n 2 -d 0.5 -w 200 | awk '/^top -/ {n++} n == 2 && $1 ~ /^[0-9]+$/ && $9 >= 20 {printf "%s(%s%%) ", $12, $9}'
}
busy_before=$(cpu_busy) hogs_before=$(hogs)
hf() { # NAME RUNS WARMUP COMMAND...
  local name=$1 runs=$2 warm=$3; shift 3
  hyperfine -N --style basic --runs "$runs" --warmup "$warm" --output null \
    --command-name "$name" --export-json "$T/$name.json" "$(printf '%q ' "$@")" >"$T/$name.txt" 2>&1 ||
    { log "hyperfine $name failed:"; cat "$T/$name.txt" >&2; exit 1; }
}
declare -A delta
measure() { # NAME GRANT RUNS WARMUP COMMAND...  (records how many GRANTs the provider issued)
  local name=$1 grant=$2 before; shift 2
  before=$(grants "$grant")
  log "measuring $name"
  hf "$name" "$@"
  delta[$name]=$(($(grants "$grant") - before))
}

measure td_agent client_credentials "$RUNS_CACHED" "$WARMUP_CACHED" "$TD" token cached
# The same door on std (glibc's start-up before `main`), when it is a build of its own.
std_ok=0
if [ -z "${TOKENDESK_BIN:-}" ] && [ -x "$STD_DOOR" ] && ! cmp -s "$STD_DOOR" "$TD"; then
  std_ok=1
  measure td_agent_std client_credentials "$RUNS_CACHED" "$WARMUP_CACHED" "$STD_DOOR" token cached
fi
TOKENDESK_NO_AGENT=1 measure td_direct client_credentials "$RUNS_CACHED" "$WARMUP_CACHED" \
  "$TD" token cached
[ "$oidc_ok" = 1 ] && measure oidc_token refresh_token "$RUNS_CACHED" "$WARMUP_CACHED" \
  oidc-token bench
measure td_fresh client_credentials "$RUNS_FRESH" "$WARMUP_FRESH" \
  "$TD" token fresh --min-valid 100000
TOKENDESK_NO_AGENT=1 measure td_fresh_direct client_credentials "$RUNS_FRESH" "$WARMUP_FRESH" \
  "$TD" token fresh --min-valid 100000
# `exec`: the token from the agent into a command's environment, against `token` + the command
# run separately (the command is `true`, so the figure is tokendesk's own cost).
measure td_exec client_credentials "$RUNS_CACHED" "$WARMUP_CACHED" "$TD" exec cached -- true
measure true_floor client_credentials "$RUNS_CACHED" "$WARMUP_CACHED" "$(command -v true)"
# Floors: process start alone (no socket, store, keychain or network). `tokendesk` itself is a
# small door that answers cached tokens and hands everything else (--version too) to
# `tokendesk-cli`: the floor of the whole command line is that program's start.
measure td_floor client_credentials "$RUNS_CACHED" "$WARMUP_CACHED" "$TD-cli" --version
measure oidc_floor client_credentials "$RUNS_CACHED" "$WARMUP_CACHED" oidc-token --version
measure curl client_credentials "$RUNS_FRESH" "$WARMUP_FRESH" \
  curl -sf -o /dev/null -u cc-basic:cc-basic-secret -d grant_type=client_credentials \
  -d scope=api:read "$issuer/token"

# Rotating refresh: `tokendesk refresh gw` (each run presents the refresh token the previous one
# got) against the bare request with curl, chained the same way: curl sends the refresh token
# from a file and writes the answer to a file; hyperfine's --prepare (not timed) takes the new
# refresh token out of the answer for the next run. curl is started with a fresh file each run,
# as tokendesk reads its token from the keychain each run. Every case gets the same --prepare
# work (tokendesk's extracts into a file nobody reads), so the caches are disturbed alike.
refresh_count() { "$TD" token gw --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_count"] or 0)'; }
hf_prepared() { # NAME PREPARE COMMAND...
  local name=$1 prepare=$2; shift 2
  hyperfine -N --style basic --runs "$RUNS_REFRESH" --warmup "$WARMUP_FRESH" --output null \
    --prepare "$prepare" --command-name "$name" --export-json "$T/$name.json" \
    "$(printf '%q ' "$@")" >"$T/$name.txt" 2>&1 ||
    { log "hyperfine $name failed:"; cat "$T/$name.txt" >&2; exit 1; }
}
declare -A rotations
refresh_case() { # NAME (env as set by the caller)
  local before after
  before=$(TOKENDESK_NO_AGENT=1 refresh_count)
  log "measuring $1"
  hf_prepared "$1" "$next_rt_idle" "$TD" refresh gw
  after=$(TOKENDESK_NO_AGENT=1 refresh_count)
  rotations[$1]=$((after - before))
}
cat >"$T/next-rt.py" <<'PY'
import json, sys
answer = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write(answer["refresh_token"])  # no newline: curl sends the file as is
print(answer["refresh_count"])
PY
curl -sf -o "$T/gw.json" -H "x-api-key: gw-client" -d grant_type=client_credentials \
  -d client_id=gw-client -d client_secret=gw-secret "$issuer/gateway/token"
next_rt="python3 $T/next-rt.py $T/gw.json $T/gw.rt"
next_rt_idle="python3 $T/next-rt.py $T/gw.json $T/idle.rt" # the same work, for tokendesk's runs
refresh_case td_refresh
TOKENDESK_NO_AGENT=1 refresh_case td_refresh_direct
log "measuring curl_refresh"
hf_prepared curl_refresh "$next_rt" \
  curl -sf -o "$T/gw.json" -H "x-api-key: gw-client" -d grant_type=refresh_token \
  -d client_id=gw-client -d client_secret=gw-secret --data-urlencode "refresh_token@$T/gw.rt" \
  "$issuer/gateway/token"
rotations[curl_refresh]=$(python3 "$T/next-rt.py" "$T/gw.json" "$T/gw.rt")

# Where a cached token's time goes: CPU time and page faults of one process (perf stat, averaged
# over many runs), for the door, the process floor and oidc-token. Not timed by hyperfine: it
# shows what the wall times above are made of.
profile_start() { # NAME COMMAND...
  local name=$1; shift
  if ! perf stat -x, -r 200 -e task-clock,page-faults,context-switches -o "$T/$name.perf" \
      "$@" >/dev/null 2>&1; then
    echo "$name,perf unavailable" >"$T/$name.perf"
  fi
}
if command -v perf >/dev/null 2>&1; then
  log "profiling process starts (perf stat)"
  profile_start td_agent "$TD" token cached
  [ "$std_ok" = 1 ] && profile_start td_agent_std "$STD_DOOR" token cached
  profile_start true_floor "$(command -v true)"
  [ "$oidc_ok" = 1 ] && profile_start oidc_token oidc-token bench
  # The dynamic loader's share, when the door is linked dynamically (LD_DEBUG is ignored by a
  # static program, which has no loader).
  if file -L "$TD" | grep -q 'dynamically linked'; then
    LD_DEBUG=statistics "$TD" token cached 2>"$T/ld.stats" >/dev/null || true
  else
    echo "static: no dynamic loader" >"$T/ld.stats"
  fi
fi

# The agent must still be the one that served the cached runs.
[ -S "$sock" ] || { log "the tokendesk agent went away during the run"; exit 1; }

# --- report
busy_after=$(cpu_busy)
echo
echo "tokendesk $("$TD" --version | cut -d' ' -f2) ($TD: $(file -bL "$TD" | cut -d, -f1-2,4 | tr -s ' '))"
echo "$(oidc-agent --version 2>&1 | head -1); $(curl --version | head -1 | cut -d' ' -f1-2); $(hyperfine --version)"
echo "$(nproc) CPUs; CPU busy with other work: ${busy_before}% before the runs, ${busy_after}% after"
if [ "$busy_before" -gt 15 ] || [ "$busy_after" -gt 15 ]; then
  echo "WARNING: the machine was busy (at the start: ${hogs_before:-no single process over 20% of a CPU}); figures are inflated and noisy."
fi
export OIDC_OK=$oidc_ok OIDC_WHY=$oidc_why WARMUP_FRESH
for k in "${!delta[@]}"; do export "GRANTS_$k=${delta[$k]}"; done
for k in "${!rotations[@]}"; do export "ROTATIONS_$k=${rotations[$k]}"; done
export RUNS_REFRESH
python3 - "$T" <<'EOF'
import json, os, sys
t = sys.argv[1]
rows = [
    # name, label, calls the provider must see (None: must be 0), baseline
    ("td_agent", "cached  tokendesk token (agent)", 0, "oidc_token"),
    ("td_agent_std", "cached  same, the door on std (cargo build --release)", 0, "oidc_token"),
    ("td_direct", "cached  tokendesk token (TOKENDESK_NO_AGENT=1)", 0, "oidc_token"),
    ("oidc_token", "cached  oidc-token (oidc-agent 4.2.6)", 0, None),
    ("td_fresh", "fresh   tokendesk token --min-valid 100000 (agent)", "all", "curl"),
    ("td_fresh_direct", "fresh   same, TOKENDESK_NO_AGENT=1", "all", "curl"),
    ("curl", "fresh   curl client_credentials", "all", None),
    ("td_exec", "cached  tokendesk exec cached -- true (agent)", 0, "td_agent"),
    ("true_floor", "floor   true", 0, None),
    ("td_floor", "floor   tokendesk-cli --version (process start)", 0, "oidc_floor"),
    ("oidc_floor", "floor   oidc-token --version (process start)", 0, None),
    ("td_refresh", "rotate  tokendesk refresh gw (agent)", "rotations", "curl_refresh"),
    ("td_refresh_direct", "rotate  same, TOKENDESK_NO_AGENT=1", "rotations", "curl_refresh"),
    ("curl_refresh", "rotate  curl refresh_token (chained)", "rotations", None),
]
def stats(name):
    path = os.path.join(t, name + ".json")
    if not os.path.exists(path):
        return None
    r = json.load(open(path))["results"][0]
    xs = sorted(x * 1000 for x in r["times"])
    n = len(xs)
    med = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    p95 = xs[min(n - 1, max(0, -(-95 * n // 100) - 1))]  # nearest rank
    return {"n": n, "median": med, "p95": p95, "min": xs[0], "mean": sum(xs) / n}
s = {name: stats(name) for name, *_ in rows}
bad = []
print()
print(f"{'case':<52} {'runs':>4} {'median':>8} {'p95':>8} {'min':>8}  {'vs baseline (median)':<22} provider")
print("-" * 120)
for name, label, expect, base in rows:
    st = s[name]
    if st is None:
        why = os.environ.get("OIDC_WHY", "") if name.startswith("oidc") else "not measured"
        print(f"{label:<52} {'-':>4} {'n/a':>8} {'n/a':>8} {'n/a':>8}  {why[:60]}")
        continue
    g = int(os.environ.get("GRANTS_" + name, "-1"))
    if expect == "rotations":
        # refresh_count grew by one per run (warm-up runs included): every run rotated
        g = int(os.environ.get("ROTATIONS_" + name, "-1"))
        want = st["n"] + int(os.environ.get("WARMUP_FRESH", "3"))
        ok = g == want
        prov = f"{g} rotations" + ("" if ok else f"  <-- expected {want}")
    elif expect == 0:
        ok = g == 0
        prov = f"{g} token requests" + ("" if ok else "  <-- expected 0")
    else:
        # hyperfine's warm-up runs hit the provider too
        want = st["n"] + int(os.environ.get("WARMUP_FRESH", "3"))
        ok = g == want
        prov = f"{g} token requests" + ("" if ok else f"  <-- expected {want}")
    if not ok:
        bad.append(name)
    ratio = ""
    if base and s.get(base):
        b = s[base]
        ratio = f"{st['median'] / b['median']:.2f}x {base}"
    print(f"{label:<52} {st['n']:>4} {st['median']:>8.2f} {st['p95']:>8.2f} {st['min']:>8.2f}  {ratio:<22} {prov}")
print("(ms, wall time of one process run as measured by hyperfine -N; p95 = nearest rank)")
print()
def check(title, a, b, factor):
    if not (s.get(a) and s.get(b)):
        print(f"{title}: n/a ({os.environ.get('OIDC_WHY') or 'missing data'})")
        return
    x, y = s[a]["median"], s[b]["median"] * factor
    print(f"{title}: {s[a]['median']:.2f} ms vs {y:.2f} ms -> {'PASS' if x <= y else 'MISS'}")
check("cached: tokendesk (agent) median <= oidc-token median?", "td_agent", "oidc_token", 1.0)
check("fresh:  tokendesk median <= 1.3x curl median?", "td_fresh", "curl", 1.3)
check("cached: tokendesk (agent) median <= 0.6x oidc-token median?", "td_agent", "oidc_token", 0.6)
check("cached: tokendesk (agent) median <= 2x true median (process floor)?", "td_agent", "true_floor", 2.0)
check("rotate: tokendesk refresh (agent) median <= 2x curl median?", "td_refresh", "curl_refresh", 2.0)
if s.get("td_exec") and s.get("td_agent") and s.get("true_floor"):
    pair = s["td_agent"]["median"] + s["true_floor"]["median"]
    x = s["td_exec"]["median"]
    print(f"exec:   tokendesk exec -- true median <= 1.2x (token + true) medians? {x:.2f} ms vs "
          f"{1.2 * pair:.2f} ms ({x / pair:.2f}x) -> {'PASS' if x <= 1.2 * pair else 'MISS'}")
perf_rows = []
for name, label in (("true_floor", "true"), ("td_agent", "tokendesk token cached (agent)"),
                    ("td_agent_std", "same, the door on std"), ("oidc_token", "oidc-token bench")):
    path = os.path.join(t, name + ".perf")
    if not os.path.exists(path):
        continue
    got = {}
    for line in open(path):
        f = line.strip().split(",")
        if len(f) >= 3 and f[0] and f[0][0].isdigit():
            got[f[2]] = float(f[0])
    if got:
        perf_rows.append((label, got))
if perf_rows:
    print()
    print("Per process (perf stat, mean of 200 runs): CPU ms, page faults, context switches")
    for label, got in perf_rows:
        print(f"  {label:<34} {got.get('task-clock', 0):6.3f} ms  "
              f"{got.get('page-faults', 0):5.0f} faults  {got.get('context-switches', 0):4.1f} switches")
    stats_path = os.path.join(t, "ld.stats")
    if os.path.exists(stats_path):
        lines = [l.split(":", 1)[-1].strip() for l in open(stats_path) if "cycles" in l or "relocations" in l]
        print("  dynamic loader of tokendesk: " + ("; ".join(lines[:4]) if lines else open(stats_path).read().strip()))
if bad:
    print(f"WARNING: provider traffic not as expected for: {', '.join(bad)}")
    sys.exit(1)
EOF

#!/usr/bin/env bash
# `tokendesk list` with 10,000 profiles, each with a token, against baselines measured in the
# same run: the process start alone (`tokendesk-cli --version`), sqlite3 reading the same rows,
# and `tokendesk list` with 10 profiles. See bench/list/README.md.
#
# Usage: bench/list/run.sh [--no-build]
# Env:   LIST_PROFILES (10000) LIST_ROUNDS (5) LIST_RUNS (10 per round and command)
#        KEEP=1 keeps the temp dir (the homes, hyperfine JSON) and prints its path.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
self="$root/bench/list/run.sh"
. "$root/bench/lib.sh"

if [ "${1:-}" != "--inner" ]; then
  case "${1:-}" in
    "") (cd "$root" && cargo build -q -p tokendesk-cli -p tokendesk-door --release) ;;
    --no-build) ;;
    *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
  esac
  need_commands hyperfine sqlite3 python3 node=nodejs
  if [ ! -d "$root/tests/provider/node_modules/oidc-provider" ]; then
    npm ci --prefix "$root/tests/provider" --no-audit --no-fund >/dev/null
  fi
  # The seed profile's client secret goes to the keychain: a private one.
  exec "$root/scripts/with-keyring.sh" "$self" --inner
fi

N=${LIST_PROFILES:-10000}
ROUNDS=${LIST_ROUNDS:-5}
RUNS=${LIST_RUNS:-10}
TD=$(release_tokendesk)
bench_tmp list
start_provider --access-ttl 3600

# One real profile (discovery metadata and all) with a real token, then copies of both rows
# under new ids and names: what `tokendesk list` reads is what 10,000 `profile add` + `token`
# would have stored (each token's glance beside it, as `put_token` writes it). The copies'
# secrets are not in the keychain: `list` must not need them.
export TOKENDESK_NO_AGENT=1 HOME="$T/home"
mkdir -p "$HOME"
make_home() { # DIR COUNT
  export TOKENDESK_HOME=$1
  echo cc-basic-secret | "$TD" profile add seed --issuer "$issuer" --client-id cc-basic \
    --client-secret-stdin --grant client-credentials --scope api:read >/dev/null
  "$TD" token seed >/dev/null
  sqlite3 "$1/tokendesk.sqlite3" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2 - 1)
INSERT INTO profiles (id, name, environment, config, metadata, created_at, updated_at, grant_kind)
SELECT printf('bench-%05d', i), printf('profile %05d', i),
       CASE i % 4 WHEN 0 THEN '' WHEN 1 THEN 'dev' WHEN 2 THEN 'test' ELSE 'prod' END,
       json_set(config, '\$.name', printf('profile %05d', i), '\$.environment',
                CASE i % 4 WHEN 0 THEN '' WHEN 1 THEN 'dev' WHEN 2 THEN 'test' ELSE 'prod' END),
       metadata, created_at, updated_at, grant_kind
FROM profiles, n WHERE profiles.name = 'seed';
INSERT INTO tokens (profile_id, data, updated_at, glance)
SELECT id, json_set(data, '\$.profile_id', id, '\$.access_expires_at', at),
       updated_at, json_set(glance, '\$.access_expires_at', at)
FROM (SELECT p.id, t.data, t.updated_at, t.glance,
             json_extract(t.data, '\$.access_expires_at') + (abs(random()) % 3600000) AS at
      FROM profiles p, tokens t
      WHERE p.id LIKE 'bench-%' AND t.profile_id = (SELECT id FROM profiles WHERE name = 'seed'));
COMMIT;
SQL
}
make_home "$T/big" "$N"
make_home "$T/small" 10
big_db="$T/big/tokendesk.sqlite3"
rows=$(TOKENDESK_HOME="$T/big" "$TD" list | tail -n +2 | wc -l)
[ "$rows" = "$N" ] || { log "tokendesk list printed $rows rows, expected $N"; exit 1; }
small_rows=$(TOKENDESK_HOME="$T/small" "$TD" list | tail -n +2 | wc -l)
log "homes ready: $rows and $small_rows profiles with tokens ($(du -sh "$big_db" | cut -f1) store)"

# Rounds of every command in turn, so that the machine's load hits all alike.
SQL_Q="SELECT p.config, p.metadata, t.data FROM profiles p LEFT JOIN tokens t ON t.profile_id = p.id ORDER BY p.environment, p.name COLLATE NOCASE"
# The query `tokendesk list` makes (Store::list_summaries), printed by sqlite3.
SQL_LIST="SELECT p.id, p.name, p.environment, p.grant_kind, t.glance, w.workspace, w.file FROM profiles p LEFT JOIN tokens t INDEXED BY tokens_glance ON t.profile_id = p.id LEFT JOIN workspace_files w ON w.profile_id = p.id WHERE w.departed_at IS NULL ORDER BY p.environment, p.name COLLATE NOCASE"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$ROUNDS"); do
  hyperfine -N --style none --runs "$RUNS" --warmup 2 --output null --export-json "$T/r$r.json" \
    -n list_big "env TOKENDESK_HOME=$T/big $TD list" \
    -n list_small "env TOKENDESK_HOME=$T/small $TD list" \
    -n sqlite3 "sqlite3 $big_db '$SQL_Q'" \
    -n sqlite3_list "sqlite3 $big_db '$SQL_LIST'" \
    -n floor "$TD-cli --version" \
    -n env_floor "env true" >/dev/null
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "tokendesk list with $N profiles (each with a token) — $ROUNDS rounds × $RUNS runs per command, commands in turn"
echo "$(nproc) cores; load average $load_before at the start, $load_after at the end; $(hyperfine --version)"
python3 - "$T" "$ROUNDS" "$N" <<'EOF'
import json, sys
t, rounds, n = sys.argv[1], int(sys.argv[2]), sys.argv[3]
times = {}
for r in range(1, rounds + 1):
    for res in json.load(open(f"{t}/r{r}.json"))["results"]:
        times.setdefault(res["command"], []).extend(x * 1000 for x in res["times"])
def st(xs):
    s = sorted(xs)
    q = lambda p: s[min(len(s) - 1, int(p * (len(s) - 1) + 0.5))]
    return q(0.5), q(0.95), s[0]
labels = {
    "list_big": f"tokendesk list, {n} profiles",
    "list_small": "tokendesk list, 10 profiles",
    "sqlite3": f"sqlite3 reading the same {n} rows (profile, metadata, token JSON)",
    "sqlite3_list": "sqlite3 making the list's own query (names, grants, glances)",
    "floor": "tokendesk-cli --version (process start)",
    "env_floor": "env true (the `env` in front of the list commands)",
}
print(f"{'command':<66} {'median':>8} {'p95':>8} {'min':>8}  (ms, hyperfine -N)")
s = {k: st(v) for k, v in times.items()}
for k, label in labels.items():
    m, p, lo = s[k]
    print(f"{label:<66} {m:8.2f} {p:8.2f} {lo:8.2f}")
big = s["list_big"][0]
print()
print(f"list {n} / sqlite3 same rows: {big / s['sqlite3'][0]:.2f}x; / sqlite3 same query: {big / s['sqlite3_list'][0]:.2f}x; list {n} / list 10: {big / s['list_small'][0]:.2f}x; "
      f"list {n} over the process start: {big - s['floor'][0]:.2f} ms")
print(f"tokendesk list at {n} profiles: median {big:.2f} ms, p95 {s['list_big'][1]:.2f} ms — target < 50 ms: {'met' if big < 50 else 'NOT met'}")
EOF

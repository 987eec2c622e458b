#!/usr/bin/env bash
# DPoP and PAR benchmark (issue 12), against the local oidc-provider (tests/provider/server.mjs)
# on 127.0.0.1 with a private keychain. Three figures, each with its baseline from the same run:
#   1. proof generation alone (cargo bench --bench dpop): ES256 / EdDSA proofs vs a PS256 client
#      assertion; target: ES256 median <= 0.3 ms;
#   2. `tokendesk token dpop --header --for 'GET …'` (token + a fresh proof, from the agent) vs
#      `tokendesk token dpop` (the token alone, from the agent);
#   3. a sign-in with PAR — `tokendesk login par` (PAR + authorize + token, storing the token) vs
#      the same three requests bare (curl PAR, the same headless browser, curl token);
#      target <= 1.3x. Both use the same browser (tests/provider/login.mjs with a kept session).
# Usage: bench/dpop/run.sh [--no-build]   Env: RUNS (20) KEEP=1 (keep the temp dir)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
self="$root/bench/dpop/run.sh"
if [ "${1:-}" != "--inner" ]; then
  for c in hyperfine curl python3; do
    command -v "$c" >/dev/null || {
      echo "bench: installing $c" >&2
      sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
      sudo_ apt-get update -qq && sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$c" >/dev/null
    }
  done
  [ -d "$root/tests/provider/node_modules/oidc-provider" ] ||
    npm ci --prefix "$root/tests/provider" --no-audit --no-fund >/dev/null
  if [ "${1:-}" != "--no-build" ]; then
    (cd "$root" && cargo build -q -p tokendesk-cli -p tokendesk-door --release && cargo bench --no-run -q -p tokendesk-core --bench dpop)
  fi
  exec "$root/scripts/with-keyring.sh" "$self" --inner
fi

RUNS=${RUNS:-20}
TD="$root/target/release/tokendesk"
[ -x "$TD" ] || { echo "bench: $TD missing (run without --no-build)" >&2; exit 1; }
T=$(mktemp -d /tmp/tokendesk-bench-dpop.XXXXXX)
provider_pid=""
cleanup() {
  set +e
  rm -f "$T/tokendesk/run/agent.sock" # the agent stops without its socket
  [ -n "$provider_pid" ] && kill "$provider_pid" 2>/dev/null
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }

echo "== 1. proof generation alone"
(cd "$root" && cargo bench -q -p tokendesk-core --bench dpop 2>/dev/null)

coproc PROVIDER { exec node "$root/tests/provider/server.mjs" --access-ttl 3600 2>"$T/provider.log"; }
provider_pid=$PROVIDER_PID
exec 8<&"${PROVIDER[0]}" 9>&"${PROVIDER[1]}"
read -r -t 30 hello <&8 || { log "provider did not start"; cat "$T/provider.log" >&2; exit 1; }
issuer=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["issuer"])' "$hello")
export TOKENDESK_HOME="$T/tokendesk" HOME="$T/home"
mkdir -p "$HOME"
login="node $root/tests/provider/login.mjs --jar $T/jar.json"

echo "== 2. tokendesk token with a DPoP proof for a request, vs the token alone (agent)"
echo dpop-app-secret | "$TD" profile add dpop --issuer "$issuer" --client-id dpop-app \
  --client-secret-stdin --scope "openid offline_access" --dpop ES256 >/dev/null
TOKENDESK_BROWSER="$login" "$TD" login dpop >/dev/null 2>&1 8>&- 9>&-
"$TD" token dpop >/dev/null 8>&- 9>&- # starts the agent
for _ in $(seq 100); do [ -S "$TOKENDESK_HOME/run/agent.sock" ] && break; sleep 0.05; done
target="GET $issuer/me"
# The proof is accepted by the provider (a check, not a timing).
code=$("$TD" token dpop --header --for "$target" | curl -s -o /dev/null -w '%{http_code}' -H @- "$issuer/me")
[ "$code" = 200 ] || { log "the provider refused the proof ($code)"; exit 1; }
hyperfine -N -w 5 -r "$((RUNS * 3))" --export-json "$T/token.json" \
  -n "token (agent)" "$TD token dpop" \
  -n "token + proof --for (agent)" "$TD token dpop --header --for '$target'" >/dev/null
python3 - "$T/token.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
med = [statistics.median(x["times"]) * 1000 for x in r]
for x, m in zip(r, med):
    print(f"  {x['command']:<32} median {m:7.2f} ms")
print(f"  ratio with proof / without: {med[1] / med[0]:.2f}x")
PY

echo "== 3. a sign-in with PAR: tokendesk login vs the three bare requests"
echo web-app-par-secret | "$TD" profile add par --issuer "$issuer" --client-id web-app-par \
  --client-secret-stdin --scope "openid offline_access" --par >/dev/null
TOKENDESK_BROWSER="$login" "$TD" login par >/dev/null 2>&1 8>&- 9>&- # session + consent kept
cat >"$T/bare.sh" <<SH
#!/usr/bin/env bash
# PAR, authorize (the same headless browser, not following to the redirect), token: bare curl.
set -euo pipefail
v=\$(head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
c=\$(printf %s "\$v" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')
ru=http://127.0.0.1:1/callback
uri=\$(curl -sf -u web-app-par:web-app-par-secret -d client_id=web-app-par -d response_type=code -d "redirect_uri=\$ru" \
  -d "scope=openid offline_access" -d state=bench -d nonce=bench -d "code_challenge=\$c" \
  -d code_challenge_method=S256 "$issuer/request" | python3 -c 'import json,sys; print(json.load(sys.stdin)["request_uri"])')
out=\$($login --no-follow "$issuer/auth?client_id=web-app-par&request_uri=\$uri")
code=\$(printf %s "\$out" | python3 -c 'import json,sys,urllib.parse as u; r=json.loads(sys.stdin.readline())["redirect"]; print(u.parse_qs(u.urlparse(r).query)["code"][0])')
curl -sf -u web-app-par:web-app-par-secret -d grant_type=authorization_code -d "code=\$code" \
  -d "code_verifier=\$v" -d "redirect_uri=\$ru" "$issuer/token" >/dev/null
SH
chmod +x "$T/bare.sh"
"$T/bare.sh" || { log "the bare PAR sign-in failed"; exit 1; }
TOKENDESK_BROWSER="$login" hyperfine -N -w 2 -r "$RUNS" --export-json "$T/par.json" \
  -n "bare: curl PAR + browser + curl token" "$T/bare.sh" \
  -n "tokendesk login par" "$TD login par" >/dev/null 8>&- 9>&-
python3 - "$T/par.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
med = [statistics.median(x["times"]) * 1000 for x in r]
for x, m in zip(r, med):
    print(f"  {x['command']:<40} median {m:7.1f} ms")
ratio = med[1] / med[0]
print(f"  ratio tokendesk / bare: {ratio:.2f}x (target <= 1.3x: {'PASS' if ratio <= 1.3 else 'FAIL'})")
PY

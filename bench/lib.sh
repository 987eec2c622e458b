# Shared by the bench scripts that run the release `tokendesk` against the loopback test
# provider (bench/discover, bench/list). Source it after setting `root`; set -euo pipefail first.

log() { echo "bench: $*" >&2; }

# Installs the Debian packages of the commands that are missing (COMMAND or COMMAND=PACKAGE).
need_commands() { # SPEC...
  local spec missing=()
  for spec in "$@"; do
    command -v "${spec%%=*}" >/dev/null 2>&1 || missing+=("${spec#*=}")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  log "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The release `tokendesk` of this checkout's target directory (CARGO_TARGET_DIR respected).
release_tokendesk() {
  local dir
  dir=$(cd "$root" && cargo metadata --no-deps --format-version 1 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])') ||
    dir="$root/target"
  [ -x "$dir/release/tokendesk" ] ||
    { log "$dir/release/tokendesk missing (run without --no-build)"; exit 1; }
  echo "$dir/release/tokendesk"
}

# A temp dir in T, removed at exit (KEEP=1 keeps it), with the provider stopped.
provider_pid=""
bench_tmp() { # NAME
  T=$(mktemp -d "/tmp/tokendesk-bench-$1.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  set +e
  [ -n "$provider_pid" ] && kill "$provider_pid" 2>/dev/null
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then log "kept $T"; else rm -rf "$T"; fi
}

# Starts tests/provider/server.mjs with ARGS (log in $T/provider.log); sets provider_pid and
# issuer. Its stdin stays open on fd 9 (the provider stops when it closes).
start_provider() { # ARGS...
  coproc PROVIDER { exec node "$root/tests/provider/server.mjs" "$@" 2>"$T/provider.log"; }
  provider_pid=$PROVIDER_PID
  exec 8<&"${PROVIDER[0]}" 9>&"${PROVIDER[1]}"
  local hello
  read -r -t 60 hello <&8 || { log "provider did not start:"; cat "$T/provider.log" >&2; exit 1; }
  issuer=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["issuer"])' "$hello")
}

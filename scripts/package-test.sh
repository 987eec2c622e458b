#!/usr/bin/env bash
# The package test (scripts/test.sh runs it; CI runs it on a fresh machine): builds the .deb and
# the .rpm (scripts/package.sh), checks what each holds and depends on, installs the .deb with
# apt, runs TokenDesk from the installed paths — `tokendesk --version`, a client-credentials
# token from the sandbox provider through the installed command line, the installed app opening
# its window under Xvfb, the man pages, completions, desktop entry and AppStream metainfo — and
# removes it again, checking that nothing is left.
#
# Usage: scripts/package-test.sh             build, check, install, smoke test, remove
#        scripts/package-test.sh --installed only the smoke test, of an installed package
#
# Installing needs root (or sudo). The test installs and removes the package `tokendesk`, so where
# one is installed already it stops rather than remove it, except in CI (CI=true), which must run it.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> package test: %s\n' "$*" >&2; }
fail() { echo "package test: FAILED: $*" >&2; exit 1; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Every file the packages must hold (the .rpm's zsh directory differs, see below).
expected_files=(
  /usr/bin/tokendesk-app
  /usr/bin/tokendesk
  /usr/bin/tokendesk-cli
  /usr/share/applications/tokendesk.desktop
  /usr/share/metainfo/dev.tokendesk.desktop.metainfo.xml
  /usr/share/icons/hicolor/scalable/apps/tokendesk-app.svg
  /usr/share/man/man1/tokendesk.1.gz
  /usr/share/man/man1/tokendesk-cli.1.gz
  /usr/share/man/man1/tokendesk-token.1.gz
  /usr/share/man/man1/tokendesk-profile-add.1.gz
  /usr/share/bash-completion/completions/tokendesk
  /usr/share/fish/vendor_completions.d/tokendesk.fish
)
for size in 16 24 32 48 64 128 256 512; do
  expected_files+=("/usr/share/icons/hicolor/${size}x${size}/apps/tokendesk-app.png")
done

# `man` finds and shows the installed pages.
man_pages() {
  [ "$(man -w tokendesk)" = /usr/share/man/man1/tokendesk.1.gz ] || fail "man -w tokendesk: $(man -w tokendesk 2>&1)"
  MANWIDTH=80 man tokendesk 2>/dev/null | grep -q 'EXIT STATUS' || fail "man tokendesk shows no EXIT STATUS"
  MANWIDTH=80 man tokendesk-cli 2>/dev/null | grep -q 'tokendesk-token' || fail "man tokendesk-cli is not tokendesk(1)"
  MANWIDTH=80 man tokendesk-token 2>/dev/null | grep -q -- '--min-valid' || fail "man tokendesk-token lacks --min-valid"
  echo "man tokendesk, man tokendesk-cli, man tokendesk-token: shown"
}

# The smoke test, run from the installed paths in a throw-away home, under Xvfb and with a
# private keyring (scripts/with-keyring.sh).
installed() {
  # Globals: the trap runs after this function has returned.
  scratch=$(mktemp -d) sandbox_pid="" app_pid=""
  # shellcheck disable=SC2317 # called by the trap
  cleanup() {
    [ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true
    [ -z "$sandbox_pid" ] || kill "$sandbox_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$scratch"
  }
  trap cleanup EXIT
  export HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config" \
    XDG_CACHE_HOME="$scratch/home/.cache" TOKENDESK_NO_AGENT=1
  mkdir -p "$HOME"
  cd "$scratch"
  unset TOKENDESK_HOME

  step "the installed programs"
  for program in tokendesk tokendesk-cli tokendesk-app; do
    [ "$(command -v "$program")" = "/usr/bin/$program" ] || fail "$program is not /usr/bin/$program"
  done
  local version
  version=$(/usr/bin/tokendesk --version) || fail "tokendesk --version failed"
  echo "$version"
  [ "$version" = "tokendesk ${TOKENDESK_VERSION:?}" ] || fail "tokendesk --version says '$version'"

  step "a client-credentials token from the sandbox provider, through the installed command line"
  /usr/bin/tokendesk sandbox --port 0 --add-profiles >"$scratch/sandbox.out" 2>"$scratch/sandbox.err" &
  sandbox_pid=$!
  # Its first line (the issuers) comes once it has opened the store: only then read the store,
  # so that two programs never create a new store at once.
  local profile="Sandbox · client credentials" tries=0
  until grep -qs '^standard issuer: ' "$scratch/sandbox.out"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ] || ! kill -0 "$sandbox_pid" 2>/dev/null; then
      cat "$scratch/sandbox.err" >&2
      fail "the sandbox did not start"
    fi
    sleep 0.1
  done
  tries=0
  # Output captured before grep: `grep -q` stops reading at the first match, and a program
  # still writing into the closed pipe fails the pipeline under pipefail.
  until grep -qF "$profile" <<<"$(/usr/bin/tokendesk profile list 2>/dev/null)"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ] || ! kill -0 "$sandbox_pid" 2>/dev/null; then
      cat "$scratch/sandbox.err" >&2
      fail "the sandbox's profiles did not appear"
    fi
    sleep 0.2
  done
  local port
  port=$(sed -n 's|^standard issuer: http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$scratch/sandbox.out")
  [ -n "$port" ] || fail "the sandbox did not say its address: $(cat "$scratch/sandbox.out")"
  local token
  token=$(/usr/bin/tokendesk token "$profile") || fail "tokendesk token '$profile' failed"
  # A JWT: three base64url parts, the issuer our sandbox.
  [[ "$token" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] || fail "not a JWT: $token"
  local inspected
  inspected=$(/usr/bin/tokendesk inspect - <<<"$token") || fail "tokendesk inspect failed"
  grep -q "127.0.0.1:$port" <<<"$inspected" ||
    fail "the token was not issued by the sandbox on port $port"
  echo "token: ${token:0:12}… (a JWT from 127.0.0.1:$port)"

  step "the same token from the token agent, through the installed door"
  if [ "$(uname -m)" = x86_64 ]; then
    # The door as shipped there: no C library, so no program interpreter (ld.so) either.
    if readelf -lW /usr/bin/tokendesk | grep -q INTERP; then
      fail "/usr/bin/tokendesk has a program interpreter: not the door without a C library"
    fi
  fi
  # The first call without TOKENDESK_NO_AGENT starts an agent in the background (its socket in
  # the default home, tokendesk/run in $XDG_DATA_HOME or ~/.local/share, where the door looks
  # with no TOKENDESK_HOME); the door then answers from it. The agent stops by itself when the
  # scratch directory goes.
  local socket="${XDG_DATA_HOME:-$HOME/.local/share}/tokendesk/run/agent.sock" served
  token=$(env -u TOKENDESK_NO_AGENT /usr/bin/tokendesk token "$profile") ||
    fail "tokendesk token '$profile' (starting the agent) failed"
  for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
  [ -S "$socket" ] || fail "no token agent started at $socket"
  served=$(env -u TOKENDESK_NO_AGENT DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
    /usr/bin/tokendesk token "$profile") || fail "the door could not get the token from the agent"
  [ "$served" = "$token" ] || fail "the agent served another token than the store holds"
  echo "served by the agent with no keychain in reach: ${served:0:12}…"
  rm -f "$socket"
  kill "$sandbox_pid"
  wait "$sandbox_pid" 2>/dev/null || true
  sandbox_pid=""

  step "the installed app opens its window"
  /usr/bin/tokendesk-app >"$scratch/app.log" 2>&1 &
  app_pid=$!
  local window="" waited=0
  while [ -z "$window" ]; do
    window=$(xwininfo -root -tree 2>/dev/null | sed -n 's/^ *\(0x[0-9a-f]*\) "TokenDesk": .*/\1/p' | head -1)
    [ -n "$window" ] && break
    waited=$((waited + 1))
    if [ "$waited" -gt 120 ] || ! kill -0 "$app_pid" 2>/dev/null; then
      cat "$scratch/app.log" >&2
      fail "no window named TokenDesk within 60 s"
    fi
    sleep 0.5
  done
  xwininfo -id "$window" | grep -E 'Width|Height|Map State' | sed 's/^ */  /'
  xwininfo -id "$window" | grep -q 'Map State: IsViewable' || fail "the window is not shown"
  # The window belongs to the desktop entry (StartupWMClass), so docks show its icon.
  xprop -id "$window" WM_CLASS | grep -q '"tokendesk-app"' || fail "WM_CLASS is not tokendesk-app"
  kill "$app_pid"
  wait "$app_pid" 2>/dev/null || true
  app_pid=""

  step "desktop entry, icons and AppStream metainfo"
  desktop-file-validate /usr/share/applications/tokendesk.desktop || fail "the desktop entry is invalid"
  grep -qx 'Exec=tokendesk-app' /usr/share/applications/tokendesk.desktop || fail "Exec is not tokendesk-app"
  grep -qx 'Icon=tokendesk-app' /usr/share/applications/tokendesk.desktop || fail "Icon is not tokendesk-app"
  appstreamcli validate --no-net /usr/share/metainfo/dev.tokendesk.desktop.metainfo.xml ||
    fail "the AppStream metainfo is invalid"
  grep -q "<release version=\"$TOKENDESK_VERSION\"" /usr/share/metainfo/dev.tokendesk.desktop.metainfo.xml ||
    fail "the metainfo has no release $TOKENDESK_VERSION"

  step "man pages and completions"
  # Minimal images may tell dpkg to leave man pages out; the .deb's contents were checked anyway.
  if grep -rqs '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
    echo "dpkg leaves man pages out on this machine (/etc/dpkg/dpkg.cfg.d): not reading them"
  else
    man_pages
  fi
  # bash completes commands and flags from the installed script.
  local words
  words=$(bash -c 'source /usr/share/bash-completion/completions/tokendesk
    COMP_WORDS=(tokendesk to); COMP_CWORD=1; COMP_LINE="tokendesk to"; COMP_POINT=12
    _tokendesk tokendesk to tokendesk; echo "${COMPREPLY[*]}"
    COMP_WORDS=(tokendesk token --min); COMP_CWORD=2; COMP_LINE="tokendesk token --min"; COMP_POINT=21
    _tokendesk tokendesk --min token; echo "${COMPREPLY[*]}"')
  echo "bash completes: $(echo "$words" | tr '\n' ' ')"
  grep -qw token <<<"$words" || fail "bash does not complete 'to' to token"
  grep -q -- '--min-valid' <<<"$words" || fail "bash does not complete --min-valid"
  grep -q 'complete -c tokendesk' /usr/share/fish/vendor_completions.d/tokendesk.fish || fail "fish completions"
  local zsh=/usr/share/zsh/vendor-completions/_tokendesk
  [ -f "$zsh" ] || zsh=/usr/share/zsh/site-functions/_tokendesk # an .rpm's
  head -1 "$zsh" | grep -q '^#compdef tokendesk' || fail "zsh completions"
  echo "smoke test passed"
}

if [ "${1:-}" = "--installed" ]; then
  TOKENDESK_VERSION=$(node -p 'require("./src-tauri/tauri.conf.json").version')
  export TOKENDESK_VERSION
  # Our own keyring and display, when not inside them yet.
  if [ -z "${TOKENDESK_PACKAGE_SMOKE:-}" ]; then
    exec env TOKENDESK_PACKAGE_SMOKE=1 xvfb-run -a -s "-screen 0 1400x900x24" \
      scripts/with-keyring.sh "$0" --installed
  fi
  installed
  exit 0
fi

start=$(date +%s)
if dpkg-query -W -f='${Status}' tokendesk 2>/dev/null | grep -q "install ok installed"; then
  if [ "${CI:-}" != true ]; then
    echo "package test: skipped — the package tokendesk is installed on this machine, and the test" \
      "would remove it. Remove it (sudo apt remove tokendesk) to run the test." >&2
    exit 0
  fi
  echo "package test: tokendesk is installed; CI: replacing it" >&2
fi
scripts/deps.sh --test
scripts/package.sh deb rpm
release=$(cargo metadata --format-version 1 --no-deps |
  node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory)')/release
version=$(node -p 'require("./src-tauri/tauri.conf.json").version')
arch=$(dpkg --print-architecture)
deb="$release/bundle/deb/tokendesk_${version}_${arch}.deb"
rpm=$(ls "$release/bundle/rpm/tokendesk-${version}-1."*.rpm)
[ -f "$deb" ] || fail "no $deb"

step "the .deb: fields and files"
dpkg-deb --field "$deb" Package Version Architecture Depends Recommends Section
[ "$(dpkg-deb --field "$deb" Package)" = tokendesk ] || fail "the package is not named tokendesk"
depends=$(dpkg-deb --field "$deb" Depends)
for dep in libwebkit2gtk-4.1-0 libgtk-3-0; do
  grep -qw -- "$dep" <<<"$depends" || fail "the .deb does not depend on $dep"
done
dpkg-deb --field "$deb" Recommends | grep -q 'gnome-keyring |' || fail "the .deb does not recommend a Secret Service"
dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|^\([^/]\)|/\1|' >"$release/bundle/deb/contents.txt"
for f in "${expected_files[@]}" /usr/share/zsh/vendor-completions/_tokendesk /usr/share/doc/tokendesk/copyright; do
  grep -qx -- "$f" "$release/bundle/deb/contents.txt" || fail "the .deb lacks $f"
done

step "the .rpm: requirements and files"
rpm -qp --queryformat '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n' "$rpm"
[ "$(rpm -qp --queryformat '%{NAME}' "$rpm")" = tokendesk ] || fail "the .rpm is not named tokendesk"
rpm -qp --requires "$rpm" | grep -q '^libwebkit2gtk-4.1.so.0()(64bit)' || fail "the .rpm does not require WebKitGTK 4.1"
rpm -qp --recommends "$rpm" | grep -q 'gnome-keyring' || fail "the .rpm does not recommend a Secret Service"
rpm -qlp "$rpm" >"$release/bundle/rpm/contents.txt"
for f in "${expected_files[@]}" /usr/share/zsh/site-functions/_tokendesk; do
  grep -qx -- "$f" "$release/bundle/rpm/contents.txt" || fail "the .rpm lacks $f"
done
echo "$(wc -l <"$release/bundle/rpm/contents.txt") files in the .rpm, $(wc -l <"$release/bundle/deb/contents.txt") in the .deb"

step "install the .deb with apt"
sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb"
removed=0
remove() {
  [ "$removed" = 1 ] || sudo_ env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq tokendesk
  removed=1
}
trap remove EXIT
for f in "${expected_files[@]}" /usr/share/zsh/vendor-completions/_tokendesk; do
  [ -e "$f" ] || fail "$f is not installed"
done

"$0" --installed

step "remove it"
remove
if dpkg-query -W -f='${Status}' tokendesk 2>/dev/null | grep -q "install ok installed"; then
  fail "tokendesk is still installed"
fi
for f in "${expected_files[@]}"; do
  [ ! -e "$f" ] || fail "$f is left after apt-get remove"
done
command -v tokendesk >/dev/null && fail "tokendesk is still on PATH"
echo "package test passed in $(($(date +%s) - start)) s" >&2

#!/usr/bin/env bash
# Builds TokenDesk's Linux packages with Tauri's bundler: a .deb and an .rpm, each with the app,
# the `tokendesk` and `tokendesk-cli` programs in /usr/bin, the desktop entry, hicolor icons,
# AppStream metainfo, the man pages and bash, zsh and fish completions (generated from the
# command line's own definitions). Installs what is missing first (scripts/deps.sh, npm ci).
#
# Usage: scripts/package.sh [deb] [rpm]      (both when none is named)
# Output: target/release/bundle/deb/tokendesk_VERSION_ARCH.deb and
#         target/release/bundle/rpm/tokendesk-VERSION-1.ARCH.rpm (under $CARGO_TARGET_DIR if set)
#
# The bundler is the Tauri CLI from npm at the version of the tauri crate in Cargo.lock
# (packaging/package.json); nothing is downloaded from outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*" >&2; }

bundles=()
for b in "$@"; do
  case "$b" in
    deb | rpm) bundles+=("$b") ;;
    *) echo "usage: scripts/package.sh [deb] [rpm]" >&2; exit 2 ;;
  esac
done
[ "${#bundles[@]}" -gt 0 ] || bundles=(deb rpm)

step "dependencies"
scripts/deps.sh
npm ci --prefix ui --no-audit --no-fund --loglevel=error
npm ci --prefix packaging --no-audit --no-fund --loglevel=error
tauri=$PWD/packaging/node_modules/.bin/tauri
# The bundler must be the tauri crate's own release: its configuration and the app's are one.
crate=$(grep -A1 '^name = "tauri"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
cli=$("$tauri" --version | sed 's/^tauri-cli //')
if [ "$crate" != "$cli" ]; then
  echo "package: the tauri crate is $crate but packaging/package.json pins @tauri-apps/cli $cli;" \
    "pin the same version (npm install --prefix packaging --save-exact @tauri-apps/cli@$crate)." >&2
  exit 1
fi

step "build: the UI, then the app and the command line in release mode, and the door"
npm run --prefix ui build
cargo build --release --locked -p src-tauri -p tokendesk-cli
# `tokendesk` as it ships: on Linux x86-64 the door without a C library (scripts/door.sh).
door=$(scripts/door.sh --locked)
release=$(cargo metadata --format-version 1 --no-deps |
  node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory)')/release

step "stage: the command line, its man pages and completions"
# Where tauri.conf.json's bundle.linux.{deb,rpm}.files take them from.
stage=packaging/stage
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/completions"
cp "$door" "$release/tokendesk-cli" "$stage/bin/"
"$stage/bin/tokendesk-cli" generate man "$stage/man1"
gzip -9n "$stage"/man1/*.1
for shell in bash zsh fish; do
  "$stage/bin/tokendesk-cli" generate completions "$shell" "$stage/completions"
done

step "bundle: ${bundles[*]}"
# Run from src-tauri: the CLI takes the tauri.conf.json it finds first, and bench/ has others.
(cd src-tauri && "$tauri" bundle --ci --bundles "$(IFS=,; echo "${bundles[*]}")" \
  --config ../packaging/tauri.packages.toml)

version=$(node -p 'require("./src-tauri/tauri.conf.json").version')
echo >&2
for b in "${bundles[@]}"; do
  ls -l "$release/bundle/$b/"tokendesk[-_]"$version"[-_]*."$b" >&2
done
echo "Install with: sudo apt install $release/bundle/deb/tokendesk_${version}_*.deb" \
  "(Debian, Ubuntu) or sudo dnf install $release/bundle/rpm/tokendesk-${version}-1.*.rpm (Fedora)" >&2

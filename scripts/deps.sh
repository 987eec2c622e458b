#!/usr/bin/env bash
# Installs what TokenDesk needs to build, run and test on Debian/Ubuntu.
# Idempotent: installs only what is missing. Usage: scripts/deps.sh [--test]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pkgs=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libsoup-3.0-dev
      libayatana-appindicator3-dev librsvg2-dev
      gnome-keyring dbus-x11 libsecret-tools procps xdg-utils)
if [ "$want_test" = 1 ]; then
  # python3-dbus, python3-gi: the e2e tests' StatusNotifierWatcher (a panel's tray host);
  # xdotool: typing into the native folder picker (a GTK window, out of WebDriver's reach).
  pkgs+=(xvfb xauth imagemagick webkit2gtk-driver xclip chromium fonts-dejavu-core curl git
        python3-dbus python3-gi xdotool)
  # The package test (scripts/package-test.sh): the .rpm's contents, the window of the installed
  # app, the desktop entry, the AppStream metainfo and the man pages; x11-utils (xwininfo) also
  # lets the e2e tests see the window hidden and shown.
  pkgs+=(rpm x11-utils desktop-file-utils appstream man-db)
  # Secret sources (tests/secret_sources.rs): a real `pass` store with a GPG key made in the test.
  pkgs+=(pass gnupg)
fi

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    sudo_ apt-get update -qq
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  echo "deps: no apt-get here; install the equivalents of: ${pkgs[*]}" >&2
fi

# kubectl for the kubeconfig exec-plugin test: Debian calls its package kubernetes-client;
# a machine with the Kubernetes (or Google Cloud) apt repository has kubectl.
if [ "$want_test" = 1 ] && ! command -v kubectl >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubectl 2>/dev/null ||
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client ||
    echo "deps: kubectl not found in apt; the kubectl test needs it (https://kubernetes.io/docs/tasks/tools/)" >&2
fi

# Toolchains come from their own installers: Debian's are too old (Rust edition 2024 needs
# 1.85+, Vite needs Node.js 20.19+).
if ! command -v cargo >/dev/null; then
  echo "deps: Rust is missing. Install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
rust_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "$rust_minor" -lt 85 ]; then
  echo "deps: Rust $(rustc --version) is too old; run 'rustup update stable' (1.85 or newer)." >&2
  exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "deps: Node.js is missing. Install Node.js 20 or newer (https://nodejs.org, or nvm), then run this again." >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "deps: Node.js $(node --version) is too old; install Node.js 20 or newer." >&2
  exit 1
fi

#!/usr/bin/env bash
# Generates every icon from icon.svg with Tauri's icon tool (the pinned CLI in packaging/):
# the hicolor sizes the Linux packages install (16 to 512 px; icon.png is the 512 px one),
# 128x128@2x.png (256 px), icon.ico for Windows and icon.icns for macOS.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --prefix ../packaging --no-audit --no-fund --loglevel=error
tauri=../packaging/node_modules/.bin/tauri
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
icon() { "$tauri" icon icon.svg "$@" >"$scratch/log" 2>&1 || { cat "$scratch/log" >&2; exit 1; }; }
icon --output "$scratch/all"
icon --output "$scratch/png" --png 16,24,32,48,64,128,256,512
for size in 16 24 32 48 64 128 256; do
  cp "$scratch/png/${size}x${size}.png" .
done
cp "$scratch/png/512x512.png" icon.png
cp "$scratch/png/256x256.png" 128x128@2x.png
cp "$scratch/all/icon.ico" "$scratch/all/icon.icns" .

#!/usr/bin/env bash
# Generates every icon size from icon.svg (needs rsvg-convert from librsvg2-bin, and ImageMagick for the .ico).
set -euo pipefail
cd "$(dirname "$0")"
render() { rsvg-convert -w "$1" -h "$1" icon.svg -o "$2"; }
render 512 icon.png
render 32 32x32.png
render 128 128x128.png
render 256 128x128@2x.png
convert icon.png -define icon:auto-resize=256,64,48,32,16 icon.ico

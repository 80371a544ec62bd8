#!/usr/bin/env bash
# Renders `sdcodec inspect --html` in headless Chromium and saves a screenshot, to check by eye that the
# page draws (bars, legend, tables). Usage: scripts/html_screenshot.sh FILE.sdc [OUT.png] [WIDTH,HEIGHT]
# Needs Debian's chromium package (apt-get install chromium); it installs nothing itself and is optional:
# the test suite runs it only when chromium is there (tests/python/test_reports.py). The CLI used is
# $SDCODEC_BIN (or $SDCODEC), else build/sdcodec.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
in=${1:?usage: html_screenshot.sh FILE.sdc [OUT.png] [WIDTH,HEIGHT]}
out=${2:-${in%.sdc}.png}
size=${3:-1400,1800}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "html_screenshot: chromium not found (apt-get install chromium)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${SDCODEC_BIN:-${SDCODEC:-$root/build/sdcodec}}" inspect "$in" --html "$tmp/report.html" >/dev/null
# --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start. The page fetches nothing,
# so the browser needs no network.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$size" \
  --screenshot="$tmp/shot.png" "file://$tmp/report.html" >"$tmp/log" 2>&1 || true
[ -s "$tmp/shot.png" ] || { echo "html_screenshot: chromium wrote no screenshot: $(tail -n 1 "$tmp/log")" >&2; exit 1; }
mv "$tmp/shot.png" "$out"
echo "$out"

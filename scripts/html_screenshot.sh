#!/usr/bin/env bash
# Renders `sdcodec inspect --html` in headless Chromium and saves a screenshot, to check by eye that the
# page draws (bars, legend, tables). Usage: scripts/html_screenshot.sh FILE.sdc [OUT.png]
# Needs Debian's chromium package (apt-get install chromium); it is not part of the test suite.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
in=${1:?usage: html_screenshot.sh FILE.sdc [OUT.png]}
out=${2:-${in%.sdc}.png}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "html_screenshot: chromium not found (apt-get install chromium)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${SDCODEC:-$root/build/sdcodec}" inspect "$in" --html "$tmp/report.html" >/dev/null
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1800 \
  --screenshot="$tmp/shot.png" "file://$tmp/report.html" 2>/dev/null
mv "$tmp/shot.png" "$out"
echo "$out"

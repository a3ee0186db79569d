#!/usr/bin/env bash
# bench/portal.sh - the portal in headless Chromium, measured with the browser's Performance API.
#
# Starts a farm with one virtual node (tests/api/farm.py; rate limits off), loads 2,000 results
# of one category plus N others (default 20,000), signs in, then:
#   - results: navigates to #/results?filter=category:bench (2,000 results) RUNS times (default
#     10), each a full page load, and reads when the table was shown (the page's
#     performance.mark "results-table", from navigation start). Baseline in the same run: the
#     same query's JSON fetched by the page itself (fetch + JSON.parse). Target: table under
#     1000 ms.
#   - live: opens #/node/<id>, counts the live screen's frames for 10 s (frames per second) and
#     the delay from a key press to the picture changing on screen, RUNS times.
# Usage: bench/portal.sh [N] [RUNS]   (needs chromium, chromium-driver, python3-selenium)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cmake --build "$ROOT/build" -j2 -- --no-print-directory >/dev/null
exec env STBF_BUILD="$ROOT/build" /usr/bin/python3 "$ROOT/bench/portal_bench.py" "$@"

#!/usr/bin/env bash
# bench/results.sh - the test-results API on a farm holding many results, in one run.
#
# Starts a farm (tests/api/farm.py: Redis, broker, services, gateway; rate limits off), loads
# N results (default 100,000) straight into the store with `stbfarm-admin result load`, pushes
# one result with 64 MiB of artifacts through the real ingest protocol, then:
#   - times each listed query RUNS times (default 50) through the gateway and prints p50/p99
#     (target: every p50 under 100 ms);
#   - downloads a 64 MiB video and a 200 KiB screenshot with wrk through the gateway and from
#     civetweb serving the same files statically (bench/civetweb_baseline), and prints the ratio
#     (target >= 0.5).
# Usage: bench/results.sh [N] [RUNS]   (needs wrk and a normal build in build/)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
cmake --build "$ROOT/build" -j2 -- --no-print-directory >/dev/null
exec env STBF_BUILD="$ROOT/build" /usr/bin/python3 "$ROOT/bench/results_bench.py" "$@"

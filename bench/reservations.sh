#!/usr/bin/env bash
# Reservations per second: each of T clients reserves two nodes (one POST) and ends both
# reservations (two DELETEs), over and over, through the gateway, with two replicas of the
# reservations service. Baselines in the same run, same farm, same clients:
#   GET /api/v2/user             the gateway alone (auth, rate limit, JSON), no service
#   GET /api/v2/nodes/<id>       one service call through the broker (a Lua read in Redis)
# Prints the rates and the ratios of reservation requests to each baseline.
#
#   bench/reservations.sh [SECONDS] [CLIENTS]      (defaults: 10 s, 4 clients)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${1:-10}
CLIENTS=${2:-4}
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 1; }

DATA=$(mktemp -d /tmp/sfbench.XXXXXX)
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  "$ROOT/stbfarm" down --data "$DATA" >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT

eval "$("$ROOT/stbfarm" up --detach --data "$DATA" --port "$PORT" --nodes $((2 * CLIENTS)) \
  --replicas reservations=2 --rate-limit off)"

run() { # label, then wrk arguments
  local label=$1
  shift
  wrk -t "$CLIENTS" -c "$CLIENTS" -d "${SECS}s" -H "Authorization: token $STBF_TOKEN" "$@" \
    >"$DATA/$label.out" 2>&1 || { cat "$DATA/$label.out" >&2; exit 1; }
}

run reservations -s "$ROOT/bench/reservations.lua" "$STBF_URL" -- "$STBF_TOKEN"
run user "$STBF_URL/api/v2/user"
run node "$STBF_URL/api/v2/nodes/stb-tester-000000000001"

read -r cycles errors secs < <(sed -n 's/^cycles=\([0-9]*\) errors=\([0-9]*\) seconds=\([0-9.]*\)$/\1 \2 \3/p' \
  "$DATA/reservations.out")
rps() { awk '/^Requests\/sec:/ {print $2}' "$DATA/$1.out"; }
user_rps=$(rps user)
node_rps=$(rps node)
awk -v c="$cycles" -v e="$errors" -v s="$secs" -v u="$user_rps" -v n="$node_rps" -v k="$CLIENTS" '
BEGIN {
  cps = c / s; req = 3 * cps
  printf "reservations bench: %d clients, %.0f s each run, reservations service x2\n", k, s
  printf "  reserve 2 nodes + end both:   %8.1f cycles/s  (%.1f reservations/s, %.1f requests/s, %d errors)\n", cps, 2 * cps, req, e
  printf "  GET /api/v2/user (gateway):   %8.1f requests/s\n", u
  printf "  GET /api/v2/nodes/<id> (RPC): %8.1f requests/s\n", n
  printf "  ratio, reservation requests / GET user:  %.2f\n", req / u
  printf "  ratio, reservation requests / GET node:  %.2f\n", req / n
  if (e > 0) exit 1
}'

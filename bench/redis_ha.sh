#!/usr/bin/env bash
# bench/redis_ha.sh - what a Redis that fails over costs, and how soon the farm answers again.
#
# 1. WAIT's cost: the reservations load of bench/reservations.sh (each of CLIENTS clients
#    reserves two nodes with one POST and ends both, over and over) on a farm with one Redis,
#    then on a farm of --redis-ha (a master, two replicas, three sentinels; a reservation is
#    acknowledged only once a replica has it). Prints both rates and the ratio HA/single.
# 2. Failover: on the --redis-ha farm, clients keep making tokens (each acknowledged only once a
#    replica has it); the master gets a SIGKILL; prints the seconds from the kill to the first
#    token made again, for KILLS kills in a row (each once the old master is a replica again).
#    Target: within 10 s.
#
#   bench/redis_ha.sh [SECONDS] [CLIENTS] [KILLS]      (defaults: 10 s, 2 clients, 3 kills)
set -euo pipefail
SECS=${1:-10}
CLIENTS=${2:-2}
KILLS=${3:-3}
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# cycles/s of the reservations load on a farm started with $@
reservations_rate() {
  local name=$1
  shift
  eval "$(bench_up "$name" --nodes $((2 * CLIENTS)) --rate-limit off "$@")"
  wrk -t "$CLIENTS" -c "$CLIENTS" -d "${SECS}s" -s "$ROOT/bench/reservations.lua" "$STBF_URL" \
    -- "$STBF_TOKEN" >"$DATA/$name.out" 2>&1 || { cat "$DATA/$name.out" >&2; exit 1; }
  sed -n 's/^cycles=\([0-9]*\) errors=\([0-9]*\) seconds=\([0-9.]*\)$/\1 \2 \3/p' "$DATA/$name.out"
}

read -r c1 e1 s1 < <(reservations_rate single)
bench_down single
read -r c2 e2 s2 < <(reservations_rate ha --redis-ha)
awk -v c1="$c1" -v s1="$s1" -v c2="$c2" -v s2="$s2" -v e="$((e1 + e2))" -v k="$CLIENTS" 'BEGIN {
  printf "redis_ha bench: %d clients reserving 2 nodes and ending both, %.0f s each\n", k, s1
  printf "  one Redis:                 %8.1f cycles/s\n", c1 / s1
  printf "  --redis-ha (WAIT 1):       %8.1f cycles/s\n", c2 / s2
  printf "  ratio, HA / one Redis:     %8.2f\n", (c2 / s2) / (c1 / s1)
  if (e > 0) { printf "  %d errors\n", e; exit 1 }
}'
# shellcheck disable=SC1090 # the ready file of the HA farm: STBF_URL, STBF_TOKEN
. "$DATA/ha/ready"
/usr/bin/python3 "$ROOT/bench/redis_failover.py" "$DATA/ha" "$STBF_URL" "$STBF_TOKEN" "$KILLS"

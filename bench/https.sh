#!/usr/bin/env bash
# bench/https.sh - what HTTPS at the edge costs: GET /api/v2/user with a token, by CONNS
# connections for SECONDS, on a farm of `./stbfarm up` (plain HTTP, the baseline) and on one of
# `./stbfarm up --https` (TLS ended by the edge), both with keep-alive connections and with a
# new connection (and so a new TLS handshake) per request. Prints each rate and the ratio
# HTTPS/HTTP of each.
#
#   bench/https.sh [SECONDS] [CONNS]      (defaults: 10 s, 4 connections)
set -euo pipefail
SECS=${1:-10}
CONNS=${2:-4}
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# requests/s of wrk against the farm started with name and the flags after it; $KEEP: 1 for
# keep-alive, 0 for a connection per request
rate() {
  local name=$1 keep=$2 extra=()
  ((keep)) || extra=(-H "Connection: close")
  # the token reaches wrk through a script that reads it from a file, not its command line
  cat >"$DATA/$name.lua" <<LUA
wrk.headers["Authorization"] = "token " .. io.open("$DATA/$name.token"):read("*l")
LUA
  wrk -t 2 -c "$CONNS" -d "${SECS}s" -s "$DATA/$name.lua" "${extra[@]}" "$URL/api/v2/user" \
    >"$DATA/$name.out" 2>&1 || { cat "$DATA/$name.out" >&2; exit 1; }
  grep -q "Non-2xx" "$DATA/$name.out" && { cat "$DATA/$name.out" >&2; exit 1; }
  sed -n 's/^Requests\/sec: *\([0-9.]*\)$/\1/p' "$DATA/$name.out"
}

start() {
  local name=$1
  shift
  local out
  out=$(bench_up "$name" --nodes 0 --rate-limit off "$@")
  URL=$(sed -n 's/^STBF_URL=//p' <<<"$out")
  (umask 077 && sed -n 's/^STBF_TOKEN=//p' <<<"$out" >"$DATA/$name.token")
}

start http
http_keep=$(rate http 1)
http_new=$(rate http 0)
bench_down http
start https --https
https_keep=$(rate https 1)
https_new=$(rate https 0)

awk -v hk="$http_keep" -v hn="$http_new" -v sk="$https_keep" -v sn="$https_new" \
  -v c="$CONNS" -v s="$SECS" 'BEGIN {
  printf "GET /api/v2/user, %d connections, %d s each\n", c, s
  printf "keep-alive:             HTTP %8.0f req/s   HTTPS %8.0f req/s   ratio HTTPS/HTTP %.2f\n", hk, sk, sk / hk
  printf "a connection each:      HTTP %8.0f req/s   HTTPS %8.0f req/s   ratio HTTPS/HTTP %.2f\n", hn, sn, sn / hn
}'

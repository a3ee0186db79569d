#!/usr/bin/env bash
# bench/gateway.sh - the gateway's full request path against a bare civetweb handler, in one run.
#
# Starts a farm (./stbfarm up --detach, rate limiting on but raised out of the way) and the
# civetweb_baseline (a bare handler), drives each with wrk (64 connections, 2 threads) for DURATION seconds,
# and prints throughput, p99 latency and the ratio full/bare. Target: ratio >= 0.5, p99 < 10 ms.
# 64 clients polling one node is what the target names; the gateway answers identical concurrent
# GETs with one call (each still read after its request arrived), so the bench also runs the
# full path with no two requests alike (every request its own call to the service).
# Two more baselines show what waiting for a call costs by itself: the bare handler answering
# after a call to a thread that does nothing, every request its own call, and shared as the
# gateway shares calls (civetweb_baseline's /call and /shared).
# What counting requests for the metrics costs: the full path again on a second gateway of the
# same farm started with --metrics=false (ratio on/off), and counting alone (bench/metrics_bench:
# nanoseconds per request counted, as a share of what one full-path request takes).
# Usage: bench/gateway.sh [DURATION_SECONDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-10}
CONNS=64
NODE=stb-tester-000000000001
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DATA=$(mktemp -d /tmp/sfbench.XXXXXX)
BARE_PORT=$(free_port)
FARM_PORT=$(free_port)
cleanup() {
  [ -n "${BARE_PID:-}" ] && kill "$BARE_PID" 2>/dev/null && wait "$BARE_PID" 2>/dev/null
  [ -n "${OFF_PID:-}" ] && kill "$OFF_PID" 2>/dev/null && wait "$OFF_PID" 2>/dev/null
  "$ROOT/stbfarm" down --data "$DATA" >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT

eval "$("$ROOT/stbfarm" up --detach --data "$DATA" --port "$FARM_PORT" --nodes 1 \
  --rate-limit 1000000:1000000 2>/dev/null)"
# The gateway itself, on its private port behind the edge: what the full path measures. The
# edge's own cost is a row of its own.
EDGE_URL=$STBF_URL
STBF_URL=http://$(awk '/server gateway0/ {print $3; exit}' "$DATA/run/gateways-local.cfg")
"$ROOT/build/bench/civetweb_baseline" "127.0.0.1:$BARE_PORT" 128 &
BARE_PID=$!
OFF_PORT=$(free_port)
"$ROOT/build/gateway/stbfarm-gateway" --listen "127.0.0.1:$OFF_PORT" --metrics=false \
  --redis "unix:$DATA/run/redis.sock" --broker "ipc://$DATA/run/broker" \
  --rate-limit 1000000:1000000 --trusted-proxies 127.0.0.1 >"$DATA/gateway-off.log" 2>&1 &
OFF_PID=$!
sleep 0.5

# Every request with a query string of its own ("?t=1&n=123", a parameter nodes.get ignores), so
# that no two requests are identical and none shares another's call to the service.
UNSHARED=$DATA/unshared.lua
cat >"$UNSHARED" <<'LUA'
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
local n = 0
function request()
  n = n + 1
  return wrk.format(nil, wrk.path .. "?t=" .. id .. "&n=" .. n)
end
LUA

# run_wrk URL [header] [script]: prints "requests_per_second p99_ms"
run_wrk() {
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency ${2:+-H "$2"} ${3:+-s "$3"} "$1")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [ -z "$errors" ] || { echo "bench: $errors non-2xx responses from $1" >&2; exit 1; }
  echo "$rps $p99"
}

# warm up both (connections, Redis scripts, caches)
wrk -t1 -c4 -d1s -H "Authorization: token $STBF_TOKEN" "$STBF_URL/api/v2/nodes/$NODE" >/dev/null
read -r bare_rps bare_p99 < <(run_wrk "http://127.0.0.1:$BARE_PORT/api/v2/nodes/$NODE")
read -r call_rps call_p99 < <(run_wrk "http://127.0.0.1:$BARE_PORT/call/$NODE")
read -r shared_rps shared_p99 < <(run_wrk "http://127.0.0.1:$BARE_PORT/shared/$NODE")
read -r full_rps full_p99 < <(run_wrk "$STBF_URL/api/v2/nodes/$NODE" "Authorization: token $STBF_TOKEN")
wrk -t1 -c4 -d1s -H "Authorization: token $STBF_TOKEN" "http://127.0.0.1:$OFF_PORT/api/v2/nodes/$NODE" >/dev/null
read -r off_rps off_p99 < <(run_wrk "http://127.0.0.1:$OFF_PORT/api/v2/nodes/$NODE" "Authorization: token $STBF_TOKEN")
read -r alone_rps alone_p99 < <(run_wrk "$STBF_URL/api/v2/nodes/$NODE" "Authorization: token $STBF_TOKEN" "$UNSHARED")
# Where the difference goes: the gateway alone (auth and rate limit in Redis, no service), and
# the broker alone (calls through it to the nodes service, no HTTP, no Redis).
read -r user_rps user_p99 < <(run_wrk "$STBF_URL/api/v2/user" "Authorization: token $STBF_TOKEN")
read -r edge_rps edge_p99 < <(run_wrk "$EDGE_URL/api/v2/nodes/$NODE" "Authorization: token $STBF_TOKEN")
rpc_rps=$("$ROOT/build/bench/rpc_bench" "ipc://$DATA/run/broker" "$CONNS" "$DURATION")
metrics_ns=$("$ROOT/build/bench/metrics_bench" 2 "$DURATION")

row() { local note=${4:-}; printf '%-26s: %10.0f req/s  p99 %6.2f ms%s\n' "$1" "$2" "$3" "${note:+  ($note)}"; }
ratio() { awk -v f="$2" -v b="$3" -v l="$1" -v n="${4:-}" 'BEGIN { printf "%-26s: %10.2f%s\n", l, f / b, n ? "  (" n ")" : "" }'; }
row "bare civetweb handler" "$bare_rps" "$bare_p99"
row "bare + a free call each" "$call_rps" "$call_p99" "a call to a thread that does nothing"
row "bare + free calls, shared" "$shared_rps" "$shared_p99" "shared as the gateway shares calls"
ratio "ratio shared free/bare" "$shared_rps" "$bare_rps" "the cost of waiting for a call alone"
row "full path (GET node)" "$full_rps" "$full_p99"
ratio "ratio full/bare" "$full_rps" "$bare_rps" "target >= 0.50"
row "full path, metrics off" "$off_rps" "$off_p99" "a gateway with --metrics=false"
ratio "ratio metrics on/off" "$full_rps" "$off_rps" "what counting requests costs"
awk -v ns="$metrics_ns" -v rps="$full_rps" 'BEGIN { printf "%-26s: %10.0f ns  (%.4f of a full-path request on 2 cores)\n", "counting one request", ns, ns * rps / 2e9 }'
row "full path, unshared" "$alone_rps" "$alone_p99" "no two requests alike: a call each"
ratio "ratio unshared/bare" "$alone_rps" "$bare_rps"
row "gateway alone (/user)" "$user_rps" "$user_p99" "auth + rate limit, no service"
ratio "ratio /user/bare" "$user_rps" "$bare_rps" "the gateway's own work"
row "through the edge (GET node)" "$edge_rps" "$edge_p99" "HAProxy in front, as ./stbfarm up runs it"
ratio "ratio edge/full" "$edge_rps" "$full_rps" "what the edge costs"
printf '%-26s: %10.0f calls/s  (%d threads calling nodes.ping, no HTTP)\n' "broker alone" "$rpc_rps" "$CONNS"

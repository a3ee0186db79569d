#!/usr/bin/env bash
# bench/slow_clients.sh - half-open connections from one address against a fresh client's GETs,
# through the edge and straight at a gateway (bench/slow_clients.py says what it measures).
# Usage: bench/slow_clients.sh [ATTACKERS] [REQUESTS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=$(mktemp -d /tmp/sfbench.XXXXXX)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  "$ROOT/stbfarm" down --data "$DATA" >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT
eval "$("$ROOT/stbfarm" up --detach --data "$DATA" --port "$PORT" --nodes 0 \
  --rate-limit 1000000:1000000 2>/dev/null)"
# the first gateway's private address, from the edge's server list
GATEWAY=$(awk '/server gateway0/ {print "http://" $3; exit}' "$DATA"/run/gateways-local.cfg 2>/dev/null ||
  awk '/server gateway0/ {print "http://" $3; exit}' /tmp/stbfarm-*/gateways-local.cfg)
/usr/bin/python3 "$ROOT/bench/slow_clients.py" "$STBF_URL" "$STBF_TOKEN" "$GATEWAY" "${1:-1000}" "${2:-200}"

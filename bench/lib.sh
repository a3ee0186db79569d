# shellcheck shell=bash
# bench/lib.sh - sourced by the bench scripts that start farms of their own with ./stbfarm up:
# wrk, a private directory (DATA) and every farm under it stopped at exit.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 1; }

DATA=$(mktemp -d /tmp/sfbench.XXXXXX)
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# bench_up NAME [FLAG...]: `./stbfarm up --detach` of a farm in DATA/NAME on a free port; prints
# what up prints (STBF_URL, STBF_TOKEN, ...).
bench_up() {
  local name=$1
  shift
  "$ROOT/stbfarm" up --detach --data "$DATA/$name" --port "$(free_port)" "$@" 2>/dev/null
}

bench_down() {
  "$ROOT/stbfarm" down --data "$DATA/$1" >/dev/null 2>&1 || true
}

bench_cleanup() {
  local d
  for d in "$DATA"/*/; do
    [ -d "$d" ] && bench_down "$(basename "$d")"
  done
  rm -rf "$DATA"
}
trap bench_cleanup EXIT

"""bench/slow_clients.py - what half-open connections from one address cost everyone else.

Against a farm from ./stbfarm up (the edge in front of the gateway), a fresh client at another
address (127.0.0.2) GETs /api/v2/nodes N times, first with nothing else going on (the
baseline, in the same run), then while one address (127.0.0.1) holds ATTACKERS connections
that each sent a partial request and then nothing. The same again straight at the gateway,
behind no edge. Prints p50 and p99 of each and the ratio to the baseline. Target (issue 13):
p99 under 200 ms with 1,000 half-open connections.
Usage: /usr/bin/python3 bench/slow_clients.py URL TOKEN GATEWAY_URL [ATTACKERS] [N]"""

import http.client
import socket
import statistics
import sys
import time
import urllib.parse


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def fresh_gets(url, token, n, timeout=30):
    u = urllib.parse.urlsplit(url)
    times, errors = [], 0
    for _ in range(n):
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout,
                                           source_address=("127.0.0.2", 0))
            c.request("GET", "/api/v2/nodes", headers={"Authorization": "token " + token})
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 200:
                errors += 1
        except OSError:
            errors += 1
        times.append((time.monotonic() - t0) * 1000)
    return times, errors


def half_open(url, n):
    u = urllib.parse.urlsplit(url)
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection((u.hostname, u.port), timeout=5,
                                         source_address=("127.0.0.1", 0))
            s.sendall(b"GET /api/v2/nodes HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            pass  # refused: what the edge does past its per-address cap
    return socks


def run(name, url, token, attackers, n):
    base, base_err = fresh_gets(url, token, n)
    socks = half_open(url, attackers)
    time.sleep(0.5)
    under, under_err = fresh_gets(url, token, n)
    for s in socks:
        s.close()
    print("%-22s baseline p50 %7.1f ms p99 %7.1f ms | with %d half-open: p50 %7.1f ms "
          "p99 %8.1f ms (%d errors) | p99 ratio %.1f" % (
              name, statistics.median(base), percentile(base, 99), attackers,
              statistics.median(under), percentile(under, 99), under_err,
              percentile(under, 99) / max(percentile(base, 99), 0.001)))
    return percentile(under, 99)


def main():
    url, token, gateway = sys.argv[1:4]
    attackers = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    edge_p99 = run("through the edge", url, token, attackers, n)
    time.sleep(1)
    run("straight at a gateway", gateway, token, attackers, min(n, 20))
    print("target: p99 under 200 ms through the edge: %s" % ("met" if edge_p99 < 200 else "NOT met"))


if __name__ == "__main__":
    main()

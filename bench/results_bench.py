"""The body of bench/results.sh: fill a farm with N results, then time the listed queries through
the gateway and artifact downloads against civetweb serving the same files statically."""

import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "api"))

from farm import BUILD, Farm, binary, free_port, wait_until  # noqa: E402
from results_push import push_id, record, write_artifacts  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 50
JOB_SIZE = 100
TEST_CASES = ["tests/suite_%02d.py::test_feature_%03d" % (i % 20, i) for i in range(200)]
CATEGORIES = ["nightly", "smoke", "soak test of release 7", "regression", "default"]
REASONS = ["Timeout waiting for %s after %d s", "Expected '%s' but found %d matches",
           "EPG is empty on %s (%d)", "Could not tune %s: signal %d"]
NOW = time.time()
DAY = 86400


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int(t % 1 * 1e6)


def results(n):
    """n results over 90 days: jobs of JOB_SIZE runs on 20 nodes, 75% pass, 20% fail, 5% error."""
    rnd = random.Random(7)
    per_job = 90 * DAY / (n / JOB_SIZE)
    for j in range(n // JOB_SIZE):
        node = "stb-tester-%012d" % (j % 20)
        job = "/%s/%04x/%d" % (node, j % 65536, j)
        t = NOW - 90 * DAY + j * per_job
        for k in range(JOB_SIZE):
            dur = rnd.uniform(2, 120)
            x = rnd.random()
            outcome = "pass" if x < 0.75 else "fail" if x < 0.95 else "error"
            reason = None
            if outcome != "pass":
                reason = rnd.choice(REASONS) % (rnd.choice(["menu", "guide", "player", "EPG"]),
                                                rnd.randint(1, 500))
            yield record(job_uid=job, node_id=node, test_case=rnd.choice(TEST_CASES),
                         job_category=CATEGORIES[j % len(CATEGORIES)],
                         tags={"model": "T-%d000" % (1 + j % 3), "build": "b%d" % (j // 50)},
                         start_time=iso(t), end_time=iso(t + dur), result=outcome,
                         failure_reason=reason,
                         traceback=None if reason is None else
                         "Traceback (most recent call last):\n  File \"x.py\", line 1\n" + reason)
            t += dur + 1


def load(farm, n):
    """Write the results straight into the store, two loaders at once."""
    paths = []
    files = [open(os.path.join(farm.dir, "load%d.jsonl" % i), "w") for i in range(2)]
    for i, r in enumerate(results(n)):
        files[(i // JOB_SIZE) % 2].write(json.dumps(r) + "\n")
    for f in files:
        paths.append(f.name)
        f.close()
    procs = [subprocess.Popen([binary("admin"), "result", "load", p], env=farm.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in paths]
    total = 0
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err
        total += int(out)
    return total


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def time_query(s, path, params):
    s.get(path, params=params)  # warm: connection, caches
    lat, size, count = [], 0, None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        r = s.get(path, params=params)
        lat.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, params, r.text[:200])
        size = len(r.content)
        if path == "/api/v2/results":
            count = len(r.json())
    return statistics.median(lat), percentile(lat, 99), size, count


def wrk(url, token=None, seconds=5, conns=4):
    """Bytes/s and requests/s wrk measures."""
    argv = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, url]
    if token:
        argv[1:1] = ["-H", "Authorization: token " + token]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert "Non-2xx" not in out, out
    m = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    scale = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(2)]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return float(m.group(1)) * scale, rps


def rss_mib(farm):
    with open("/proc/%d/status" % farm.proc("results0").proc.pid) as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


def main():
    farm = Farm(gateway_args=["--rate-limit", "off", "--artifact-rate-limit", "off"]).start()
    static = None
    try:
        t0 = time.perf_counter()
        n = load(farm, N)
        print("loaded %d results into the store in %.1f s (stbfarm-admin result load, 2 at once)"
              % (n, time.perf_counter() - t0))

        local = os.path.join(farm.dir, "local")
        write_artifacts(local, {"video.mp4": os.urandom(64 << 20),
                                "screenshot.png": os.urandom(200 << 10)})
        t0 = time.perf_counter()
        rid = push_id(farm, record(job_uid="/stb-tester-000000000001/ffff/1",
                                   node_id="stb-tester-000000000001"), local)
        took = time.perf_counter() - t0
        print("pushed one result with 64.2 MiB of artifacts through results.begin/put_chunk/"
              "finish in %.2f s (%.0f MiB/s, 1 MiB chunks)" % (took, 64.2 / took))

        s = farm.session()
        rss0 = rss_mib(farm)
        t0 = time.perf_counter()
        assert s.get("/api/v2/results", params={"filter": "job:/x/y/z"}).status_code == 200
        print("first query after start (loads the index of %d results): %.0f ms; the results "
              "service's memory grew from %.0f to %.0f MiB"
              % (n + 1, (time.perf_counter() - t0) * 1000, rss0, rss_mib(farm)))

        day = time.strftime("%Y-%m-%d", time.gmtime(NOW - 30 * DAY))
        week_end = time.strftime("%Y-%m-%d", time.gmtime(NOW - 24 * DAY))
        job = "/stb-tester-%012d/%04x/%d" % (123 % 20, 123, 123)
        queries = [
            ("job:<uid>", "/api/v2/results", {"filter": "job:" + job}),
            ("testcase:<name>", "/api/v2/results", {"filter": "testcase:" + TEST_CASES[42]}),
            ("result:fail", "/api/v2/results", {"filter": "result:fail"}),
            ("free text 'timeout'", "/api/v2/results", {"filter": "timeout"}),
            ("date:a..b (a week, tz)", "/api/v2/results",
             {"filter": "date:%s..%s" % (day, week_end), "tz": "America/Denver"}),
            ("no filter (newest 2000)", "/api/v2/results", {}),
            ("4 terms, negation", "/api/v2/results",
             {"filter": "result:fail -category:nightly tag:model=T-1000 guide"}),
            ("all, sort=testcase:asc", "/api/v2/results", {"sort": "testcase:asc"}),
            ("results.xml for one job", "/api/v2/results.xml", {"filter": "job:" + job}),
            ("results.csv result:fail", "/api/v2/results.csv", {"filter": "result:fail"}),
        ]
        print("\n%d results stored; %d runs of each query, one after another, through the "
              "gateway:" % (n + 1, RUNS))
        print("%-26s %9s %9s %8s %10s" % ("query", "p50 ms", "p99 ms", "results", "bytes"))
        worst = 0
        for label, path, params in queries:
            p50, p99, size, count = time_query(s, path, params)
            worst = max(worst, p50)
            shown = "-" if count is None else count
            print("%-26s %9.1f %9.1f %8s %10d" % (label, p50, p99, shown, size))
        print("slowest p50 %.1f ms (target < 100 ms)" % worst)

        port = free_port()
        static = subprocess.Popen([os.path.join(BUILD, "bench", "civetweb_baseline"),
                                   "127.0.0.1:%d" % port, "128", farm.artifacts])
        wait_until(lambda: subprocess.run(["curl", "-sf", "-o", "/dev/null",
                                           "http://127.0.0.1:%d%s/video.mp4" % (port, rid)])
                   .returncode == 0, 10, what="static server")
        print("\nartifact downloads, wrk 2 threads x 4 connections, 5 s each:")
        token = farm.token("alice")
        for name, size in (("video.mp4", "64 MiB"), ("screenshot.png", "200 KiB")):
            bs, brps = wrk("http://127.0.0.1:%d%s/%s" % (port, rid, name))
            gs, grps = wrk("%s/api/v2/results%s/artifacts/%s" % (farm.url, rid, name), token)
            print("%-15s %-8s static civetweb %7.0f MiB/s (%6.0f req/s), gateway %7.0f MiB/s "
                  "(%6.0f req/s): ratio %.2f (target >= 0.50)"
                  % (name, size, bs / 2**20, brps, gs / 2**20, grps, gs / bs))
    finally:
        if static:
            static.terminate()
            static.wait()
        farm.stop()


if __name__ == "__main__":
    main()

"""bench/portal.sh: the results page and the live screen, timed by the browser itself."""

import datetime
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "api"))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))

from farm import Farm  # noqa: E402
from portal import Browser  # noqa: E402
from results_push import load, record  # noqa: E402


def results(n, category, t0):
    out = []
    for i in range(n):
        start = t0 + datetime.timedelta(seconds=i)
        out.append(record(start_time=start.isoformat().replace("+00:00", "Z"),
                          end_time=(start + datetime.timedelta(seconds=3)).isoformat()
                          .replace("+00:00", "Z"),
                          job_category=category,
                          job_uid="/stb-tester-abcdef123456/0b00/%d" % (i // 50),
                          test_case="tests/bench.py::test_%d" % (i % 300),
                          result=("pass", "fail", "error")[i % 7 % 3],
                          failure_reason=None if i % 7 % 3 == 0 else "failure %d" % i))
    return out


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def bench_results(b, runs):
    url = b.base + "/app/#/results?filter=category:bench"
    shown, fetched = [], []
    for _ in range(runs):
        b.open(b.base + "/app/icon.svg")
        b.open(url)
        b.find("#results-table[data-loaded]", 30)
        shown.append(b.js("return performance.getEntriesByName('results-table')[0].startTime"))
        fetched.append(b.js(
            "const t = performance.now();"
            "return fetch('/api/v2/results?filter=category:bench&details=true')"
            ".then(r => r.json()).then(j => [performance.now() - t, j.length])")[0])
        rows = len(b.find_all("#results tbody tr"))
        assert rows == 2000, rows
    print("results page, 2,000 results: table shown %.0f ms p50, %.0f ms max after navigation; "
          "the query's JSON alone %.0f ms p50; ratio %.2f" % (
              statistics.median(shown), max(shown), statistics.median(fetched),
              statistics.median(shown) / statistics.median(fetched)))
    return statistics.median(shown)


def bench_live(b, farm, runs):
    node = farm.node_id(1)
    b.open(b.base + "/app/#/node/" + node)
    time.sleep(2)
    if not b.find_all("#live-screen") or not b.js("return window.__stbfLiveStats ? 1 : 0"):
        print("live screen: the node page has no live statistics (not built yet)")
        return
    b.js("window.__stbfLiveStats.reset()")
    time.sleep(10)
    stats = b.js("return window.__stbfLiveStats.read()")
    print("live screen: %.1f frames/s at %dx%d over 10 s" % (stats["fps"], stats["width"],
                                                             stats["height"]))
    api = farm.session("bench")
    delays = []
    keys = ["KEY_MENU", "KEY_BACK"]
    for i in range(runs):
        b.js("window.__stbfLiveStats.watchChange()")
        time.sleep(0.3)
        t_press = b.js("return performance.timeOrigin + performance.now()")
        r = api.post("/api/v2/nodes/%s/press" % node, json={"key": keys[i % 2]})
        assert r.status_code == 200, r.text
        acked = datetime.datetime.fromisoformat(r.json()["end_time"]).timestamp() * 1000
        changed = b.wait(lambda: b.js("return window.__stbfLiveStats.changedAt()"), 5,
                         "the picture to change")
        delays.append((changed - acked, changed - t_press))
        time.sleep(0.5)
    print("live screen: picture changed %.0f ms p50 (%.0f ms max) after the key press was "
          "acknowledged, %.0f ms p50 after the press was sent" % (
              statistics.median(d[0] for d in delays), max(d[0] for d in delays),
              statistics.median(d[1] for d in delays)))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    farm = Farm(nodes=1, gateway_args=["--rate-limit", "off"]).start()
    profile = tempfile.mkdtemp(prefix="sf-bench-chromium-")
    b = None
    try:
        t0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
        load(farm, results(n, "other", t0))
        load(farm, results(2000, "bench", t0 + datetime.timedelta(days=30)))
        b = Browser(profile)
        b.reset(farm.url)
        b.sign_in(farm, "bench")
        bench_results(b, runs)
        bench_live(b, farm, runs)
    finally:
        if b:
            b.quit()
        farm.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# bench/jobs.sh [N] - the farm's own overhead per test case: one job of N (100) trivial test
# cases on a virtual node, video recording and artifact upload on, timed from run_tests to the
# job's end through the gateway; next to the same N test cases run by stbt_run.py directly in a
# loop (the cost of Python itself, which any runner pays) in the same run. Prints both per test
# case, the farm's overhead beyond that baseline, and how soon await_completion answered after
# the job ended. Target: overhead under 150 ms per test case. Uses $STBF_BUILD (default build/).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export STBF_BUILD=${STBF_BUILD:-$ROOT/build}
export BENCH_N=${1:-100}
cd "$ROOT/tests/api"
exec /usr/bin/python3 - <<'PY'
import os, statistics, subprocess, tempfile, time
from farm import Farm, REPO, commit_files

N = int(os.environ["BENCH_N"])
NODE = Farm.node_id(1)
TRIVIAL = "".join("def test_%03d():\n    pass\n\n" % i for i in range(N))


def parse_time(stamp):  # 2026-11-28T16:05:07.133071Z
    return time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + \
        float("0." + stamp[20:26])


f = Farm(nodes=1, gateway_args=["--rate-limit", "off", "--access-log=false"])
try:
    f.start()
    commit_files(f.test_pack, {"tests/trivial.py": TRIVIAL}, "trivial tests")
    f.wait_node(1)
    s = f.session()
    cases = ["tests/trivial.py::test_%03d" % i for i in range(N)]
    t0 = time.time()
    job = s.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                            "test_cases": cases}).json()
    r = s.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=600)
    while r.status_code == 202:
        r = s.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=600)
    answered = time.time()
    done = r.json()
    assert done["result_counts"]["pass"] == N, done
    total = parse_time(done["end_time"]) - parse_time(done["start_time"])
    wake_ms = (answered - parse_time(done["end_time"])) * 1000
    wall = answered - t0
    results = s.get("/api/v2/results", params={"filter": "job:" + job["job_uid"]}).json()
    sizes = s.get("/api/v2/results" + results[0]["result_id"]).json()["artifacts"]
    assert "video.mp4" in sizes and "screenshot.png" in sizes
finally:
    f.stop()

# The baseline: the same test cases, one Python process each, no farm.
pack = tempfile.mkdtemp(prefix="sfbench")
os.makedirs(os.path.join(pack, "tests"))
with open(os.path.join(pack, "tests", "trivial.py"), "w") as out:
    out.write(TRIVIAL)
stbt_dir = os.path.join(REPO, "nodesvc", "python")
env = dict(os.environ, PYTHONPATH=stbt_dir + ":" + pack, PYTHONDONTWRITEBYTECODE="1")
b0 = time.time()
for i in range(N):
    subprocess.run(["/usr/bin/python3", "-u", os.path.join(stbt_dir, "stbt_run.py"), pack,
                    "tests/trivial.py", "test_%03d" % i, os.path.join(pack, "result.json")],
                   env=env, check=True, capture_output=True)
bare = (time.time() - b0) / N
subprocess.run(["rm", "-rf", pack])

per_case = total / N
print("test cases                    : %d trivial, video and upload on" % N)
print("farm, per test case           : %6.1f ms  (job start to end %.2f s; run_tests to "
      "answer %.2f s)" % (per_case * 1000, total, wall))
print("stbt_run.py alone, per case   : %6.1f ms  (baseline: Python start-up, no farm)"
      % (bare * 1000))
print("farm overhead per test case   : %6.1f ms  (target < 150 ms)" % ((per_case - bare) * 1000))
print("ratio farm / baseline         : %6.2f" % (per_case / bare))
print("await_completion answered     : %6.1f ms after the job ended" % wake_ms)
PY

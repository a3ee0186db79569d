#!/usr/bin/env bash
# bench/screenshot.sh [N] - screenshot.png and thumbnail.jpg through the gateway at 720p, next
# to nodesvc's own PNG and JPEG encode of one frame timed in-process (bench/screenshot_bench)
# in the same run; and the CPU share of recording 720p video. Uses the build in $STBF_BUILD
# (default build/). Starts its own farm of one virtual node on loopback and stops it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export STBF_BUILD=${STBF_BUILD:-$ROOT/build}
export BENCH_N=${1:-200}
cmake --build "$STBF_BUILD" --target screenshot_bench stbfarm-nodesvc stbfarm-vstb >/dev/null
cd "$ROOT/tests/api"
exec /usr/bin/python3 - <<'PY'
import json, os, statistics, subprocess, time
from farm import Farm, binary, BUILD, cpu_seconds, percentile

N = int(os.environ["BENCH_N"])
NODE = Farm.node_id(1)


f = Farm(nodes=1, gateway_args=["--rate-limit", "off", "--access-log=false"])
try:
    f.start()
    s = f.session()
    lat = {}
    for name in ("screenshot.png", "thumbnail.jpg"):
        url = "/api/v2/nodes/%s/%s" % (NODE, name)
        for _ in range(10):
            s.get(url)  # warm up connections and encoders
        xs = []
        for _ in range(N):
            t0 = time.perf_counter()
            r = s.get(url)
            xs.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
        lat[name] = (statistics.median(xs), percentile(xs, 99))
    video = "unix:" + f.vstb_socket(1, "video")
    base = json.loads(subprocess.run([os.path.join(BUILD, "bench", "screenshot_bench"), video,
                                      "mpjpeg", str(N // 4 or 1)], check=True,
                                     capture_output=True, text=True).stdout)
    # recording: the agent's CPU while it records, against the same time without
    pid = f.proc("nodesvc1").proc.pid
    secs = 10
    c0 = cpu_seconds(pid); time.sleep(secs); idle = (cpu_seconds(pid) - c0) / secs
    path = os.path.join(f.dir, "bench.mp4")
    f.admin("node", "call", NODE, "agent.video_start", json.dumps({"path": path}))
    c0 = cpu_seconds(pid); time.sleep(secs); rec = (cpu_seconds(pid) - c0) / secs
    stop = json.loads(f.admin("node", "call", NODE, "agent.video_stop").stdout)
finally:
    f.stop()

png_p50, png_p99 = lat["screenshot.png"]
jpg_p50, jpg_p99 = lat["thumbnail.jpg"]
print("screenshot.png at %dx%d through the gateway (%d requests): p50 %.1f ms, p99 %.1f ms"
      % (base["width"], base["height"], N, png_p50, png_p99))
print("  one PNG encode in-process: %.1f ms; ratio p50/encode %.2f (target <= 1.5)"
      % (base["png_ms"], png_p50 / base["png_ms"]))
print("thumbnail.jpg through the gateway: p50 %.1f ms, p99 %.1f ms (target p50 < 20 ms)"
      % (jpg_p50, jpg_p99))
print("  one thumbnail encode in-process: %.1f ms; ratio p50/encode %.2f"
      % (base["jpeg_ms"], jpg_p50 / base["jpeg_ms"]))
print("recording 720p: agent CPU %.1f%% of a core while recording, %.1f%% idle (capture only); "
      "recording adds %.1f%%; %d frames in %.1f s (target <= 100%%)"
      % (rec * 100, idle * 100, (rec - idle) * 100, stop["frames"], stop["duration_us"] / 1e6))
PY

"""bench/redis_failover.py DATA URL TOKEN KILLS - for bench/redis_ha.sh: clients keep making
tokens on the --redis-ha farm in DATA while its master gets a SIGKILL; prints the seconds from
each kill to the first token asked for after it and made."""

import os
import signal
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "api"))
from test_redis_ha import HaFarm  # noqa: E402


def main():
    data, url, token, kills = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    farm = HaFarm(data, url, token)
    made, stop = [], threading.Event()

    def client():
        s = requests.Session()
        while not stop.is_set():
            t0 = time.time()
            try:
                r = s.post(url + "/api/v2/tokens", headers=farm.headers(), json={"note": "b"},
                           timeout=30)
                if r.status_code == 201:
                    made.append((t0, time.time()))
                    # a user has at most 200 tokens
                    s.delete(url + "/api/v2/tokens/" + r.json()["id"], headers=farm.headers(),
                             timeout=30)
            except requests.RequestException:
                pass
            time.sleep(0.02)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    times = []
    for _ in range(kills):
        master = farm.master()
        killed = time.time()
        os.kill(farm.server_pid(master[1]), signal.SIGKILL)
        # the first token asked for after the kill (one asked for before may be answered after)
        while not [m for m in made if m[0] > killed]:
            if time.time() - killed > 120:
                sys.exit("bench: no token made within 120 s of the kill")
            time.sleep(0.05)
        times.append(min(m[1] for m in made if m[0] > killed) - killed)
        # the old master back as a replica, both replicas in step
        while farm.cli(master[0], master[1], "ROLE").split("\n")[0] != "slave":
            time.sleep(0.2)
        now = farm.master()
        while farm.cli(now[0], now[1], "WAIT", "2", "1000") != "2":
            time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(60)
    print("  failover: first token made again %s s after the master's SIGKILL (target 10 s)"
          % ", ".join("%.1f" % t for t in times))


if __name__ == "__main__":
    main()

"""The chaos test: a farm from `./stbfarm up --detach` (2 virtual nodes, 2 replicas of every
service and of the gateway) is used by simulated CI clients while a killer SIGKILLs one of its
processes every few seconds (gateway, broker, each service, a node agent, a vstb, Redis) for the
supervisor to restart, and a pauser SIGSTOPs a service replica for longer than its leases before
letting it go on. At the end the farm is let settle and the table of what must hold is checked
and printed: nothing acknowledged lost, every counted result stored with its artifacts, no node
held twice, no process leaked, every client error a 503/429 with a JSON body and no hang.

    /usr/bin/python3 tests/chaos/chaos.py [--secs 60] [--clients 4] [--seed N] [--keep]

The farm is built from $STBF_FARM_BUILD (default: build; build-asan for ASan+UBSan, whose
sanitizer reports are a row of the table). Everything listens on 127.0.0.1 or on unix sockets in
a private directory under /tmp; the farm is stopped (./stbfarm down) whatever happens. Exit
status 0 when every row holds, 1 otherwise (the farm's logs are then kept)."""

import argparse
import concurrent.futures
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))

from farm import (REPO, SANITIZER_MARKS, commit_files, farm_pids, free_port,  # noqa: E402
                  ready_env)

STBFARM = os.path.join(REPO, "stbfarm")
NODES = ("stb-tester-000000000001", "stb-tester-000000000002")
REPLICAS = "nodes=2,jobs=2,reservations=2,results=2,gateway=2"

# The test cases the clients run, committed to the farm's test pack: quick, each outcome, and
# one that writes an artifact of its own (its md5 is checked on the way back).
CASES = {
    "tests/chaos.py": (
        "import os\nimport time\n\n\n"
        "def test_passes():\n    pass\n\n\n"
        "def test_fails():\n    assert False, 'on purpose'\n\n\n"
        "def test_sleeps():\n    time.sleep(1.5)\n\n\n"
        "def test_writes_an_artifact():\n"
        "    with open('random.bin', 'wb') as f:\n"
        "        f.write(os.urandom(20000))\n"),
}
RUN_ONCE = ["tests/chaos.py::test_passes", "tests/chaos.py::test_fails",
            "tests/chaos.py::test_sleeps", "tests/chaos.py::test_writes_an_artifact"]

# What the killer picks from: the binary each kind of process runs (its command line names it).
KINDS = {
    "gateway": "gateway/stbfarm-gateway",
    "broker": "broker/stbfarm-broker",
    "nodes": "services/nodes/stbfarm-nodes",
    "jobs": "services/jobs/stbfarm-jobs",
    "reservations": "services/reservations/stbfarm-reservations",
    "results": "services/results/stbfarm-results",
    "nodesvc": "nodesvc/stbfarm-nodesvc",
    "vstb": "vstb/stbfarm-vstb",
    "redis": "redis-server",
}
EXPECTED = {"gateway": 2, "broker": 1, "nodes": 2, "jobs": 2, "reservations": 2, "results": 2,
            "nodesvc": 2, "vstb": 2, "redis": 1}
PAUSABLE = ("jobs", "results", "reservations", "nodes")

REQUEST_TIMEOUT = 30    # every client request but a long poll
LONG_POLL_TIMEOUT = 70  # await_completion answers within 55 s


def log(msg):
    print("%7.1f %s" % (time.monotonic() - T0, msg), flush=True)


T0 = time.monotonic()


# ---- the farm's processes ----

def pids_by_kind(data):
    """{kind: [pid, ...]} of the farm's processes the killer may pick. Only processes still
    running are listed (a zombie is not counted)."""
    out = {k: [] for k in KINDS}
    for pid, cmd in farm_pids(data).items():
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        argv0 = cmd.split(" ", 1)[0]
        for kind, binary in KINDS.items():
            if argv0.endswith(binary):
                out[kind].append(pid)
    return out


class Stbfarm:
    """./stbfarm up --detach in a private data directory; down() stops it."""

    def __init__(self, build):
        self.data = tempfile.mkdtemp(prefix="sfchaos", dir="/tmp")
        self.port = free_port()
        self.env = dict(os.environ, STBF_FARM_BUILD=build,
                        ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:handle_abort=1",
                        LSAN_OPTIONS="suppressions=" + os.path.join(REPO, "tests", "lsan.supp"),
                        UBSAN_OPTIONS="print_stacktrace=1")
        self.url = "http://127.0.0.1:%d" % self.port

    def run(self, *args, timeout=300):
        return subprocess.run([STBFARM] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=self.env)

    def up(self):
        r = self.run("up", "--detach", "--data", self.data, "--port", str(self.port),
                     "--nodes", str(len(NODES)), "--replicas", REPLICAS)
        if r.returncode != 0:
            raise RuntimeError("./stbfarm up failed: %s" % r.stderr[-3000:])
        env = ready_env(r.stdout)
        self.admin_token = env["STBF_TOKEN"]
        commit_files(os.path.join(self.data, "test-pack"), CASES, "chaos test cases")

    def gateways(self):
        """The private URLs of the gateways (the servers of the edge's backend)."""
        with open(os.path.join(self.data, "run", "gateways-local.cfg")) as f:
            return ["http://" + line.split()[2] for line in f if line.split()[:1] == ["server"]]

    def token(self, user):
        r = self.run("token", "create", user, "--data", self.data)
        if r.returncode != 0:
            raise RuntimeError("token create %s: %s" % (user, r.stderr))
        return r.stdout.strip()

    def down(self):
        r = self.run("down", "--data", self.data, timeout=120)
        end = time.monotonic() + 30
        while farm_pids(self.data) and time.monotonic() < end:
            time.sleep(0.2)
        return r.returncode == 0


# ---- clients ----

class Ledger:
    """What the clients saw, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs = {}          # uid -> {"user", "node", "soak"}
        self.reservations = {}  # id -> {"user", "node"}
        self.requests = 0
        self.codes = {}         # status -> count
        self.bad_errors = []    # answers that are neither expected nor a JSON 503/429
        self.hangs = []         # requests that got no answer within their timeout
        self.conn_errors = []   # (start, end, what) of requests whose connection failed
        self.md5_checked = 0
        self.md5_bad = []

    def note(self, what, r, expected):
        with self.lock:
            self.requests += 1
            self.codes[r.status_code] = self.codes.get(r.status_code, 0) + 1
            if r.status_code < 400 or r.status_code in expected:
                return
            ok_json = False
            try:
                ok_json = isinstance(r.json(), dict) and bool(r.json().get("error"))
            except ValueError:
                pass
            if r.status_code not in (503, 429) or not ok_json:
                self.bad_errors.append("%s: %d %s" % (what, r.status_code, r.text[:200]))


class Client(threading.Thread):
    """One simulated CI client: runs jobs (run once, and run-forever soaks it stops), polls,
    downloads artifacts and reserves nodes, until the deadline."""

    def __init__(self, n, url, token, ledger, deadline, seed):
        super().__init__(name="client%d" % n, daemon=True)
        self.user = "ci%d" % n
        self.url, self.ledger, self.deadline = url, ledger, deadline
        self.rng = random.Random(seed)
        self.s = requests.Session()
        self.s.headers["Authorization"] = "token " + token
        self.actions = 0

    def call(self, method, path, expected=(), timeout=REQUEST_TIMEOUT, **kw):
        """One request: the answer, or None when it failed (noted in the ledger)."""
        what = "%.1f %s %s %s" % (time.monotonic() - T0, self.user, method, path)
        start = time.monotonic()
        try:
            r = self.s.request(method, self.url + path, timeout=timeout, **kw)
        except requests.Timeout:
            with self.ledger.lock:
                self.ledger.requests += 1
                self.ledger.hangs.append("%s: no answer within %d s" % (what, timeout))
            return None
        except requests.RequestException as e:
            with self.ledger.lock:
                self.ledger.requests += 1
                end = time.monotonic()
                self.ledger.conn_errors.append((start, end, "%s: %s after %.1f s: %s" % (
                    what, type(e).__name__, end - start, str(e)[-160:])))
            time.sleep(0.5)
            return None
        self.ledger.note(what, r, expected)
        if r.status_code in (503, 429):
            time.sleep(0.3 + self.rng.random() * 0.5)
        return r

    def run(self):
        while time.monotonic() < self.deadline:
            action = self.rng.choice((self.run_once, self.run_once, self.soak, self.reserve,
                                      self.poll))
            try:
                action()
            except Exception as e:  # noqa: BLE001 - a client's bug is a failed row, not a hang
                with self.ledger.lock:
                    self.ledger.bad_errors.append("%s: %s: %r" % (self.user, action.__name__, e))
            self.actions += 1

    def start_job(self, node, cases, soak="run once"):
        body = {"node_id": node, "test_pack_revision": "master", "test_cases": cases,
                "soak": soak}
        r = self.call("POST", "/api/v2/run_tests", expected=(409,), json=body)
        if r is None or r.status_code != 200:
            return None
        uid = r.json()["job_uid"]
        with self.ledger.lock:
            self.ledger.jobs[uid] = {"user": self.user, "node": node, "soak": soak}
        return uid

    def run_once(self):
        node = self.rng.choice(NODES)
        uid = self.start_job(node, self.rng.sample(RUN_ONCE, self.rng.randint(1, 3)))
        if uid is None:
            time.sleep(0.2)
            return
        while time.monotonic() < self.deadline:
            r = self.call("GET", "/api/v2/jobs%s/await_completion" % uid,
                          timeout=LONG_POLL_TIMEOUT)
            if r is not None and r.status_code == 200:
                self.download(uid)
                return

    def download(self, uid):
        """A result of the job and one of its artifacts, checked against its md5."""
        r = self.call("GET", "/api/v2/results", params={"filter": "job:" + uid})
        if r is None or r.status_code != 200 or not r.json():
            return
        res = self.rng.choice(r.json())
        d = self.call("GET", "/api/v2/results" + res["result_id"])
        if d is None or d.status_code != 200 or not d.json().get("artifacts"):
            return
        name, info = self.rng.choice(sorted(d.json()["artifacts"].items()))
        a = self.call("GET", "/api/v2/results%s/artifacts/%s" % (res["result_id"], name))
        if a is None or a.status_code != 200:
            return
        with self.ledger.lock:
            self.ledger.md5_checked += 1
            if hashlib.md5(a.content).hexdigest() != info["md5"]:
                self.ledger.md5_bad.append("%s %s" % (res["result_id"], name))

    def soak(self):
        node = self.rng.choice(NODES)
        uid = self.start_job(node, ["tests/chaos.py::test_passes", "tests/chaos.py::test_sleeps"],
                             "run forever")
        if uid is None:
            time.sleep(0.2)
            return
        time.sleep(self.rng.uniform(2, 5))
        stop_until_200(self, uid, self.deadline)

    def reserve(self):
        node = self.rng.choice(NODES)
        r = self.call("POST", "/api/v2/reservations", expected=(409,),
                      json={"node_ids": [node], "message": "chaos", "duration_secs": 60})
        if r is None or r.status_code != 200:
            time.sleep(0.2)
            return
        rid = r.json()["reservations"][0]["reservation_id"]
        with self.ledger.lock:
            self.ledger.reservations[rid] = {"user": self.user, "node": node}
        if self.rng.random() < 0.5:  # the holder uses its node
            uid = self.start_job(node, ["tests/chaos.py::test_passes"])
            if uid:
                while time.monotonic() < self.deadline:
                    r = self.call("GET", "/api/v2/jobs%s/await_completion" % uid,
                                  timeout=LONG_POLL_TIMEOUT)
                    if r is not None and r.status_code == 200:
                        break
        else:
            time.sleep(self.rng.uniform(1, 3))
        end_reservation(self, rid, self.deadline + 60)

    def poll(self):
        for path in ("/api/v2/nodes", "/api/v2/jobs", "/api/v2/reservations",
                     "/api/v2/results?limit=20", "/api/v2/nodes/%s" % self.rng.choice(NODES)):
            self.call("GET", path)
        time.sleep(0.2)


def stop_until_200(client, uid, until):
    """Stop job uid until 200 or until (monotonic): True once it has exited."""
    while time.monotonic() < until:
        r = client.call("PUT", "/api/v2/jobs%s/stop" % uid, expected=(409,))
        if r is not None and r.status_code == 200:
            return True
        time.sleep(0.5)
    return False


def end_reservation(client, rid, until):
    while time.monotonic() < until:
        r = client.call("DELETE", "/api/v2/reservations/%d" % rid)
        if r is not None and r.status_code == 204:
            return True
        time.sleep(0.5)
    return False


# ---- chaos ----

class Killer(threading.Thread):
    """SIGKILL one process of the farm every few seconds, each kind in turn in a shuffled
    order (every kind is killed, none twice before all once)."""

    def __init__(self, data, deadline, rng):
        super().__init__(name="killer", daemon=True)
        self.data, self.deadline, self.rng = data, deadline, rng
        self.kills = []  # (kind, pid, when)
        self.skipped = []

    def run(self):
        order = []
        while time.monotonic() < self.deadline - 3:
            time.sleep(self.rng.uniform(2, 4))
            if not order:
                order = list(KINDS)
                self.rng.shuffle(order)
            kind = order.pop()
            pids = pids_by_kind(self.data)[kind]
            if not pids:
                self.skipped.append(kind)  # still being restarted
                continue
            pid = self.rng.choice(pids)
            try:
                os.kill(pid, signal.SIGKILL)
                self.kills.append((kind, pid, time.monotonic()))
                log("killed %s (pid %d)" % (kind, pid))
            except ProcessLookupError:
                self.skipped.append(kind)


class Pauser(threading.Thread):
    """SIGSTOP a service replica for longer than its leases and its callers' time-outs, then
    SIGCONT it; again after a while."""

    def __init__(self, data, deadline, rng, pause_secs):
        super().__init__(name="pauser", daemon=True)
        self.data, self.deadline, self.rng, self.pause_secs = data, deadline, rng, pause_secs
        self.pauses = []  # (kind, pid, seconds)
        self.paused = None

    def run(self):
        time.sleep(5)
        while time.monotonic() + self.pause_secs < self.deadline:
            kind = self.rng.choice(PAUSABLE)
            pids = pids_by_kind(self.data)[kind]
            if not pids:
                time.sleep(1)
                continue
            pid = self.rng.choice(pids)
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            self.paused = pid
            log("paused %s (pid %d) for %d s" % (kind, pid, self.pause_secs))
            time.sleep(self.pause_secs)
            self.resume()
            self.pauses.append((kind, pid, self.pause_secs))
            log("resumed %s (pid %d)" % (kind, pid))
            time.sleep(self.rng.uniform(5, 10))

    def resume(self):
        if self.paused:
            try:
                os.kill(self.paused, signal.SIGCONT)
            except ProcessLookupError:
                pass  # the killer got it meanwhile
            self.paused = None


# ---- the checks ----

def settle(farm, tokens, timeout=120):
    """Until every process of the farm runs again, as many as it started with, and the farm
    answers with both nodes online."""
    end = time.monotonic() + timeout
    s = requests.Session()
    s.headers["Authorization"] = "token " + farm.admin_token
    last = None
    while time.monotonic() < end:
        counts = {k: len(v) for k, v in pids_by_kind(farm.data).items()}
        try:
            nodes = s.get(farm.url + "/api/v2/nodes", timeout=10)
            online = nodes.status_code == 200 and all(
                n["online"] for n in nodes.json() if n["node_id"] in NODES)
            # each gateway, straight at its private port, reaches Redis and every service
            healthy = [requests.get(url + "/healthz", timeout=10).status_code == 200
                       for url in farm.gateways()]
        except requests.RequestException:
            online, healthy = False, []
        last = (counts, online, healthy)
        if counts == EXPECTED and online and healthy and all(healthy):
            return counts
        time.sleep(0.5)
    raise AssertionError("the farm did not settle within %d s: %r" % (timeout, last))


def fetch(s, url, **kw):
    """GET until an answer that is not a 503 or 429 (the farm is still settling): that answer."""
    end = time.monotonic() + 60
    while True:
        try:
            r = s.get(url, timeout=60, **kw)
            if r.status_code not in (503, 429) or time.monotonic() > end:
                return r
        except requests.RequestException:
            if time.monotonic() > end:
                raise
        time.sleep(0.5)


def parse_time(t):
    """An API time (ISO 8601 with an offset) as seconds since the epoch."""
    from datetime import datetime
    return datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()


def check(farm, ledger, clients, killer, pauser, tokens, rows):
    """Fill rows with (what, figure, ok)."""
    by_user = {c.user: c for c in clients}

    def add(what, figure, ok, detail=()):
        rows.append((what, figure, ok))
        for d in list(detail)[:10]:
            print("    " + d)

    counts = settle(farm, tokens)
    log("settled")
    add("processes running after the chaos (as started), every gateway healthy",
        sum(counts.values()), True)

    # every reservation ended by its owner first: a job stop needs the node free of others
    until = time.monotonic() + 90
    for rid, info in sorted(ledger.reservations.items()):
        end_reservation(by_user[info["user"]], rid, until)
    # every acknowledged job stopped (those that ended answer 200 at once)
    not_exited = []
    for uid, info in sorted(ledger.jobs.items()):
        if not stop_until_200(by_user[info["user"]], uid, until):
            not_exited.append(uid)
    log("every job stopped")
    lost, running, jobs = [], [], {}
    for uid, info in sorted(ledger.jobs.items()):
        r = by_user[info["user"]].call("GET", "/api/v2/jobs" + uid)
        if r is None or r.status_code != 200:
            lost.append("%s: %s" % (uid, r.status_code if r is not None else "no answer"))
            continue
        jobs[uid] = r.json()
        if r.json()["status"] != "exited":
            running.append(uid)
    add("jobs acknowledged", len(ledger.jobs), len(ledger.jobs) > 0)
    add("  of them lost (not found)", len(lost), not lost, lost)
    add("  of them not ended", len(running) + len(not_exited), not running and not not_exited,
        running + not_exited)

    # every counted result stored, listed, its artifacts as their md5 says; counts = stored
    mismatched, unstored, bad_md5, results_n, artifacts_n = [], [], [], 0, 0
    admin = requests.Session()
    admin.headers["Authorization"] = "token " + farm.admin_token
    time.sleep(2)  # reports of the last runs land
    downloads = []  # (result id, artifact, md5)
    for uid, job in sorted(jobs.items()):
        listed = fetch(admin, farm.url + "/api/v2/results",
                       params={"filter": "job:" + uid, "limit": 1000})
        if listed.status_code != 200:
            unstored.append("%s: listing %d" % (uid, listed.status_code))
            continue
        results = listed.json()
        stored = {k: sum(r["result"] == k for r in results) for k in ("pass", "fail", "error")}
        now = fetch(admin, farm.url + "/api/v2/jobs" + uid).json()["result_counts"]
        if {k: now[k] for k in stored} != stored or len({r["result_id"] for r in results}) \
                != len(results):
            mismatched.append("%s: result_counts %s, stored %s" % (uid, now, stored))
        if now != job["result_counts"]:
            mismatched.append("%s: result_counts changed after the job exited: %s -> %s" % (
                uid, job["result_counts"], now))
        for res in results:
            results_n += 1
            if res["result"] == "error" and "during the test" in (res["failure_reason"] or ""):
                continue  # recorded for a lost run: no artifacts
            d = fetch(admin, farm.url + "/api/v2/results" + res["result_id"])
            if d.status_code != 200:
                unstored.append("%s: %d" % (res["result_id"], d.status_code))
                continue
            for name, info in d.json()["artifacts"].items():
                downloads.append((res["result_id"], name, info["md5"]))

    def download(item):
        rid, name, md5 = item
        r = fetch(admin, farm.url + "/api/v2/results%s/artifacts/%s" % (rid, name))
        if r.status_code != 200 or hashlib.md5(r.content).hexdigest() != md5:
            return "%s %s: %d" % (rid, name, r.status_code)
        return None

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for bad in pool.map(download, downloads):
            artifacts_n += 1
            if bad:
                bad_md5.append(bad)
    log("results and artifacts checked")
    add("results stored and listed", results_n, not unstored, unstored)
    add("  result_counts equal to the stored results", len(jobs) - len(mismatched),
        not mismatched, mismatched)
    add("  artifacts checked against their md5 (at the end)", artifacts_n, not bad_md5, bad_md5)
    add("  artifacts checked against their md5 (by clients)", ledger.md5_checked,
        not ledger.md5_bad, ledger.md5_bad)

    # no node held by two reservations, or by a reservation and another user's job
    held = []
    for rid, info in sorted(ledger.reservations.items()):
        r = fetch(by_user[info["user"]].s, farm.url + "/api/v2/reservations/%d" % rid).json()
        held.append((info["node"], r["username"], parse_time(r["start_time"]),
                     parse_time(r["end_time"]) if r.get("end_time") else time.time(), rid))
    overlaps = []
    for i, a in enumerate(held):
        for b in held[i + 1:]:
            # start_time is cut to the second: a holder that follows another within the same
            # second seems to start up to 1 s early
            if a[0] == b[0] and a[2] + 1 < b[3] and b[2] + 1 < a[3]:
                overlaps.append("reservations %d and %d on %s" % (a[4], b[4], a[0]))
        for uid, job in jobs.items():
            j_start, j_end = parse_time(job["start_time"]), parse_time(job["end_time"])
            if ledger.jobs[uid]["node"] == a[0] and ledger.jobs[uid]["user"] != a[1] \
                    and j_start < a[3] and a[2] + 1 < j_end:
                overlaps.append("reservation %d of %s and job %s of %s on %s" % (
                    a[4], a[1], uid, ledger.jobs[uid]["user"], a[0]))
    add("reservations (none overlapping another or another user's job)", len(held),
        not overlaps, overlaps)

    # client errors
    add("client requests", ledger.requests, True)
    add("  answers by status", " ".join("%d:%d" % kv for kv in sorted(ledger.codes.items())),
        True)
    add("  errors not a JSON 503/429 (409 is a busy node's)", len(ledger.bad_errors),
        not ledger.bad_errors, ledger.bad_errors)
    add("  requests with no answer within their time-out", len(ledger.hangs), not ledger.hangs,
        ledger.hangs)
    # A gateway killed under a request that is not the first of its keep-alive connection: the
    # edge (HAProxy) closes the connection without an answer, as the gateway did, so that the
    # client may retry as after a keep-alive race (docs/operations.md, "The edge")
    gateway_kills = [t for k, _, t in killer.kills if k == "gateway"]
    under_kill = [m for t0, t1, m in ledger.conn_errors
                  if any(t0 - 0.5 <= t <= t1 for t in gateway_kills)]
    other = [m for t0, t1, m in ledger.conn_errors
             if not any(t0 - 0.5 <= t <= t1 for t in gateway_kills)]
    add("  connections closed without an answer by a gateway killed under them",
        len(under_kill), True, under_kill)
    add("  connections that failed otherwise", len(other), not other, other)
    kinds = sorted({k for k, _, _ in killer.kills})
    add("processes SIGKILLed (%s)" % ", ".join(kinds), len(killer.kills),
        len(killer.kills) > 0)
    add("service replicas SIGSTOPped (%s)" % ", ".join(
        "%s %d s" % (k, s) for k, _, s in pauser.pauses), len(pauser.pauses), True)


def sanitizer_reports(data):
    """Sanitizer reports in the farm's logs, but for LeakSanitizer's reports of indirect leaks
    only: a process SIGKILLed while another of its threads ... (noise, counted apart)."""
    reports, indirect = [], 0
    logs = os.path.join(data, "logs")
    for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else ():
        with open(os.path.join(logs, name), "rb") as f:
            text = f.read().decode("utf-8", "replace")
        for chunk in text.split("=" * 65)[1:]:
            if not any(m in chunk for m in SANITIZER_MARKS):
                continue
            if "ERROR: LeakSanitizer" in chunk and "Direct leak" not in chunk:
                indirect += 1
                continue
            reports.append("%s: %s" % (name, chunk.strip().splitlines()[0][:200]))
        if "runtime error:" in text and "runtime error:" not in "".join(reports):
            reports.append("%s: %s" % (name, text[text.index("runtime error:"):][:200]))
    return reports, indirect


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--secs", type=int, default=60, help="how long the chaos lasts (at least 20)")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--keep", action="store_true", help="keep the farm's logs even if all held")
    a = p.parse_args()
    if a.secs < 20 or a.clients < 1:
        p.error("--secs takes 20 or more, --clients 1 or more")
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    build = os.environ.get("STBF_FARM_BUILD", os.path.join(REPO, "build"))
    build = os.path.abspath(build)
    rng = random.Random(seed)
    # longer than the sweep's lease, the jobs service's stop and the gateway's calls; a long run
    # pauses past the results' finish lease (60 s) too
    pause = 12 if a.secs < 300 else 65
    farm = Stbfarm(build)
    log("chaos: %d s, %d clients, seed %d, build %s, data %s" % (
        a.secs, a.clients, seed, build, farm.data))
    rows, ok = [], False
    pauser = None
    try:
        farm.up()
        log("farm up at %s" % farm.url)
        tokens = {"ci%d" % n: farm.token("ci%d" % n) for n in range(a.clients)}
        deadline = time.monotonic() + a.secs
        ledger = Ledger()
        clients = [Client(n, farm.url, tokens["ci%d" % n], ledger, deadline, rng.random())
                   for n in range(a.clients)]
        killer = Killer(farm.data, deadline, random.Random(rng.random()))
        pauser = Pauser(farm.data, deadline, random.Random(rng.random()), pause)
        for t in clients + [killer, pauser]:
            t.start()
        killer.join()
        pauser.join()
        for c in clients:
            # a client's last request is at most a long poll away
            c.join(LONG_POLL_TIMEOUT + 130)
        stuck = [c.user for c in clients if c.is_alive()]
        log("chaos over: %d client actions; checking" % sum(c.actions for c in clients))
        check(farm, ledger, clients, killer, pauser, tokens, rows)
        rows.append(("clients that did not stop by themselves", len(stuck), not stuck))
    except Exception as e:  # noqa: BLE001 - reported as a failed row, the farm still stopped
        rows.append(("the chaos test ran to its end", repr(e)[:300], False))
    finally:
        if pauser:
            pauser.resume()
        down = farm.down()
        leaked = farm_pids(farm.data)
        rows.append(("processes left after ./stbfarm down", len(leaked), down and not leaked))
        for pid, cmd in list(leaked.items())[:10]:
            print("    %d %s" % (pid, cmd[:200]))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reports, indirect = sanitizer_reports(farm.data)
        rows.append(("sanitizer reports in the logs (LSan's indirect-only: %d)" % indirect,
                     len(reports), not reports))
        for line in reports[:10]:
            print("    " + line)
    ok = all(r[2] for r in rows)
    width = max(len(r[0]) for r in rows)
    print("\nchaos table (%d s, seed %d, %s):" % (a.secs, seed, os.path.basename(build)))
    for what, figure, good in rows:
        print("  %-*s  %-12s %s" % (width, what, figure, "ok" if good else "FAILED"))
    print("total %.0f s" % (time.monotonic() - T0))
    if ok and not a.keep:
        shutil.rmtree(farm.data, ignore_errors=True)
    else:
        print("the farm's logs: %s/logs" % farm.data)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

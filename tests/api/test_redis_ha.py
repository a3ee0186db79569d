"""A Redis that fails over: `./stbfarm up --redis-ha` runs three Redis servers (a master, two
replicas) and three sentinels, and every process finds the master through the sentinels. The
master's SIGKILL under load costs a few seconds of 503s, never an acknowledged job,
reservation, token or result; the killed server comes back as a replica; a write that no
replica confirms is not acknowledged."""

import hashlib
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from farm import BUILD, REPO, farm_pids, free_port, ready_env, wait_until

STBFARM = os.path.join(REPO, "stbfarm")
NODE = "stb-tester-000000000001"  # jobs queue on it
HELD = "stb-tester-000000000002"  # reservations: never waiting behind the queue of jobs
CASE = "tests/menu.py::test_that_back_closes_the_menu"


@pytest.fixture(scope="module")
def ha(tmp_path_factory):
    data = str(tmp_path_factory.mktemp("ha") / "data")
    port = free_port()
    r = subprocess.run([STBFARM, "up", "--redis-ha", "--detach", "--data", data, "--port",
                        str(port), "--nodes", "2", "--rate-limit", "off"],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, STBF_FARM_BUILD=BUILD))
    assert r.returncode == 0, r.stderr
    env = ready_env(r.stdout)
    farm = HaFarm(data, env["STBF_URL"], env["STBF_TOKEN"])
    yield farm
    subprocess.run([STBFARM, "down", "--data", data], capture_output=True, timeout=60)
    wait_until(lambda: not farm_pids(data), 20, what="every process gone")


class HaFarm:
    def __init__(self, data, url, token):
        self.data, self.url, self.token = data, url, token
        with open(os.path.join(data, "redis-users", "admin.password")) as f:
            self.admin_password = f.read().strip()
        addr = open(os.path.join(self.run_dir(), "redis.addr")).read().strip()
        assert addr.startswith("sentinel://") and addr.endswith("/stbfarm"), addr
        self.sentinels = [hp.rsplit(":", 1) for hp in addr[11:].split("/")[0].split(",")]

    def run_dir(self):
        """DATA/run, or /tmp/stbfarm-<hash of DATA> when that path is long (./stbfarm)."""
        d = os.path.join(self.data, "run")
        if len(d) <= 60:
            return d
        return "/tmp/stbfarm-" + hashlib.sha256(self.data.encode()).hexdigest()[:12]

    def cli(self, host, port, *args):
        """redis-cli as the admin role (the password in the environment, never argv)."""
        r = subprocess.run(["redis-cli", "--no-auth-warning", "--user", "admin", "-h", host,
                            "-p", str(port)] + list(args), capture_output=True, text=True,
                           env=dict(os.environ, REDISCLI_AUTH=self.admin_password), timeout=10)
        return r.stdout.strip()

    def master(self):
        """(host, port) of the master the sentinels name, or None."""
        for host, port in self.sentinels:
            out = self.cli(host, port, "SENTINEL", "get-master-addr-by-name", "stbfarm")
            if len(out.split("\n")) == 2:
                h, p = out.split("\n")
                return h, int(p)
        return None

    def server_pid(self, port):
        pids = [p for p, cmd in farm_pids(self.data, "redis-server").items()
                if ("127.0.0.1:%d" % port) in cmd]
        assert len(pids) == 1, pids
        return pids[0]

    def replica_pids(self):
        master = self.master()
        return [p for p, cmd in farm_pids(self.data, "redis-server").items()
                if "127.0.0.1:%d" % master[1] not in cmd]

    def headers(self, token=None):
        return {"Authorization": "token " + (token or self.token)}


class Load:
    """Clients that keep writing: reservations made and ended, tokens made, jobs queued. Each
    write acknowledged (2xx) is in a ledger with the time its request was sent; every other
    answer must be a JSON 503 (or the 409 of a node that is busy)."""

    def __init__(self, farm):
        self.farm = farm
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = []  # (time sent, kind, id)
        self.refused = []  # (time, status, body)
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self.reservations, self.tokens, self.jobs)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def call(self, method, path, ok, **kw):
        """The answer, with r.sent the time the request went; None when refused."""
        sent = time.time()
        try:
            r = requests.request(method, self.farm.url + path, headers=self.farm.headers(),
                                 timeout=30, **kw)
        except requests.RequestException as e:
            with self.lock:
                self.refused.append((time.time(), 0, repr(e)))
            return None
        if r.status_code not in ok:
            with self.lock:
                self.refused.append((time.time(), r.status_code, r.text[:300]))
            return None
        r.sent = sent
        return r

    def note(self, r, kind, ident):
        """r, an answer of call(), acknowledged a write of kind."""
        with self.lock:
            self.acked.append((r.sent, kind, ident))

    def reservations(self):
        while not self.stop.is_set():
            r = self.call("POST", "/api/v2/reservations", (200, 201),
                          json={"node_ids": [HELD], "message": "failover"})
            if r is not None:
                rid = r.json()["reservations"][0]["reservation_id"]
                self.note(r, "reservation", rid)
                while not self.stop.is_set() and self.call(
                        "DELETE", "/api/v2/reservations/%d" % rid, (200, 204)) is None:
                    time.sleep(0.2)
            else:
                self.end_held()
            time.sleep(0.05)

    def end_held(self):
        """A reservation refused with a 503 may still have been made (the new master has it,
        no replica confirmed it yet): a client that wants the node again ends what it holds."""
        try:
            r = requests.get(self.farm.url + "/api/v2/reservations",
                             headers=self.farm.headers(), timeout=30)
            for held in r.json()["reservations"] if r.status_code == 200 else ():
                if held["node_id"] == HELD:
                    requests.delete(self.farm.url + "/api/v2/reservations/%d"
                                    % held["reservation_id"], headers=self.farm.headers(),
                                    timeout=30)
        except requests.RequestException:
            pass

    def tokens(self):
        while not self.stop.is_set():
            r = self.call("POST", "/api/v2/tokens", (200, 201), json={"note": "failover"})
            if r is not None:
                self.note(r, "token", r.json()["token"])
            time.sleep(0.3)  # a user has at most 200 tokens

    def jobs(self):
        while not self.stop.is_set():
            r = self.call("POST", "/api/v2/run_tests", (200,),
                          json={"node_id": NODE, "test_pack_revision": "master",
                                "test_cases": [CASE], "queue": True})
            if r is not None:
                self.note(r, "job", r.json()["job_uid"])
            time.sleep(0.5)

    def since(self, t):
        """The writes acknowledged of requests sent after t: one in flight at the kill may have
        been acknowledged by the old master before it died."""
        with self.lock:
            return [a for a in self.acked if a[0] > t]


def test_the_farm_finds_its_master_through_the_sentinels(ha):
    r = requests.get(ha.url + "/api/v2/nodes", headers=ha.headers())
    assert r.status_code == 200
    master = ha.master()
    assert master and ha.cli(master[0], master[1], "ROLE").split("\n")[0] == "master"
    # two replicas follow it, and every process reaches the master only through the sentinels
    assert len(ha.replica_pids()) == 2
    for pid, cmd in farm_pids(ha.data, "stbfarm-").items():
        if "stbfarm-vstb" in cmd or "stbfarm-nodesvc" in cmd or "stbfarm-broker" in cmd:
            continue
        environ = open("/proc/%d/environ" % pid, "rb").read()
        assert b"STBF_REDIS=sentinel://" in environ, cmd


def test_sigkill_of_the_master_under_load_loses_nothing_acknowledged(ha):
    with Load(ha) as load:
        wait_until(lambda: {a[1] for a in load.since(0)} >= {"reservation", "token", "job"}, 60,
                   what="every kind of write acknowledged before the kill")
        host, port = ha.master()
        killed = time.time()
        os.kill(ha.server_pid(port), signal.SIGKILL)
        # the farm answers writes again (the target is 10 s: bench/redis_ha.sh measures it)
        wait_until(lambda: {a[1] for a in load.since(killed)} >= {"reservation", "token"}, 60,
                   what="writes acknowledged again after the master's death")
        back = min(a[0] for a in load.since(killed)) - killed
        print("the first write acknowledged after the master's SIGKILL was sent %.1f s after it"
              % back)
        assert ha.master() != (host, port)
        time.sleep(3)
    # every client error was a clear JSON 503 while there was no master, or a busy node
    for when, status, body in load.refused:
        assert status in (503, 409), (status, body)
        assert body.startswith("{"), body
    # nothing acknowledged is lost
    acked = load.since(0)
    assert acked
    for _, kind, ident in acked:
        if kind == "reservation":
            r = requests.get(ha.url + "/api/v2/reservations/%d" % ident, headers=ha.headers())
        elif kind == "token":
            r = requests.get(ha.url + "/api/v2/nodes", headers=ha.headers(ident))
        else:
            r = requests.get(ha.url + "/api/v2/jobs" + ident, headers=ha.headers())
        assert r.status_code == 200, (kind, ident, r.status_code, r.text[:200])
    # the killed server came back as a replica of the new master, and is one of its two again
    wait_until(lambda: ha.cli(host, port, "ROLE").split("\n")[0] == "slave", 60,
               what="the old master back as a replica")
    master = ha.master()
    wait_until(lambda: ha.cli(master[0], master[1], "WAIT", "2", "1000") == "2", 60,
               what="two replicas in step again")


def test_a_write_no_replica_confirms_is_not_acknowledged(ha):
    stopped = ha.replica_pids()
    assert len(stopped) == 2
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        r = requests.post(ha.url + "/api/v2/tokens", headers=ha.headers(), json={"note": "lone"})
        assert r.status_code == 503, r.text
        assert "replica" in r.json()["error"]
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    wait_until(lambda: requests.post(ha.url + "/api/v2/tokens", headers=ha.headers(),
                                     json={"note": "again"}).status_code == 201, 30,
               what="tokens made again once the replicas are back")

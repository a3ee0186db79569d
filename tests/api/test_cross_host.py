"""A farm across two hosts, built here with network namespaces: the portal (Redis, broker,
services, gateway) in one, two node agents with their vstbs in the other, joined by a veth pair
with addresses of the test's own (10.203.0.1/30 and .2) and nothing else routed, the link slowed
by a tbf qdisc. Every link between the hosts is mutual TLS with the credentials of ./stbfarm ca
init and node enroll. The test reaches the gateway through a unix socket (tests/api/nethost.py
relays it), so no traffic leaves the namespaces. Needs root and `ip netns`."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from farm import Farm, Pki, binary, commit_files, wait_until
from results_push import record

HERE = os.path.dirname(os.path.abspath(__file__))
PORTAL_IP, NODE_IP = "10.203.0.1", "10.203.0.2"
BROKER = "tls+tcp://%s:7100" % PORTAL_IP
NODE_PORT = 7300  # node n's agent listens on NODE_PORT + n

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tc"),
    reason="the cross-host test makes network namespaces: it needs root, ip and tc")


def sh(*argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode:
        raise AssertionError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r.stdout


class Hosts:
    """Two namespaces and the veth pair between them; .down() removes everything."""

    def __init__(self):
        tag = "%d" % (os.getpid() % 100000)
        self.portal, self.nodes = "sfportal" + tag, "sfnodes" + tag
        self.veth_portal, self.veth_nodes = "sfp" + tag, "sfn" + tag
        self.made = []

    def up(self):
        for ns in (self.portal, self.nodes):
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
        sh("ip", "link", "add", self.veth_portal, "type", "veth", "peer", "name", self.veth_nodes)
        for ns, dev, ip in ((self.portal, self.veth_portal, PORTAL_IP),
                            (self.nodes, self.veth_nodes, NODE_IP)):
            sh("ip", "link", "set", dev, "netns", ns)
            sh("ip", "-n", ns, "addr", "add", ip + "/30", "dev", dev)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")
            # a slow link between the hosts (this kernel has no netem)
            sh("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf",
               "rate", "16mbit", "burst", "64kbit", "latency", "300ms")
        return self

    def link(self, up):
        sh("ip", "-n", self.nodes, "link", "set", self.veth_nodes, "up" if up else "down")

    def down(self):
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.made = []

    def run_in(self, ns):
        return ["ip", "netns", "exec", ns]


@pytest.fixture(scope="module")
def hosts():
    h = Hosts()
    try:
        h.up()
    except AssertionError as e:
        h.down()
        pytest.skip("cannot make network namespaces here: %s" % e)
    yield h
    h.down()


@pytest.fixture(scope="module")
def xfarm(hosts):
    data = tempfile.mkdtemp(prefix="sfx", dir="/tmp")
    farm_tls = os.path.join(data, "tls", "farm")
    gw_sock = os.path.join(data, "gateway.sock")

    def prefix(key):
        if key.startswith(("vstb", "nodesvc", "node-")):
            return hosts.run_in(hosts.nodes)
        if key == "relay-root":
            return []
        return hosts.run_in(hosts.portal)

    f = Farm(nodes=2, broker_urls=[BROKER], env={"STBF_TLS_DIR": farm_tls}, prefix=prefix,
             node_args=lambda n: [
                 "--broker", BROKER, "--tls-dir", f.pki.node(Farm.node_id(n)),
                 "--listen", "tls+tcp://%s:%d" % (NODE_IP, NODE_PORT + n)])
    commit_files(f.test_pack, {"tests/slow.py": (
        "import time\n\n\ndef test_that_takes_a_minute():\n    time.sleep(60)\n")})
    f.pki = Pki(data, f.env["STBF_REDIS"])
    f.hosts, f.data = hosts, data
    n_nodes, f.n_nodes = f.n_nodes, 0  # nodes are enrolled once Redis runs
    # The gateway listens on the portal's loopback; the test reaches it through a unix socket.
    start_gateway = f.start_gateway

    def start_gateway_relayed(i=0):
        p = start_gateway(i)
        port = f.ports[i]
        f._add("relay-portal", [sys.executable, os.path.join(HERE, "nethost.py"), "relay",
                                "unix:" + gw_sock, "tcp:127.0.0.1:%d" % port])
        f._add("relay-root", [sys.executable, os.path.join(HERE, "nethost.py"), "relay",
                              "tcp:127.0.0.1:%d" % port, "unix:" + gw_sock])
        return p
    f.start_gateway = start_gateway_relayed
    f.start()
    try:
        for n in range(1, n_nodes + 1):
            f.pki.enroll(Farm.node_id(n))
        f.n_nodes = n_nodes
        for n in range(1, n_nodes + 1):
            f.start_vstb(n)
            f.start_nodesvc(n)
        for n in range(1, n_nodes + 1):
            f.wait_node(n, timeout=60)
    except BaseException:
        f.print_logs()
        f.stop()
        raise
    yield f
    try:
        f.stop()
    finally:
        shutil.rmtree(data, ignore_errors=True)


def in_nodes(xfarm, *argv):
    """Run argv in the nodes' namespace."""
    return subprocess.run(xfarm.hosts.run_in(xfarm.hosts.nodes) + list(argv),
                          capture_output=True, text=True, env=xfarm.env)


def probe(xfarm, host, port, cred=None):
    """Whether a TLS client in the nodes' namespace gets a connection kept by host:port."""
    args = [sys.executable, os.path.join(HERE, "nethost.py"), "probe", host, str(port)]
    r = in_nodes(xfarm, *(args + ([cred] if cred else [])))
    assert r.returncode in (0, 3), r.stderr
    return r.returncode == 0


def push_from_nodes(xfarm, cred, node):
    """stbfarm-admin result push from the nodes' host with credential directory cred."""
    path = os.path.join(xfarm.dir, "push-%s.json" % node)
    with open(path, "w") as fh:
        json.dump(record(node_id=node, job_uid="/%s/0a23/1" % node), fh)
    return in_nodes(xfarm, binary("admin"), "--broker", BROKER, "--tls-dir", cred,
                    "result", "push", "--json", path)


def test_jobs_screenshots_and_presses_work_across_the_hosts(xfarm):
    s = xfarm.session()
    for n in (1, 2):
        node = Farm.node_id(n)
        r = s.get("/api/v2/nodes/%s" % node)
        assert r.json()["online"] is True, r.text
        r = s.get("/api/v2/nodes/%s/screenshot.png" % node)
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG"), r.text[:200]
        r = s.post("/api/v2/nodes/%s/press" % node, json={"key": "KEY_OK"})
        assert r.status_code == 200, r.text
    job, results = xfarm.run_job(s, ["tests/examples.py::test_that_writes_custom_artifacts"],
                                 node=2)
    assert [x["result"] for x in results] == ["pass"], results
    rid = results[0]["result_id"]
    detail = s.get("/api/v2/results" + rid).json()
    assert "my-custom-logfile.log" in detail["artifacts"], detail
    r = s.get("/api/v2/results%s/artifacts/my-custom-logfile.log" % rid)
    assert r.status_code == 200 and r.content.startswith(b"frames seen"), r.text


def test_without_the_right_credential_nothing_gets_in_from_the_nodes_host(xfarm):
    node1, node2 = Farm.node_id(1), Farm.node_id(2)
    cred1 = xfarm.pki.node(node1)
    # no certificate: neither the broker nor an agent answers
    assert not probe(xfarm, PORTAL_IP, 7100)
    assert not probe(xfarm, NODE_IP, NODE_PORT + 1)
    # a node's certificate reaches the broker, never another agent
    assert probe(xfarm, PORTAL_IP, 7100, cred1)
    assert not probe(xfarm, NODE_IP, NODE_PORT + 2, cred1)
    # node 1's credential neither reports nor uploads for node 2
    r = push_from_nodes(xfarm, cred1, node2)
    assert r.returncode != 0 and "cannot speak for node %s" % node2 in r.stderr, r.stderr
    assert push_from_nodes(xfarm, cred1, node1).returncode == 0
    # ... nor registers as another node
    other = Farm.node_id(9)
    p = xfarm._add("node-impostor", [
        binary("nodesvc"), "--node-id", other, "--broker", BROKER, "--tls-dir", cred1,
        "--listen", "ipc://%s/impostor.sock" % xfarm.dir,
        "--video-source", "unix:" + xfarm.vstb_socket(1, "video"), "--video-format", "mpjpeg",
        "--work-dir", os.path.join(xfarm.dir, "impostor")])
    try:
        wait_until(lambda: "cannot speak for node %s" % other in p.log(), 60,
                   what="the impostor's heartbeat refused")
        assert xfarm.session("admin").get("/api/v2/nodes/" + other).status_code == 404
    finally:
        p.stop()


def test_a_revoked_node_can_neither_register_nor_upload(xfarm):
    node = Farm.node_id(2)
    kept = os.path.join(xfarm.dir, "revoked-credential")
    shutil.copytree(xfarm.pki.node(node), kept)
    xfarm.pki.revoke(node)
    s = xfarm.session("admin")
    assert s.get("/api/v2/nodes/" + node).json()["online"] is False
    agent = xfarm.proc("nodesvc2")
    wait_until(lambda: "not enrolled, or its enrolment was revoked" in agent.log(), 60,
               what="the revoked node's heartbeat refused")
    assert s.get("/api/v2/nodes/" + node).json()["online"] is False
    r = push_from_nodes(xfarm, kept, node)
    assert r.returncode != 0 and "revoked" in r.stderr, r.stderr
    xfarm.pki.enroll(node)  # back for the tests after this one
    agent.stop()
    xfarm.start_nodesvc(2)
    xfarm.wait_node(2, timeout=60)


def test_a_cut_link_ends_the_running_job_in_error_and_the_node_comes_back(xfarm):
    s = xfarm.session()
    node = Farm.node_id(1)
    r = s.post("/api/v2/run_tests", json={
        "node_id": node, "test_pack_revision": "master",
        "test_cases": ["tests/slow.py::test_that_takes_a_minute"]})
    assert r.status_code == 200, r.text
    uid = r.json()["job_uid"]
    agent = xfarm.proc("nodesvc1")
    wait_until(lambda: "test_that_takes_a_minute" in agent.log() or
               s.get("/api/v2/jobs" + uid).json()["status"] == "running", 60,
               what="the job running")
    time.sleep(3)  # the test case under way
    xfarm.hosts.link(False)
    try:
        time.sleep(20)
    finally:
        xfarm.hosts.link(True)
    end = time.monotonic() + 180
    while True:
        assert time.monotonic() < end, "job %s did not end" % uid
        r = s.get("/api/v2/jobs%s/await_completion" % uid, timeout=90)
        assert r.status_code in (200, 202), r.text
        if r.status_code == 200:
            break
    results = s.get("/api/v2/results", params={"filter": "job:" + uid}).json()
    assert "error" in [x["result"] for x in results], results
    assert r.json()["result_counts"]["error"] >= 1, r.json()
    xfarm.wait_node(1, timeout=60)  # back online by itself
    assert s.get("/api/v2/nodes/" + node).json()["online"] is True

"""Mutual TLS between the farm's processes (lib/sf_link.c) and who may call what (lib/sf_caller.c):
a farm whose broker and node agent listen on tls+tcp:// with the credentials ./stbfarm ca init
and ./stbfarm node enroll make; a node that speaks only for itself, and not at all once revoked;
and the rules on which links a process may open at all."""

import os
import shutil
import socket
import subprocess

import pytest

import nethost
from farm import REPO, Farm, Pki, Process, binary, wait_until
from results_push import push, record

NODE = Farm.node_id(1)


def free_port_block(n):
    """A first port of n consecutive free ones on 127.0.0.1 (a broker takes two per service)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + n > 65535:
            continue
        socks = []
        try:
            for p in range(first, first + n):
                t = socket.socket()
                socks.append(t)
                # as nng binds: a port that only has connections in TIME_WAIT is free
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                t.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
        finally:
            for t in socks:
                t.close()
    raise AssertionError("no block of %d free ports" % n)


@pytest.fixture(scope="module")
def tls_farm(tmp_path_factory):
    port = free_port_block(8)
    agent_port = free_port_block(1)
    data = str(tmp_path_factory.mktemp("pki"))
    f = Farm(nodes=1, broker_urls=["tls+tcp://127.0.0.1:%d" % port],
             env={"STBF_TLS_DIR": os.path.join(data, "tls", "farm")},
             node_args=lambda n: ["--tls-dir", f.pki.node(NODE),
                                  "--listen", "tls+tcp://127.0.0.1:%d" % agent_port])
    f.pki = Pki(data, f.env["STBF_REDIS"])
    f.broker_port, f.agent_port = port, agent_port
    f.n_nodes = 0  # the node is enrolled once Redis runs, then started
    f.start()
    try:
        f.pki.enroll(NODE)
        f.n_nodes = 1
        f.start_vstb(1)
        f.start_nodesvc(1)
        f.wait_node(1)
    except BaseException:
        f.print_logs()
        f.stop()
        raise
    yield f
    f.stop()


def handshake(port, cred=None):
    """Whether a TLS client with credential directory cred (None: no certificate) completes a
    handshake with 127.0.0.1:port and the server keeps the connection."""
    return nethost.probe("127.0.0.1", port, cred)


def test_a_farm_over_tls_runs_jobs_and_reaches_its_node(tls_farm):
    assert "listening on tls+tcp://127.0.0.1:%d" % tls_farm.broker_port in \
        tls_farm.proc("broker0").log()
    s = tls_farm.session()
    r = s.get("/api/v2/nodes/%s/screenshot.png" % NODE)
    assert r.status_code == 200, r.text
    r = s.post("/api/v2/nodes/%s/press" % NODE, json={"key": "KEY_OK"})
    assert r.status_code == 200, r.text
    job, results = tls_farm.run_job(s, ["tests/examples.py::test_that_writes_custom_artifacts"])
    assert [x["result"] for x in results] == ["pass"], results
    detail = s.get("/api/v2/results" + results[0]["result_id"]).json()
    assert "my-custom-logfile.log" in detail["artifacts"], detail
    r = s.get("/api/v2/results%s/artifacts/my-custom-logfile.log" % results[0]["result_id"])
    assert r.status_code == 200 and r.content.startswith(b"frames seen"), r.text


def test_the_broker_refuses_a_client_without_a_farm_or_agent_certificate(tls_farm, tmp_path):
    assert handshake(tls_farm.broker_port, tls_farm.pki.farm)
    assert handshake(tls_farm.broker_port, tls_farm.pki.node(NODE))
    assert not handshake(tls_farm.broker_port)
    stranger = Pki(str(tmp_path))  # another farm's authorities: not trusted by this one
    assert not handshake(tls_farm.broker_port, stranger.farm)


def test_a_node_agent_accepts_only_the_farm(tls_farm, tmp_path):
    assert handshake(tls_farm.agent_port, tls_farm.pki.farm)
    # another agent's certificate is no way in: only farm services call agents
    other = tls_farm.pki.enroll("stb-tester-other")
    assert not handshake(tls_farm.agent_port, other)
    assert not handshake(tls_farm.agent_port)


def push_as(farm, cred, node, check=False):
    """stbfarm-admin result push with credential directory cred, of a result naming node."""
    job = "/%s/0a23/1" % node
    return push(farm, record(node_id=node, job_uid=job), None, "--tls-dir", cred, check=check)


def test_a_node_records_results_of_its_own_only(tls_farm):
    r = push_as(tls_farm, tls_farm.pki.node(NODE), NODE)
    assert r.returncode == 0, r.stderr
    r = push_as(tls_farm, tls_farm.pki.node(NODE), Farm.node_id(2))
    assert r.returncode != 0 and "cannot speak for node %s" % Farm.node_id(2) in r.stderr, \
        r.stderr
    r = push_as(tls_farm, tls_farm.pki.farm, Farm.node_id(2))
    assert r.returncode == 0, r.stderr  # the farm records for any node (a run its node lost)


def test_a_node_cannot_register_as_another(tls_farm):
    """An agent with node 1's credential that calls itself node 7 is refused: node 7 never
    appears, and the agent says why."""
    other = Farm.node_id(7)
    p = tls_farm._add("impostor", [
        binary("nodesvc"), "--node-id", other, "--tls-dir", tls_farm.pki.node(NODE),
        "--listen", "ipc://%s/impostor.sock" % tls_farm.dir, "--video-source",
        "unix:" + tls_farm.vstb_socket(1, "video"), "--video-format", "mpjpeg",
        "--work-dir", os.path.join(tls_farm.dir, "impostor")])
    try:
        wait_until(lambda: "cannot speak for node %s" % other in p.log(), 30,
                   what="the impostor's heartbeat refused")
        r = tls_farm.session("admin").get("/api/v2/nodes/%s" % other)
        assert r.status_code == 404, r.text
    finally:
        p.stop()


def test_a_revoked_node_is_refused_at_once_and_a_new_enrolment_lets_it_back(tls_farm):
    s = tls_farm.session("admin")
    tls_farm.pki.revoke(NODE)
    r = s.get("/api/v2/nodes/%s" % NODE)
    assert r.status_code == 200 and r.json()["online"] is False, r.text
    r = push_as(tls_farm, tls_farm.pki.farm, NODE)  # the farm still can
    assert r.returncode == 0, r.stderr
    agent = tls_farm.proc("nodesvc1")
    wait_until(lambda: "not enrolled, or its enrolment was revoked" in agent.log(), 30,
               what="the revoked node's heartbeat refused")
    assert s.get("/api/v2/nodes/%s" % NODE).json()["online"] is False
    tls_farm.pki.enroll(NODE)  # a new secret: the agent restarts with it
    agent.stop()
    tls_farm.start_nodesvc(1)
    tls_farm.wait_node(1)


# ---- the agent as deploy/stbfarm-nodesvc@.service runs it ----

UNIT = os.path.join(REPO, "deploy", "stbfarm-nodesvc@.service")
UNIT_ENV = os.path.join(REPO, "deploy", "nodesvc.env.example")


def unit_settings(path=UNIT):
    """{key: [values]} of the unit's [Service] section."""
    out, section = {}, None
    for line in open(path):
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def env_file(path):
    return dict(line.strip().split("=", 1) for line in open(path)
                if line.strip() and not line.startswith("#"))


def test_the_shipped_unit_is_valid_and_names_only_real_settings(tmp_path):
    help_text = subprocess.run([binary("nodesvc"), "--help"], capture_output=True,
                               text=True).stdout + subprocess.run(
        [binary("nodesvc"), "--help"], capture_output=True, text=True).stderr
    unit = unit_settings()
    names = [v.split("=", 1)[0] for v in unit["Environment"]] + list(env_file(UNIT_ENV))
    for name in names:
        assert "(%s," % name in help_text, "%s is no setting of stbfarm-nodesvc" % name
    assert unit["ExecStart"] == ["/usr/local/bin/stbfarm-nodesvc"]  # cmake --install's
    assert unit["User"] == ["stbfarm"] and unit["NoNewPrivileges"] == ["yes"]
    assert unit["Restart"] == ["always"]
    if not shutil.which("systemd-analyze"):
        pytest.skip("no systemd-analyze here")
    text = open(UNIT).read().replace("/usr/local/bin/stbfarm-nodesvc",
                                     os.path.abspath(binary("nodesvc")))
    copy = tmp_path / "stbfarm-nodesvc@.service"
    copy.write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_an_agent_started_as_the_unit_does_serves_its_node_over_tls(tls_farm, tmp_path):
    """The unit's environment (instance %i = the node's id), then the node's settings file,
    as systemd gives them: nothing on the command line. The file's addresses are this test's."""
    f, n = tls_farm, 2
    node = f.node_id(n)
    f.pki.enroll(node)
    f.start_vstb(n)
    paths = {"/etc/stbfarm/tls/" + node: f.pki.node(node),
             "/var/lib/stbfarm/nodes/" + node: str(tmp_path / "work"),
             "/usr/local/share/stbfarm/python": os.path.join(REPO, "nodesvc", "python")}
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    for item in unit_settings()["Environment"]:
        k, v = item.replace("%i", node).split("=", 1)
        for unit_path, here in paths.items():
            if v == unit_path or v.startswith(unit_path + "/"):
                v = here + v[len(unit_path):]
        env[k] = v
    settings = env_file(UNIT_ENV)
    agent_port = free_port_block(1)
    settings.update({
        "STBF_BROKER": "tls+tcp://127.0.0.1:%d" % f.broker_port,
        "STBF_NODE_LISTEN": "tls+tcp://127.0.0.1:%d" % agent_port,
        "STBF_NODE_ADVERTISE": "tls+tcp://127.0.0.1:%d" % agent_port,
        "STBF_VIDEO_SOURCE": "unix:" + f.vstb_socket(n, "video"),
        "STBF_VIDEO_FORMAT": "mpjpeg",
        "STBF_LIRCD": f.vstb_socket(n, "lirc"),
        "STBF_TEST_PACK": f.env["STBF_TEST_PACK"],
    })
    del settings["STBF_VIDEO_OPTIONS"]  # a V4L2 device's
    env.update(settings)
    os.makedirs(env["STBF_NODE_WORK_DIR"], mode=0o700)
    key = "nodesvc%d" % n
    f.procs[key] = Process(key, [binary("nodesvc")], env,
                           os.path.join(f.dir, key + ".log")).start()
    try:
        f.wait_node(n)
        s = f.session()
        r = s.post("/api/v2/nodes/%s/press" % node, json={"key": "KEY_OK"})
        assert r.status_code == 200, r.text
        job, results = f.run_job(s, ["tests/examples.py::test_that_the_epg_is_populated"],
                                 node=n)
        assert len(results) == 1 and results[0]["result"] in ("pass", "fail"), results
        assert "listening on tls+tcp://127.0.0.1:%d" % agent_port in f.proc(key).log()
    finally:
        f.proc(key).stop()
        f.proc("vstb%d" % n).stop()
        f.pki.revoke(node)


def check_config(*args, env=None):
    return subprocess.run([binary("broker"), "--check-config"] + list(args), capture_output=True,
                          text=True, env=dict(os.environ, **(env or {})))


@pytest.mark.parametrize("url", ["tcp://127.0.0.1:7100", "tcp://localhost:7100",
                                 "tcp://[::1]:7100", "ipc:///tmp/stbfarm-x"])
def test_links_on_this_host_need_no_tls(url):
    r = check_config("--listen", url)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("url", ["tcp://10.203.0.1:7100", "tcp://*:7100", "tcp://broker:7100"])
def test_plain_tcp_beyond_loopback_is_refused_unless_insecure(url):
    r = check_config("--listen", url)
    assert r.returncode == 2 and "tls+tcp://" in r.stderr and "--insecure" in r.stderr, r.stderr
    assert check_config("--listen", url, "--insecure").returncode == 0


def test_a_tls_link_needs_a_credential(tmp_path):
    r = check_config("--listen", "tls+tcp://10.203.0.1:7100")
    assert r.returncode == 2 and "--tls-dir" in r.stderr, r.stderr
    r = check_config("--listen", "tls+tcp://10.203.0.1:7100", "--tls-dir", str(tmp_path))
    assert r.returncode == 2 and "cert.pem" in r.stderr, r.stderr


def test_a_private_key_others_can_read_is_refused(tmp_path):
    pki = Pki(str(tmp_path))
    os.chmod(os.path.join(pki.farm, "key.pem"), 0o644)
    r = check_config("--listen", "tls+tcp://127.0.0.1:7100", "--tls-dir", pki.farm)
    assert r.returncode == 2 and "readable by others" in r.stderr, r.stderr
    os.chmod(os.path.join(pki.farm, "key.pem"), 0o600)
    r = check_config("--listen", "tls+tcp://127.0.0.1:7100", "--tls-dir", pki.farm)
    assert r.returncode == 0, r.stderr


def test_every_process_that_links_takes_the_same_flags():
    for name in ("broker", "gateway", "nodes", "jobs", "results", "reservations", "nodesvc"):
        r = subprocess.run([binary(name), "--help"], capture_output=True, text=True)
        out = r.stdout + r.stderr
        assert "--tls-dir" in out and "--insecure" in out, (name, out)

"""Mutual TLS between the farm's processes (lib/sf_link.c): a farm whose broker and node agent
listen on tls+tcp:// with the credentials ./stbfarm ca init and ./stbfarm node enroll make, and
the rules on which links a process may open at all."""

import os
import socket
import ssl
import subprocess

import pytest

from farm import REPO, Farm, binary

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
                t.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
        finally:
            for t in socks:
                t.close()
    raise AssertionError("no block of %d free ports" % n)


def stbfarm(*args):
    r = subprocess.run([os.path.join(REPO, "stbfarm")] + list(args), capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    return r


class Pki:
    """A farm's authorities and credentials in a directory of the test's own."""

    def __init__(self, data):
        self.data = data
        stbfarm("ca", "init", "--data", data)
        self.farm = os.path.join(data, "tls", "farm")

    def enroll(self, node):
        stbfarm("node", "enroll", node, "--data", self.data)
        return self.node(node)

    def node(self, node):
        return os.path.join(self.data, "tls", "nodes", node)


@pytest.fixture(scope="module")
def tls_farm(tmp_path_factory):
    pki = Pki(str(tmp_path_factory.mktemp("pki")))
    node_dir = pki.enroll(NODE)
    port = free_port_block(8)
    agent_port = free_port_block(1)
    f = Farm(nodes=1, broker_urls=["tls+tcp://127.0.0.1:%d" % port],
             env={"STBF_TLS_DIR": pki.farm},
             node_args=lambda n: ["--tls-dir", node_dir,
                                  "--listen", "tls+tcp://127.0.0.1:%d" % agent_port])
    f.pki, f.broker_port, f.agent_port = pki, port, agent_port
    f.start()
    yield f
    f.stop()


def handshake(port, cred=None, ca=None):
    """Whether a TLS client with credential directory cred (None: no certificate) completes a
    handshake with 127.0.0.1:port and the server keeps the connection."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cred:
        ctx.load_cert_chain(os.path.join(cred, "cert.pem"), os.path.join(cred, "key.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw) as s:
                # TLS 1.2: a server that refuses the client's certificate answers the client's
                # Finished with an alert, or closes; either shows on the first read.
                s.settimeout(2)
                try:
                    return s.recv(1) != b""  # an SP peer greets with its header
                except socket.timeout:
                    return True
        except (ssl.SSLError, ConnectionError, OSError):
            return False


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

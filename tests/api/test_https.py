"""HTTPS: the edge terminating TLS (./stbfarm up --https, --https-cert), the gateway serving it
itself (--https-cert), and the edge reaching HTTPS gateways that must show a certificate of the
authority it trusts (STBF_EDGE_GATEWAY_CA). Every client here verifies the certificate."""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import warnings

import pytest
import requests

from farm import REPO, Farm, binary, free_port, ready_env, stbfarm, wait_until

STBFARM = os.path.join(REPO, "stbfarm")
NODE = "stb-tester-000000000001"


def plain_http_refused(port):
    """A plain HTTP request to an HTTPS port gets no HTTP answer."""
    with pytest.raises(requests.RequestException):
        r = requests.get("http://127.0.0.1:%d/healthz" % port, timeout=5)
        assert r.status_code != 200  # some servers answer 400: that is no health either
        raise requests.ConnectionError("answered %d" % r.status_code)


def unverified_refused(url):
    """Without the farm's authority, the client refuses the certificate."""
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url + "/healthz", timeout=5)


@pytest.fixture
def https_up(tmp_path):
    data = str(tmp_path / "data")
    port = free_port()
    r = subprocess.run([STBFARM, "up", "--detach", "--https", "--data", data, "--port",
                        str(port), "--nodes", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    yield data, port, ready_env(r.stdout), r.stderr
    subprocess.run([STBFARM, "down", "--data", data], capture_output=True, timeout=120)


def test_up_https_serves_the_api_and_the_portal_over_verified_tls(https_up):
    data, port, env, stderr = https_up
    url, ca = env["STBF_URL"], env["STBF_CA_CERT"]
    assert url == "https://127.0.0.1:%d" % port
    assert ca == os.path.join(data, "https", "ca.pem")
    assert "the portal: %s/" % url in stderr
    key = os.path.join(data, "https", "portal.pem")
    assert os.stat(key).st_mode & 0o077 == 0  # holds the key
    auth = {"Authorization": "token " + env["STBF_TOKEN"]}

    r = requests.get(url + "/api/v2/nodes", headers=auth, verify=ca, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    # the URLs the API hands out say https, whatever a client claims
    node = [n for n in r.json() if n["node_id"] == NODE][0]
    assert node["node_url"] == url + "/api/v2/nodes/" + NODE
    r = requests.get(url + "/api/v2/nodes/" + NODE, verify=ca, timeout=10,
                     headers=dict(auth, **{"X-Forwarded-Proto": "http"}))
    assert r.json()["node_url"].startswith("https://")
    # the portal's session cookie is Secure
    r = requests.post(url + "/api/v2/session", verify=ca, timeout=10,
                      json={"username": env["STBF_USER"], "password": env["STBF_PASSWORD"]})
    assert r.status_code == 200, r.text
    assert "; Secure" in r.headers["Set-Cookie"]
    # nothing in the clear, nothing unverified
    plain_http_refused(port)
    unverified_refused(url)
    # TLS 1.2 at least
    ctx = ssl.create_default_context(cafile=ca)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            assert t.version() == "TLSv1.2"
    ctx = ssl.create_default_context(cafile=ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            ctx.wrap_socket(s, server_hostname="127.0.0.1")


def test_up_with_an_operators_certificate_and_a_second_up_keeps_the_farms_own(tmp_path):
    # the operator's certificate: here, one of the authority `https-cert` made elsewhere
    other = str(tmp_path / "other")
    out = ready_env(stbfarm("https-cert", "--data", other).stdout)
    data, port = str(tmp_path / "data"), free_port()
    r = subprocess.run([STBFARM, "up", "--detach", "--https-cert", out["STBF_HTTPS_CERT"],
                        "--data", data, "--port", str(port), "--nodes", "0"],
                       capture_output=True, text=True, timeout=300)
    try:
        assert r.returncode == 0, r.stderr
        env = ready_env(r.stdout)
        assert env["STBF_URL"] == "https://127.0.0.1:%d" % port
        assert "STBF_CA_CERT" not in env  # the operator knows their own authority
        r = requests.get(env["STBF_URL"] + "/api/v2/user", verify=out["STBF_CA_CERT"],
                         headers={"Authorization": "token " + env["STBF_TOKEN"]}, timeout=10)
        assert r.status_code == 200, r.text
        assert not os.path.exists(os.path.join(data, "https"))
    finally:
        subprocess.run([STBFARM, "down", "--data", data], capture_output=True, timeout=120)
    # renewal: a certificate with 30 days or more left is kept, the authority always
    again = ready_env(stbfarm("https-cert", "--data", other).stdout)
    assert again == out
    before = open(out["STBF_HTTPS_CERT"]).read()
    stbfarm("https-cert", "--data", other)
    assert open(out["STBF_HTTPS_CERT"]).read() == before


def test_up_refuses_a_certificate_without_its_key(tmp_path):
    other = ready_env(stbfarm("https-cert", "--data", str(tmp_path / "o")).stdout)
    cert_only = str(tmp_path / "cert.pem")
    with open(cert_only, "w") as f:
        f.write(open(other["STBF_CA_CERT"]).read())
    r = subprocess.run([STBFARM, "up", "--detach", "--https-cert", cert_only, "--data",
                        str(tmp_path / "data"), "--port", str(free_port()), "--nodes", "0"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "must hold the certificate, its chain and its key" in r.stderr


# ---- the gateway's own HTTPS ----

@pytest.fixture
def https_farm():
    f = Farm(https=True, nodes=1).start()
    yield f
    f.stop()


def test_the_gateway_serves_https_itself(https_farm):
    f = https_farm
    assert f.url.startswith("https://")
    s = f.session("admin")
    r = s.get("/api/v2/nodes/" + f.node_id(1))
    assert r.status_code == 200, r.text
    assert r.json()["node_url"] == f.url + "/api/v2/nodes/" + f.node_id(1)
    # screenshots: binary bodies over TLS
    r = s.get("/api/v2/nodes/%s/screenshot.png" % f.node_id(1))
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    r = requests.post(f.url + "/api/v2/session", verify=f.verify, timeout=10,
                      json={"username": "carol", "password": f.user("carol")})
    assert r.status_code == 200 and "; Secure" in r.headers["Set-Cookie"]
    plain_http_refused(f.ports[0])
    unverified_refused(f.url)
    # errors are JSON over TLS too
    r = s.get("/api/v2/no-such-thing")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")


def test_the_gateway_refuses_a_certificate_file_without_a_key(tmp_path):
    out = ready_env(stbfarm("https-cert", "--data", str(tmp_path)).stdout)
    for content, what in ((open(out["STBF_CA_CERT"]).read(), "no key"), ("", "empty")):
        path = str(tmp_path / "bad.pem")
        with open(path, "w") as f:
            f.write(content)
        r = subprocess.run([binary("gateway"), "--check-config", "--https-cert", path],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, what
        assert "must hold the certificate" in r.stderr, r.stderr
    r = subprocess.run([binary("gateway"), "--check-config", "--https-cert",
                        str(tmp_path / "missing.pem")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "cannot read it" in r.stderr
    # a key others can read is refused, as a link's is
    shutil.copy(out["STBF_HTTPS_CERT"], str(tmp_path / "open.pem"))
    os.chmod(str(tmp_path / "open.pem"), 0o644)
    r = subprocess.run([binary("gateway"), "--check-config", "--https-cert",
                        str(tmp_path / "open.pem")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "chmod 600" in r.stderr, r.stderr
    os.chmod(str(tmp_path / "open.pem"), 0o600)
    r = subprocess.run([binary("gateway"), "--check-config", "--https-cert",
                        str(tmp_path / "open.pem")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_the_edge_reaches_https_gateways_only_with_the_authority_it_trusts(https_farm):
    """Gateways on other hosts than the edge's: the edge speaks TLS to them and checks their
    certificate (STBF_EDGE_GATEWAY_CA); a gateway with a certificate of another authority gets
    no request."""
    f = https_farm
    work = tempfile.mkdtemp(prefix="sfedge", dir="/tmp")
    try:
        with open(os.path.join(work, "gateways.cfg"), "w") as cfg:
            cfg.write("backend gateways\n    server gateway0 127.0.0.1:%d\n" % f.ports[0])
        wrong = ready_env(stbfarm("https-cert", "--data", os.path.join(work, "wrong")).stdout)
        for ca, healthy in ((f.verify, True), (wrong["STBF_CA_CERT"], False)):
            port = free_port()
            env = dict(os.environ, STBF_EDGE_BIND="127.0.0.1:%d" % port,
                       STBF_EDGE_MAX_CONNS="100", STBF_EDGE_CONNS_PER_ADDRESS="10",
                       STBF_EDGE_ERRORS=os.path.join(REPO, "edge", "errors"),
                       STBF_EDGE_GATEWAY_CA=ca)
            edge = subprocess.Popen(["haproxy", "-db", "-f", os.path.join(REPO, "edge",
                                     "haproxy.cfg"), "-f", os.path.join(work, "gateways.cfg")],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                url = "http://127.0.0.1:%d" % port
                wait_until(lambda: requests.get(url + "/healthz", timeout=5).status_code
                           in (200, 503), 20, what="the edge to answer")
                if healthy:
                    wait_until(lambda: requests.get(url + "/healthz", timeout=5).status_code
                               == 200, 20, what="the edge to reach the gateway over TLS")
                    r = requests.get(url + "/api/v2/nodes", timeout=10,
                                     headers={"Authorization": "token " + f.token("admin")})
                    assert r.status_code == 200, r.text
                else:
                    time.sleep(5)  # two health checks at least (every 2 s): none passes
                    r = requests.get(url + "/healthz", timeout=10)
                    assert r.status_code == 503, r.text
            finally:
                edge.terminate()
                edge.wait(10)
    finally:
        shutil.rmtree(work, ignore_errors=True)

"""./stbfarm: the two commands a newcomer runs, and the launcher's promises (one farm per data
directory, clear refusals, supervision, a clean stop)."""

import os
import signal
import socket
import subprocess
import time

import pytest
import requests

from farm import REPO, farm_pids, free_port, ready_env, wait_until
from sse import Stream

STBFARM = os.path.join(REPO, "stbfarm")


def run(*args, timeout=300):
    return subprocess.run([STBFARM] + list(args), capture_output=True, text=True, timeout=timeout)


def parse_ready(stdout):
    env = ready_env(stdout)
    return env["STBF_URL"], env["STBF_TOKEN"]


@pytest.fixture
def launched(tmp_path):
    data = str(tmp_path / "data")
    port = free_port()
    r = run("up", "--detach", "--data", data, "--port", str(port), "--nodes", "1")
    assert r.returncode == 0, r.stderr
    url, token = parse_ready(r.stdout)
    yield data, port, url, token
    run("down", "--data", data)


def test_up_detach_prints_url_and_token_and_serves_nodes(launched):
    data, port, url, token = launched
    assert url == "http://127.0.0.1:%d" % port
    r = requests.get(url + "/api/v2/nodes", headers={"Authorization": "token " + token})
    assert r.status_code == 200
    assert [n["node_id"] for n in r.json()] == ["stb-tester-000000000001"]
    assert requests.get(url + "/api/v2/nodes").status_code == 403
    assert oct(os.stat(os.path.join(data, "admin.token")).st_mode & 0o777) == "0o600"


def test_second_up_on_same_data_is_refused(launched):
    data, port, url, token = launched
    r = run("up", "--detach", "--data", data, "--port", str(free_port()))
    assert r.returncode == 1
    assert "already running" in r.stderr


def test_port_in_use_is_refused_before_starting_anything(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run("up", "--detach", "--data", str(tmp_path / "d"), "--port", str(port))
    assert r.returncode == 1
    assert "port %d is in use" % port in r.stderr
    assert not farm_pids(str(tmp_path / "d"))


@pytest.mark.parametrize("args", [
    ["up", "--port", "x"], ["up", "--nodes", "-1"], ["up", "--bogus"],
    ["up", "--replicas", "nope=2"], ["up", "--rate-limit", "fast"], ["frobnicate"], [],
    ["token", "create"], ["token", "sing", "x"], ["user"], ["user", "frob", "x"],
    ["user", "add", "x", "--bogus"], ["test", "--bogus"], ["test", "--chaos-secs", "5"],
])
def test_bad_flags_print_usage_and_exit_2(args):
    r = run(*args)
    assert r.returncode == 2
    assert "usage" in r.stderr.lower() or "stbfarm up" in r.stderr


def test_tokens_are_created_and_revoked(launched):
    data, port, url, token = launched
    r = run("token", "create", "carol", "--data", data)
    assert r.returncode == 0
    tok = r.stdout.strip()
    h = {"Authorization": "token " + tok}
    assert requests.get(url + "/api/v2/user", headers=h).json() == {"login": "carol"}
    assert run("token", "revoke", tok, "--data", data).returncode == 0
    assert requests.get(url + "/api/v2/user", headers=h).status_code == 403


def sign_in(url, user, password):
    return requests.post(url + "/api/v2/session", json={"username": user, "password": password})


def test_up_prints_the_admin_account_and_it_signs_in(launched):
    data, port, url, token = launched
    env = ready_env(open(os.path.join(data, "ready")).read())
    assert env["STBF_USER"] == "admin"
    assert oct(os.stat(os.path.join(data, "admin.password")).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.join(data, "ready")).st_mode & 0o777) == "0o600"
    r = sign_in(url, "admin", env["STBF_PASSWORD"])
    assert r.status_code == 200
    assert r.json()["role"] == "admin"
    h = {"Authorization": "token " + token}
    assert requests.get(url + "/api/v2/users", headers=h).status_code == 200  # the token is admin's


def test_users_are_added_changed_and_removed(launched, tmp_path):
    data, port, url, token = launched
    r = run("user", "add", "erin", "--role", "read", "--data", data)
    assert r.returncode == 0, r.stderr
    password = r.stdout.strip()
    assert len(password) >= 16
    assert sign_in(url, "erin", password).json()["role"] == "read"
    assert run("user", "add", "erin", "--data", data).returncode == 1  # exists
    pw_file = tmp_path / "pw"
    pw_file.write_text("correct horse battery\n")
    assert run("user", "passwd", "erin", "--password-file", str(pw_file), "--data", data) \
        .returncode == 0
    assert sign_in(url, "erin", password).status_code == 403
    assert sign_in(url, "erin", "correct horse battery").status_code == 200
    assert run("user", "role", "erin", "admin", "--data", data).returncode == 0
    assert "erin\tadmin" in run("user", "list", "--data", data).stdout
    assert run("user", "remove", "erin", "--data", data).returncode == 0
    assert sign_in(url, "erin", "correct horse battery").status_code == 403
    assert run("user", "remove", "erin", "--data", data).returncode == 1


def test_crashed_child_is_logged_and_restarted(launched):
    data, port, url, token = launched
    h = {"Authorization": "token " + token}
    pids = list(farm_pids(data, "services/nodes/stbfarm-nodes"))
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGKILL)
    wait_until(lambda: "nodes0 exited" in open(os.path.join(data, "logs", "supervisor.log")).read(),
               10, what="supervisor log")
    wait_until(lambda: requests.get(url + "/api/v2/nodes", headers=h).status_code == 200, 15,
               what="nodes restarted")


def test_down_stops_every_process(tmp_path):
    data = str(tmp_path / "data")
    r = run("up", "--detach", "--data", data, "--port", str(free_port()))
    assert r.returncode == 0, r.stderr
    assert farm_pids(data)
    assert run("down", "--data", data).returncode == 0
    wait_until(lambda: not farm_pids(data), 10, what="every process gone")
    assert not os.path.exists(os.path.join(data, "stbfarm.pid"))


def test_data_survives_a_restart_of_the_whole_farm(tmp_path):
    data = str(tmp_path / "data")
    port = free_port()
    url, token = parse_ready(run("up", "--detach", "--data", data, "--port", str(port)).stdout)
    tok = run("token", "create", "dave", "--data", data).stdout.strip()
    password = dict(line.split("=", 1) for line in
                    open(os.path.join(data, "ready")).read().splitlines())["STBF_PASSWORD"]
    time.sleep(1.1)  # appendfsync everysec
    assert run("down", "--data", data).returncode == 0
    again = run("up", "--detach", "--data", data, "--port", str(port)).stdout
    url, token2 = parse_ready(again)
    try:
        assert token2 == token  # the admin token is reused while valid
        assert "STBF_PASSWORD=%s" % password in again  # the admin is made once
        assert sign_in(url, "admin", password).status_code == 200
        r = requests.get(url + "/api/v2/user", headers={"Authorization": "token " + tok})
        assert r.json() == {"login": "dave"}
    finally:
        run("down", "--data", data)


def test_a_bad_rate_limit_is_refused_before_anything_starts(tmp_path):
    data = str(tmp_path / "d")
    start = time.monotonic()
    r = run("up", "--detach", "--data", data, "--port", str(free_port()),
            "--rate-limit", "10000000:10000000")
    assert r.returncode == 2, r.stderr
    assert "--rate-limit" in r.stderr and "stbfarm-gateway" in r.stderr
    assert time.monotonic() - start < 60  # it used to wait 60 s for a health check
    assert not farm_pids(data)


def test_a_child_exiting_with_a_usage_error_ends_up_with_its_message(tmp_path):
    data = str(tmp_path / "d")
    env = dict(os.environ, STBF_HEARTBEAT_MS="5")  # nodesvc takes 100 and more
    r = subprocess.run([STBFARM, "up", "--detach", "--data", data, "--port", str(free_port()),
                        "--nodes", "1"], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 1
    assert "nodesvc1 exited with a usage error" in r.stderr and "--heartbeat-ms" in r.stderr
    wait_until(lambda: not farm_pids(data), 20, what="every process gone")
    restarts = open(os.path.join(data, "logs", "supervisor.log")).read() \
        if os.path.exists(os.path.join(data, "logs", "supervisor.log")) else ""
    assert "nodesvc1 exited" not in restarts  # never retried


def test_a_child_that_keeps_crashing_is_restarted_with_back_off(launched):
    data, port, url, token = launched
    log = os.path.join(data, "logs", "supervisor.log")
    for _ in range(3):
        pids = []
        wait_until(lambda: pids.extend(farm_pids(data, "services/jobs/stbfarm-jobs")) or pids,
                   40, what="jobs running again")
        os.kill(pids[0], signal.SIGKILL)
        time.sleep(0.2)
    wait_until(lambda: "jobs0 exited with status 137; restarting in 4 s" in open(log).read(), 40,
               what="a longer wait after each crash")


def test_the_edge_keeps_half_open_connections_from_starving_others(launched):
    data, port, url, token = launched
    held = []
    for _ in range(300):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /api/v2/nodes HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        except OSError:
            pass
    try:
        # past 64 connections, one address is refused at the door: 64 stay open, waiting
        time.sleep(1)
        open_ = 0
        for s in held:
            s.setblocking(False)
            try:
                open_ += s.recv(1) != b""  # data: not refused (nothing is sent here)
            except BlockingIOError:
                open_ += 1
            except ConnectionResetError:
                pass
        assert len(held) >= 64 and open_ == 64
        import http.client
        for _ in range(20):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                           source_address=("127.0.0.2", 0))
            c.request("GET", "/api/v2/nodes", headers={"Authorization": "token " + token})
            r = c.getresponse()
            r.read()
            assert r.status == 200
            c.close()
    finally:
        for s in held:
            s.close()


def test_events_stream_through_the_edge_as_they_happen(launched):
    data, port, url, token = launched
    assert farm_pids(data, "stbfarm-webhooks"), "the launcher runs the webhooks' deliverer"
    s = Stream(port, token, query="?topics=reservations").head()
    try:
        assert s.status == 200 and s.headers["content-type"] == "text/event-stream"
        auth = {"Authorization": "token " + token}
        r = requests.post(url + "/api/v2/reservations", headers=auth, json={
            "node_ids": ["stb-tester-000000000001"], "message": "edge"})
        assert r.status_code == 200, r.text
        rid = r.json()["reservations"][0]["reservation_id"]
        # the edge passes each event on as it comes: no buffering until the stream ends
        s.until(lambda e: e["data"]["reservation_id"] == rid, 30, "the reservation")
        requests.delete(url + "/api/v2/reservations/%d" % rid, headers=auth)
        s.until(lambda e: e["data"].get("end_reason") == "ended", 30, "its end")
    finally:
        s.close()


def test_the_edge_errors_are_json():
    import json
    folder = os.path.join(REPO, "edge", "errors")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            head, _, body = f.read().partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        # a gateway that died before it answered: "try again", as for no gateway at all
        status = b"503" if name.startswith("502") else name[:3].encode()
        assert lines[0].startswith(b"HTTP/1.1 " + status), name
        assert b"Content-Type: application/json" in lines
        assert b"Content-Length: %d" % len(body) in lines, name
        assert json.loads(body)["error"]

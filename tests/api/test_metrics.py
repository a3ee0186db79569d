"""Prometheus metrics: every process of a real farm serves them at --metrics-listen in a form
promtool accepts; the gateway also at GET /metrics, behind a token; the counters and gauges
follow what the farm does."""

import re
import subprocess

import pytest
import requests

from farm import Farm, binary, wait_until

LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def samples(text):
    """{(name, frozenset of (label, value)): value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, _, labels = series.partition("{")
        out[(name, frozenset(LABEL.findall(labels)))] = float(value)
    return out


def value(text, name, **labels):
    """The value of the one series of name with these labels (0 when there is none)."""
    want = set(labels.items())
    found = [v for (n, ls), v in samples(text).items() if n == name and want <= set(ls)]
    assert len(found) <= 1, "%s%r matches %d series" % (name, labels, len(found))
    return found[0] if found else 0.0


def scrape(farm, key):
    r = requests.get(farm.metrics_url(key), timeout=10)
    assert r.status_code == 200, r.text
    return r.text


@pytest.fixture(scope="module")
def mfarm():
    f = Farm(metrics=True, nodes=1).start()
    yield f
    f.stop()


def test_every_process_serves_metrics_that_promtool_accepts(mfarm):
    assert set(mfarm.metrics_ports) >= {"broker0", "gateway0", "nodes0", "jobs0", "results0",
                                        "reservations0", "vstb1", "nodesvc1"}
    for key in mfarm.metrics_ports:
        r = requests.get(mfarm.metrics_url(key), timeout=10)
        assert r.status_code == 200, (key, r.text)
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert "process_start_time_seconds" in r.text, key
        check = subprocess.run(["promtool", "check", "metrics"], input=r.text,
                               capture_output=True, text=True)
        assert check.returncode == 0, (key, check.stdout, check.stderr, r.text[:3000])


def test_metrics_listener_answers_only_get_of_metrics(mfarm):
    base = mfarm.metrics_url("broker0").rsplit("/", 1)[0]
    assert requests.get(base + "/other", timeout=10).status_code == 404
    r = requests.post(base + "/metrics", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    r = requests.head(base + "/metrics", timeout=10)
    assert r.status_code == 200 and r.text == ""


def test_gateway_counts_each_request_by_route_and_status_with_its_latency(mfarm):
    s = mfarm.session("alice")
    labels = {"route": "/api/v2/nodes/{node_id}", "method": "GET"}
    before = scrape(mfarm, "gateway0")
    for _ in range(3):
        assert s.get("/api/v2/nodes/" + mfarm.node_id(1)).status_code == 200
    assert s.get("/api/v2/nodes/no-such-node").status_code == 404
    after = scrape(mfarm, "gateway0")
    assert value(after, "stbfarm_http_requests_total", status="200", **labels) - \
        value(before, "stbfarm_http_requests_total", status="200", **labels) == 3
    assert value(after, "stbfarm_http_requests_total", status="404", **labels) - \
        value(before, "stbfarm_http_requests_total", status="404", **labels) == 1
    assert value(after, "stbfarm_http_request_duration_seconds_count", **labels) - \
        value(before, "stbfarm_http_request_duration_seconds_count", **labels) == 4
    # what matched no route is counted under none, not under the path the client made up
    assert s.get("/api/v2/made-up").status_code == 404
    text = scrape(mfarm, "gateway0")
    assert value(text, "stbfarm_http_requests_total", route="none", method="GET",
                 status="404") >= 1
    assert "made-up" not in text
    # the gateway's calls to the nodes service, on both sides
    assert value(text, "stbfarm_rpc_client_calls_total", service="nodes", method="nodes.get",
                 code="200") >= 3
    served = scrape(mfarm, "nodes0")
    assert value(served, "stbfarm_rpc_server_calls_total", service="nodes", method="nodes.get",
                 code="404") >= 1
    assert value(served, "stbfarm_rpc_server_duration_seconds_count", service="nodes",
                 method="nodes.get") >= 4
    assert value(served, "stbfarm_redis_connects_total") >= 1


def test_gateway_metrics_need_a_token_of_role_read_or_above(mfarm):
    r = requests.get(mfarm.url + "/metrics", timeout=10)
    assert r.status_code == 401, r.text
    assert r.reason == "Unauthorized"
    assert r.headers["Content-Type"] == "application/json"
    assert "token" in r.json()["error"]
    assert r.headers["WWW-Authenticate"] == "Token"
    r = requests.get(mfarm.url + "/metrics", headers={"Authorization": "token nonsense"},
                     timeout=10)
    assert r.status_code == 403 and "error" in r.json()
    mfarm.user("metrics-manual", "manual")
    r = requests.get(mfarm.url + "/metrics", timeout=10,
                     headers={"Authorization": "token " + mfarm.token("metrics-manual")})
    assert r.status_code == 403, r.text
    assert "error" in r.json()
    for role in ("read", "write", "admin"):
        mfarm.user("metrics-" + role, role)
        r = requests.get(mfarm.url + "/metrics", timeout=10,
                         headers={"Authorization": "token " + mfarm.token("metrics-" + role)})
        assert r.status_code == 200, (role, r.text)
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert "stbfarm_http_requests_total" in r.text


def test_node_gauges_and_the_agent_metrics_follow_the_node(mfarm):
    node = {"node": mfarm.node_id(1)}
    text = scrape(mfarm, "nodes0")
    assert value(text, "stbfarm_nodes_registered") == 1
    assert value(text, "stbfarm_nodes_online") == 1
    assert value(text, "stbfarm_nodes_available") == 1
    first = value(scrape(mfarm, "nodesvc1"), "stbfarm_capture_frames_total", **node)
    wait_until(lambda: value(scrape(mfarm, "nodesvc1"), "stbfarm_capture_frames_total",
                             **node) > first, 20, what="frames captured")
    agent = scrape(mfarm, "nodesvc1")
    assert value(agent, "stbfarm_capture_video_ok", **node) == 1
    assert value(agent, "stbfarm_agent_outbox_items", **node) == 0
    # a key press reaches the vstb, which counts it
    keys = value(scrape(mfarm, "vstb1"), "stbfarm_vstb_keys_total", known="yes")
    r = mfarm.session("alice").post("/api/v2/nodes/%s/press" % mfarm.node_id(1),
                                    json={"key": "KEY_MENU"})
    assert r.status_code == 200, r.text
    wait_until(lambda: value(scrape(mfarm, "vstb1"), "stbfarm_vstb_keys_total",
                             known="yes") == keys + 1, 20, what="the key counted")
    # a reservation makes the node unavailable
    s = mfarm.session("alice")
    r = s.post("/api/v2/reservations", json={"node_ids": [mfarm.node_id(1)], "message": "m"})
    assert r.status_code == 200, r.text
    rid = r.json()["reservations"][0]["reservation_id"]
    try:
        assert value(scrape(mfarm, "nodes0"), "stbfarm_nodes_available") == 0
    finally:
        s.post("/api/v2/reservations/%d/interrupt" % rid, json={"message": "done"})
    assert value(scrape(mfarm, "nodes0"), "stbfarm_nodes_available") == 1


def test_queued_jobs_and_nodes_in_maintenance_are_gauged(mfarm):
    node = mfarm.node_id(1)
    bob, alice = mfarm.session("bob"), mfarm.session("alice")
    r = bob.post("/api/v2/reservations", json={"node_ids": [node], "message": "bob's"})
    assert r.status_code == 200, r.text
    rid = r.json()["reservations"][0]["reservation_id"]
    try:
        r = alice.post("/api/v2/run_tests", json={
            "node_id": node, "test_pack_revision": "master", "queue": True,
            "test_cases": ["tests/examples.py::test_that_writes_custom_artifacts"]})
        assert r.status_code == 200 and r.json()["status"] == "queued", r.text
        uid = r.json()["job_uid"]
        assert value(scrape(mfarm, "jobs0"), "stbfarm_jobs_queued") == 1
        assert alice.post("/api/v2/jobs%s/stop" % uid).status_code in (200, 202, 204)
        assert value(scrape(mfarm, "jobs0"), "stbfarm_jobs_queued") == 0
    finally:
        bob.post("/api/v2/reservations/%d/interrupt" % rid, json={"message": "done"})
    mfarm.admin("node", "maintenance", node, "on", "--message", "new cable")
    try:
        text = scrape(mfarm, "nodes0")
        assert value(text, "stbfarm_nodes_maintenance") == 1
        assert value(text, "stbfarm_nodes_available") == 0
    finally:
        mfarm.admin("node", "maintenance", node, "off")
    text = scrape(mfarm, "nodes0")
    assert value(text, "stbfarm_nodes_maintenance") == 0
    assert value(text, "stbfarm_nodes_available") == 1


def test_a_finished_job_is_counted_as_results_committed_with_their_bytes(mfarm):
    before = scrape(mfarm, "results0")
    s = mfarm.session("alice")
    job, results = mfarm.run_job(s, ["tests/examples.py::test_that_writes_custom_artifacts"])
    assert [r["result"] for r in results] == ["pass"]
    after = scrape(mfarm, "results0")
    assert value(after, "stbfarm_results_committed_total", result="pass") - \
        value(before, "stbfarm_results_committed_total", result="pass") == 1
    assert value(after, "stbfarm_results_artifact_bytes_total") > \
        value(before, "stbfarm_results_artifact_bytes_total")
    assert value(after, "stbfarm_results_stored") >= 1
    assert value(scrape(mfarm, "jobs0"), "stbfarm_jobs_running") == 0
    wait_until(lambda: value(scrape(mfarm, "nodesvc1"), "stbfarm_agent_outbox_items",
                             node=mfarm.node_id(1)) == 0, 30, what="the outbox emptied")


def test_a_bad_metrics_address_is_a_usage_error():
    for addr in ("nope", "127.0.0.1:0", "127.0.0.1:99999"):
        r = subprocess.run([binary("broker"), "--metrics-listen", addr, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (addr, r.stderr)
        assert "--metrics-listen" in r.stderr


def test_redis_restart_is_counted_as_reconnects(fresh_farm_metrics):
    f = fresh_farm_metrics
    s = f.session("alice")
    assert s.get("/api/v2/nodes").status_code == 200
    before = scrape(f, "gateway0")
    f.proc("redis").stop()
    assert s.get("/api/v2/nodes").status_code == 503
    f.start_redis()
    wait_until(lambda: s.get("/api/v2/nodes").status_code == 200, 30, what="the API back")
    after = scrape(f, "gateway0")
    assert value(after, "stbfarm_redis_errors_total", kind="unavailable") > \
        value(before, "stbfarm_redis_errors_total", kind="unavailable")
    assert value(after, "stbfarm_redis_reconnects_total") > \
        value(before, "stbfarm_redis_reconnects_total")


@pytest.fixture
def fresh_farm_metrics():
    f = Farm(metrics=True).start()
    yield f
    f.stop()


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": ["--metrics=false"]}], indirect=True)
def test_a_gateway_with_metrics_off_answers_404_at_metrics(fresh_farm):
    r = fresh_farm.session("alice").get("/metrics")
    assert r.status_code == 404, r.text
    assert "off" in r.json()["error"]

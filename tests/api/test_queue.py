"""Queued jobs and node pools (stbfarm's additions to POST /api/v2/run_tests): "queue": true waits
for a busy or reserved node instead of a 409, by priority then arrival; node_ids and node_pool
run a job on the first free of several nodes; GET /api/v2/nodes/<node_id>/queue lists what
waits."""

import time

import pytest

from farm import Farm, commit_files, wait_until

N1 = "stb-tester-000000000001"
N2 = "stb-tester-000000000002"
QUICK = "tests/quick.py::test_instant"
SLOW = "tests/slow.py::test_that_sleeps"

TESTS = {
    "tests/quick.py": "def test_instant():\n    pass\n",
    "tests/slow.py": "import time\n\n\ndef test_that_sleeps():\n    time.sleep(60)\n",
}


def node_conf(n, pools):
    return ("[node]\nfriendly_name = Virtual STB %d\npool = %s\n\n[device_under_test]\n"
            "device_type = vstb\n" % (n, pools))


@pytest.fixture(scope="module")
def qfarm():
    """Two nodes in the pool "lab" (the second also in "hdmi"), two replicas of the jobs
    service racing for every queued job."""
    f = Farm(nodes=2, replicas={"jobs": 2}, gateway_args=["--long-poll-secs", "3"]).start()
    files = dict(TESTS)
    files["config/test-farm/%s.conf" % N1] = node_conf(1, "lab")
    files["config/test-farm/%s.conf" % N2] = node_conf(2, "lab, hdmi")
    commit_files(f.test_pack, files, "quick and slow tests, pools")
    f.wait_node(1)
    f.wait_node(2)
    yield f
    f.stop()


@pytest.fixture
def alice(qfarm):
    s = qfarm.session("alice")
    yield s
    for uid in [j["job_uid"] for n in (N1, N2) for j in queue_of(s, n)]:
        s.post("/api/v2/jobs%s/stop" % uid)
    for n in (N1, N2):
        stop_node(s, n)
    for r in s.get("/api/v2/reservations").json()["reservations"]:
        qfarm.session(r["username"]).delete("/api/v2/reservations/%d" % r["reservation_id"])


@pytest.fixture
def bob(qfarm):
    return qfarm.session("bob")


def run(s, case=QUICK, **fields):
    body = {"test_pack_revision": "master", "test_cases": [case]}
    if not ({"node_ids", "node_pool"} & set(fields)):
        body["node_id"] = N1
    body.update(fields)
    return s.post("/api/v2/run_tests", json=body)


def run_ok(s, case=QUICK, **fields):
    r = run(s, case, **fields)
    assert r.status_code == 200, r.text
    return r.json()


def busy(s, node=N1):
    """The node runs a job of tests/slow.py (a minute), its test started."""
    job = run_ok(s, SLOW, node_id=node)
    wait_until(lambda: "Running tests/slow.py" in s.get("/api/v2/jobs%s/log" % job["job_uid"])
               .text, 30, what="the slow test to start")
    return job


def stop_node(s, node):
    def stopped():
        r = s.post("/api/v2/nodes/%s/job/stop" % node)
        return r.status_code in (200, 404) or None
    wait_until(stopped, 60, what="the node's job to stop")


def queue_of(s, node):
    r = s.get("/api/v2/nodes/%s/queue" % node)
    assert r.status_code == 200, r.text
    return r.json()


def details(s, job):
    r = s.get("/api/v2/jobs%s" % job["job_uid"], params={"details": "true"})
    assert r.status_code == 200, r.text
    return r.json()


def await_end(s, job, timeout=90):
    def ended():
        r = s.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=30)
        assert r.status_code in (200, 202), r.text
        return r.json() if r.status_code == 200 else None
    return wait_until(ended, timeout, what="job %s to end" % job["job_uid"])


def test_a_queued_job_waits_for_the_busy_node_and_starts_when_it_frees(alice):
    slow = busy(alice)
    assert run(alice).status_code == 409  # without "queue", as the spec says
    job = run_ok(alice, queue=True)
    assert job["status"] == "queued" and job["end_time"] is None
    assert [j["job_uid"] for j in queue_of(alice, N1)] == [job["job_uid"]]
    d = details(alice, job)
    assert d["queued_on"] == [N1] and d["priority"] == 0 and d["node_id"] == N1
    r = alice.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=30)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    stop_node(alice, N1)
    assert await_end(alice, slow)["status"] == "exited"
    ended = await_end(alice, job)
    assert ended["result_counts"] == {"pass": 1, "fail": 0, "error": 0, "total": 1}
    assert queue_of(alice, N1) == []
    assert details(alice, job)["not_started_reason"] is None


def test_queued_jobs_start_by_priority_then_arrival(alice):
    busy(alice)
    a = run_ok(alice, queue=True)
    b = run_ok(alice, queue=True, priority=5)
    c = run_ok(alice, queue=True)
    d = run_ok(alice, queue=True, priority=-3)
    order = [b["job_uid"], a["job_uid"], c["job_uid"], d["job_uid"]]
    assert [j["job_uid"] for j in queue_of(alice, N1)] == order
    stop_node(alice, N1)
    starts = []
    for job in (b, a, c, d):
        await_end(alice, job)
        starts.append(details(alice, job)["start_time"])
    assert starts == sorted(starts)


def test_a_job_whose_queue_timeout_passes_ends_unstarted_with_a_reason(alice):
    busy(alice)
    job = run_ok(alice, queue=True, queue_timeout_secs=1)
    ended = await_end(alice, job, 30)
    assert ended["status"] == "exited" and ended["result_counts"]["total"] == 0
    assert "Not started" in details(alice, job)["not_started_reason"]
    assert queue_of(alice, N1) == []


def test_stopping_a_queued_job_takes_it_out_of_the_queue(alice):
    busy(alice)
    job = run_ok(alice, queue=True)
    r = alice.post("/api/v2/jobs%s/stop" % job["job_uid"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "exited"
    assert details(alice, job)["not_started_reason"] == "Stopped by alice before it started"
    assert queue_of(alice, N1) == []


def test_a_queued_job_waits_for_a_reservation_and_the_holder_goes_first(qfarm, alice, bob):
    r = bob.post("/api/v2/reservations", json={"node_ids": [N1], "message": "debugging"})
    assert r.status_code == 200, r.text
    resv = r.json()["reservations"][0]["reservation_id"]
    mine = run_ok(alice, queue=True)
    assert mine["status"] == "queued"
    theirs = run_ok(bob, SLOW, queue=True)  # the holder's own job starts at once
    wait_until(lambda: details(bob, theirs)["status"] == "running", 30, what="bob's job")
    assert details(alice, mine)["status"] == "queued"
    bob.post("/api/v2/jobs%s/stop" % theirs["job_uid"])
    await_end(bob, theirs)
    time.sleep(1)  # the node is free, but still bob's: alice's job keeps waiting
    assert details(alice, mine)["status"] == "queued"
    assert bob.delete("/api/v2/reservations/%d" % resv).status_code in (200, 204)
    assert await_end(alice, mine)["result_counts"]["pass"] == 1


def test_a_pool_job_runs_on_the_first_free_node_and_says_which(alice):
    busy(alice, N1)
    job = run_ok(alice, node_pool="lab")
    assert job["status"] == "running" and job["job_uid"].startswith("/%s/" % N2)
    assert details(alice, job)["node_id"] == N2
    await_end(alice, job)
    job = run_ok(alice, node_ids=[N1, N2])
    assert details(alice, job)["node_id"] == N2
    await_end(alice, job)


def test_a_pool_with_every_node_busy_is_409_or_queues_on_all_of_them(alice):
    busy(alice, N1)
    slow2 = busy(alice, N2)
    r = run(alice, node_pool="lab")
    assert r.status_code == 409 and "no node of lab is free" in r.json()["error"], r.text
    job = run_ok(alice, node_pool="lab", queue=True)
    d = details(alice, job)
    assert d["status"] == "queued" and d["node_id"] is None and d["queued_on"] == [N1, N2]
    assert job["job_uid"].startswith("/lab/")
    assert job["job_uid"] in [j["job_uid"] for j in queue_of(alice, N2)]
    alice.post("/api/v2/jobs%s/stop" % slow2["job_uid"])
    assert await_end(alice, job)["result_counts"]["pass"] == 1
    assert details(alice, job)["node_id"] == N2
    assert queue_of(alice, N1) == []


def test_a_node_in_maintenance_keeps_its_queue(qfarm, alice):
    qfarm.admin("node", "maintenance", N1, "on", "--message", "swap")
    try:
        job = run_ok(alice, queue=True)
        time.sleep(1)
        assert details(alice, job)["status"] == "queued"
    finally:
        qfarm.admin("node", "maintenance", N1, "off")
    assert await_end(alice, job)["result_counts"]["pass"] == 1


def test_many_queued_jobs_each_start_once_with_two_replicas_racing(alice):
    busy(alice)
    jobs = [run_ok(alice, queue=True) for _ in range(6)]
    stop_node(alice, N1)
    for job in jobs:
        assert await_end(alice, job)["result_counts"] == {"pass": 1, "fail": 0, "error": 0,
                                                          "total": 1}
    listed = alice.get("/api/v2/jobs", params={"node_id": N1, "limit": 50}).json()
    recent = [j["job_uid"] for j in listed]
    for job in jobs:
        assert recent.count(job["job_uid"]) == 1


@pytest.mark.parametrize("fields,status,words", [
    ({"queue_timeout_secs": 5}, 400, "need \"queue\": true"),
    ({"priority": 1}, 400, "need \"queue\": true"),
    ({"queue": True, "priority": 1001}, 400, "priority must be -1000 to 1000"),
    ({"queue": True, "queue_timeout_secs": 0}, 400, "queue_timeout_secs must be 1 to"),
    ({"queue": "yes"}, 400, "queue"),
    ({"node_pool": "lab", "node_id": N1}, 400, "one of node_id, node_ids and node_pool"),
    ({"node_pool": "nowhere"}, 404, "no node's config names the pool 'nowhere'"),
    ({"node_pool": "a b"}, 400, "is not a pool name"),
    ({"node_ids": [N1, "stb-tester-0000000000ff"]}, 404, "unknown node_id"),
    ({"node_ids": [N1] * 101}, 400, "at most 100 nodes"),
])
def test_bad_queue_and_pool_fields_are_4xx_json(alice, fields, status, words):
    r = run(alice, **fields)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_queue_of_an_unknown_node_is_404(alice):
    r = alice.get("/api/v2/nodes/stb-tester-0000000000ff/queue")
    assert r.status_code == 404 and "unknown node_id" in r.json()["error"]


def test_a_queued_job_survives_the_jobs_services_and_redis_deaths(qfarm, alice):
    busy(alice)
    job = run_ok(alice, queue=True)
    time.sleep(1.5)  # past Redis's appendfsync everysec: the queue is on disk
    for key in ("jobs0", "jobs1", "redis"):
        qfarm.proc(key).kill()
    qfarm.start_redis()
    qfarm.start_service("jobs", 0)
    qfarm.start_service("jobs", 1)
    qfarm.wait_healthy()
    wait_until(lambda: queue_of(alice, N1) == [] or
               [j["job_uid"] for j in queue_of(alice, N1)] == [job["job_uid"]], 30,
               what="the queue after the restart")
    stop_node(alice, N1)
    assert await_end(alice, job)["result_counts"]["pass"] == 1

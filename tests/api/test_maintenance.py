"""Node maintenance: `stbfarm-admin node maintenance NODE on|off [--message TEXT]` (what
`./stbfarm node maintenance` runs) takes a node out of service without touching its running job:
node status says why, new jobs and reservations are refused with a 409 naming the reason."""

import time

import pytest

from farm import Farm, commit_files, wait_until

NODE = "stb-tester-000000000001"
QUICK = "tests/quick.py::test_instant"
SLOW = "tests/slow.py::test_that_sleeps_a_little"

TESTS = {
    "tests/quick.py": "def test_instant():\n    pass\n",
    "tests/slow.py": "import time\n\n\ndef test_that_sleeps_a_little():\n    time.sleep(4)\n",
}


@pytest.fixture(scope="module")
def mfarm():
    f = Farm(nodes=1).start()
    commit_files(f.test_pack, TESTS, "quick and slow tests")
    f.wait_node(1)
    yield f
    f.stop()


@pytest.fixture
def api(mfarm):
    yield mfarm.session("alice")
    mfarm.admin("node", "maintenance", NODE, "off")


def node(api):
    r = api.get("/api/v2/nodes/" + NODE)
    assert r.status_code == 200, r.text
    return r.json()


def run(api, case=QUICK):
    return api.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                               "test_cases": [case]})


def await_end(api, job):
    def ended():
        r = api.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=60)
        return r.status_code == 200 and r.json()
    return wait_until(ended, 60, what="the job to end")


def test_a_node_in_maintenance_is_unavailable_with_the_message_as_the_reason(mfarm, api):
    assert node(api)["available"] is True
    mfarm.admin("node", "maintenance", NODE, "on", "--message", "Replacing the HDMI cable")
    n = node(api)
    assert n["available"] is False
    assert n["not_available_reason"] == "Replacing the HDMI cable"
    assert n["online"] is True
    listed = [x for x in api.get("/api/v2/nodes").json() if x["node_id"] == NODE]
    assert listed[0]["not_available_reason"] == "Replacing the HDMI cable"
    mfarm.admin("node", "maintenance", NODE, "off")
    n = node(api)
    assert n["available"] is True and n["not_available_reason"] is None


def test_maintenance_without_a_message_says_so(mfarm, api):
    mfarm.admin("node", "maintenance", NODE, "on")
    assert node(api)["not_available_reason"] == "Node %s is in maintenance" % NODE


def test_run_tests_on_a_node_in_maintenance_is_409_naming_the_reason(mfarm, api):
    mfarm.admin("node", "maintenance", NODE, "on", "--message", "firmware update")
    r = run(api)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "Node %s is in maintenance: firmware update" % NODE
    mfarm.admin("node", "maintenance", NODE, "off")
    r = run(api)
    assert r.status_code == 200, r.text
    assert await_end(api, r.json())["status"] == "exited"


def test_a_reservation_of_a_node_in_maintenance_is_409_and_reserves_nothing(mfarm, api):
    mfarm.admin("node", "maintenance", NODE, "on", "--message", "rack moved")
    r = api.post("/api/v2/reservations", json={"node_ids": [NODE], "message": "soak"})
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "Node %s is in maintenance: rack moved" % NODE
    assert node(api)["reservation"] is None


def test_the_running_job_finishes_and_counts_its_result(mfarm, api):
    r = run(api, SLOW)
    assert r.status_code == 200, r.text
    job = r.json()
    wait_until(lambda: "Running tests/slow.py" in
               api.get("/api/v2/jobs%s/log" % job["job_uid"]).text, 30, what="the test to start")
    mfarm.admin("node", "maintenance", NODE, "on", "--message", "after this job")
    assert run(api).status_code == 409
    ended = await_end(api, job)
    assert ended["result_counts"]["pass"] == 1, ended
    n = node(api)
    assert n["available"] is False and n["not_available_reason"] == "after this job"


def test_maintenance_of_an_unknown_node_or_a_bad_message_fails_and_changes_nothing(mfarm, api):
    r = mfarm.admin("node", "maintenance", "stb-tester-00000000ffff", "on", check=False)
    assert r.returncode == 1 and "unknown node_id" in r.stderr
    r = mfarm.admin("node", "maintenance", NODE, "on", "--message", "x" * 501, check=False)
    assert r.returncode == 1 and "at most 500 bytes" in r.stderr
    r = mfarm.admin("node", "maintenance", NODE, "off", "--message", "no", check=False)
    assert r.returncode == 2
    r = mfarm.admin("node", "maintenance", NODE, "sideways", check=False)
    assert r.returncode == 2
    assert node(api)["available"] is True


# ---- health checks ----

HEALTH_CASE = "tests/health.py::test_the_box_answers"


@pytest.fixture(scope="module")
def hfarm(tmp_path_factory):
    """A node whose config names a health check that fails while a flag file exists."""
    flag = tmp_path_factory.mktemp("health") / "unhealthy"
    f = Farm(nodes=1, service_args={"jobs": ["--health-poll-ms", "300"]}).start()
    conf = ("[node]\nfriendly_name = Virtual STB 1\n\n[device_under_test]\ndevice_type = vstb\n\n"
            "[health_check]\ntest_case = %s\ninterval_secs = 10\nfailures_in_a_row = 2\n"
            % HEALTH_CASE)
    flag.write_text("yes")
    commit_files(f.test_pack, {
        "tests/health.py": "import os\n\n\ndef test_the_box_answers():\n"
                           "    assert not os.path.exists(%r), 'the box is unwell'\n" % str(flag),
        "config/test-farm/%s.conf" % NODE: conf,
    }, "a health check")
    f.wait_node(1)
    f.flag = flag
    yield f
    f.stop()


def health_jobs(api):
    r = api.get("/api/v2/jobs", params={"node_id": NODE})
    assert r.status_code == 200, r.text
    return [j for j in r.json() if j.get("category") == "health-check"]


def test_failing_health_checks_put_the_node_into_maintenance_and_a_pass_takes_it_out(hfarm):
    api = hfarm.session("alice")
    reason = wait_until(lambda: node(api)["not_available_reason"] if not node(api)["available"]
                        and "Health check" in (node(api)["not_available_reason"] or "") else None,
                        120, what="two failed health checks to put the node into maintenance")
    prefix = "Health check %s: 2 failed or errored runs in a row: /app/#/result/" % HEALTH_CASE
    assert reason.startswith(prefix), reason
    result = api.get("/api/v2/results/" + reason[len(prefix):])
    assert result.status_code == 200, result.text
    assert result.json()["result"] == "fail"
    assert result.json()["test_case"] == HEALTH_CASE
    r = run(api, HEALTH_CASE)
    assert r.status_code == 409 and "is in maintenance: Health check" in r.json()["error"], r.text

    hfarm.flag.unlink()
    wait_until(lambda: node(api)["available"], 60, what="a passing health check")
    assert node(api)["not_available_reason"] is None
    r = run(api, HEALTH_CASE)
    assert r.status_code == 200, r.text
    assert await_end(api, r.json())["result_counts"]["pass"] == 1


def test_health_checks_leave_an_operators_maintenance_alone(hfarm):
    api = hfarm.session("alice")
    wait_until(lambda: node(api)["available"], 60, what="the node to be available")
    hfarm.admin("node", "maintenance", NODE, "on", "--message", "cable swap")
    try:
        before = len(health_jobs(api))
        # a health check falls due every 10 s; none starts while the operator's maintenance lasts
        time.sleep(12)
        assert len(health_jobs(api)) == before
        assert node(api)["not_available_reason"] == "cable swap"
    finally:
        hfarm.admin("node", "maintenance", NODE, "off")


def test_nobody_can_take_the_health_checks_name(hfarm):
    r = hfarm.admin("token", "create", "health-check", check=False)
    assert r.returncode == 1 and "the farm's own" in r.stderr
    r = hfarm.admin("user", "add", "health-check", check=False)
    assert r.returncode == 1 and "the farm's own" in r.stderr

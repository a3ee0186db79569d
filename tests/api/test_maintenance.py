"""Node maintenance: `stbfarm-admin node maintenance NODE on|off [--message TEXT]` (what
`./stbfarm node maintenance` runs) takes a node out of service without touching its running job:
node status says why, new jobs and reservations are refused with a 409 naming the reason."""

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


def test_maintenance_of_an_unknown_node_or_with_a_bad_message_fails_and_changes_nothing(mfarm,
                                                                                     api):
    r = mfarm.admin("node", "maintenance", "stb-tester-00000000ffff", "on", check=False)
    assert r.returncode == 1 and "unknown node_id" in r.stderr
    r = mfarm.admin("node", "maintenance", NODE, "on", "--message", "x" * 501, check=False)
    assert r.returncode == 1 and "at most 500 bytes" in r.stderr
    r = mfarm.admin("node", "maintenance", NODE, "off", "--message", "no", check=False)
    assert r.returncode == 2
    r = mfarm.admin("node", "maintenance", NODE, "sideways", check=False)
    assert r.returncode == 2
    assert node(api)["available"] is True

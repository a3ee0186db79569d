"""Running tests for real: the demo test pack's test cases run on a node agent against a virtual
set-top box, their results land in the results service, and the job endpoints follow them."""

import concurrent.futures
import time

import pytest

from farm import Farm, commit_files, wait_until
from runs import await_job, start_job

NODE = "stb-tester-000000000001"
MENU = "tests/menu.py::test_that_menu_appears_when_menu_key_is_pressed"
FAILS = "tests/examples.py::test_that_the_epg_is_populated"
ERRORS = "tests/examples.py::test_that_reads_a_missing_setting"
ARTIFACTS = "tests/examples.py::test_that_writes_custom_artifacts"

EXTRA_TESTS = {
    "tests/slow.py": '''import time

def test_that_sleeps():
    time.sleep(30)

def test_that_sleeps_a_little():
    time.sleep(2)
''',
    "tests/quick.py": '''import stbt

def test_instant():
    pass

def test_that_sees_its_tags():
    assert stbt.get_config("result.tags", "model") == "T-1000", "tag model not visible"
''',
}


@pytest.fixture(scope="module")
def farm():
    f = Farm(nodes=1, gateway_args=["--long-poll-secs", "3"],
             service_args={"jobs": ["--stop-timeout-ms", "15000"]}).start()
    commit_files(f.test_pack, EXTRA_TESTS, "slow and quick tests")
    f.wait_node(1)
    yield f
    f.stop()


@pytest.fixture
def api(farm):
    s = farm.session("alice")
    yield s
    # leave the node idle for the next test
    s.post("/api/v2/nodes/%s/job/stop" % NODE)


def run(api, cases, **fields):
    return start_job(api, cases, **dict({"remote_control": "vstb"}, **fields))


def results_of(api, job):
    r = api.get("/api/v2/results", params={"filter": "job:" + job["job_uid"], "sort": "date:asc"})
    assert r.status_code == 200
    return r.json()


def start_slow_job(farm):
    """On a fresh farm of one node: a job of tests/slow.py::test_that_sleeps, its test started."""
    commit_files(farm.test_pack, EXTRA_TESTS)
    farm.wait_node(1)
    s = farm.session()
    r = s.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                          "test_cases": ["tests/slow.py::test_that_sleeps"]})
    assert r.status_code == 200, r.text
    job = r.json()
    wait_until(lambda: "Running tests/slow.py" in s.get("/api/v2/jobs%s/log" % job["job_uid"])
               .text, 15, what="the test to start")
    return s, job


# ---- the spec's examples ----

def test_run_tests_example_of_the_spec(api):
    job = run(api, [MENU])
    assert set(job) >= {"job_uid", "job_url", "status", "start_time", "end_time", "result_counts"}
    node, nonce, n = job["job_uid"].split("/")[1:]
    assert node == NODE and len(nonce) == 4 and n.isdigit()
    assert job["job_url"] == api.base + "/api/v2/jobs" + job["job_uid"]
    assert job["status"] == "running" and job["end_time"] is None
    assert job["result_counts"] == {"pass": 0, "fail": 0, "error": 0, "total": 1}
    done = await_job(api, job)
    assert done["status"] == "exited" and done["end_time"]
    assert done["result_counts"] == {"pass": 1, "fail": 0, "error": 0, "total": 1}
    # GET /jobs/<uid> and GET /nodes/<id>/job show the same job
    assert api.get("/api/v2/jobs" + job["job_uid"]).json()["status"] == "exited"
    assert api.get("/api/v2/nodes/%s/job" % NODE).json()["job_uid"] == job["job_uid"]
    # a client appending the uid to a URL ending in '/' works too
    assert api.get(api.base + "/api/v2/jobs/" + job["job_uid"]).status_code == 200


def test_a_job_of_three_cases_counts_each_outcome(api):
    job = run(api, [MENU, FAILS, ERRORS], category="counts")
    done = await_job(api, job)
    assert done["result_counts"] == {"pass": 1, "fail": 1, "error": 1, "total": 3}
    res = {r["test_case"]: r for r in results_of(api, job)}
    assert res[MENU]["result"] == "pass" and res[MENU]["failure_reason"] is None
    assert res[FAILS]["result"] == "fail" and res[FAILS]["failure_reason"] == "EPG is empty"
    assert res[ERRORS]["result"] == "error"
    assert "no configuration value test_pack.no_such_setting" in res[ERRORS]["failure_reason"]
    detail = api.get("/api/v2/results" + res[FAILS]["result_id"]).json()
    assert "AssertionError: EPG is empty" in detail["traceback"]
    assert detail["job_category"] == "counts"
    assert detail["username"] == "alice"
    assert detail["test_pack_branch"] == "refs/heads/master"


def test_each_run_keeps_its_logs_screenshot_video_and_own_files(api):
    job = run(api, [ARTIFACTS])
    await_job(api, job)
    result = results_of(api, job)[0]
    detail = api.get("/api/v2/results" + result["result_id"]).json()
    assert set(detail["artifacts"]) >= {
        "stdout.log", "stderr.log", "combined.log", "stbt.log", "screenshot.png",
        "thumbnail.jpg", "video.mp4", "my-custom-logfile.log",
        "a/file in a subdirectory/another.log"}
    stbt_log = api.get("/api/v2/results%s/stbt.log" % result["result_id"]).text
    line = [ln for ln in stbt_log.splitlines() if "wrote two custom artifacts" in ln][0]
    stamp = line.split(" ")[0]  # 2015-06-18T14:59:00.321421+00:00
    assert len(stamp) == 32 and stamp[10] == "T" and stamp[19] == "." and stamp.endswith("+00:00")
    png = api.get("/api/v2/results%s/screenshot.png" % result["result_id"])
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    video = api.get("/api/v2/results%s/artifacts/video.mp4" % result["result_id"]).content
    assert video[4:8] == b"ftyp" and b"moov" in video[:4096]  # +faststart: index first
    sub = api.get("/api/v2/results%s/artifacts/a/file in a subdirectory/another.log"
                  % result["result_id"])
    assert sub.text == "written by the test script\n"


def test_a_test_pressing_keys_and_waiting_for_a_match_passes(api):
    job = run(api, ["tests/menu.py::test_that_down_moves_the_highlight_to_the_guide",
                    "tests/live_tv.py::test_that_pause_button_pauses_live_tv"])
    done = await_job(api, job)
    assert done["result_counts"]["pass"] == 2, results_of(api, job)


def test_tags_are_recorded_and_visible_to_the_script(api):
    job = run(api, ["tests/quick.py::test_that_sees_its_tags"], tags={"model": "T-1000"})
    done = await_job(api, job)
    assert done["result_counts"]["pass"] == 1, results_of(api, job)
    detail = api.get("/api/v2/results" + results_of(api, job)[0]["result_id"]).json()
    assert detail["tags"] == {"model": "T-1000"}


def test_default_remote_control_comes_from_stbt_conf(api):
    body = {"node_id": NODE, "test_pack_revision": "master", "test_cases": [MENU]}
    r = api.post("/api/v2/run_tests", json=body)
    assert r.status_code == 200, r.text
    assert await_job(api, r.json())["result_counts"]["pass"] == 1


# ---- one job at a time; stopping ----

def test_second_run_tests_while_running_is_409(api):
    job = run(api, ["tests/slow.py::test_that_sleeps"])
    r = api.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                            "test_cases": [MENU]})
    assert r.status_code == 409
    assert job["job_uid"] in r.json()["error"]


def test_node_status_shows_the_running_job_then_the_last(api):
    job = run(api, ["tests/slow.py::test_that_sleeps"])
    node = api.get("/api/v2/nodes/" + NODE).json()
    assert node["job"]["job_uid"] == job["job_uid"]
    assert node["job"]["status"] == "running"
    assert node["job"]["log_url"] == job["job_url"] + "/log"
    assert node["job"]["triage_url"].endswith("/app/#/results?filter=job:" + job["job_uid"])
    assert node["available"] is False and "running job" in node["not_available_reason"]
    assert node["last_used_by"] == "alice"
    api.put("/api/v2/jobs%s/stop" % job["job_uid"])
    node = api.get("/api/v2/nodes/" + NODE).json()
    assert node["job"]["status"] == "exited" and node["available"] is True


def test_job_log_grows_while_the_job_runs(api):
    job = run(api, ["tests/slow.py::test_that_sleeps"])
    wait_until(lambda: "Running tests/slow.py::test_that_sleeps" in
               api.get("/api/v2/jobs%s/log" % job["job_uid"]).text, 15, what="the job log")
    r = api.get("/api/v2/jobs%s/log" % job["job_uid"])
    assert r.headers["Content-Type"].startswith("text/plain")


def test_stop_mid_run_leaves_partial_counts_and_a_free_node(api):
    job = run(api, [MENU, "tests/slow.py::test_that_sleeps", MENU])
    wait_until(lambda: api.get("/api/v2/jobs" + job["job_uid"]).json()["result_counts"]["pass"]
               == 1, 30, what="the first test case")
    wait_until(lambda: "test_that_sleeps" in api.get("/api/v2/jobs%s/log" % job["job_uid"]).text,
               15, what="the slow test case to start")
    r = api.put("/api/v2/jobs%s/stop" % job["job_uid"])
    assert r.status_code == 200, r.text
    stopped = r.json()
    assert stopped["status"] == "exited"
    assert stopped["result_counts"] == {"pass": 1, "fail": 0, "error": 0, "total": 3}
    # the node takes a new job at once
    again = run(api, [MENU])
    assert again["status"] == "running"
    await_job(api, again)
    # stopping is idempotent, with PUT or POST
    for method in (api.put, api.post):
        assert method("/api/v2/jobs%s/stop" % job["job_uid"]).status_code == 200


def test_node_form_of_stop(api):
    job = run(api, ["tests/slow.py::test_that_sleeps"])
    r = api.post("/api/v2/nodes/%s/job/stop" % NODE)
    assert r.status_code == 200
    assert r.json()["job_uid"] == job["job_uid"] and r.json()["status"] == "exited"


def test_run_forever_repeats_until_stopped(api):
    job = run(api, ["tests/quick.py::test_instant"], soak="run forever")
    wait_until(lambda: api.get("/api/v2/jobs" + job["job_uid"]).json()["result_counts"]["pass"]
               >= 3, 60, what="three runs")
    r = api.put("/api/v2/jobs%s/stop" % job["job_uid"])
    assert r.status_code == 200
    counts = r.json()["result_counts"]
    assert counts["pass"] >= 3 and counts["total"] >= counts["pass"]
    assert len(results_of(api, job)) == counts["pass"]


def test_shuffled_soak_runs_faster_test_cases_more_often(api):
    job = run(api, ["tests/quick.py::test_instant", "tests/slow.py::test_that_sleeps_a_little"],
              soak="run forever", shuffle=True)
    wait_until(lambda: api.get("/api/v2/jobs" + job["job_uid"]).json()["result_counts"]["pass"]
               >= 30, 120, what="thirty runs")
    api.put("/api/v2/jobs%s/stop" % job["job_uid"])
    runs = [r["test_case"] for r in results_of(api, job)]
    fast = runs.count("tests/quick.py::test_instant")
    slow = runs.count("tests/slow.py::test_that_sleeps_a_little")
    assert slow >= 1 and fast > 2 * slow, runs


def test_shuffled_run_once_runs_each_case_once(api):
    cases = [MENU, ERRORS, FAILS, "tests/quick.py::test_instant"]
    job = run(api, cases, shuffle=True)
    done = await_job(api, job)
    assert done["result_counts"]["total"] == 4
    assert sorted(r["test_case"] for r in results_of(api, job)) == sorted(cases)


# ---- waiting ----

def test_await_completion_is_woken_by_the_job_ending(api):
    job = run(api, ["tests/slow.py::test_that_sleeps_a_little"])
    r = api.get("/api/v2/jobs%s/await_completion" % job["job_uid"])
    arrived = time.time()
    assert r.status_code == 200
    end = r.json()["end_time"]
    ended = time.mktime(time.strptime(end[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + \
        float("0." + end[20:26])
    # woken by the job's event, not by the 5 s safety re-check (bench/jobs.sh measures it)
    assert arrived - ended < 2.5


def test_await_completion_answers_202_after_the_long_poll_time(api):
    job = run(api, ["tests/slow.py::test_that_sleeps"])
    t0 = time.monotonic()
    r = api.get("/api/v2/jobs%s/await_completion" % job["job_uid"])
    assert r.status_code == 202
    assert r.json()["status"] == "running"
    assert time.monotonic() - t0 >= 2.9  # --long-poll-secs 3
    r = api.get("/api/v2/nodes/%s/job/await_completion" % NODE)
    assert r.status_code == 202


def test_await_completion_of_a_finished_job_returns_at_once(api):
    job = run(api, [MENU])
    await_job(api, job)
    t0 = time.monotonic()
    assert api.get("/api/v2/jobs%s/await_completion" % job["job_uid"]).status_code == 200
    assert api.get("/api/v2/nodes/%s/job/await_completion" % NODE).status_code == 200
    assert time.monotonic() - t0 < 2.9


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1, "gateway_args": [
    "--max-long-polls", "2", "--threads", "16", "--long-poll-secs", "5"]}], indirect=True)
def test_long_polls_above_the_cap_get_503(fresh_farm):
    s, job = start_slow_job(fresh_farm)
    url = "/api/v2/jobs%s/await_completion" % job["job_uid"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: s.get(url), range(4)))
    codes = sorted(r.status_code for r in replies)
    assert codes == [202, 202, 503, 503]
    busy = [r for r in replies if r.status_code == 503][0]
    assert "long polls" in busy.json()["error"]
    s.post("/api/v2/nodes/%s/job/stop" % NODE)


# ---- nodes that die mid-job ----

@pytest.mark.parametrize("fresh_farm", [{"nodes": 1}], indirect=True)
def test_node_agent_killed_mid_job_ends_the_job_with_an_error(fresh_farm):
    s, job = start_slow_job(fresh_farm)
    fresh_farm.proc("nodesvc1").kill()
    r = s.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=70)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "exited"
    assert done["result_counts"]["error"] == 1
    res = s.get("/api/v2/results", params={"filter": "job:" + job["job_uid"]}).json()
    assert len(res) == 1 and res[0]["result"] == "error"
    assert "went offline" in res[0]["failure_reason"]


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1}], indirect=True)
def test_node_agent_restarted_mid_job_ends_the_job_with_an_error(fresh_farm):
    s, job = start_slow_job(fresh_farm)
    time.sleep(3.5)  # past the reaper's grace after the job's start
    fresh_farm.proc("nodesvc1").kill()
    fresh_farm.start_nodesvc(1)  # back before the node would count as offline
    done = s.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=70).json()
    assert done["status"] == "exited" and done["result_counts"]["error"] == 1
    res = s.get("/api/v2/results", params={"filter": "job:" + job["job_uid"]}).json()
    assert "restarted" in res[0]["failure_reason"]
    # and the node runs jobs again
    fresh_farm.wait_node(1)
    again = s.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                              "test_cases": [MENU]})
    assert again.status_code == 200, again.text


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1}], indirect=True)
def test_results_service_restart_during_a_job_loses_nothing(fresh_farm):
    fresh_farm.wait_node(1)
    s = fresh_farm.session()
    fresh_farm.proc("results0").kill()
    job = s.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                            "test_cases": [MENU, FAILS]}).json()
    time.sleep(3)  # the runs finish and wait in the node's outbox
    fresh_farm.start_service("results")
    r = s.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=70)
    while r.status_code == 202:
        r = s.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=70)
    assert r.json()["result_counts"] == {"pass": 1, "fail": 1, "error": 0, "total": 2}
    res = s.get("/api/v2/results", params={"filter": "job:" + job["job_uid"]}).json()
    assert sorted(x["result"] for x in res) == ["fail", "pass"]


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1, "env": {"STBF_TEST_TIMEOUT_SECS": "2"}}],
                         indirect=True)
def test_a_test_that_hangs_is_stopped_by_the_timeout_as_an_error(fresh_farm):
    commit_files(fresh_farm.test_pack, EXTRA_TESTS)
    fresh_farm.wait_node(1)
    s = fresh_farm.session()
    # the next test must still run: a quick one, which a 2 s timeout leaves room for even on a
    # loaded machine (a test that imports OpenCV may take longer than that there)
    job = s.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                            "test_cases": ["tests/slow.py::test_that_sleeps",
                                                           "tests/quick.py::test_instant"]}).json()
    done = await_job(s, job)
    assert done["result_counts"] == {"pass": 1, "fail": 0, "error": 1, "total": 2}
    slow = [r for r in results_of(s, job) if r["test_case"] == "tests/slow.py::test_that_sleeps"]
    assert slow[0]["failure_reason"] == "the test did not finish within 2 s"


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1, "service_args": {
    "jobs": ["--stop-timeout-ms", "1"]}}], indirect=True)
def test_stop_answers_202_while_the_node_is_still_stopping(fresh_farm):
    s, job = start_slow_job(fresh_farm)
    r = s.put("/api/v2/jobs%s/stop" % job["job_uid"])
    assert r.status_code == 202
    assert r.json()["status"] == "running"
    # the node finishes stopping by itself, and a retry then answers 200
    assert await_job(s, job)["status"] == "exited"
    assert s.put("/api/v2/jobs%s/stop" % job["job_uid"]).status_code == 200

"""What the portal adds to the API, as scripts see it: the results list's details and limit,
and (with a node) the live screen, the remote controls and branches of the test pack, a job
log from an offset and the jobs of a node. None of it changes an answer of the spec's."""

import json
import time

import cv2
import numpy
import pytest
import requests

from farm import Farm, commit_files, git, wait_until
from results_push import load, record
from talk import TALK, TALK_FILES

SPEC_LIST_FIELDS = {"result_id", "job_uid", "result_url", "triage_url", "start_time", "end_time",
                    "test_pack_sha", "test_case", "result", "failure_reason"}


@pytest.fixture(scope="module")
def farm():
    f = Farm(nodes=1).start()
    load(f, [record(start_time="2024-01-01T00:00:%02d.000000Z" % i,
                    end_time="2024-01-01T00:01:%02d.000000Z" % i, job_category="cat%d" % (i % 2))
             for i in range(10)])
    yield f
    f.stop()


@pytest.fixture
def api(farm):
    return farm.session("alice")


def test_the_results_list_is_the_specs_without_details(api):
    rows = api.get("/api/v2/results").json()
    assert rows and all(set(r) == SPEC_LIST_FIELDS for r in rows)


def test_details_add_category_node_and_user_to_each_result(api):
    plain = api.get("/api/v2/results").json()
    rows = api.get("/api/v2/results", params={"details": "true"}).json()
    assert [r["result_id"] for r in rows] == [r["result_id"] for r in plain]
    for r, p in zip(rows, plain):
        assert set(r) == SPEC_LIST_FIELDS | {"job_category", "node_id", "username"}
        assert {k: r[k] for k in SPEC_LIST_FIELDS} == p
        assert r["node_id"] == "stb-tester-abcdef123456" and r["username"] == "johnsmith"
    assert {r["job_category"] for r in rows} == {"cat0", "cat1"}


def test_limit_answers_the_first_n_in_order(api):
    rows = api.get("/api/v2/results", params={"limit": 3, "sort": "date:asc"}).json()
    assert [r["start_time"] for r in rows] == ["2024-01-01T00:00:0%d.000000Z" % i
                                               for i in range(3)]
    csv = api.get("/api/v2/results.csv", params={"limit": 2}).text
    assert csv.count("\r\n") == 3


@pytest.mark.parametrize("limit", ["0", "2001", "x", "-1"])
def test_a_bad_limit_is_400(api, limit):
    r = api.get("/api/v2/results", params={"limit": limit})
    assert r.status_code == 400
    assert "limit" in r.json()["error"]


# ---- the live screen ----

NODE = "stb-tester-000000000001"
MENU = "tests/menu.py::test_that_menu_appears_when_menu_key_is_pressed"


def parts(api, path, seconds, **params):
    """The parts of an MJPEG stream read for seconds: [(headers, jpeg)]."""
    r = api.get(path, params=params, stream=True, timeout=15)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=stbfarmframe"
    data = b""
    end = time.monotonic() + seconds
    for chunk in r.iter_content(65536):
        data += chunk
        if time.monotonic() > end:
            break
    r.close()
    out = []
    for part in data.split(b"--stbfarmframe\r\n")[1:]:
        head, _, body = part.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        n = int(headers["Content-Length"])
        if len(body) >= n:
            out.append((headers, body[:n]))
    return out


def test_live_screen_streams_jpeg_frames_of_720p(api):
    got = parts(api, "/api/v2/nodes/%s/live.mjpeg" % NODE, 2)
    assert len(got) >= 10  # at least 5 a second; the vstb sends 25
    headers, jpeg = got[-1]
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    image = cv2.imdecode(numpy.frombuffer(jpeg, numpy.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (720, 1280, 3)
    seqs = [int(h["X-Frame-Seq"]) for h, _ in got]
    assert seqs == sorted(seqs)
    captured = int(headers["X-Frame-Time"]) / 1e6
    assert abs(time.time() - captured) < 5


def test_live_screen_takes_fps_and_width(api):
    got = parts(api, "/api/v2/nodes/%s/live.mjpeg" % NODE, 2, fps=2, width=320)
    assert 2 <= len(got) <= 6
    image = cv2.imdecode(numpy.frombuffer(got[0][1], numpy.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (180, 320, 3)


@pytest.mark.parametrize("params", [{"fps": 0}, {"fps": 61}, {"width": "x"}])
def test_live_screen_refuses_bad_parameters(api, params):
    r = api.get("/api/v2/nodes/%s/live.mjpeg" % NODE, params=params)
    assert r.status_code == 400


def test_live_screen_of_an_unknown_or_offline_node(farm, api):
    assert api.get("/api/v2/nodes/stb-tester-nope/live.mjpeg").status_code == 404
    farm.admin("node", "register", "stb-tester-0000000000fe")
    r = api.get("/api/v2/nodes/stb-tester-0000000000fe/live.mjpeg")
    assert r.status_code == 503
    assert r.json() == {"error": "Node stb-tester-0000000000fe is offline"}


def test_live_screen_needs_a_credential(farm):
    assert requests.get(farm.url + "/api/v2/nodes/%s/live.mjpeg" % NODE).status_code == 403


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1, "gateways": 2,
                                         "gateway_args": ["--live-viewers", "2"]}], indirect=True)
def test_viewers_of_a_node_are_capped_over_every_gateway_and_leave_when_they_close(fresh_farm):
    path = "/api/v2/nodes/%s/live.mjpeg" % NODE
    a, b = fresh_farm.session("a", 0), fresh_farm.session("b", 1)
    first = a.get(path, stream=True, timeout=10)
    second = b.get(path, stream=True, timeout=10)
    assert first.status_code == second.status_code == 200
    third = a.get(path, stream=True, timeout=10)
    assert third.status_code == 503
    assert "2 viewers" in third.json()["error"] and third.headers["Retry-After"]
    first.close()  # the tab closes: its place is free as soon as the gateway notices
    wait_until(lambda: a.get(path, stream=True, timeout=10).status_code == 200, 5,
               what="a free place")
    second.close()


def live_frames(farm):
    return json.loads(farm.admin("node", "call", NODE, "agent.live_status").stdout)[
        "frames_encoded"]


def test_nobody_watching_costs_the_node_nothing(farm, api):
    """Frames are encoded only while a stream is open."""
    time.sleep(0.5)
    before = live_frames(farm)
    time.sleep(1)
    assert live_frames(farm) == before
    parts(api, "/api/v2/nodes/%s/live.mjpeg" % NODE, 1)
    time.sleep(0.5)  # the gateway notices the closed stream at its next write
    during = live_frames(farm)
    assert during > before
    time.sleep(1)
    assert live_frames(farm) == during
    assert farm.redis("zcard", "sf:live:" + NODE).strip() == "0"


# ---- the test pack: branches, tags, remote controls ----

def test_refs_list_branches_tags_and_the_default(farm, api):
    git(farm.test_pack, "tag", "v1.0")
    git(farm.test_pack, "branch", "feature/x")
    try:
        refs = api.get("/api/v2/test_pack/refs").json()
        assert refs["default_branch"] == "master"
        assert refs["branches"] == ["feature/x", "master"]
        assert refs["tags"] == ["v1.0"]
    finally:
        git(farm.test_pack, "tag", "-d", "v1.0")
        git(farm.test_pack, "branch", "-D", "feature/x")


def test_remote_controls_and_their_keys(api):
    rcs = api.get("/api/v2/test_pack/master/remote_controls").json()
    assert rcs["remote_controls"] == ["vstb"]
    assert rcs["default_remote_control"] == "vstb"
    assert len(rcs["test_pack_sha"]) == 40
    rc = api.get("/api/v2/test_pack/HEAD/remote_controls/vstb").json()
    assert rc["name"] == "vstb" and rc["lirc_name"]
    assert {"KEY_MENU", "KEY_UP", "KEY_OK", "KEY_BACK"} <= set(rc["keys"])
    assert api.get("/api/v2/test_pack/HEAD/remote_controls/nope").status_code == 400
    assert api.get("/api/v2/test_pack/nosuch/remote_controls").status_code == 404


def test_manual_control_sees_remote_controls_and_branches(farm):
    s = farm.portal("handy", "manual")
    assert s.get("/api/v2/test_pack/refs").status_code == 200
    assert s.get("/api/v2/test_pack/HEAD/remote_controls/vstb").status_code == 200
    assert s.get("/api/v2/test_pack/HEAD/test_case_names").status_code == 403


# ---- jobs: recent jobs, details, the log from an offset ----

@pytest.fixture(scope="module")
def job(farm):
    api = farm.session("jobber")
    r = api.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                            "test_cases": [MENU], "category": "portal",
                                            "tags": {"k": "v"}})
    assert r.status_code == 200, r.text
    uid = r.json()["job_uid"]
    while api.get("/api/v2/jobs%s/await_completion" % uid).status_code == 202:
        pass
    return uid


def test_jobs_of_a_node_newest_first_with_details(api, job):
    jobs = api.get("/api/v2/jobs", params={"node_id": NODE}).json()
    assert jobs[0]["job_uid"] == job
    d = jobs[0]
    assert d["node_id"] == NODE and d["user"] == "jobber" and d["category"] == "portal"
    assert d["test_cases"] == [MENU] and d["tags"] == {"k": "v"}
    assert d["status"] == "exited" and d["result_counts"]["pass"] == 1
    assert d["soak"] == "run once" and d["shuffle"] is False and d["remote_control"] == "vstb"
    assert d["test_pack_branch"] == "refs/heads/master" and d["current_test_case"] is None
    assert api.get("/api/v2/jobs").json()[0]["job_uid"] == job
    assert api.get("/api/v2/jobs", params={"node_id": "stb-tester-none"}).json() == []
    assert api.get("/api/v2/jobs", params={"limit": 0}).status_code == 400


def test_a_job_is_the_specs_unless_details_are_asked(api, job):
    plain = api.get("/api/v2/jobs" + job).json()
    assert set(plain) == {"end_time", "job_uid", "job_url", "log_url", "result_counts",
                          "start_time", "status", "triage_url"}
    detail = api.get("/api/v2/jobs" + job, params={"details": "true"}).json()
    assert {k: detail[k] for k in plain} == plain
    assert detail["test_cases"] == [MENU]


def test_the_job_log_from_an_offset(api, job):
    whole = api.get("/api/v2/jobs%s/log" % job)
    assert whole.headers["X-Job-Status"] == "exited"
    assert int(whole.headers["X-Log-Offset"]) == len(whole.content)
    tail = api.get("/api/v2/jobs%s/log" % job, params={"offset": 10})
    assert tail.content == whole.content[10:]
    assert int(tail.headers["X-Log-Offset"]) == len(whole.content)
    past = api.get("/api/v2/jobs%s/log" % job, params={"offset": len(whole.content),
                                                       "wait": "true"})
    assert past.status_code == 200 and past.content == b""  # exited: nothing more is coming
    assert api.get("/api/v2/jobs%s/log" % job, params={"offset": -1}).status_code == 400


def test_following_a_running_jobs_log_gets_each_line_as_it_comes(farm, api):
    commit_files(farm.test_pack, TALK_FILES, "a test that talks slowly")
    r = api.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                            "test_cases": [TALK]})
    uid = r.json()["job_uid"]
    offset, text, seen = 0, b"", []
    try:
        while True:
            part = api.get("/api/v2/jobs%s/log" % uid, params={"offset": offset, "wait": "true"},
                           timeout=30)
            assert part.status_code == 200
            text += part.content
            offset = int(part.headers["X-Log-Offset"])
            for n in range(4):
                if b"talking line %d" % n in text and n not in seen:
                    seen.append(n)
            if part.headers["X-Job-Status"] == "exited":
                break
    finally:
        api.post("/api/v2/nodes/%s/job/stop" % NODE)
    assert seen == [0, 1, 2, 3]
    assert text == api.get("/api/v2/jobs%s/log" % uid).content

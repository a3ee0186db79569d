"""Test results: recorded through the real ingest protocol, then read back through every
endpoint of the spec's "Test results" section: the list and its filters, sorts and exports, one
result, its log, screenshot and artifacts (Range, traversal), retention, and what a node agent
relies on (idempotent calls, nothing visible until finished)."""

import calendar
import csv
import hashlib
import io
import os
import shutil
import socket
import time
import urllib.parse

import pytest
from junitparser import Error, Failure, JUnitXml

from farm import Farm, wait_ok, wait_until
from results_push import JOB, NODE, load, png, push, push_id, record, write_artifacts

SPEC_LIST_FIELDS = {"result_id", "job_uid", "result_url", "triage_url", "start_time",
                    "end_time", "test_pack_sha", "test_case", "result", "failure_reason"}
SPEC_DETAIL_FIELDS = SPEC_LIST_FIELDS | {"test_pack_branch", "username", "job_category",
                                         "traceback", "artifacts", "tags"}
JOB2 = "/stb-tester-000000000002/0b00/1"
NODE2 = "stb-tester-000000000002"
LOG = ("2015-05-28T14:46:35.354791+00:00 stbt-run: Arguments:\n"
       "2015-05-28T14:46:35.400000+00:00 control: lirc:172.17.0.133:8765:vstb\n"
       "  a continuation line\n"
       "2015-12-01T12:00:00+00:00 a winter line\n")
TRACEBACK = ('Traceback (most recent call last):\n  File "tests/epg.py", line 24, in '
             'test_that_epg_is_populated\n    assert epg_is_populated(), "EPG is empty"\n'
             'AssertionError: EPG is empty')

# The results every test of the module reads (key -> record), pushed once.
DATA = {
    "epg_fail": record(result="fail", failure_reason="EPG is empty", traceback=TRACEBACK),
    "epg_pass": record(start_time="2015-05-28T14:46:45.431553Z",
                       end_time="2015-05-28T14:46:49.334224Z"),
    # 06:30Z is 23:30 MST on March 9 in Denver; 10:00Z is 04:00 MDT on March 10 (DST began)
    "winter_error": record(job_uid=JOB2, node_id=NODE2, test_case="tests/menu.py::test_menu_2",
                           job_category="soak test of release x", tags={"model": "T-2000"},
                           start_time="2024-03-10T06:30:00Z", end_time="2024-03-10T06:30:30Z",
                           result="error", failure_reason="Timeout waiting for the EPG",
                           traceback="Traceback: stbt.UITimeoutError", test_pack_branch=None),
    "dst_pass": record(job_uid=JOB2, node_id=NODE2, test_case="tests/menu.py::test_menu_10",
                       job_category="soak test of release x", tags={},
                       start_time="2024-03-10T10:00:00Z", end_time="2024-03-10T10:00:01Z"),
    # 05:00Z on July 4 is 23:00 MDT on July 3 in Denver
    "summer_fail": record(job_uid=JOB2, node_id=NODE2, test_case="tests/menu.py::test_menu_2",
                          job_category="nightly", tags={"model": "T-1000", "build": "b7"},
                          start_time="2024-07-04T05:00:00Z", end_time="2024-07-04T05:02:00Z",
                          result="fail", failure_reason="Menu did not open, \"ok\"\nsaid it"),
}


@pytest.fixture(scope="module")
def rf():
    """A farm with DATA recorded; the artifacts of epg_fail are in rf.local."""
    f = Farm().start()
    f.local = os.path.join(f.dir, "local-artifacts")
    video = os.urandom(3 * 1024 * 1024 + 12345)
    f.listing = write_artifacts(f.local, {
        "combined.log": b"stdout and stderr\n",
        "stbt.log": LOG.encode(),
        "screenshot.png": png(),
        "video.mp4": video,
        "a/file in a subdirectory/another.log": b"deep\n",
        "report.html": b"<script>alert(1)</script>",
        "empty.txt": b"",
    })
    f.ids = {}
    for key, rec in DATA.items():
        f.ids[key] = push_id(f, rec, f.local if key == "epg_fail" else None)
    yield f
    f.stop()


@pytest.fixture
def api(rf):
    return rf.session("alice")


def get_list(api, **params):
    r = api.get("/api/v2/results", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def ids_of(api, **params):
    return [x["result_id"] for x in get_list(api, **params)]


def keys_of(rf, api, **params):
    by_id = {v: k for k, v in rf.ids.items()}
    return [by_id[i] for i in ids_of(api, **params) if i in by_id]


# ---- the spec's examples ----

def test_list_by_job_is_the_spec_example(rf, api):
    results = get_list(api, filter="job:" + JOB)
    assert [r["result_id"] for r in results] == [rf.ids["epg_pass"], rf.ids["epg_fail"]]
    fail = results[1]
    assert set(fail) == SPEC_LIST_FIELDS
    rid = fail["result_id"]
    assert rid == JOB + "/2015-05-28_14.46.35"
    assert fail["job_uid"] == JOB
    assert fail["result_url"] == api.base + "/api/v2/results" + rid
    assert fail["triage_url"] == api.base + "/app/#/result/" + rid
    assert fail["start_time"] == "2015-05-28T14:46:35.354791Z"
    assert fail["end_time"] == "2015-05-28T14:46:42.325432Z"
    assert fail["test_pack_sha"] == "c2c82cad08114f973e2c36f0bbfbfb0a78dad911"
    assert fail["test_case"] == "tests/epg.py::test_that_epg_is_populated"
    assert fail["result"] == "fail"
    assert fail["failure_reason"] == "EPG is empty"
    assert results[0]["failure_reason"] is None


def test_result_has_every_field_of_the_spec(rf, api):
    rid = rf.ids["epg_fail"]
    r = api.get("/api/v2/results/" + rid.lstrip("/"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    res = r.json()
    assert set(res) == SPEC_DETAIL_FIELDS | {"node_id"}
    assert res["result_id"] == rid
    assert res["test_pack_branch"] == "refs/heads/master"
    assert res["username"] == "johnsmith"
    assert res["job_category"] == "example"
    assert res["traceback"] == TRACEBACK
    assert res["tags"] == {"model": "T-1000"}
    assert res["node_id"] == NODE
    assert res["artifacts"] == rf.listing
    other = api.get("/api/v2/results" + rf.ids["winter_error"]).json()
    assert other["test_pack_branch"] is None
    passed = api.get("/api/v2/results" + rf.ids["epg_pass"]).json()
    assert passed["failure_reason"] is None and passed["traceback"] is None
    assert passed["artifacts"] == {}


def test_result_url_works_as_given_with_or_without_slashes(rf, api):
    url = get_list(api, filter="job:" + JOB)[1]["result_url"]
    assert api.get(url).status_code == 200
    assert api.get(url + "/").status_code == 200
    assert api.get(api.base + "/api/v2/results/" + rf.ids["epg_fail"]).status_code == 200


def test_unknown_result_is_404_json(api):
    for rid in ("/stb-tester-abcdef123456/0a23/972/2001-01-01_00.00.00", "/a/b/c/d"):
        r = api.get("/api/v2/results" + rid)
        assert r.status_code == 404
        assert "unknown result_id" in r.json()["error"]
    assert api.get("/api/v2/results/a/b/c/d/stbt.log").status_code == 404
    assert api.get("/api/v2/results/a/b/c/d/artifacts/").status_code == 404


# ---- filters ----

@pytest.mark.parametrize("flt,expected", [
    ("job:" + JOB, ["epg_pass", "epg_fail"]),
    ("job:/stb-tester-000000000002/*", ["summer_fail", "dst_pass", "winter_error"]),
    ("testcase:tests/menu.py::test_menu_2", ["summer_fail", "winter_error"]),
    ("testcase:tests/epg.py::*", ["epg_pass", "epg_fail"]),
    ("result:pass", ["dst_pass", "epg_pass"]),
    ("result:fail", ["summer_fail", "epg_fail"]),
    ("result:error", ["winter_error"]),
    ("category:\"soak test of release x\"", ["dst_pass", "winter_error"]),
    ("category:nightly", ["summer_fail"]),
    ("node:" + NODE2, ["summer_fail", "dst_pass", "winter_error"]),
    ("tag:model=T-1000", ["summer_fail", "epg_pass", "epg_fail"]),
    ("tag:build=b7", ["summer_fail"]),
    ("tag:build", ["summer_fail"]),
    ("date:2015-05-28", ["epg_pass", "epg_fail"]),
    ("date:>2024-03-10", ["summer_fail"]),
    ("date:2024-01-01..2024-12-31", ["summer_fail", "dst_pass", "winter_error"]),
    ("date:<2024-03-10T07:00Z", ["winter_error", "epg_pass", "epg_fail"]),
    ("EPG", ["winter_error", "epg_pass", "epg_fail"]),  # test case or failure reason
    ("\"did not open\"", ["summer_fail"]),
    ("menu_1", ["dst_pass"]),
])
def test_each_filter_term_alone(rf, api, flt, expected):
    assert keys_of(rf, api, filter=flt) == expected


@pytest.mark.parametrize("flt,expected", [
    ("node:%s result:fail" % NODE2, ["summer_fail"]),
    ("-result:pass", ["summer_fail", "winter_error", "epg_fail"]),
    ("-result:pass -node:" + NODE2, ["epg_fail"]),
    ("epg -tag:model=T-1000", ["winter_error"]),
    ("tag:model=T-1000 date:2024 testcase:tests/menu.py::test_menu_2 result:fail",
     ["summer_fail"]),
    ("job:%s -job:%s" % (JOB, JOB), []),
    ("-\"EPG is empty\" category:example", ["epg_pass"]),
])
def test_filter_terms_combine_and_negate(rf, api, flt, expected):
    assert keys_of(rf, api, filter=flt) == expected


@pytest.mark.parametrize("params,words", [
    ({"filter": "resutl:fail"}, "unknown term 'resutl:'"),
    ({"filter": "result:maybe"}, "pass, fail or error"),
    ({"filter": "category:\"unclosed"}, "never closed"),
    ({"filter": "date:yesterday"}, "not a date"),
    ({"sort": "date"}, "invalid sort"),
    ({"sort": "name:asc"}, "invalid sort"),
    ({"sort": "date:sideways"}, "invalid sort"),
    ({"tz": "Mars/Olympus_Mons"}, "unknown time zone"),
    ({"tz": "../../etc/passwd"}, "unknown time zone"),
])
@pytest.mark.parametrize("path", ["/api/v2/results", "/api/v2/results.csv",
                                  "/api/v2/results.xml"])
def test_invalid_filter_sort_or_tz_is_400(api, path, params, words):
    r = api.get(path, params=params)
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/json"
    assert words in r.json()["error"]


def test_dates_in_the_filter_are_read_in_tz_with_daylight_saving(rf, api):
    # March 10, 2024 in Denver runs from 07:00Z (MST) to 06:00Z on the 11th (MDT)
    assert keys_of(rf, api, filter="date:2024-03-10") == ["dst_pass", "winter_error"]
    assert keys_of(rf, api, filter="date:2024-03-10", tz="America/Denver") == ["dst_pass"]
    assert keys_of(rf, api, filter="date:2024-03-09", tz="America/Denver") == ["winter_error"]
    # in July Denver is UTC-6: 05:00Z on the 4th is the evening of the 3rd
    assert keys_of(rf, api, filter="date:2024-07-03", tz="America/Denver") == ["summer_fail"]
    assert keys_of(rf, api, filter="date:2024-07-03") == []
    assert keys_of(rf, api, filter="date:2024-07-04", tz="Europe/London") == ["summer_fail"]
    # a date with its own zone ignores tz
    assert keys_of(rf, api, filter="date:>=2024-07-04T04:59Z", tz="America/Denver") == \
        ["summer_fail"]


# ---- sort ----

SORT_KEYS = {
    "date": lambda r: r["start_time"],
    "duration": lambda r: _secs(r["end_time"]) - _secs(r["start_time"]),
    "job": lambda r: r["job_uid"],
    "testcase": lambda r: r["test_case"].replace("menu_10", "menu_9z"),  # natural: 2 < 10
    "result": lambda r: r["result"],
    "category": lambda r: r["job_category"],
}


def _secs(iso):
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + iso[19:-1])


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("field", sorted(SORT_KEYS))
def test_sort_by_each_field_both_ways(rf, api, field, direction):
    details = {k: api.get("/api/v2/results" + i).json() for k, i in rf.ids.items()}
    expected = sorted(details, key=lambda k: (SORT_KEYS[field](details[k]),
                                              details[k]["start_time"]),
                      reverse=direction == "desc")
    assert keys_of(rf, api, sort="%s:%s" % (field, direction)) == expected


# ---- exports ----

def test_csv_parses_with_the_csv_module_and_matches_the_list(api):
    r = api.get("/api/v2/results.csv", params={"filter": "-job:nothing"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"), newline="")))
    listed = get_list(api)
    assert len(rows) == len(listed)
    for row, item in zip(rows, listed):
        assert row == {k: ("" if v is None else v) for k, v in item.items()}
    # the reason with a comma, quotes and a newline came through whole
    assert any(row["failure_reason"] == "Menu did not open, \"ok\"\nsaid it" for row in rows)


def test_csv_times_follow_tz(api):
    rows = list(csv.DictReader(io.StringIO(api.get(
        "/api/v2/results.csv", params={"filter": "category:nightly", "tz": "America/Denver"}
    ).text, newline="")))
    assert rows[0]["start_time"] == "2024-07-03T23:00:00.000000-06:00"


def _junit(api, **params):
    r = api.get("/api/v2/results.xml", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/xml")
    return r, JUnitXml.fromstring(r.content)


def test_junit_for_one_job_parses_with_junitparser(rf, api):
    r, xml = _junit(api, filter="job:" + JOB, include_tz="false")
    suites = list(xml)
    assert [s.name for s in suites] == [JOB]
    suite = suites[0]
    assert suite.tests == 2 and suite.failures == 1 and suite.errors == 0
    assert suite.timestamp == "2015-05-28T14:46:35"
    cases = {c.name: c for c in suite}
    failed = cases["test_that_epg_is_populated"]
    assert failed.classname == "tests.epg"
    assert abs(failed.time - 6.970641) < 1e-6
    [failure] = failed.result
    assert isinstance(failure, Failure)
    assert failure.message == "EPG is empty"
    assert failure.text == TRACEBACK
    assert rf.ids["epg_fail"] in failed.system_out


def test_junit_errors_tz_and_grouping_by_category(rf, api):
    _, xml = _junit(api, filter="category:\"soak test of release x\"", tz="America/Denver",
                    include_tz="true", group_by="category")
    [suite] = list(xml)
    assert suite.name == "soak test of release x"
    assert suite.timestamp == "2024-03-09T23:30:00-07:00"
    errored = [c for c in suite if c.result and isinstance(c.result[0], Error)]
    assert [c.name for c in errored] == ["test_menu_2"]
    assert errored[0].result[0].message == "Timeout waiting for the EPG"
    # one suite per job by default, in the order the (newest first) results name them
    _, xml = _junit(api)
    jobs = []
    for x in get_list(api):
        if x["job_uid"] not in jobs:
            jobs.append(x["job_uid"])
    assert [s.name for s in xml] == jobs
    # Python's requests sends True as "True"
    r = api.get("/api/v2/results.xml", params={"include_tz": True, "filter": "job:" + JOB})
    assert 'timestamp="2015-05-28T14:46:35+00:00"' in r.text


# ---- artifacts ----

def artifact_url(rf, name, key="epg_fail"):
    return "/api/v2/results%s/artifacts/%s" % (rf.ids[key], urllib.parse.quote(name))


def test_artifacts_listing_is_every_file_with_size_and_md5(rf, api):
    r = api.get("/api/v2/results%s/artifacts/" % rf.ids["epg_fail"])
    assert r.status_code == 200
    assert r.json() == rf.listing
    assert "a/file in a subdirectory/another.log" in r.json()
    assert api.get("/api/v2/results%s/artifacts" % rf.ids["epg_pass"]).json() == {}


def test_every_artifact_downloads_byte_exact_with_matching_md5(rf, api):
    for name, info in rf.listing.items():
        r = api.get(artifact_url(rf, name))
        assert r.status_code == 200, name
        assert len(r.content) == info["size"]
        assert hashlib.md5(r.content).hexdigest() == info["md5"]
        with open(os.path.join(rf.local, name), "rb") as f:
            assert r.content == f.read()


def test_artifacts_have_their_content_type_and_cannot_run_in_the_portal(rf, api):
    types = {"video.mp4": "video/mp4", "screenshot.png": "image/png",
             "stbt.log": "text/plain; charset=utf-8", "report.html": "text/html; charset=utf-8"}
    for name, ctype in types.items():
        r = api.get(artifact_url(rf, name))
        assert r.headers["Content-Type"] == ctype
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Content-Security-Policy"] == "sandbox"


def test_screenshot_png_is_the_saved_screenshot(rf, api):
    r = api.get("/api/v2/results%s/screenshot.png" % rf.ids["epg_fail"])
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/png"
    assert r.content == png()
    r = api.get("/api/v2/results%s/screenshot.png" % rf.ids["epg_pass"])
    assert r.status_code == 404


def test_head_answers_headers_only(rf, api):
    r = api.head(artifact_url(rf, "video.mp4"))
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == rf.listing["video.mp4"]["size"]
    assert r.content == b""


def _video(rf):
    with open(os.path.join(rf.local, "video.mp4"), "rb") as f:
        return f.read()


@pytest.mark.parametrize("header,start,end", [
    ("bytes=0-99", 0, 99),
    ("bytes=0-1", 0, 1),             # Safari probes with this
    ("bytes=1048576-", 1048576, None),  # seeking
    ("bytes=-500", -500, None),       # the last 500 bytes
    ("bytes=3000000-99999999", 3000000, None),  # past the end: up to the end
])
def test_range_requests_answer_206_with_the_bytes(rf, api, header, start, end):
    video = _video(rf)
    size = len(video)
    r = api.get(artifact_url(rf, "video.mp4"), headers={"Range": header})
    assert r.status_code == 206
    first = start if start >= 0 else size + start
    last = size - 1 if end is None else end
    assert r.headers["Content-Range"] == "bytes %d-%d/%d" % (first, last, size)
    assert int(r.headers["Content-Length"]) == last - first + 1
    assert r.content == video[first:last + 1]
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_range_outside_the_file_is_416(rf, api):
    size = rf.listing["video.mp4"]["size"]
    r = api.get(artifact_url(rf, "video.mp4"), headers={"Range": "bytes=%d-" % size})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */%d" % size
    r = api.get(artifact_url(rf, "empty.txt"), headers={"Range": "bytes=0-"})
    assert r.status_code == 416


def test_ranges_the_server_may_ignore_get_the_whole_file(rf, api):
    video = _video(rf)
    for header in ("bytes=0-1,5-6", "items=0-1", "bytes=5-1"):
        r = api.get(artifact_url(rf, "video.mp4"), headers={"Range": header})
        assert r.status_code == 200, header
        assert r.content == video


def test_if_range_gets_the_part_only_for_the_same_version(rf, api):
    url = artifact_url(rf, "video.mp4")
    full = api.get(url)
    etag = full.headers["ETag"]
    r = api.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert r.status_code == 206 and r.content == full.content[10:20]
    r = api.get(url, headers={"Range": "bytes=10-19",
                              "If-Range": full.headers["Last-Modified"]})
    assert r.status_code == 206
    r = api.get(url, headers={"Range": "bytes=10-19", "If-Range": '"another-version"'})
    assert r.status_code == 200 and r.content == full.content


def test_conditional_requests_for_the_same_version_are_304(rf, api):
    url = artifact_url(rf, "video.mp4")
    full = api.get(url)
    assert full.headers["Cache-Control"] == "max-age=3600"
    r = api.get(url, headers={"If-None-Match": full.headers["ETag"]})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["ETag"] == full.headers["ETag"]
    r = api.get(url, headers={"If-Modified-Since": full.headers["Last-Modified"]})
    assert r.status_code == 304
    r = api.get(url, headers={"If-None-Match": '"another-version"',
                              "If-Modified-Since": full.headers["Last-Modified"]})
    assert r.status_code == 200 and r.content == full.content  # If-None-Match decides
    r = api.get(url, headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
    assert r.status_code == 200 and r.content == full.content


def test_head_of_an_artifact_has_its_length_and_no_body(rf, api):
    url = artifact_url(rf, "video.mp4")
    r = api.head(url)
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == rf.listing["video.mp4"]["size"]
    assert r.content == b""
    assert api.get(artifact_url(rf, "empty.txt")).content == b""


def test_range_requests_keep_the_connection_usable(rf, api):
    # a wrong Content-Length would leave bytes on a kept-alive connection
    video = _video(rf)
    url = artifact_url(rf, "video.mp4")
    for header in ("bytes=3000000-99999999", "bytes=-10", "bytes=0-0"):
        assert api.get(url, headers={"Range": header}).status_code == 206
        assert api.get(url).content == video


# ---- path traversal ----

SECRET = b"the farm's secret, outside every result"


@pytest.fixture(scope="module")
def secret(rf):
    path = os.path.join(rf.dir, "secret.txt")
    with open(path, "wb") as f:
        f.write(SECRET)
    return path


def raw_get(rf, api, path):
    """GET path exactly as written: no client-side resolution of '..' or decoding."""
    s = socket.create_connection(("127.0.0.1", rf.ports[0]), timeout=10)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nConnection: close\r\n\r\n"
                   % (path, api.headers["Authorization"])).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("tail", [
    "../../../../secret.txt",
    "a/../../../../../secret.txt",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
    "%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/secret.txt",
    "..%2f..%2f..%2f..%2f..%2fsecret.txt",
    "%2fetc%2fpasswd",
    "/etc/passwd",
])
def test_path_traversal_is_404_and_never_reads_outside(rf, api, secret, tail):
    base = "/api/v2/results%s/artifacts/" % rf.ids["epg_fail"]
    status, body = raw_get(rf, api, base + tail)
    assert status == 404, (tail, body)
    assert SECRET not in body and b"root:" not in body


def test_absolute_secret_path_is_404(rf, api, secret):
    status, body = raw_get(rf, api, "/api/v2/results%s/artifacts/%s" % (
        rf.ids["epg_fail"], urllib.parse.quote(secret, safe="")))
    assert status == 404 and SECRET not in body


def test_symlinks_written_by_a_test_are_not_artifacts(rf, api, secret):
    local = os.path.join(rf.dir, "with-links")
    write_artifacts(local, {"real.log": b"real\n"})
    os.symlink(secret, os.path.join(local, "secret.log"))
    os.symlink("/etc", os.path.join(local, "etc"))
    rid = push_id(rf, record(job_uid="/stb-tester-abcdef123456/0a23/973"), local)
    assert set(api.get("/api/v2/results%s/artifacts/" % rid).json()) == {"real.log"}
    for name in ("secret.log", "etc/passwd"):
        r = api.get("/api/v2/results%s/artifacts/%s" % (rid, name))
        assert r.status_code == 404 and SECRET not in r.content


def test_symlinks_planted_in_the_store_are_never_followed(rf, api, secret):
    local = os.path.join(rf.dir, "to-plant")
    write_artifacts(local, {"x.log": b"x\n", "d/y.log": b"y\n"})
    rid = push_id(rf, record(job_uid="/stb-tester-abcdef123456/0a23/974"), local)
    stored = rf.artifacts + rid
    os.unlink(os.path.join(stored, "x.log"))
    os.symlink(secret, os.path.join(stored, "x.log"))
    outside = os.path.join(rf.dir, "outside-dir")
    os.makedirs(outside, exist_ok=True)
    with open(os.path.join(outside, "y.log"), "wb") as f:
        f.write(SECRET)
    shutil.rmtree(os.path.join(stored, "d"))
    os.symlink(outside, os.path.join(stored, "d"))
    for name in ("x.log", "d/y.log"):
        r = api.get("/api/v2/results%s/artifacts/%s" % (rid, name))
        assert r.status_code == 404, name
        assert SECRET not in r.content


# ---- stbt.log ----

def test_stbt_log_is_served_in_utc_by_default(rf, api):
    r = api.get("/api/v2/results%s/stbt.log" % rf.ids["epg_fail"])
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.text == LOG


def test_stbt_log_lines_move_to_tz(rf, api):
    r = api.get("/api/v2/results%s/stbt.log" % rf.ids["epg_fail"],
                params={"tz": "America/Denver"})
    assert r.status_code == 200
    assert r.text == ("2015-05-28T08:46:35.354791-06:00 stbt-run: Arguments:\n"
                      "2015-05-28T08:46:35.400000-06:00 control: lirc:172.17.0.133:8765:vstb\n"
                      "  a continuation line\n"
                      "2015-12-01T05:00:00-07:00 a winter line\n")
    london = api.get("/api/v2/results%s/stbt.log" % rf.ids["epg_fail"],
                     params={"tz": "Europe/London"}).text
    assert london.startswith("2015-05-28T15:46:35.354791+01:00 stbt-run")
    assert "2015-12-01T12:00:00+00:00 a winter line" in london


def test_stbt_log_errors(rf, api):
    base = "/api/v2/results%s/stbt.log"
    assert api.get(base % rf.ids["epg_fail"], params={"tz": "Nowhere/Land"}).status_code == 400
    assert api.get(base % rf.ids["epg_pass"]).status_code == 404


# ---- recording: what a node agent relies on ----

def test_a_result_in_progress_is_not_visible_until_finished(rf, api):
    local = os.path.join(rf.dir, "half")
    write_artifacts(local, {"video.mp4": os.urandom(2_500_000)})
    rec = record(job_uid="/stb-tester-abcdef123456/0a23/980", start_time="2016-01-01T00:00:00Z",
                 end_time="2016-01-01T00:00:09Z")
    upload = "half-uploaded-0001"
    rid = push(rf, rec, local, "--upload-id", upload, "--stop-after", "1").stdout.strip()
    assert rid == "/stb-tester-abcdef123456/0a23/980/2016-01-01_00.00.00"
    assert rid not in ids_of(api)
    assert api.get("/api/v2/results" + rid).status_code == 404
    assert api.get("/api/v2/results%s/artifacts/video.mp4" % rid).status_code == 404
    # finishing now fails: the manifest names bytes that never came
    r = push(rf, rec, local, "--upload-id", upload, "--finish-only", check=False)
    assert r.returncode != 0
    assert "video.mp4': 1048576 of 2500000 bytes uploaded" in r.stderr
    assert api.get("/api/v2/results" + rid).status_code == 404
    # the agent retries the whole upload: same result id, now visible with its files
    assert push_id(rf, rec, local, "--upload-id", upload) == rid
    assert rid in ids_of(api)
    with open(os.path.join(local, "video.mp4"), "rb") as f:
        assert api.get("/api/v2/results%s/artifacts/video.mp4" % rid).content == f.read()
    # and again: the same answer, still one result
    assert push_id(rf, rec, local, "--upload-id", upload) == rid
    assert ids_of(api, filter="job:/stb-tester-abcdef123456/0a23/980") == [rid]
    assert not os.path.exists(os.path.join(rf.artifacts, ".staging", upload))


def test_finish_checks_every_file_against_the_manifest(rf, api):
    local = os.path.join(rf.dir, "tampered")
    write_artifacts(local, {"log.txt": b"A" * 1000})
    rec = record(job_uid="/stb-tester-abcdef123456/0a23/981")
    upload = "tampered-upload-01"
    push(rf, rec, local, "--upload-id", upload, "--stop-after", "10")
    write_artifacts(local, {"log.txt": b"B" * 1000})  # what the node says it sent
    r = push(rf, rec, local, "--upload-id", upload, "--finish-only", check=False)
    assert r.returncode != 0 and "log.txt': the upload's md5 is" in r.stderr
    assert ids_of(api, filter="job:/stb-tester-abcdef123456/0a23/981") == []


def test_runs_of_one_job_in_the_same_second_get_distinct_ids(rf, api):
    job = "/stb-tester-abcdef123456/0a23/990"
    ids = [push_id(rf, record(job_uid=job, test_case="tests/t.py::test_%d" % i,
                              start_time="2017-01-01T00:00:00.%06dZ" % (i * 1000),
                              end_time="2017-01-01T00:00:01Z")) for i in range(3)]
    base = job + "/2017-01-01_00.00.00"
    assert ids == [base, base + "_2", base + "_3"]
    assert sorted(ids_of(api, filter="job:" + job)) == sorted(ids)
    for i in ids:
        assert api.get("/api/v2/results" + i).status_code == 200


def test_an_error_result_needs_no_artifacts(rf, api):
    rid = push_id(rf, record(job_uid="/stb-tester-abcdef123456/0a23/991", result="error",
                             failure_reason="The node stopped answering"))
    res = api.get("/api/v2/results" + rid).json()
    assert res["result"] == "error" and res["artifacts"] == {}
    assert api.get("/api/v2/results%s/artifacts/" % rid).json() == {}


def test_invalid_records_are_refused_with_the_field_named(rf):
    for fields, words in [({"job_uid": "/not/a/valid/job"}, "invalid job_uid"),
                          ({"result": "maybe"}, "invalid result"),
                          ({"end_time": "2000-01-01T00:00:00Z"}, "end_time"),
                          ({"node_id": "../etc"}, "invalid node_id")]:
        r = push(rf, record(**fields), check=False)
        assert r.returncode != 0 and words in r.stderr, (fields, r.stderr)


def test_artifact_downloads_use_their_own_rate_limit_bucket():
    f = Farm(gateway_args=["--rate-limit", "1:2"]).start()
    try:
        local = os.path.join(f.dir, "a")
        write_artifacts(local, {"x.log": b"x"})
        rid = push_id(f, record(), local)
        s = f.session()
        codes = [s.get("/api/v2/results%s/artifacts/x.log" % rid).status_code for _ in range(20)]
        assert codes == [200] * 20
        codes = [s.get("/api/v2/results%s" % rid).status_code for _ in range(6)]
        assert 429 in codes
    finally:
        f.stop()


def test_the_list_stops_at_2000(tmp_path):
    f = Farm().start()
    try:
        recs = [record(job_uid="/n/0a/%d" % (i // 100), test_case="tests/t.py::test_%d" % i,
                       start_time="2020-01-01T00:%02d:%02d.%06dZ" % (
                           i // 3600 % 60, i // 60 % 60, i % 60),
                       end_time="2020-01-02T00:00:00Z") for i in range(2100)]
        assert load(f, recs) == 2100
        s = f.session()
        assert len(s.get("/api/v2/results").json()) == 2000
        assert len(s.get("/api/v2/results", params={"filter": "job:/n/0a/20"}).json()) == 100
        rows = list(csv.reader(io.StringIO(s.get("/api/v2/results.csv").text, newline="")))
        assert len(rows) == 2001
    finally:
        f.stop()


# ---- many replicas, restarts, retention ----

@pytest.mark.parametrize("fresh_farm", [{"replicas": {"results": 2},
                                         "env": {"STBF_LOG_LEVEL": "debug"}}], indirect=True)
def test_every_replica_answers_with_every_result_at_once(fresh_farm):
    s = fresh_farm.session()
    for i in range(6):
        rid = push_id(fresh_farm, record(job_uid="/n/0a/%d" % i))
        # whichever replica answers, the result just recorded is there
        for _ in range(4):
            assert rid in [x["result_id"] for x in s.get("/api/v2/results").json()]
    for key in ("results0", "results1"):
        assert "results.list" in fresh_farm.proc(key).log(), key


def test_results_survive_restarts_of_the_service_and_redis(fresh_farm):
    local = os.path.join(fresh_farm.dir, "a")
    write_artifacts(local, {"x.log": b"kept\n"})
    rid = push_id(fresh_farm, record(), local)
    s = fresh_farm.session()
    assert [x["result_id"] for x in s.get("/api/v2/results").json()] == [rid]
    time.sleep(1.1)  # appendfsync everysec
    fresh_farm.proc("results0").kill()
    fresh_farm.proc("redis").kill()
    os.unlink(fresh_farm.redis_sock)
    fresh_farm.start_redis()
    fresh_farm.start_service("results")
    wait_ok(s, "/api/v2/results", 20, "results back")
    assert [x["result_id"] for x in s.get("/api/v2/results").json()] == [rid]
    assert s.get("/api/v2/results%s/artifacts/x.log" % rid).content == b"kept\n"


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": [
    "--public-url", "https://portal.example.com/"]}], indirect=True)
def test_urls_are_built_from_the_public_url(fresh_farm):
    rid = push_id(fresh_farm, record())
    s = fresh_farm.session()
    [item] = s.get("/api/v2/results").json()
    assert item["result_url"] == "https://portal.example.com/api/v2/results" + rid
    assert item["triage_url"] == "https://portal.example.com/app/#/result/" + rid
    assert s.get("/api/v2/results" + rid).json()["result_url"] == item["result_url"]


def test_an_emptied_store_empties_the_list(fresh_farm):
    push_id(fresh_farm, record())
    assert len(fresh_farm.session().get("/api/v2/results").json()) == 1
    fresh_farm.redis("flushall")
    s = fresh_farm.session("bob")  # alice's token went with everything else
    assert s.get("/api/v2/results").json() == []


@pytest.mark.parametrize("fresh_farm", [{"service_args": {
    "results": ["--retention", "1h", "--sweep-interval-secs", "1"]}}], indirect=True)
def test_results_older_than_the_retention_are_gone_with_their_files(fresh_farm):
    local = os.path.join(fresh_farm.dir, "a")
    write_artifacts(local, {"stbt.log": b"2015-01-01T00:00:00+00:00 x\n", "d/y.log": b"y"})
    now = time.time()

    def iso(t):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    old = push_id(fresh_farm, record(job_uid="/n/0a/1", start_time=iso(now - 7200),
                                     end_time=iso(now - 7100)), local)
    new = push_id(fresh_farm, record(job_uid="/n/0a/2", start_time=iso(now - 60),
                                     end_time=iso(now - 50)), local)
    s = fresh_farm.session()
    wait_until(lambda: s.get("/api/v2/results" + old).status_code == 410, 15,
               what="retention to delete the old result")
    r = s.get("/api/v2/results" + old)
    assert "deleted" in r.json()["error"]
    for tail in ("/stbt.log", "/artifacts/", "/artifacts/d/y.log", "/screenshot.png"):
        assert s.get("/api/v2/results" + old + tail).status_code == 410, tail
    assert [x["result_id"] for x in s.get("/api/v2/results").json()] == [new]
    wait_until(lambda: not os.path.exists(fresh_farm.artifacts + old), 10,
               what="the old result's files to go")
    assert not os.path.exists(fresh_farm.artifacts + "/n/0a/1")
    assert s.get("/api/v2/results" + new).status_code == 200
    assert s.get("/api/v2/results%s/artifacts/d/y.log" % new).content == b"y"
    assert s.get("/api/v2/results/n/0a/1/2001-01-01_00.00.00").status_code == 404


@pytest.mark.parametrize("fresh_farm", [{"service_args": {
    "results": ["--retention", "1h", "--sweep-interval-secs", "1"]}}], indirect=True)
def test_an_artifact_downloaded_before_its_result_is_deleted_is_gone_after(fresh_farm):
    """Gateways keep where a stored result's files are (they never change); a deletion is
    announced to them, so the kept answer is not served once the result is gone."""
    local = os.path.join(fresh_farm.dir, "a")
    write_artifacts(local, {"stbt.log": b"x\n", "d/y.log": b"y" * 1000})
    now = time.time()

    def iso(t):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    rid = push_id(fresh_farm, record(job_uid="/n/0b/1", start_time=iso(now - 3600 + 5),
                                     end_time=iso(now - 3600 + 6)), local)
    s = fresh_farm.session()
    for _ in range(3):
        r = s.get("/api/v2/results%s/artifacts/d/y.log" % rid)
        assert r.status_code == 200 and r.content == b"y" * 1000
    wait_until(lambda: s.get("/api/v2/results" + rid).status_code == 410, 20,
               what="retention to delete the result")
    assert s.get("/api/v2/results%s/artifacts/d/y.log" % rid).status_code == 410

"""What the tests of a job's runs check again and again: that every run of a job is stored
once, with its artifacts and in its counts; stopping until 200; pausing a process."""

import hashlib
import os
import signal
import time


NODE = "stb-tester-000000000001"


def start_job(s, cases, **fields):
    """POST /api/v2/run_tests on the first node at master; the job it started."""
    body = {"node_id": NODE, "test_pack_revision": "master", "test_cases": cases}
    body.update(fields)
    r = s.post("/api/v2/run_tests", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def await_job(s, job, timeout=120):
    """Long-poll the job until it has exited; the job then."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = s.get("/api/v2/jobs%s/await_completion" % job["job_uid"], timeout=70)
        if r.status_code == 200:
            return r.json()
        assert r.status_code == 202, r.text
    raise AssertionError("job %s did not finish" % job["job_uid"])


class Paused:
    """SIGSTOP a process of the farm for a with-block; SIGCONT whatever happens."""

    def __init__(self, farm, key):
        self.pid = farm.proc(key).proc.pid

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        os.kill(self.pid, signal.SIGCONT)


def counts(s, job):
    return s.get("/api/v2/jobs" + job["job_uid"]).json()["result_counts"]


def results_of(s, job):
    r = s.get("/api/v2/results", params={"filter": "job:" + job["job_uid"], "sort": "date:asc"})
    assert r.status_code == 200, r.text
    return r.json()


def stop_until_200(s, job, timeout=90):
    """Stop the job until it answers 200; every status code on the way."""
    codes = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = s.put("/api/v2/jobs%s/stop" % job["job_uid"])
        codes.append(r.status_code)
        if r.status_code == 200:
            assert r.json()["status"] == "exited"
            return codes, r.json()
        assert r.status_code == 202, (codes, r.text)
        assert r.json()["status"] == "running"
        time.sleep(0.5)
    raise AssertionError("stop never answered 200: %s" % codes)


def check_each_run_once(s, job, done):
    """Every result of the job is one run (its id, and its test case and start, once), each
    with its artifacts byte for byte, and the job's counts are exactly what is stored."""
    results = results_of(s, job)
    ids = [r["result_id"] for r in results]
    assert len(set(ids)) == len(ids), ids
    starts = [(r["test_case"], r["start_time"]) for r in results]
    assert len(set(starts)) == len(starts), starts
    stored = {k: sum(r["result"] == k for r in results) for k in ("pass", "fail", "error")}
    c = done["result_counts"]
    assert {k: c[k] for k in stored} == stored, (c, results)
    assert c["total"] >= len(results)
    for r in results:
        if r["result"] == "error":
            continue  # recorded by the jobs service for a run its node lost: no artifacts
        detail = s.get("/api/v2/results" + r["result_id"]).json()
        assert {"stbt.log", "combined.log", "stdout.log"} <= set(detail["artifacts"]), detail
        for name, info in detail["artifacts"].items():
            body = s.get("/api/v2/results%s/artifacts/%s" % (r["result_id"], name)).content
            assert hashlib.md5(body).hexdigest() == info["md5"], name
    return results

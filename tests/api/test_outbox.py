"""A node's outbox survives its agent, and a full disk is an answer, not a loss.

The runs a node agent has finished are journaled on its disk before they count as done: an
agent killed while the results service is paused delivers them all when it starts again, in
order, once, resuming an upload from what the results service has staged. A full artifact store
answers 507 and the node retries; a full work directory makes runs wait. Either way the node
says why in not_available_reason, reads keep working, and every run is stored once in the end.
The full disks are small tmpfs mounts the tests make (as root) and unmount."""

import contextlib
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import time

import pytest

from farm import Farm, commit_files, wait_until
from runs import (Paused, await_job, check_each_run_once, counts, results_of, start_job,
                  stop_until_200)

NODE = "stb-tester-000000000001"
MENU = "tests/menu.py::test_that_menu_appears_when_menu_key_is_pressed"
FAILS = "tests/examples.py::test_that_the_epg_is_populated"
QUICK = "tests/quick.py::test_instant"
BIG = "tests/big.py::test_that_leaves_a_big_file"
TESTS = {
    "tests/quick.py": "def test_instant():\n    pass\n",
    "tests/big.py": "import os\n\ndef test_that_leaves_a_big_file():\n"
                    "    with open('big.bin', 'wb') as f:\n"
                    "        f.write(os.urandom(48 << 20))\n",
}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts tmpfs: needs root")


def outbox_dir(farm):
    return os.path.join(farm.dir, "work1", "outbox")


def journal_holds(farm, runs, finished=True):
    """The agent's journal holds `runs` finished runs (and the job's finished report)."""
    d = outbox_dir(farm)
    items = b"".join(open(p, "rb").read() for p in glob.glob(os.path.join(d, "*.item")))
    return len(glob.glob(os.path.join(d, "*.run"))) == runs and \
        (not finished or b"finished" in items)


def restart_agent(farm):
    farm.proc("nodesvc1").kill()
    farm.start_nodesvc(1)


# ---- the outbox survives its agent ----

@pytest.mark.parametrize("fresh_farm", [{"nodes": 1}], indirect=True)
def test_runs_queued_when_the_agent_is_killed_are_delivered_in_order_once_by_its_restart(
        fresh_farm):
    commit_files(fresh_farm.test_pack, TESTS)
    fresh_farm.wait_node(1)
    s = fresh_farm.session()
    with Paused(fresh_farm, "results0"):
        job = start_job(s, [MENU, FAILS, QUICK])
        wait_until(lambda: journal_holds(fresh_farm, 3), 60, what="three runs in the journal")
        restart_agent(fresh_farm)  # SIGKILL: nothing of the outbox in memory survives
        fresh_farm.wait_node(1)
    done = await_job(s, job)
    assert done["result_counts"] == {"pass": 2, "fail": 1, "error": 0, "total": 3}
    results = check_each_run_once(s, job, done)
    assert [r["test_case"] for r in results] == [MENU, FAILS, QUICK]  # by start: in order
    log = s.get("/api/v2/jobs%s/log" % job["job_uid"]).text
    steps = [w % case for case in (MENU, FAILS, QUICK) for w in ("Running %s ", "Finished %s:")]
    assert all(log.count(step) == 1 for step in steps), log  # each report once ...
    assert [log.index(step) for step in steps] == sorted(log.index(step) for step in steps)
    wait_until(lambda: not os.listdir(outbox_dir(fresh_farm)), 10, what="the journal to empty")


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1}], indirect=True)
def test_a_restarted_agent_resumes_an_upload_from_what_is_staged(fresh_farm):
    commit_files(fresh_farm.test_pack, TESTS)
    fresh_farm.wait_node(1)
    s = fresh_farm.session()
    job = start_job(s, [BIG])
    upload = job["job_uid"].strip("/").replace("/", "-") + "-1"  # sf_run_upload_id
    staged = os.path.join(fresh_farm.artifacts, ".staging", upload, "big.bin")
    results = fresh_farm.proc("results0").proc.pid
    wait_until(lambda: os.path.exists(os.path.dirname(staged)), 60, what="the upload to begin")
    os.kill(results, signal.SIGSTOP)
    try:
        # let a few chunks through, not all: the upload is cut in the middle
        while not os.path.exists(staged) or os.path.getsize(staged) == 0:
            os.kill(results, signal.SIGCONT)
            time.sleep(0.02)
            os.kill(results, signal.SIGSTOP)
        assert os.path.getsize(staged) < 48 << 20
        restart_agent(fresh_farm)
        fresh_farm.wait_node(1)
    finally:
        os.kill(results, signal.SIGCONT)
    done = await_job(s, job)
    assert done["result_counts"] == {"pass": 1, "fail": 0, "error": 0, "total": 1}
    result = check_each_run_once(s, job, done)[0]  # md5 of every artifact, big.bin included
    assert "big.bin" in s.get("/api/v2/results" + result["result_id"]).json()["artifacts"]
    assert "resuming the upload of %s (%s)" % (BIG, upload) in fresh_farm.proc("nodesvc1").log()


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1}], indirect=True)
def test_a_run_the_reaper_recorded_while_its_agent_was_down_is_not_counted_twice(fresh_farm):
    commit_files(fresh_farm.test_pack, TESTS)
    fresh_farm.wait_node(1)
    s = fresh_farm.session()
    with Paused(fresh_farm, "results0"):
        job = start_job(s, [QUICK, MENU])
        wait_until(lambda: journal_holds(fresh_farm, 2), 60, what="two runs in the journal")
        fresh_farm.proc("nodesvc1").kill()
    # the node goes offline: the reaper records the run the jobs service last heard start (the
    # first: its result was still in the journal) as an error and ends the job
    done = await_job(s, job, 60)
    lost = results_of(s, job)
    assert [r["result"] for r in lost] == ["error"] and "went offline" in lost[0]["failure_reason"]
    fresh_farm.start_nodesvc(1)  # with its journal: it delivers both runs
    fresh_farm.wait_node(1)
    wait_until(lambda: not os.listdir(outbox_dir(fresh_farm)), 60, what="the journal to empty")
    done = s.get("/api/v2/jobs" + job["job_uid"]).json()
    results = check_each_run_once(s, job, done)
    assert [(r["test_case"], r["result"]) for r in results] == [(QUICK, "error"), (MENU, "pass")]
    assert results[0]["result_id"] == lost[0]["result_id"]  # the reaper's record stands
    assert done["result_counts"] == {"pass": 1, "fail": 0, "error": 1, "total": 2}


# ---- a full disk is an answer, not a loss ----

@contextlib.contextmanager
def tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=755" % size, "tmpfs", path],
                   check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], check=False)


def fill(path, leave):
    """A file that leaves `leave` bytes free on path's filesystem."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    filler = os.path.join(path, "filler")
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def reason(s):
    return s.get("/api/v2/nodes/" + NODE).json()["not_available_reason"] or ""


@contextlib.contextmanager
def farm_on(mount_at, size, **kwargs):
    """A farm with one node, mount_at(farm) a tmpfs of size."""
    f = Farm(nodes=1, **kwargs)
    try:
        with tmpfs(mount_at(f), size):
            failed = True
            try:
                f.start()
                commit_files(f.test_pack, TESTS)
                f.wait_node(1)
                yield f
                failed = False
            finally:
                if failed:
                    f.print_logs()
                f.stop()
    finally:
        shutil.rmtree(f.dir, ignore_errors=True)  # the mount point, once unmounted


def test_a_full_artifact_store_answers_507_and_nothing_is_lost():
    with farm_on(lambda f: f.artifacts, "64m") as f:
        s = f.session()
        first = start_job(s, [QUICK])
        await_job(s, first)
        kept = results_of(s, first)[0]
        filler = fill(f.artifacts, 64 << 10)
        job = start_job(s, [MENU, FAILS])
        wait_until(lambda: "the artifact store is full" in reason(s), 60,
                   what="the node to say why")
        # the results service answered 507; the node says so and retries
        assert "the artifact store is full" in f.proc("nodesvc1").log()
        # reads keep working meanwhile
        r = s.get("/api/v2/results" + kept["result_id"])
        assert r.status_code == 200
        for name, info in r.json()["artifacts"].items():
            body = s.get("/api/v2/results%s/artifacts/%s" % (kept["result_id"], name)).content
            assert hashlib.md5(body).hexdigest() == info["md5"]
        assert s.get("/api/v2/jobs" + job["job_uid"]).json()["status"] == "running"
        os.unlink(filler)  # room again: the uploads go through
        done = await_job(s, job)
        assert done["result_counts"] == {"pass": 1, "fail": 1, "error": 0, "total": 2}
        check_each_run_once(s, job, done)
        wait_until(lambda: "full" not in reason(s), 20, what="the node to be available")


def test_a_full_work_directory_makes_runs_wait_and_loses_none():
    with farm_on(lambda f: os.path.join(f.dir, "work1"), "96m",
                 env={"STBF_NODE_WORK_DIR_MIN_FREE_MB": "16"}) as f:
        s = f.session()
        job = start_job(s, [QUICK], soak="run forever")
        wait_until(lambda: counts(s, job)["pass"] >= 2, 60, what="two runs")
        filler = fill(os.path.join(f.dir, "work1"), 8 << 20)
        wait_until(lambda: "work directory" in reason(s) and "full" in reason(s), 60,
                   what="the node to say why")
        assert "Waiting: the work directory" in s.get("/api/v2/jobs%s/log" % job["job_uid"]).text
        before = counts(s, job)["pass"]
        os.unlink(filler)
        wait_until(lambda: counts(s, job)["pass"] >= before + 2, 60, what="runs to go on")
        codes, done = stop_until_200(s, job)
        results = check_each_run_once(s, job, done)
        assert all(r["result"] == "pass" for r in results)

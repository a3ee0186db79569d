"""Redis ACL users per role (redis/roles.acl): every process of a farm authenticates as its
role's user with the password in its file, and each role reaches only its own keys."""

import os
import subprocess
import time

import pytest

from farm import Farm, binary

NODE = Farm.node_id(1)


@pytest.fixture(scope="module")
def acl_farm():
    f = Farm(nodes=1, redis_acl=True).start()
    yield f
    f.stop()


def test_a_farm_of_redis_users_runs_jobs_and_signs_in(acl_farm):
    s = acl_farm.session()
    assert s.get("/api/v2/nodes/%s/screenshot.png" % NODE).status_code == 200
    assert s.post("/api/v2/nodes/%s/press" % NODE, json={"key": "KEY_OK"}).status_code == 200
    job, results = acl_farm.run_job(s, ["tests/examples.py::test_that_writes_custom_artifacts"])
    assert [x["result"] for x in results] == ["pass"], results
    r = s.post("/api/v2/reservations", json={"node_ids": [NODE], "message": "acl"})
    assert r.status_code in (200, 201), r.text
    portal = acl_farm.portal("carol")
    assert portal.get("/api/v2/user").status_code == 200


def test_without_a_password_redis_answers_nothing(acl_farm):
    r = subprocess.run(["redis-cli", "-s", acl_farm.redis_sock, "GET", "sf:nodes"],
                       capture_output=True, text=True)
    assert "NOAUTH" in r.stdout + r.stderr, r.stdout + r.stderr


def test_each_role_reaches_only_its_own_keys(acl_farm):
    def refused(user, *args):
        r = acl_farm.redis_cli(*args, user=user)
        return "NOPERM" in r.stdout + r.stderr

    assert refused("results", "GET", "sf:token:x")
    assert refused("results", "SET", "sf:node:x:credential", "y")
    assert not refused("results", "GET", "sf:node:x:credential")
    assert refused("nodes", "GET", "sf:session:x")
    assert refused("gateway", "SET", "sf:node:x", "y")
    assert refused("jobs", "FLUSHALL")
    assert refused("admin", "CONFIG", "SET", "appendonly", "no")


def test_a_wrong_or_exposed_password_file_is_refused(acl_farm, tmp_path):
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n")
    os.chmod(wrong, 0o600)
    env = dict(acl_farm.env, STBF_REDIS_PASSWORD_FILE=str(wrong))
    r = subprocess.run([binary("admin"), "token", "create", "x"], env=env, capture_output=True,
                       text=True)
    assert r.returncode != 0 and "refused user admin" in r.stderr, r.stderr
    assert "not-the-password" not in r.stderr
    os.chmod(wrong, 0o644)
    r = subprocess.run([binary("admin"), "token", "create", "x"], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 2 and "readable by others" in r.stderr, r.stderr


def test_what_redis_holds_survives_its_restart(acl_farm):
    """Redis 7.0 checks each transaction of its append-only file against the default user's
    permissions as it loads it (redis/roles.acl): a token, made in one, must be there after."""
    s = acl_farm.session("erin")  # a new token: its creation is a transaction
    assert s.get("/api/v2/user").status_code == 200
    time.sleep(1.1)  # appendfsync everysec
    acl_farm.proc("redis").stop()
    acl_farm.start_redis()
    assert "CRITICAL" not in acl_farm.proc("redis").log()
    assert acl_farm.redis_cli("EXISTS", "sf:user:erin:tokens").stdout.strip() == "1"
    assert s.get("/api/v2/user").status_code == 200


def test_no_process_was_refused_a_command(acl_farm):
    for key, p in acl_farm.procs.items():
        assert "NOPERM" not in p.log(), (key, p.log()[-3000:])

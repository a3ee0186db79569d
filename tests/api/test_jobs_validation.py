"""POST /api/v2/run_tests parameter rules and the job endpoints' errors, which the jobs service
answers before any node agent is involved; and GET /api/v2/test_pack/<rev>/test_case_names."""

import pytest
import requests

from farm import Farm, commit_files, git, make_test_pack

NODE = "stb-tester-000000000001"

MENU = '''import stbt

def test_menu_opens():
    pass

def helper():
    pass

class Page:
    def test_not_a_test_case(self):
        pass

def test_menu_closes():
    """def test_in_docstring():"""
'''


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("pack"))
    sha = make_test_pack(path, {
        ".stbt.conf": "[test_pack]\ndefault_remote_control = vstb\n",
        "config/remote-control/vstb.lircd.conf": "begin remote\n  name vstb\nend remote\n",
        "config/remote-control/other.lircd.conf": "begin remote\n  name other\nend remote\n",
        "tests/menu.py": MENU,
        "tests/live_tv.py": "def test_that_pause_pauses():\n    pass\n",
        "tests/.hidden/secret.py": "def test_hidden():\n    pass\n",
        "README.md": "def test_not_python():\n",
    })
    git(path, "tag", "v1")
    git(path, "checkout", "-q", "-b", "feature/slash")
    feature = commit_files(path, {"tests/new.py": "def test_new():\n    pass\n"})
    git(path, "checkout", "-q", "master")
    return {"path": path, "sha": sha, "feature": feature}


@pytest.fixture(scope="module")
def farm(pack):
    f = Farm(test_pack=pack["path"]).start()
    f.admin("node", "register", NODE, "--alive")
    f.admin("node", "register", "stb-tester-offline")
    f.admin("node", "register", "stb-tester-expired", "--alive", "--licence-expiry", "2020-01-31")
    yield f
    f.stop()


@pytest.fixture
def api(farm):
    return farm.session("alice")


ALL_CASES = ["tests/live_tv.py::test_that_pause_pauses", "tests/menu.py::test_menu_opens",
             "tests/menu.py::test_menu_closes"]


# ---- test_case_names ----

@pytest.mark.parametrize("rev", ["master", "HEAD", "v1", "sha", "short"])
def test_test_case_names_at_any_revision_form(api, pack, rev):
    rev = {"sha": pack["sha"], "short": pack["sha"][:7]}.get(rev, rev)
    r = api.get("/api/v2/test_pack/%s/test_case_names" % rev)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == ALL_CASES


def test_test_case_names_of_a_branch_with_a_slash(api):
    r = api.get("/api/v2/test_pack/feature/slash/test_case_names")
    assert r.status_code == 200
    assert "tests/new.py::test_new" in r.json()


def test_test_case_names_of_unknown_revision_is_404(api):
    r = api.get("/api/v2/test_pack/no-such-branch/test_case_names")
    assert r.status_code == 404
    assert "no-such-branch" in r.json()["error"]


def test_test_case_names_needs_a_token(farm):
    assert requests.get(farm.url + "/api/v2/test_pack/master/test_case_names").status_code == 403


# ---- run_tests validation ----

def run(api, **fields):
    body = {"node_id": NODE, "test_pack_revision": "master",
            "test_cases": ["tests/menu.py::test_menu_opens"]}
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not Ellipsis}
    return api.post("/api/v2/run_tests", json=body)


@pytest.mark.parametrize("fields, status, message", [
    ({"node_id": ...}, 400, "missing node_id"),
    ({"node_id": 5}, 400, "node_id must be a string"),
    ({"test_pack_revision": ...}, 400, "missing test_pack_revision"),
    ({"test_pack_revision": ["master"]}, 400, "test_pack_revision must be a string"),
    ({"test_cases": ...}, 400, "test_cases must be a non-empty array"),
    ({"test_cases": []}, 400, "test_cases must be a non-empty array"),
    ({"test_cases": "tests/menu.py::test_menu_opens"}, 400, "test_cases must be an array"),
    ({"test_cases": [1]}, 400, "test_cases[0] must be a string"),
    ({"test_cases": ["tests/menu.py::test_nope"]}, 400, "test_cases[0] 'tests/menu.py::test_nope'"),
    ({"test_cases": ["tests/menu.py::helper"]}, 400, "not a test case"),
    ({"test_cases": ["tests/.hidden/secret.py::test_hidden"]}, 400, "not a test case"),
    ({"test_cases": ["tests/menu.py"]}, 400, "not of the form"),
    ({"category": ""}, 400, "category must not be empty"),
    ({"category": "a/b"}, 400, "category must not contain '/'"),
    ({"category": "a:b"}, 400, "category must not contain ':'"),
    ({"category": "a$b"}, 400, "category must not contain '$'"),
    ({"category": "a\nb"}, 400, "category must not contain a newline"),
    ({"category": "a\u0007b"}, 400, "control characters"),
    ({"category": ".x"}, 400, "must not start with '.' or '-'"),
    ({"category": "-x"}, 400, "must not start with '.' or '-'"),
    ({"category": 7}, 400, "category must be a string"),
    ({"soak": "forever"}, 400, "soak must be \"run once\" or \"run forever\""),
    ({"soak": True}, 400, "soak must be a string"),
    ({"shuffle": "yes"}, 400, "shuffle must be a boolean"),
    ({"tags": ["model"]}, 400, "tags must be an object"),
    ({"tags": {"model": 1000}}, 400, "tags.model must be a string"),
    ({"remote_control": "nope"}, 400, "unknown remote_control 'nope': the test pack has no"),
    ({"remote_control": "../x"}, 400, "unknown remote_control '../x': not a valid name"),
    ({"remote_control": 3}, 400, "remote_control must be a string"),
    ({"node_id": "stb-tester-unknown"}, 404, "unknown node_id 'stb-tester-unknown'"),
    ({"test_pack_revision": "nope"}, 404, "'nope' not found in the test pack"),
    ({"node_id": "stb-tester-offline"}, 503, "node stb-tester-offline is offline"),
    ({"node_id": "stb-tester-expired"}, 403, "licence of node stb-tester-expired expired"),
])
def test_run_tests_rejects(api, fields, status, message):
    r = run(api, **fields)
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert message in r.json()["error"]


def test_run_tests_rejects_category_with_nul(api):
    r = api.post("/api/v2/run_tests", data='{"node_id": "%s", "test_pack_revision": "master", '
                 '"test_cases": ["tests/menu.py::test_menu_opens"], '
                 '"category": "a\\u0000b"}' % NODE)
    assert r.status_code == 400
    assert "\\u0000" in r.json()["error"]


def test_run_tests_rejects_category_with_invalid_utf8(api):
    body = ('{"node_id": "%s", "test_pack_revision": "master", "test_cases": '
            '["tests/menu.py::test_menu_opens"], "category": "bad\xff"}' % NODE).encode("latin-1")
    r = api.post("/api/v2/run_tests", data=body)
    assert r.status_code == 400


@pytest.mark.parametrize("body", ["", "[]", "{", "not json", '{"a": 1} {}', "null"])
def test_run_tests_rejects_bodies_that_are_not_a_json_object(api, body):
    r = api.post("/api/v2/run_tests", data=body)
    assert r.status_code == 400
    assert r.json()["error"]


def test_run_tests_rejects_a_huge_body_with_413(api):
    r = api.post("/api/v2/run_tests", data="{" + " " * (2 << 20) + "}")
    assert r.status_code == 413
    assert "larger than" in r.json()["error"]


def test_run_tests_without_remote_needs_a_default(farm, tmp_path):
    path = str(tmp_path / "nodefault")
    make_test_pack(path, {"tests/a.py": "def test_a():\n    pass\n"})
    f = Farm(test_pack=path).start()
    try:
        f.admin("node", "register", NODE, "--alive")
        r = f.session().post("/api/v2/run_tests", json={
            "node_id": NODE, "test_pack_revision": "master", "test_cases": ["tests/a.py::test_a"]})
        assert r.status_code == 400
        assert "default_remote_control" in r.json()["error"]
    finally:
        f.stop()


def test_run_tests_on_a_node_without_agent_is_503_and_leaves_it_free(api):
    for _ in range(2):
        r = run(api)
        assert r.status_code == 503
        assert "did not accept the job" in r.json()["error"]


# ---- job endpoints' errors ----

@pytest.mark.parametrize("path", [
    "/api/v2/jobs/stb-tester-000000000001/0a23/972", "/api/v2/jobs/x/y/z",
    "/api/v2/jobs/stb-tester-000000000001/0a23/972/await_completion",
    "/api/v2/jobs/stb-tester-000000000001/0a23/972/log",
])
def test_unknown_job_is_404(api, path):
    r = api.get(path)
    assert r.status_code == 404
    assert "unknown job_uid" in r.json()["error"]


def test_stop_unknown_job_is_404(api):
    for method in (api.put, api.post):
        r = method("/api/v2/jobs/stb-tester-000000000001/0a23/972/stop")
        assert r.status_code == 404


def test_node_that_never_ran_a_job(api):
    assert api.get("/api/v2/nodes/%s/job" % NODE).status_code == 404
    r = api.get("/api/v2/nodes/%s/job/await_completion" % NODE)
    assert r.status_code == 200
    assert r.json() == {"job_uid": None}
    assert api.get("/api/v2/nodes/stb-tester-nope/job").status_code == 404
    assert api.get("/api/v2/nodes/stb-tester-nope/job/await_completion").status_code == 404


def test_a_test_pack_given_by_url_is_mirrored_and_fetched_again_for_new_revisions(tmp_path):
    path = str(tmp_path / "upstream")
    make_test_pack(path, {"tests/a.py": "def test_a():\n    pass\n"})
    f = Farm(test_pack="file://" + path).start()
    try:
        s = f.session()
        assert s.get("/api/v2/test_pack/master/test_case_names").json() == ["tests/a.py::test_a"]
        git(path, "checkout", "-q", "-b", "later")
        commit_files(path, {"tests/b.py": "def test_b():\n    pass\n"})
        r = s.get("/api/v2/test_pack/later/test_case_names")
        assert r.status_code == 200
        assert r.json() == ["tests/a.py::test_a", "tests/b.py::test_b"]
        assert s.get("/api/v2/test_pack/never/test_case_names").status_code == 404
    finally:
        f.stop()

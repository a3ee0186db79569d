"""What the portal adds to the API, as scripts see it: the results list's details and limit,
and (with a node) the live screen, the remote controls and branches of the test pack, a job
log from an offset and the jobs of a node. None of it changes an answer of the spec's."""

import pytest

from farm import Farm
from results_push import load, record

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

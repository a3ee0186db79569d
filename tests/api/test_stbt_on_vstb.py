"""Stb-tester's API against the virtual set-top box through a real farm: the demo test pack's
tests/api_features.py (match_text, a FrameObject, Keyboard, wait_for_motion, press_and_wait on
the vstb's guide and search screens) runs as one job and every test case passes."""

import pytest

from farm import Farm


@pytest.fixture(scope="module")
def farm():
    f = Farm(nodes=1).start()
    yield f
    f.stop()


def test_the_api_features_of_the_demo_test_pack_pass_on_the_vstb(farm):
    s = farm.session()
    names = s.get("/api/v2/test_pack/master/test_case_names").json()
    cases = [n for n in names if n.startswith("tests/api_features.py::")]
    assert len(cases) == 5, names
    job, results = farm.run_job(s, cases, timeout=600)
    outcomes = {r["test_case"]: (r["result"], r["failure_reason"]) for r in results}
    assert outcomes == {c: ("pass", None) for c in cases}, outcomes
    assert job["result_counts"] == {"pass": 5, "fail": 0, "error": 0, "total": 5}

"""The stbt module test scripts import (nodesvc/python/stbt), in parts that need no node: its
geometry, matching, waiting, configuration and outcomes. Against a node it is tested through
real jobs (test_jobs.py)."""

import os
import subprocess
import sys

import numpy
import pytest

from farm import REPO

sys.path.insert(0, os.path.join(REPO, "nodesvc", "python"))
import stbt  # noqa: E402


def frame_with_box(x, y):
    img = numpy.zeros((720, 1280, 3), numpy.uint8)
    img[y:y + 50, x:x + 60] = (0, 0, 255)
    img[y + 10:y + 20, x + 10:x + 20] = (255, 255, 255)
    return stbt.Frame(img, time=1.5)


def test_match_finds_an_image_and_its_region():
    template = frame_with_box(200, 100)[100:150, 200:260].copy()
    result = stbt.match(template, frame=frame_with_box(400, 300))
    assert result and result.match
    assert result.region == stbt.Region(400, 300, width=60, height=50)
    assert result.first_pass_result > 0.99
    assert result.time == 1.5


def test_match_in_a_region_ignores_the_rest():
    template = frame_with_box(200, 100)[100:150, 200:260].copy()
    frame = frame_with_box(400, 300)
    assert not stbt.match(template, frame=frame, region=stbt.Region(0, 0, 300, 300))
    assert stbt.match(template, frame=frame, region=stbt.Region(350, 250, right=700, bottom=500))


def test_match_threshold_is_a_parameter():
    template = frame_with_box(200, 100)[100:150, 200:260].copy()
    template[0:25] = 128  # half of it differs
    frame = frame_with_box(400, 300)
    assert not stbt.match(template, frame=frame)
    assert stbt.match(template, frame=frame,
                      match_parameters=stbt.MatchParameters(match_threshold=0.3))


def test_match_of_a_missing_reference_image_is_an_error():
    with pytest.raises(stbt.UITestError):
        stbt.match("no-such-image.png", frame=frame_with_box(0, 0))


def test_wait_for_match_times_out_with_match_timeout_a_failure():
    template = frame_with_box(200, 100)[100:150, 200:260].copy()
    blank = stbt.Frame(numpy.zeros((720, 1280, 3), numpy.uint8), time=2.0)
    with pytest.raises(stbt.MatchTimeout) as e:
        stbt.wait_for_match(template, timeout_secs=1, frames=iter([blank, blank]))
    assert isinstance(e.value, stbt.UITestFailure)
    assert "Didn't find match" in str(e.value)


def test_wait_for_match_needs_consecutive_matches():
    template = frame_with_box(200, 100)[100:150, 200:260].copy()
    hit, miss = frame_with_box(10, 10), stbt.Frame(numpy.zeros((720, 1280, 3), numpy.uint8))
    result = stbt.wait_for_match(template, consecutive_matches=2, frames=iter([hit, miss, hit, hit]))
    assert result.match


def test_wait_until_returns_the_first_truthy_value_or_the_last_falsey_one():
    values = iter([0, None, "", "ready"])
    assert stbt.wait_until(lambda: next(values), timeout_secs=5) == "ready"
    assert stbt.wait_until(lambda: 0, timeout_secs=0.1) == 0


def test_regions():
    r = stbt.Region(10, 20, right=30, bottom=60)
    assert (r.width, r.height, r.right, r.bottom) == (20, 40, 30, 60)
    assert stbt.Region.intersect(r, stbt.Region(0, 0, 15, 25)) == stbt.Region(10, 20, 5, 5)
    assert stbt.Region.intersect(r, stbt.Region(100, 100, 1, 1)) is None
    assert repr(stbt.Region.ALL) == "Region.ALL"


def test_get_config_reads_the_files_in_order(tmp_path, monkeypatch):
    a, b = tmp_path / "a.conf", tmp_path / "b.conf"
    a.write_text("[test_pack]\nx = 1\ny = 2\n")
    b.write_text("[test_pack]\ny = 3\nz = abc\n[result.tags]\nmodel = T-1000\n")
    monkeypatch.setenv("STBT_CONFIG_FILE", "%s:%s" % (a, b))
    monkeypatch.setattr(stbt, "_config", None)
    assert stbt.get_config("test_pack", "x", type_=int) == 1
    assert stbt.get_config("test_pack", "y") == "3"
    assert stbt.get_config("result.tags", "model") == "T-1000"
    assert stbt.get_config("test_pack", "nope", default="d") == "d"
    with pytest.raises(stbt.ConfigurationError):
        stbt.get_config("test_pack", "nope")
    with pytest.raises(stbt.ConfigurationError):
        stbt.get_config("test_pack", "z", type_=int)


def test_press_outside_a_node_is_an_error(monkeypatch):
    monkeypatch.delenv("STBFARM_AGENT_SOCKET", raising=False)
    stbt._agent.reset()
    with pytest.raises(stbt.UITestError):
        stbt.press("KEY_OK")


@pytest.mark.parametrize("body, outcome, reason", [
    ("pass", "pass", None),
    ("assert 1 == 2, 'one is not two'", "fail", "one is not two"),
    ("raise stbt.MatchTimeout(None, 'x.png', 3)", "fail", "Didn't find match for 'x.png'"),
    ("raise stbt.UITestError('cannot')", "error", "cannot"),
    ("raise KeyError('k')", "error", "'k'"),
    ("import sys; sys.exit(3)", "error", "3"),
])
def test_stbt_run_decides_the_outcome_as_stbt_does(tmp_path, body, outcome, reason):
    import json
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text("import stbt\n\ndef test_x():\n    %s\n" % body)
    py = os.path.join(REPO, "nodesvc", "python")
    subprocess.run(["/usr/bin/python3", os.path.join(py, "stbt_run.py"), str(tmp_path),
                    "tests/t.py", "test_x", str(tmp_path / "r.json")],
                   env=dict(os.environ, PYTHONPATH=py), capture_output=True, check=True)
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["outcome"] == outcome
    if reason is None:
        assert r["failure_reason"] is None and r["traceback"] is None
    else:
        assert reason in r["failure_reason"]
        assert "Traceback" in r["traceback"]

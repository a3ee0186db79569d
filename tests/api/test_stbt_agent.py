"""The stbt module's transport to its node agent (nodesvc/python/stbt/_agent.py and
nodesvc/node_stbt.c, node_frames.c), through real jobs on a virtual node: frames from the ring
in shared memory, in order and whole, with a screenshot's pixels; the ring gone with the job;
presses that say when the key went; lost video."""

import os

import cv2
import numpy
import pytest

from farm import Farm, commit_files, wait_until

NODE = Farm.node_id(1)

AGENT_TESTS = '''
import time
import cv2
import numpy
from stbt import _agent


def test_frames_come_in_order_whole_and_the_callers_own():
    seqs = []
    for array, t, seq in _agent.frames():
        assert array.shape == (720, 1280, 3) and array.dtype == numpy.uint8
        assert abs(time.time() - t) < 5, t
        array[:10] = 7  # the caller's own to write
        seqs.append(seq)
        if len(seqs) == 60:
            break
    assert seqs == list(range(seqs[0], seqs[0] + 60)), seqs
    newest, _, seq = _agent.frame()
    assert seq >= seqs[-1]
    again, _, same = _agent.frame(after=seq - 1)
    assert same == seq and numpy.array_equal(again, newest)
    cv2.imwrite("frame.png", newest)
    with open("/proc/self/maps") as f:
        mapped = [line for line in f if "stbfarm-frames" in line]
    assert mapped and " r--s " in mapped[0], mapped  # read-only, shared


def test_press_says_when_the_key_went():
    t0 = time.time()
    sent = _agent.press("KEY_MENU")
    start, end = sent
    assert t0 <= sent.start_time == start <= sent.end_time == end <= time.time()
    held = _agent.press("KEY_BACK", hold_secs=0.3)
    assert held.end_time - held.start_time >= 0.3


def test_no_video_is_no_video():
    try:
        _agent.frame()
    except Exception as e:  # noqa: BLE001 - the class is stbt's to define
        assert type(e).__name__ == "NoVideo", repr(e)
        assert "no video" in str(e)
    else:
        raise AssertionError("a frame without video")
'''


@pytest.fixture(scope="module")
def farm():
    f = Farm(nodes=1).start()
    commit_files(f.test_pack, {"tests/agent.py": AGENT_TESTS}, "transport tests")
    yield f
    f.stop()


def run(farm, case):
    s = farm.session()
    job, results = farm.run_job(s, ["tests/agent.py::" + case])
    assert [r["result"] for r in results] == ["pass"], results
    return s, results[0]


def frames_memory(pid):
    """What of the frames' shared memory process pid holds: open fds and mappings."""
    fds = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            fds.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass  # closed meanwhile
    with open("/proc/%d/maps" % pid) as f:
        maps = [line for line in f if "stbfarm-frames" in line]
    return [x for x in fds if "stbfarm-frames" in x] + maps


def test_frames_are_in_order_with_a_screenshots_pixels_and_go_with_the_job(farm):
    s = farm.session()
    s.post("/api/v2/nodes/%s/press" % NODE, json={"key": "KEY_HOME"})
    s, result = run(farm, "test_frames_come_in_order_whole_and_the_callers_own")
    png = s.get("/api/v2/results%s/artifacts/frame.png" % result["result_id"])
    assert png.status_code == 200
    frame = cv2.imdecode(numpy.frombuffer(png.content, numpy.uint8), cv2.IMREAD_COLOR)
    shot = s.get("/api/v2/nodes/%s/screenshot.png" % NODE)
    screenshot = cv2.imdecode(numpy.frombuffer(shot.content, numpy.uint8), cv2.IMREAD_COLOR)
    assert numpy.array_equal(frame, screenshot)  # the home screen, still
    assert frames_memory(farm.proc("nodesvc1").proc.pid) == []


def test_press_answers_when_the_key_was_sent(farm):
    run(farm, "test_press_says_when_the_key_went")


def test_frames_without_video_raise_no_video(farm):
    farm.proc("vstb1").stop()
    s = farm.session()
    try:
        wait_until(lambda: s.get("/api/v2/nodes/%s/screenshot.png" % NODE).status_code == 503, 10,
                   what="the video lost")
        run(farm, "test_no_video_is_no_video")
    finally:
        farm.start_vstb(1)
        farm.wait_node(1)

"""The stbt module's transport to its node agent (nodesvc/python/stbt/_agent.py and
nodesvc/node_stbt.c, node_frames.c), through real jobs on a virtual node: frames from the ring
in shared memory, in order and whole, with a screenshot's pixels; the ring gone with the job;
presses that say when the key went; texts drawn on the run's video; lost video."""

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


def test_draw_text_on_the_video():
    import stbt
    time.sleep(1)  # a second of video without the text
    stbt.draw_text("Drawn on the video", duration_secs=2)
    time.sleep(3)  # and more after it ended
    for bad in ({"text": 5, "duration_secs": 1}, {"text": "x", "duration_secs": -1},
                {"text": "x"}):
        try:
            _agent._connect().call(op="draw_text", **bad)
        except stbt.UITestError as e:
            assert "draw_text" in str(e), e
        else:
            raise AssertionError("the agent took %r" % (bad,))


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


def has_text(frame):
    """Whether frame (BGR) has draw_text's 18 characters at the top left: a black box from
    (16, 16), 222 x 22 pixels, with white glyphs in it from its left to its right."""
    box = frame[16:38, 16:238].astype(int)
    dark = (box.max(axis=2) < 60).mean()
    white = box.min(axis=2) > 190
    columns = numpy.nonzero(white.any(axis=0))[0]
    return bool(dark > 0.5 and white.mean() > 0.05 and columns.size and columns[0] < 12
                and columns[-1] > 200)


def test_draw_text_is_in_the_video_while_it_lasts(farm, tmp_path):
    s, result = run(farm, "test_draw_text_on_the_video")
    r = s.get("/api/v2/results%s/artifacts/video.mp4" % result["result_id"])
    assert r.status_code == 200
    path = tmp_path / "video.mp4"
    path.write_bytes(r.content)
    video = cv2.VideoCapture(str(path))
    seen = []  # (seconds into the video, whether the text is there)
    while True:
        ok, frame = video.read()
        if not ok:
            break
        seen.append((video.get(cv2.CAP_PROP_POS_MSEC) / 1000, has_text(frame)))
    video.release()
    assert len(seen) > 25, len(seen)
    on = [i for i, (_, there) in enumerate(seen) if there]
    assert on, "the text is in no frame"
    assert on == list(range(on[0], on[-1] + 1)), "the text came and went: %r" % on
    assert not any(there for _, there in seen[:on[0]]) and on[0] > 0  # not before
    assert on[-1] < len(seen) - 1  # and gone after
    # on the frames captured within its 2 s, and not the one after them
    assert seen[on[-1]][0] - seen[on[0]][0] <= 2.01  # times in whole ms
    assert seen[on[-1] + 1][0] - seen[on[0]][0] >= 1.0


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

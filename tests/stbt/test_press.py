"""press, pressing, last_keypress, Keypress, press_until_match, press_and_wait,
wait_for_transition_to_end, get_frame and frames, against a fake node agent."""

import enum

import numpy
import pytest

import stbt
from stbt import Region, _press

from conftest import solid


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(_press, "_last", {"keypress": None, "end": 0.0})


def test_press_sends_the_key_and_returns_a_keypress(agent):
    fake = agent([solid(1), solid(2)])
    kp = stbt.press("KEY_OK")
    assert fake.presses == [("KEY_OK", None)]
    assert kp.key == "KEY_OK" and kp.start_time <= kp.end_time
    assert isinstance(kp.frame_before, stbt.Frame)
    assert repr(kp).startswith("Keypress(key='KEY_OK', start_time=")
    assert stbt.last_keypress() is kp
    stbt.press("KEY_UP", hold_secs=1.5, interpress_delay_secs=0)
    assert fake.presses[-1] == ("KEY_UP", 1.5)


def test_press_takes_an_enum_and_rejects_bad_keys(agent):
    fake = agent([solid(1)])

    class Key(enum.Enum):
        OK = "KEY_OK"
    stbt.press(Key.OK, interpress_delay_secs=0)
    assert fake.presses == [("KEY_OK", None)]
    for bad in ("", None, 3):
        with pytest.raises(ValueError):
            stbt.press(bad)
    with pytest.raises(ValueError):
        stbt.press("KEY_OK", hold_secs=61)


def test_interpress_delay_is_the_minimum_time_since_the_last_press(agent, monkeypatch, config):
    agent([solid(1)])
    now = [50.0]
    sleeps = []
    clock = type("Clock", (), {"time": staticmethod(lambda: now[0]), "sleep": staticmethod(
        lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s)))})
    monkeypatch.setattr(_press, "time", clock)
    stbt.press("KEY_1")
    now[0] += 0.1
    stbt.press("KEY_2")
    assert sleeps == [pytest.approx(0.2)]
    config("[press]\ninterpress_delay_secs = 1\n")
    stbt.press("KEY_3")
    assert sleeps[-1] == pytest.approx(1.0)
    now[0] += 5
    stbt.press("KEY_4", interpress_delay_secs=2)
    assert len(sleeps) == 2


def test_pressing_holds_the_key_for_the_block(agent):
    fake = agent([solid(1)] * 50)
    with stbt.pressing("KEY_RIGHT", interpress_delay_secs=0) as kp:
        assert kp.key == "KEY_RIGHT"
        stbt.get_frame()
    assert fake.presses and all(p == ("KEY_RIGHT", _press._HOLD_SLICE_SECS)
                                for p in fake.presses)


def test_press_without_a_node_is_an_error():
    from stbt import _agent
    _agent.reset()
    with pytest.raises(stbt.UITestError):
        stbt.press("KEY_OK", interpress_delay_secs=0)


def test_get_frame_and_frames(agent):
    agent([solid(i) for i in range(5)])
    f = stbt.get_frame()
    assert isinstance(f, stbt.Frame) and f.time == 1000.04 and not f.flags.writeable
    got = list(stbt.frames(timeout_secs=None) for _ in range(1))[0]
    seen = []
    with pytest.raises(stbt.NoVideo):
        for frame in got:
            seen.append(int(frame[0, 0, 0]))
    assert seen == [0, 1, 2, 3, 4]


def test_no_video_is_an_error_not_a_failure():
    assert not issubclass(stbt.NoVideo, stbt.UITestFailure)


def box(on):
    img = solid(0, (120, 200))
    if on:
        img[10:40, 10:50] = (0, 0, 255)
        img[15:25, 15:35] = 255
    return img


def test_press_until_match_presses_until_the_image_appears(agent, config):
    config("[press]\ninterpress_delay_secs = 0\n")
    frames = [box(False)] * 3 + [box(True)] * 3
    fake = agent(frames)
    template = box(True)[10:40, 10:50].copy()
    r = stbt.press_until_match("KEY_DOWN", template, interval_secs=0.01, max_presses=10)
    assert r.match and fake.presses


def test_press_until_match_gives_up_after_max_presses(agent, config):
    config("[press]\ninterpress_delay_secs = 0\n")

    def more(fake, key):
        fake.show(box(False), 2)
    fake = agent([box(False)] * 2, on_press=more)
    with pytest.raises(stbt.MatchTimeout):
        stbt.press_until_match("KEY_DOWN", box(True)[10:40, 10:50].copy(), interval_secs=0,
                               max_presses=3)
    assert len(fake.presses) == 3


def animation(still_before, moving, still_after):
    """Frames: a square still, moving right, then still again."""
    out, x = [], 0
    for i in range(still_before + moving + still_after):
        if still_before <= i < still_before + moving:
            x += 3
        img = solid(0)
        img[20:30, x:x + 10] = 255
        out.append(img)
    return out


def test_press_and_wait_measures_a_transition(agent, config):
    config("[press]\ninterpress_delay_secs = 0\n")
    agent(animation(1, 10, 60))
    t = stbt.press_and_wait("KEY_RIGHT", stable_secs=1, timeout_secs=100)
    assert t and t.status == stbt.TransitionStatus.COMPLETE
    assert t.started and t.complete and t.stable and t.key == "KEY_RIGHT"
    assert t.animation_start_time < t.end_time and t.end_time - t.animation_start_time > 0.3
    assert t.duration is not None and t.animation_duration is not None
    assert repr(t).startswith("Transition(key='KEY_RIGHT', frame=<Frame>, status=")


def test_press_and_wait_without_motion_times_out_at_the_start(agent, config):
    config("[press]\ninterpress_delay_secs = 0\n")
    fake = agent(animation(80, 0, 0))
    t = stbt.press_and_wait("KEY_OK", timeout_secs=1, retries=1)
    assert not t and t.status == stbt.TransitionStatus.START_TIMEOUT
    assert not t.started and t.stable and t.end_time is None and t.duration is None
    assert len(fake.presses) == 2


def test_wait_for_transition_to_end_and_stable_timeout():
    frames = [stbt.Frame(img, time=10 + i / 25.0) for i, img in enumerate(animation(0, 40, 0))]
    t = stbt.wait_for_transition_to_end(frames=iter(frames), timeout_secs=1, stable_secs=1)
    assert t.status == stbt.TransitionStatus.STABLE_TIMEOUT and not t.stable
    frames = [stbt.Frame(img, time=10 + i / 25.0) for i, img in enumerate(animation(0, 5, 40))]
    t = stbt.wait_for_transition_to_end(frames=iter(frames), stable_secs=1,
                                        mask=Region(0, 0, 200, 50))
    assert t and t.end_time == pytest.approx(10 + 4 / 25.0)


def test_multipress_enters_text_with_digits(agent, monkeypatch):
    fake = agent([solid(0)])
    stbt.MultiPress(interpress_delay_secs=0).enter_text("Ab1")
    assert [k for k, _ in fake.presses] == ["KEY_2", "KEY_2", "KEY_2", "KEY_1"]
    with pytest.raises(ValueError):
        stbt.MultiPress().enter_text("#")
    assert numpy is not None

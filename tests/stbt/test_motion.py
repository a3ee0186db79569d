"""detect_motion, wait_for_motion, MotionResult, MotionTimeout, is_screen_black, the differs."""

import pytest

import stbt
from stbt import Region

from conftest import solid


def frames_of(images, t0=100.0):
    return iter([stbt.Frame(img, time=t0 + i / 25.0) for i, img in enumerate(images)])


def moving(n, start=0, still_after=None):
    """n frames of a 10x10 white square moving right by 5 px a frame (then still)."""
    out = []
    for i in range(n):
        img = solid(0)
        x = start + 5 * min(i, still_after if still_after is not None else i)
        img[20:30, x:x + 10] = 255
        out.append(img)
    return out


def test_detect_motion_yields_a_result_per_frame_after_the_first():
    results = list(stbt.detect_motion(timeout_secs=None, frames=frames_of(moving(5))))
    assert len(results) == 4 and all(results)
    assert results[0].region == Region(0, 20, right=15, bottom=30)
    assert repr(results[0]).startswith("MotionResult(time=100.040, motion=True, region=")
    still = list(stbt.detect_motion(frames=frames_of([solid(0)] * 4)))
    assert not any(still) and still[0].region is None


def test_noise_below_the_threshold_is_not_motion():
    a, b = solid(100), solid(100)
    b[10:20, 10:20] = 120  # a difference of 20 in each channel: below 25
    assert not list(stbt.detect_motion(frames=frames_of([a, b])))[0]
    assert list(stbt.detect_motion(noise_threshold=10, frames=frames_of([a, b])))[0]


def test_one_pixel_wide_differences_are_eroded():
    a, b = solid(0), solid(0)
    b[5:40, 7] = 255
    assert not list(stbt.detect_motion(frames=frames_of([a, b])))[0]


def test_mask_and_the_deprecated_region():
    f = frames_of(moving(3, start=80))
    assert not any(stbt.detect_motion(mask=Region(0, 0, 50, 72), frames=f))
    with pytest.warns(DeprecationWarning):
        assert not any(stbt.detect_motion(region=Region(0, 0, 50, 72),
                                          frames=frames_of(moving(3, start=80))))
    with pytest.raises(ValueError):
        list(stbt.detect_motion(mask=Region(0, 0, 5, 5), region=Region(0, 0, 5, 5),
                                frames=frames_of(moving(3))))


def test_wait_for_motion_needs_x_of_y_frames():
    images = [solid(0)] * 3 + moving(6)
    r = stbt.wait_for_motion(consecutive_frames="3/5", frames=frames_of(images))
    assert r and r.time == pytest.approx(100.0 + 3 / 25.0)  # the first frame with motion
    r = stbt.wait_for_motion(consecutive_frames=2, frames=frames_of(images))
    assert r.motion
    with pytest.raises(stbt.MotionTimeout) as e:
        stbt.wait_for_motion(consecutive_frames="10/20", frames=frames_of(images))
    assert isinstance(e.value, stbt.UITestFailure)
    assert str(e.value).startswith("Didn't find motion within 10 seconds, using mask=")
    with pytest.raises(stbt.ConfigurationError):
        stbt.wait_for_motion(consecutive_frames="5/2", frames=frames_of(images))


def test_slow_motion_adds_up():
    # each frame 1 level brighter: never 25 between neighbours, but against the last frame
    # that differed, it is
    images = [solid(100 + i) for i in range(40)]
    assert any(stbt.detect_motion(noise_threshold=10, frames=frames_of(images)))


def test_grayscale_diff_and_replace():
    a, b = solid((0, 0, 200)), solid((200, 0, 0))  # same-ish gray level, different colour
    d = stbt.GrayscaleDiff()
    m = d.preprocess_mask(Region.ALL, Region(0, 0, 128, 72))
    assert not d.diff(d.preprocess(a, m), d.preprocess(b, m), m)
    bgr = stbt.BGRDiff()
    m = bgr.preprocess_mask(Region.ALL, Region(0, 0, 128, 72))
    assert bgr.diff(a, b, m)
    assert bgr.replace(min_size=(200, 200)).diff(a, b, m).motion is False
    assert isinstance(bgr, stbt.Differ) and bgr.replace(threshold=5).threshold == 5


def test_is_screen_black():
    f = solid(0)
    assert stbt.is_screen_black(f) and stbt.is_screen_black(f).frame is f
    f[5, 5] = 200
    assert not stbt.is_screen_black(f)
    assert stbt.is_screen_black(f, mask=Region(10, 10, 20, 20))
    assert stbt.is_screen_black(f, mask=~Region(0, 0, 10, 10))
    assert stbt.is_screen_black(solid(19))  # the default threshold is 20
    assert not stbt.is_screen_black(solid(19), threshold=10)
    assert repr(stbt.is_screen_black(solid(0))) == \
        "_IsScreenBlackResult(black=True, frame=<128x72x3>)"

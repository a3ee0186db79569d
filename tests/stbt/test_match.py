"""match, match_all, wait_for_match and their types. The fast path (libstbt_native) is checked
against a straightforward full-resolution computation of the documented algorithm on many
generated cases: present, absent, near the threshold, transparent, at the edges, in regions."""

import cv2
import numpy
import pytest

import stbt
from stbt import MatchMethod, MatchParameters, Region, _match, _native

from conftest import solid
from frames import logo, ui_frame


def box_frame(x, y, shape=(120, 200), time=1.5):
    img = solid((40, 30, 20), shape)
    img[y:y + 30, x:x + 40] = (0, 0, 255)
    img[y + 5:y + 15, x + 5:x + 25] = (255, 255, 255)
    img[y + 18:y + 26, x + 10:x + 14] = (0, 255, 0)
    return stbt.Frame(img, time=time)


BOX = numpy.ascontiguousarray(box_frame(10, 10)[10:40, 10:50])


def reference_first_pass(view, t3, alpha, threshold):
    """The documented first pass, straightforwardly: every position, exact sums, the first
    best in row-major order; (passed, x, y, score)."""
    h, w = t3.shape[:2]
    mask = numpy.ones((h, w, 1)) if alpha is None else (alpha[:, :, None] == 255)
    n = 3 * int(mask.sum())
    scale = max(1, n) * 255.0 ** 2
    t = t3.astype(numpy.int64)
    best = None
    for y in range(view.shape[0] - h + 1):
        windows = numpy.lib.stride_tricks.sliding_window_view(view[y:y + h], (h, w, 3))[0, :, 0]
        d = windows.astype(numpy.int64) - t
        sums = (d * d * mask).reshape(len(windows), -1).sum(axis=1)
        x = int(numpy.argmin(sums))
        if best is None or sums[x] < best[0]:
            best = (int(sums[x]), x, y)
    score = 1.0 - best[0] / scale
    return score >= threshold, best[1], best[2], score


def generated_cases(rng, n, threshold=0.98):
    for i in range(n):
        kind = ["present", "absent", "near", "transparent", "edge"][i % 5]
        H, W = int(rng.integers(24, 90)), int(rng.integers(24, 130))
        f = rng.integers(0, 256, (H, W, 3), dtype=numpy.uint8)
        if i % 2:
            f = cv2.GaussianBlur(f, (9, 9), 3)
        h, w = int(rng.integers(2, min(H, 40))), int(rng.integers(2, min(W, 60)))
        if kind == "edge":
            y0, x0 = [0, H - h][i % 2], [W - w, 0][(i // 2) % 2]
        else:
            y0, x0 = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
        t = f[y0:y0 + h, x0:x0 + w].copy()
        if kind == "absent":
            t = rng.integers(0, 256, t.shape, dtype=numpy.uint8)
        elif kind == "near":
            # noise whose mean square puts the score near the threshold, either side
            sigma = ((1 - threshold) * 255 ** 2) ** 0.5 * rng.uniform(0.8, 1.25)
            noise = rng.normal(0, sigma, t.shape)
            t = numpy.clip(t + noise, 0, 255).astype(numpy.uint8)
        elif kind == "transparent":
            alpha = numpy.where(rng.random((h, w)) < 0.3, 0, 255).astype(numpy.uint8)
            if i % 3 == 0:
                alpha[rng.random((h, w)) < 0.1] = 128  # partly transparent: ignored too
            junk = rng.integers(0, 256, t.shape, dtype=numpy.uint8)
            t = numpy.where(alpha[:, :, None] == 255, t, junk)
            t = numpy.dstack([t, alpha])
        yield kind, f, t


@pytest.mark.parametrize("threshold", [0.98, 0.9, 0.995])
def test_fast_path_agrees_with_the_full_resolution_search(rng, threshold):
    assert _native.available(), "libstbt_native.so is built by the normal build"
    params = MatchParameters(match_threshold=threshold, confirm_method="none")
    seen = set()
    for kind, f, t in generated_cases(rng, 150, threshold):
        img = stbt.load_image(t)
        alpha = numpy.ascontiguousarray(img[:, :, 3]) if img.shape[2] == 4 else None
        t3 = numpy.ascontiguousarray(img[:, :, :3])
        expected = reference_first_pass(f, t3, alpha, threshold)
        r = stbt.match(t, frame=f, match_parameters=params)
        seen.add((kind, expected[0]))
        assert r.match == expected[0], (kind, r, expected)
        if expected[0]:
            assert (r.region.x, r.region.y) == expected[1:3], (kind, r, expected)
            assert r.first_pass_result == expected[3]
        else:
            assert r.first_pass_result < threshold
    assert {("present", True), ("absent", False), ("near", True), ("near", False)} <= seen


def test_fast_path_finds_the_first_of_several_copies(rng):
    # copies of the reference in the frame, all the same (the reference itself, or the
    # reference with a little noise: equal sums that are not 0), with a noisier copy among
    # them: whichever copy the search meets first, the answer is the best sum, the first in
    # row-major order among equals
    params = MatchParameters(confirm_method="none")
    for i in range(60):
        H, W = int(rng.integers(60, 160)), int(rng.integers(60, 200))
        f = rng.integers(0, 256, (H, W, 3), dtype=numpy.uint8)
        if i % 2:
            f = cv2.GaussianBlur(f, (9, 9), 3)
        h, w = int(rng.integers(8, 24)), int(rng.integers(8, 32))
        t = rng.integers(0, 256, (h, w, 3), dtype=numpy.uint8)
        same = numpy.clip(t.astype(int) + (rng.integers(-3, 4, t.shape) if i % 3 else 0), 0, 255)
        noisier = numpy.clip(t.astype(int) + rng.integers(-6, 7, t.shape), 0, 255)
        for n in range(int(rng.integers(2, 6))):
            y0, x0 = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
            f[y0:y0 + h, x0:x0 + w] = noisier if n == 1 else same
        expected = reference_first_pass(f, t, None, 0.98)
        r = stbt.match(t, frame=f, match_parameters=params)
        assert (r.match, r.region.x, r.region.y, r.first_pass_result) == expected, (i, r)


def test_numpy_fallback_agrees_when_the_reference_is_found(rng, monkeypatch):
    monkeypatch.setattr(_native, "available", lambda: False)
    params = MatchParameters(confirm_method="none")
    for kind, f, t in generated_cases(rng, 40):
        img = stbt.load_image(t)
        alpha = numpy.ascontiguousarray(img[:, :, 3]) if img.shape[2] == 4 else None
        expected = reference_first_pass(f, numpy.ascontiguousarray(img[:, :, :3]), alpha, 0.98)
        r = stbt.match(t, frame=f, match_parameters=params)
        assert r.match == expected[0]
        if expected[0]:
            assert (r.region.x, r.region.y, r.first_pass_result) == expected[1:]


def test_match_finds_an_image_and_its_region():
    result = stbt.match(BOX, frame=box_frame(100, 60))
    assert result and result.match
    assert result.region == Region(100, 60, width=40, height=30)
    assert result.position == stbt.Position(100, 60)
    assert result.first_pass_result == 1.0
    assert result.time == 1.5
    assert repr(result) == (
        "MatchResult(time=1.500, match=True, region=Region(x=100, y=60, right=140, bottom=90), "
        "first_pass_result=1.0, frame=<Frame(time=1.500)>, "
        "image=<Image(filename=None, dimensions=40x30x3)>)")


def test_match_of_an_absent_image_is_falsey_with_its_nearest_region():
    r = stbt.match(BOX, frame=solid((40, 30, 20), (120, 200)))
    assert not r and r.match is False
    assert r.first_pass_result < 0.98
    assert Region(0, 0, 200, 120).contains(r.region)


def test_the_defaults_are_the_documented_ones():
    p = MatchParameters()
    assert (p.match_method, p.match_threshold, p.confirm_method, p.confirm_threshold,
            p.erode_passes) == (MatchMethod.SQDIFF, 0.98, stbt.ConfirmMethod.NORMED_ABSDIFF,
                                0.70, 1)
    assert repr(p) == ("MatchParameters(match_method=MatchMethod.SQDIFF, match_threshold=0.98, "
                       "confirm_method=ConfirmMethod.NORMED_ABSDIFF, confirm_threshold=0.7, "
                       "erode_passes=1)")


def test_match_parameters_come_from_the_match_section(config):
    config("[match]\nmatch_method = sqdiff-normed\nmatch_threshold = 0.5\nerode_passes = 0\n")
    p = MatchParameters()
    assert (p.match_method, p.match_threshold, p.erode_passes) == (
        MatchMethod.SQDIFF_NORMED, 0.5, 0)
    assert MatchParameters(match_method="ccoeff-normed").match_method == \
        MatchMethod.CCOEFF_NORMED


def test_match_threshold_is_a_parameter():
    template = BOX.copy()
    template[0:15] = 128  # half of it differs
    frame = box_frame(100, 60)
    assert not stbt.match(template, frame=frame)
    loose = MatchParameters(match_threshold=0.3, confirm_method="none")
    assert stbt.match(template, frame=frame, match_parameters=loose)


def test_the_confirm_pass_rejects_a_local_difference_the_first_pass_accepts():
    template = BOX.copy()
    template[20:25, 28:33] = 255  # a small blob the average hardly sees
    frame = box_frame(100, 60)
    r = stbt.match(template, frame=frame)
    assert r.first_pass_result > 0.98 and r._first_pass_matched and not r.match
    assert stbt.match(template, frame=frame,
                      match_parameters=MatchParameters(confirm_method="none"))
    assert not stbt.match(template, frame=frame,
                          match_parameters=MatchParameters(confirm_method="absdiff"))


@pytest.mark.parametrize("method", ["sqdiff-normed", "ccorr-normed", "ccoeff-normed"])
def test_other_match_methods(method):
    p = MatchParameters(match_method=method)
    r = stbt.match(BOX, frame=box_frame(100, 60), match_parameters=p)
    assert r.match and r.region == Region(100, 60, width=40, height=30)


def test_transparent_pixels_are_ignored():
    frame = box_frame(100, 60)
    template = numpy.dstack([BOX.copy(), numpy.full(BOX.shape[:2], 255, numpy.uint8)])
    template[5:15, 5:25, :3] = (0, 255, 255)  # what differs...
    assert not stbt.match(template, frame=frame)
    template[5:15, 5:25, 3] = 0  # ...is transparent
    r = stbt.match(template, frame=frame)
    assert r.match and r.region == Region(100, 60, width=40, height=30)
    assert r.first_pass_result == 1.0
    template[5:15, 5:25, 3] = 200  # partly transparent is transparent too
    assert stbt.match(template, frame=frame)


def test_a_transparent_png_from_disk_is_ignored_where_transparent(tmp_path):
    template = numpy.dstack([BOX.copy(), numpy.full(BOX.shape[:2], 255, numpy.uint8)])
    template[5:15, 5:25] = (0, 255, 255, 0)
    cv2.imwrite(str(tmp_path / "t.png"), template)
    assert stbt.match(str(tmp_path / "t.png"), frame=box_frame(100, 60))


def test_a_reference_partly_outside_the_frame_never_matches():
    # the box at the right edge, cut off: its visible part is not the reference
    frame = box_frame(0, 0, (120, 200))
    frame = stbt.Frame(numpy.roll(frame, 180, axis=1))  # box at x=180..220, cut at 200
    r = stbt.match(BOX, frame=frame)
    assert not r.match
    assert r.region.right <= 200 and r.region.bottom <= 120


def test_a_reference_partly_outside_the_region_never_matches():
    frame = box_frame(100, 60)
    assert not stbt.match(BOX, frame=frame, region=Region(0, 0, 130, 120))
    assert not stbt.match(BOX, frame=frame, region=Region(110, 0, 90, 120))
    r = stbt.match(BOX, frame=frame, region=Region(90, 50, right=150, bottom=100))
    assert r.region == Region(100, 60, width=40, height=30)


def test_a_region_partly_outside_the_frame_is_clipped():
    r = stbt.match(BOX, frame=box_frame(150, 80), region=Region(120, 70, 500, 500))
    assert r.match and r.region == Region(150, 80, width=40, height=30)


def test_a_reference_larger_than_the_frame_or_region_is_an_error():
    with pytest.raises(ValueError):
        stbt.match(BOX, frame=solid(0, (20, 20)))
    with pytest.raises(ValueError):
        stbt.match(BOX, frame=box_frame(100, 60), region=Region(0, 0, 30, 30))
    with pytest.raises(ValueError):
        stbt.match(BOX, frame=box_frame(100, 60), region=Region(500, 500, 10, 10))
    with pytest.raises(TypeError):
        stbt.match(BOX, frame=box_frame(100, 60), region=None)


def test_a_missing_reference_image_is_an_ioerror():
    with pytest.raises(IOError):
        stbt.match("no-such-image.png", frame=box_frame(0, 0))


def test_grayscale_frames_are_matched_as_bgr():
    gray = cv2.cvtColor(numpy.asarray(box_frame(100, 60)), cv2.COLOR_BGR2GRAY)
    tgray = cv2.cvtColor(cv2.cvtColor(BOX, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert stbt.match(tgray, frame=gray).region == Region(100, 60, width=40, height=30)


def test_match_all_finds_each_instance_once_best_first():
    frame = numpy.array(box_frame(10, 10))
    frame[70:100, 120:160] = BOX
    frame[5:35, 140:180] = BOX
    results = list(stbt.match_all(BOX, frame=frame))
    assert sorted(r.region for r in results) == sorted([
        Region(10, 10, 40, 30), Region(120, 70, 40, 30), Region(140, 5, 40, 30)])
    assert all(r.match for r in results)
    assert list(stbt.match_all(BOX, frame=solid(0, (120, 200)))) == []


def test_same_size_frame_and_reference():
    assert stbt.match(BOX, frame=BOX).region == Region(0, 0, 40, 30)


def test_wait_for_match_returns_the_first_match():
    frames = [box_frame(0, 0, time=1), solid(0, (120, 200))]
    frames = [stbt.Frame(solid(0, (120, 200)), time=1), box_frame(50, 50, time=2)]
    r = stbt.wait_for_match(BOX, timeout_secs=100, frames=iter(frames))
    assert r.time == 2 and r.region.x == 50


def test_wait_for_match_times_out_with_match_timeout_a_failure():
    blank = stbt.Frame(solid(0, (120, 200)), time=2.0)
    with pytest.raises(stbt.MatchTimeout) as e:
        stbt.wait_for_match(BOX, timeout_secs=1, frames=iter([blank, blank]))
    assert isinstance(e.value, stbt.UITestFailure)
    assert str(e.value) == "Didn't find match for '<Image>' within 1 seconds."
    assert e.value.screenshot is blank and e.value.timeout_secs == 1


def test_wait_for_match_needs_consecutive_matches_at_one_position():
    hit, miss = box_frame(10, 10), stbt.Frame(solid(0, (120, 200)))
    r = stbt.wait_for_match(BOX, consecutive_matches=2, timeout_secs=100,
                            frames=iter([hit, miss, hit, hit]))
    assert r.match
    with pytest.raises(stbt.MatchTimeout):
        stbt.wait_for_match(BOX, consecutive_matches=2, timeout_secs=100,
                            frames=iter([hit, miss, hit, box_frame(60, 60)]))


def test_sqdiff_limit_is_the_largest_sum_that_reaches_the_threshold():
    for scale in (65025, 3 * 65025 * 7, 30600 * 65025):
        for thr in (0.98, 0.5, 0.999999, 1.0, 0.0):
            lim = _match.sqdiff_limit(thr, scale)
            assert 1 - lim / scale >= thr
            assert lim == scale or 1 - (lim + 1) / scale < thr


def test_fast_path_agrees_with_opencv_at_720p():
    f = ui_frame()
    params = MatchParameters(confirm_method="none")
    for y, x in ((305, 110), (0, 0), (660, 1110), (350, 900)):
        t = f[y:y + 60, x:x + 170].copy()
        heat = cv2.matchTemplate(f, t, cv2.TM_SQDIFF)
        r = stbt.match(t, frame=f, match_parameters=params)
        assert r.match and r.first_pass_result == 1.0
        assert heat[r.region.y, r.region.x] <= heat.min() + 1e-3 * heat.max()
        assert _match.sqdiff_at(f, t, None, r.region.x, r.region.y) == 0
    heat = cv2.matchTemplate(f, logo(), cv2.TM_SQDIFF)
    r = stbt.match(logo(), frame=f, match_parameters=params)
    assert not r.match and 1 - heat.min() / (170 * 60 * 3 * 255 ** 2) < 0.98

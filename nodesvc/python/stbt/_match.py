"""Image matching: `match`, `match_all`, `wait_for_match` and their types.

The algorithm is the reference's two passes. The first pass finds the position of the
reference image (all of it inside the region searched) that is most like it by
``match_method``; it matches when its score reaches ``match_threshold``. The second pass
confirms that position pixel by pixel (``confirm_method``, ``confirm_threshold``,
``erode_passes``). Pixels of the reference that are not fully opaque are ignored by both.

For MatchMethod.SQDIFF (the default) the score is 1 - sum of squared differences / (number of
opaque channel values * 255^2), and the first pass is the C fast path (_native): exact sums,
computed only where lower bounds from block sums leave a position any chance, so its answer is
the full-resolution search's, to the position and the last bit of the score, whenever a position
reaches the threshold."""

import enum
import math

import cv2
import numpy

from . import _native
from ._config import get_config
from ._errors import UITestFailure
from ._geometry import Position, Region
from ._imgutils import Frame, _frame_repr, _validate_region, load_image
from ._logging import debug


class MatchMethod(enum.Enum):
    """An enum. See `MatchParameters` for documentation of these values."""
    SQDIFF = "sqdiff"
    SQDIFF_NORMED = "sqdiff-normed"
    CCORR_NORMED = "ccorr-normed"
    CCOEFF_NORMED = "ccoeff-normed"

    def __repr__(self):
        return str(self)


class ConfirmMethod(enum.Enum):
    """An enum. See `MatchParameters` for documentation of these values."""
    NONE = "none"
    ABSDIFF = "absdiff"
    NORMED_ABSDIFF = "normed-absdiff"

    def __repr__(self):
        return str(self)


class MatchParameters:
    """Parameters of the image matching algorithm used by `match`, `wait_for_match` and
    `press_until_match`. Each one left as None comes from the ``[match]`` section of the
    configuration (built-in defaults: ``match_method=MatchMethod.SQDIFF``,
    ``match_threshold=0.98``, ``confirm_method=ConfirmMethod.NORMED_ABSDIFF``,
    ``confirm_threshold=0.70``, ``erode_passes=1``).

    :param match_method: the first pass (see the module's docstring).
    :param float match_threshold: how similar, on average over all pixels, the first pass's
        best position must be: 0 (anything) to 1 (pixel perfect).
    :param confirm_method: the second pass: ``NONE`` (no confirmation), ``ABSDIFF`` (each
        pixel's absolute difference in grayscale) or ``NORMED_ABSDIFF`` (the same after
        stretching both images' grayscale to the full 0-255 range).
    :param float confirm_threshold: the minimum similarity of every single pixel, as a fraction
        of the luminance range: 0 (less strict) to 1 (more strict).
    :param int erode_passes: erosions of the differences before counting them, which forgive
        isolated pixels: 1 (the default) or 0."""

    def __init__(self, match_method=None, match_threshold=None, confirm_method=None,
                 confirm_threshold=None, erode_passes=None):
        if match_method is None:
            match_method = get_config("match", "match_method", type_=MatchMethod)
        if match_threshold is None:
            match_threshold = get_config("match", "match_threshold", type_=float)
        if confirm_method is None:
            confirm_method = get_config("match", "confirm_method", type_=ConfirmMethod)
        if confirm_threshold is None:
            confirm_threshold = get_config("match", "confirm_threshold", type_=float)
        if erode_passes is None:
            erode_passes = get_config("match", "erode_passes", type_=int)
        self.match_method = MatchMethod(match_method)
        self.match_threshold = match_threshold
        self.confirm_method = ConfirmMethod(confirm_method)
        self.confirm_threshold = confirm_threshold
        self.erode_passes = erode_passes

    def __repr__(self):
        return ("MatchParameters(match_method=%r, match_threshold=%r, confirm_method=%r, "
                "confirm_threshold=%r, erode_passes=%r)" % (
                    self.match_method, self.match_threshold, self.confirm_method,
                    self.confirm_threshold, self.erode_passes))


class MatchResult:
    """The result from `match`: truthy when the image was found.

    :ivar float time: when the frame searched was captured.
    :ivar bool match: True if a match was found (the same as ``bool(result)``).
    :ivar Region region: where the image was found (or its nearest match).
    :ivar float first_pass_result: 0 (poor) to 1.0 (excellent), from the first pass.
    :ivar Frame frame: the frame searched, as given to `match`.
    :ivar Image image: the reference image searched for."""

    _fields = ("time", "match", "region", "first_pass_result", "frame", "image")

    def __init__(self, time, match, region, first_pass_result, frame, image,
                 _first_pass_matched=None):
        self.time = time
        self.match = match
        self.region = region
        self.first_pass_result = first_pass_result
        self.frame = frame
        self.image = image
        self._first_pass_matched = _first_pass_matched

    def __bool__(self):
        return bool(self.match)

    @property
    def position(self):
        return Position(self.region.x, self.region.y)

    def __repr__(self):
        return ("MatchResult(time=%s, match=%r, region=%r, first_pass_result=%r, frame=%s, "
                "image=%s)" % ("None" if self.time is None else "%.3f" % self.time, self.match,
                               self.region, self.first_pass_result, _frame_repr(self.frame),
                               _frame_repr(self.image)))


class MatchTimeout(UITestFailure):
    """Raised by `wait_for_match`.

    :ivar Frame screenshot: the last frame `wait_for_match` checked.
    :ivar str expected: the filename of the image searched for.
    :ivar timeout_secs: how long it searched."""

    def __init__(self, screenshot, expected, timeout_secs):
        super().__init__()
        self.screenshot = screenshot
        self.expected = expected
        self.timeout_secs = timeout_secs

    def __str__(self):
        return "Didn't find match for '%s' within %g seconds." % (self.expected,
                                                                  self.timeout_secs)


def match(image, frame=None, match_parameters=None, region=Region.ALL):
    """Search for an image in a single video frame.

    :param image: the reference image: a filename (see `load_image`) or an array of 8-bit BGR
        (or BGRA: transparent pixels are ignored) pixels.
    :param frame: the frame to search (default: a new one from the device under test).
    :param MatchParameters match_parameters: see `MatchParameters`.
    :param Region region: search only within this region (clipped to the frame). The whole
        reference must lie inside it to match there.
    :returns: a `MatchResult`, truthy if the image was found.
    :raises: ValueError if the reference is larger than the frame or the region."""
    result = next(_match_all(image, frame, match_parameters, region))
    debug("%s: %s" % ("Match found" if result.match else "No match found. Closest match",
                      result))
    return result


def match_all(image, frame=None, match_parameters=None, region=Region.ALL):
    """Search for all instances of an image in a single video frame; arguments as `match`.

    :returns: an iterator of the matching `MatchResult`s, best first, none overlapping."""
    any_matches = False
    for result in _match_all(image, frame, match_parameters, region):
        if not result.match:
            if not any_matches:
                debug("No match found. Closest match: %s" % (result,))
            return
        any_matches = True
        debug("Match found: %s" % (result,))
        yield result


def wait_for_match(image, timeout_secs=10, consecutive_matches=1, match_parameters=None,
                   region=Region.ALL, frames=None):
    """Search for an image in the device under test's video until it is found.

    :param consecutive_matches: how many consecutive frames must match at the same position.
    :param frames: the frames to search (default ``stbt.frames()``).
    :returns: the `MatchResult` when found.
    :raises: `MatchTimeout` if not found within ``timeout_secs``."""
    from ._frames import frames as live_frames, limit_time  # noqa: PLC0415 - imports us
    if match_parameters is None:
        match_parameters = MatchParameters()
    frames = live_frames(timeout_secs) if frames is None else limit_time(frames, timeout_secs)
    image = load_image(image)
    name = image.relative_filename or "<Image>"
    debug("Searching for " + name)
    count, last_pos, res = 0, None, None
    for frame in frames:
        res = match(image, frame=frame, match_parameters=match_parameters, region=region)
        if res.match and (count == 0 or res.position == last_pos):
            count += 1
        else:
            count = 0  # as the reference: a match at a new position starts the count next frame
        last_pos = res.position
        if count >= consecutive_matches:
            debug("Matched " + name)
            return res
    raise MatchTimeout(res.frame if res is not None else None, name, timeout_secs)


def _norm_frame(frame):
    if not isinstance(frame, numpy.ndarray):
        raise TypeError("Expected numpy.ndarray, got %r" % (type(frame).__name__,))
    if frame.dtype != numpy.uint8:
        raise TypeError("Expected numpy.ndarray of uint8, got %r" % (frame.dtype,))
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        gray = frame.reshape(frame.shape[:2])
        return Frame(cv2.cvtColor(numpy.ascontiguousarray(gray), cv2.COLOR_GRAY2BGR),
                     time=getattr(frame, "time", None))
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError("Invalid shape for frame: %r. It must be (h, w), (h, w, 1) or "
                         "(h, w, 3)" % (frame.shape,))
    return frame


def _match_all(image, frame, match_parameters, region):
    """Zero or more truthy MatchResults (each not overlapping those before), then a falsey."""
    if match_parameters is None:
        match_parameters = MatchParameters()
    if frame is None:
        from ._frames import get_frame  # noqa: PLC0415
        frame = get_frame()
    searched = _norm_frame(frame)
    t = load_image(image, color_channels=(3, 4))
    th, tw = t.shape[:2]
    if th < 1 or tw < 1:
        raise ValueError("Reference image %r must contain some data" % (t.shape,))
    if searched.shape[0] < th or searched.shape[1] < tw:
        raise ValueError("Frame %r must be larger than reference image %r"
                         % (searched.shape, t.shape))
    area = _validate_region(searched, region)
    if area.height < th or area.width < tw:
        raise ValueError("%r must be larger than reference image %r" % (area, t.shape))
    view = searched[area.y:area.bottom, area.x:area.right]
    for matched, r, first_pass, certainty in _find_matches(view, t, match_parameters):
        yield MatchResult(getattr(frame, "time", None), matched, r.translate(area.x, area.y),
                          certainty, frame, t, first_pass)


def _find_matches(view, template, params):
    """(confirmed, region in ``view``, first pass matched, first-pass score) for each match, best
    first, then one that did not match; each later one overlaps none before it."""
    th, tw = template.shape[:2]
    if template.shape[2] == 4:
        alpha = numpy.ascontiguousarray(template[:, :, 3])
        t3 = numpy.ascontiguousarray(template[:, :, :3])
    else:
        alpha, t3 = None, numpy.ascontiguousarray(template)
    exclusions = []
    while True:
        passed, x, y, certainty = _first_pass(view, t3, alpha, params, exclusions)
        r = Region(x, y, width=tw, height=th)
        confirmed = passed and _confirm(view, r, t3, alpha, params)
        yield confirmed, r, passed, certainty
        if not confirmed:
            return
        # positions whose reference would overlap this match
        exclusions.append((x - tw + 1, y - th + 1, x + tw, y + th))


def sqdiff_limit(threshold, scale):
    """The largest sum of squared differences whose score, 1 - ssd / scale computed in floating
    point, reaches ``threshold`` (-1 when none does)."""
    def ok(s):
        return 1.0 - s / scale >= threshold
    if threshold <= 0:
        return scale
    lim = min(scale, max(-1, int(math.floor((1.0 - threshold) * scale))))
    while lim + 1 <= scale and ok(lim + 1):
        lim += 1
    while lim >= 0 and not ok(lim):
        lim -= 1
    return lim


def sqdiff_scale(template_shape, alpha):
    """The denominator of MatchMethod.SQDIFF's score: opaque channel values * 255^2."""
    n = 3 * (int(numpy.count_nonzero(alpha)) if alpha is not None
             else template_shape[0] * template_shape[1])
    return max(1, n) * 255 * 255


def _first_pass(view, t3, alpha, params, exclusions):
    """(reaches the threshold, x, y, score) of the best position not excluded."""
    th, tw = t3.shape[:2]
    if params.match_method == MatchMethod.SQDIFF:
        scale = sqdiff_scale(t3.shape, alpha)
        lim = sqdiff_limit(params.match_threshold, scale)
        mask = None if alpha is None else (alpha > 0).astype(numpy.uint8)
        if _native.available():
            found, x, y, ssd = _native.sqdiff_search(view, t3, mask, lim, exclusions)
        else:
            found, x, y, ssd = _sqdiff_search_numpy(view, t3, mask, lim, scale, exclusions)
        if x < 0:
            return False, 0, 0, 0.0
        return found, x, y, 1.0 - ssd / scale
    method = {MatchMethod.SQDIFF_NORMED: cv2.TM_SQDIFF_NORMED,
              MatchMethod.CCORR_NORMED: cv2.TM_CCORR_NORMED,
              MatchMethod.CCOEFF_NORMED: cv2.TM_CCOEFF_NORMED}[params.match_method]
    kwargs = {}
    if alpha is not None:
        kwargs["mask"] = cv2.cvtColor((alpha > 0).astype(numpy.float32), cv2.COLOR_GRAY2BGR)
    heat = cv2.matchTemplate(view, t3, method, **kwargs).astype(numpy.float64)
    score = 1.0 - heat if method == cv2.TM_SQDIFF_NORMED else heat
    score[~numpy.isfinite(score)] = -numpy.inf
    _exclude(score, exclusions, -numpy.inf)
    i = int(numpy.argmax(score))
    y, x = divmod(i, score.shape[1])
    certainty = float(score[y, x])
    if not math.isfinite(certainty):
        return False, 0, 0, 0.0
    return certainty >= params.match_threshold, x, y, certainty


def _exclude(heat, exclusions, value):
    for x0, y0, x1, y1 in exclusions:
        heat[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = value


def sqdiff_at(view, t3, mask, x, y):
    """The exact sum of squared differences of the reference at (x, y) of ``view``."""
    d = view[y:y + t3.shape[0], x:x + t3.shape[1]].astype(numpy.int64) - t3
    d = d * d
    if mask is not None:
        d = d * (mask[:, :, numpy.newaxis] != 0)
    return int(d.sum())


def _sqdiff_search_numpy(view, t3, mask, lim, scale, exclusions):
    """The fallback without the C library: OpenCV's float32 TM_SQDIFF to find the candidates
    within its rounding error of the best, then their exact sums."""
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = cv2.cvtColor(mask.astype(numpy.float32), cv2.COLOR_GRAY2BGR)
    heat = cv2.matchTemplate(numpy.ascontiguousarray(view), t3, cv2.TM_SQDIFF,
                             **kwargs).astype(numpy.float64)
    _exclude(heat, exclusions, numpy.inf)
    best = heat.min()
    if not math.isfinite(best):
        return False, -1, -1, 0
    tol = 1e-4 * scale + 16
    idx = numpy.flatnonzero(heat <= best + 2 * tol)
    if len(idx) > 4096:
        idx = numpy.sort(idx[numpy.argsort(heat.ravel()[idx], kind="stable")[:4096]])
    found = None
    for i in idx:
        y, x = divmod(int(i), heat.shape[1])
        s = sqdiff_at(view, t3, mask, x, y)
        if found is None or s < found[2]:
            found = (x, y, s)
    return found[2] <= lim, found[0], found[1], found[2]


_ELLIPSE3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


def _confirm(view, region, t3, alpha, params):
    """The second pass at ``region`` of ``view``."""
    if params.confirm_method == ConfirmMethod.NONE:
        return True
    img = cv2.cvtColor(numpy.ascontiguousarray(view[region.y:region.bottom,
                                                    region.x:region.right]),
                       cv2.COLOR_BGR2GRAY)
    tmpl = cv2.cvtColor(t3, cv2.COLOR_BGR2GRAY)
    if params.confirm_method == ConfirmMethod.NORMED_ABSDIFF:
        img = cv2.normalize(img, img.copy(), 0, 255, cv2.NORM_MINMAX, mask=alpha)
        tmpl = cv2.normalize(tmpl, tmpl.copy(), 0, 255, cv2.NORM_MINMAX, mask=alpha)
    if alpha is not None:
        img = cv2.bitwise_and(img, alpha)
        tmpl = cv2.bitwise_and(tmpl, alpha)
    diff = cv2.absdiff(img, tmpl)
    _, thresholded = cv2.threshold(diff, int((1 - params.confirm_threshold) * 255), 255,
                                   cv2.THRESH_BINARY)
    eroded = cv2.erode(thresholded, _ELLIPSE3, iterations=params.erode_passes)
    return cv2.countNonZero(eroded) == 0

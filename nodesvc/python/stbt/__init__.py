"""The stbt API for test scripts run by an stbfarm node: the core of stb-tester's Python API
(press, get_frame, frames, match, wait_for_match, wait_until, get_config, Region, MatchResult
and the exceptions), so that existing test packs run unchanged.

It reaches its node agent through _agent.py. numpy and OpenCV are imported on first use, so a
test that never looks at the video starts fast."""

import configparser
import inspect
import os
import time

__all__ = [
    "ConfigurationError", "Frame", "MatchParameters", "MatchResult", "MatchTimeout", "NoVideo",
    "Region", "UITestError", "UITestFailure", "frames", "get_config", "get_frame", "match",
    "press", "wait_for_match", "wait_until",
]


from . import _agent
from ._errors import (ConfigurationError, MatchTimeout, NoVideo, UITestError,  # noqa: F401
                      UITestFailure)


# ---- geometry ----

class Region:
    """A rectangle: x, y, width, height (or right, bottom). Region.ALL is the whole frame."""

    def __init__(self, x, y, width=None, height=None, right=None, bottom=None):
        if width is None:
            width = right - x if right is not None else float("inf")
        if height is None:
            height = bottom - y if bottom is not None else float("inf")
        self.x, self.y, self.width, self.height = x, y, width, height

    @property
    def right(self):
        return self.x + self.width

    @property
    def bottom(self):
        return self.y + self.height

    def __eq__(self, other):
        return isinstance(other, Region) and \
            (self.x, self.y, self.width, self.height) == (other.x, other.y, other.width,
                                                          other.height)

    def __hash__(self):
        return hash((self.x, self.y, self.width, self.height))

    def __repr__(self):
        if self == Region.ALL:
            return "Region.ALL"
        return "Region(x=%r, y=%r, right=%r, bottom=%r)" % (self.x, self.y, self.right,
                                                            self.bottom)

    @staticmethod
    def intersect(a, b):
        x, y = max(a.x, b.x), max(a.y, b.y)
        right, bottom = min(a.right, b.right), min(a.bottom, b.bottom)
        if right <= x or bottom <= y:
            return None
        return Region(x, y, right=right, bottom=bottom)


Region.ALL = Region(float("-inf"), float("-inf"), float("inf"), float("inf"))


def _crop(frame, region):
    h, w = frame.shape[:2]
    r = Region.intersect(Region(0, 0, w, h), region)
    if r is None:
        raise ValueError("region %r is outside the frame (%dx%d)" % (region, w, h))
    return frame[int(r.y):int(r.bottom), int(r.x):int(r.right)], r


def press(key, interpress_delay_secs=None, hold_secs=None):
    """Send one key press of the test job's remote control to the device under test."""
    if not isinstance(key, str) or not key:
        raise ValueError("key must be a non-empty string, not %r" % (key,))
    _agent.press(key, hold_secs)
    _log("press: %s" % key)
    if interpress_delay_secs:
        time.sleep(interpress_delay_secs)


# ---- frames ----

def _numpy():
    import numpy  # noqa: PLC0415 - imported on first use to keep test start-up fast
    return numpy


_Frame = None


def _frame_class():
    """stbt.Frame: made on first use, so that numpy is imported only by tests that need it."""
    global _Frame
    if _Frame is None:
        np = _numpy()

        class Frame(np.ndarray):
            """A video frame: a numpy array (height, width, 3) of BGR bytes, with .time."""

            def __new__(cls, array, time=None):  # noqa: A002 - the stbt name
                obj = np.asarray(array).view(cls)
                obj.time = time
                return obj

            def __array_finalize__(self, obj):
                self.time = getattr(obj, "time", None)

            def __repr__(self):
                return "<Frame(time=%r, dimensions=%dx%dx%d)>" % (
                    self.time, self.shape[1], self.shape[0], self.shape[2])

        _Frame = Frame
    return _Frame


def __getattr__(name):
    if name == "Frame":
        return _frame_class()
    raise AttributeError("module 'stbt' has no attribute %r" % name)


def _fetch_frame(after=0):
    array, t, seq = _agent.frame(after)
    return _frame_class()(array, time=t), seq


def get_frame():
    """The newest frame of the device under test's video."""
    return _fetch_frame()[0]


def frames(timeout_secs=None):
    """Frames of the video as they arrive, each once, for timeout_secs (None: forever)."""
    end = None if timeout_secs is None else time.time() + timeout_secs
    seq = 0
    while end is None or time.time() < end:
        frame, seq = _fetch_frame(after=seq)
        yield frame


# ---- matching ----

class MatchParameters:
    """How match() compares: a match needs a normalised squared-difference score of at least
    match_threshold (0 to 1, higher is stricter)."""

    def __init__(self, match_threshold=0.80, match_method="sqdiff-normed"):
        if match_method != "sqdiff-normed":
            raise ValueError("stbfarm's stbt supports match_method='sqdiff-normed' only")
        self.match_threshold = match_threshold
        self.match_method = match_method


class MatchResult:
    """The result of match(): truthy when the image was found."""

    def __init__(self, time, match, region, first_pass_result, frame, image):  # noqa: A002
        self.time, self.match, self.region = time, match, region
        self.first_pass_result, self.frame, self.image = first_pass_result, frame, image

    def __bool__(self):
        return self.match

    def __repr__(self):
        return ("MatchResult(time=%r, match=%r, region=%r, first_pass_result=%r, frame=%s, "
                "image=%r)" % (self.time, self.match, self.region, self.first_pass_result,
                               "%dx%dx%d" % (self.frame.shape[1], self.frame.shape[0],
                                             self.frame.shape[2]),
                               self.image if isinstance(self.image, str) else "<array>"))


def _caller_dir():
    """The directory of the test script calling into stbt: images resolve against it."""
    here = os.path.dirname(os.path.abspath(__file__))
    for info in inspect.stack()[1:]:
        d = os.path.dirname(os.path.abspath(info.filename))
        if d != here:
            return d
    return os.getcwd()


def _load_image(image):
    if not isinstance(image, str):
        return _numpy().asarray(image), "<array>"
    import cv2  # noqa: PLC0415
    candidates = [image] if os.path.isabs(image) else [os.path.join(_caller_dir(), image), image]
    for path in candidates:
        if os.path.exists(path):
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise UITestError("%s is not an image OpenCV can read" % path)
            return img, image
    raise UITestError("no such reference image: %s" % image)


def match(image, frame=None, match_parameters=None, region=Region.ALL):
    """Search frame (default: the newest frame) for image (a path or an array)."""
    import cv2  # noqa: PLC0415
    params = match_parameters or MatchParameters()
    template, name = _load_image(image)
    if frame is None:
        frame = get_frame()
    haystack, area = _crop(frame, region)
    th, tw = template.shape[:2]
    if th > haystack.shape[0] or tw > haystack.shape[1]:
        raise ValueError("reference image %s (%dx%d) is larger than the region searched "
                         "(%dx%d)" % (name, tw, th, haystack.shape[1], haystack.shape[0]))
    scores = cv2.matchTemplate(haystack, template, cv2.TM_SQDIFF_NORMED)
    min_val, _, min_loc, _ = cv2.minMaxLoc(scores)
    score = 1.0 - min_val
    found = Region(int(area.x) + min_loc[0], int(area.y) + min_loc[1], tw, th)
    result = MatchResult(getattr(frame, "time", None), score >= params.match_threshold, found,
                         score, frame, image)
    _log("match: %s %s at %r (%.4f)" % (name, "found" if result.match else "not found", found,
                                         score))
    return result


def wait_for_match(image, timeout_secs=10, consecutive_matches=1, match_parameters=None,
                   region=Region.ALL, frames=None):  # noqa: A002 - the stbt name
    """Wait until image appears; return the MatchResult or raise MatchTimeout."""
    source = frames if frames is not None else globals()["frames"](timeout_secs)
    matched, last = 0, None
    for frame in source:
        last = match(image, frame=frame, match_parameters=match_parameters, region=region)
        matched = matched + 1 if last.match else 0
        if matched >= consecutive_matches:
            return last
    raise MatchTimeout(last.frame if last else None, image if isinstance(image, str)
                       else "<array>", timeout_secs)


def wait_until(callable_, timeout_secs=10, interval_secs=0, predicate=None, stable_secs=0):
    """Call callable_ until its value is truthy (and, with stable_secs, unchanged for that
    long); return that value, or the last falsey one after timeout_secs."""
    end = time.time() + timeout_secs
    key = predicate or (lambda v: v)
    stable_value, stable_since = None, None
    while True:
        value = callable_()
        now = time.time()
        if stable_secs:
            if stable_since is None or key(value) != key(stable_value):
                stable_value, stable_since = value, now
            if value and now - stable_since >= stable_secs:
                return value
        elif value:
            return value
        if now >= end:
            return value if not stable_secs else stable_value
        time.sleep(interval_secs)


# ---- configuration ----

_config = None


def _load_config():
    global _config
    if _config is None:
        _config = configparser.ConfigParser(interpolation=None)
        for path in os.environ.get("STBT_CONFIG_FILE", "").split(":"):
            if path:
                _config.read(path)
    return _config


_MISSING = object()


def get_config(section, key, default=_MISSING, type_=str):
    """A value from the test pack's .stbt.conf, the node's config, or the job's tags
    (section "result.tags")."""
    config = _load_config()
    try:
        value = config.get(section, key)
    except (configparser.NoSectionError, configparser.NoOptionError):
        if default is _MISSING:
            raise ConfigurationError("no configuration value %s.%s" % (section, key)) from None
        return default
    if type_ is bool:
        return value.strip().lower() in ("1", "yes", "true", "on")
    try:
        return type_(value)
    except ValueError:
        raise ConfigurationError("%s.%s = %r is not a valid %s" % (section, key, value,
                                                                  type_.__name__)) from None


def _log(message):
    """A line in the test's stbt.log (stderr, which the runner timestamps)."""
    import sys  # noqa: PLC0415
    sys.stderr.write("stbt: %s\n" % message)
    sys.stderr.flush()

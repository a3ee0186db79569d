"""Motion and black screens: `detect_motion`, `wait_for_motion`, `MotionTimeout`,
`is_screen_black`."""

import collections
import warnings

import cv2
import numpy

from ._config import get_config
from ._diff import BGRDiff
from ._errors import ConfigurationError, UITestFailure
from ._geometry import Region
from ._imgutils import _frame_repr, _image_region
from ._logging import debug
from ._mask import load_mask


class MotionTimeout(UITestFailure):
    """Raised by `wait_for_motion`.

    :ivar Frame screenshot: the last frame checked.
    :ivar mask: the mask used.
    :ivar timeout_secs: how long motion was searched for."""

    def __init__(self, screenshot, mask, timeout_secs):
        super().__init__()
        self.screenshot, self.mask, self.timeout_secs = screenshot, mask, timeout_secs

    def __str__(self):
        return "Didn't find motion within %g seconds, using mask=%r" % (self.timeout_secs,
                                                                        self.mask)


def _mask_arg(name, mask, region):
    if region is not Region.ALL:
        if mask is not Region.ALL:
            raise ValueError("Cannot specify mask and region at the same time")
        warnings.warn("stbt.%s: The 'region' parameter is deprecated; pass your Region to "
                      "'mask' instead" % name, DeprecationWarning, stacklevel=3)
        return region
    return mask


class DetectMotion:
    """Compares each frame with the last one that differed from its predecessor (so that slow
    motion adds up); shared by `detect_motion` and the transitions."""

    def __init__(self, differ, initial_frame, mask=Region.ALL):
        self.differ = differ
        self.mask = differ.preprocess_mask(mask, _image_region(initial_frame))
        self.prev = differ.preprocess(initial_frame, self.mask)

    def diff(self, frame):
        new = self.differ.preprocess(frame, self.mask)
        result = self.differ.diff(self.prev, new, self.mask)
        if result:
            self.prev = new
        return result


def detect_motion(timeout_secs=10, noise_threshold=None, mask=Region.ALL, region=Region.ALL,
                  frames=None):
    """One `MotionResult` for each frame after the first, for ``timeout_secs`` (None: forever).

    :param int noise_threshold: colour differences (0-255) to ignore; default ``[motion]
        noise_threshold`` (25).
    :param mask: a `Region` or anything `load_mask` takes: the pixels to look at.
    :param region: deprecated synonym of ``mask``.
    :param frames: the frames to analyse (default ``stbt.frames()``)."""
    from ._frames import frames as live_frames, limit_time  # noqa: PLC0415
    mask = _mask_arg("detect_motion", mask, region)
    frames = limit_time(live_frames() if frames is None else frames, timeout_secs)
    if noise_threshold is None:
        noise_threshold = get_config("motion", "noise_threshold", type_=float)
    debug("Searching for motion, using mask=%r" % (mask,))
    try:
        first = next(frames)
    except StopIteration:
        return
    dm = DetectMotion(detect_motion.differ.replace(threshold=noise_threshold), first, mask)
    for frame in frames:
        result = dm.diff(frame)
        debug("%s found: %s" % ("Motion" if result else "No motion", result))
        yield result


detect_motion.differ = BGRDiff()


def wait_for_motion(timeout_secs=10, consecutive_frames=None, noise_threshold=None,
                    mask=Region.ALL, region=Region.ALL, frames=None):
    """Wait for motion in the video.

    :param consecutive_frames: motion in this many consecutive frames (an int), or in ``x`` of
        a sliding window of ``y`` frames (``"x/y"``); default ``[motion] consecutive_frames``
        (``"10/20"``).
    :returns: the `MotionResult` of the first frame with motion in the window that qualified.
    :raises: `MotionTimeout` if there is none within ``timeout_secs``."""
    mask = _mask_arg("wait_for_motion", mask, region)
    if consecutive_frames is None:
        consecutive_frames = get_config("motion", "consecutive_frames")
    text = str(consecutive_frames)
    try:
        wanted, window = ((int(a) for a in text.split("/")) if "/" in text
                          else (int(text), int(text)))
    except ValueError:
        raise ConfigurationError("consecutive_frames must be N or \"N/M\", not %r"
                                 % (consecutive_frames,)) from None
    if wanted > window:
        raise ConfigurationError("`motion_frames` exceeds `considered_frames`")
    debug("Waiting for %d out of %d frames with motion, using mask=%r" % (wanted, window, mask))
    recent = collections.deque(maxlen=window)
    last_frame = None
    for result in detect_motion(timeout_secs, noise_threshold, mask, frames=frames):
        recent.append(result)
        if sum(1 for r in recent if r) >= wanted:
            debug("Motion detected.")
            return next(r for r in recent if r)
        last_frame = result.frame
    raise MotionTimeout(last_frame, mask, timeout_secs)


class _IsScreenBlackResult:
    def __init__(self, black, frame):
        self.black, self.frame = black, frame

    def __bool__(self):
        return self.black

    def __repr__(self):
        return "_IsScreenBlackResult(black=%r, frame=%s)" % (self.black, _frame_repr(self.frame))


def is_screen_black(frame=None, mask=Region.ALL, threshold=None, region=Region.ALL):
    """Whether the frame (default: a new one) is black within ``mask``: every pixel's
    grayscale value at most ``threshold`` (0-255; default ``[is_screen_black] threshold``, 20).

    :returns: a truthy object when black, with attributes ``black`` and ``frame``."""
    mask = _mask_arg("is_screen_black", mask, region)
    if threshold is None:
        threshold = get_config("is_screen_black", "threshold", type_=int)
    if frame is None:
        from ._frames import get_frame  # noqa: PLC0415
        frame = get_frame()
    pixels, box = load_mask(mask).to_array(_image_region(frame))
    gray = cv2.cvtColor(numpy.ascontiguousarray(frame[box.y:box.bottom, box.x:box.right]),
                        cv2.COLOR_BGR2GRAY)
    if pixels is not None:
        gray = cv2.bitwise_and(gray, pixels[:, :, 0])
    brightest = int(gray.max())
    result = _IsScreenBlackResult(brightest <= threshold, frame)
    debug("is_screen_black: %s black screen using mask=%r, threshold=%d: %r, "
          "maximum_intensity=%d" % ("Found" if result else "Didn't find", mask, threshold,
                                    result, brightest))
    return result

"""The differs: how two frames are compared to find what changed (`BGRDiff`, the default of
`detect_motion`, `wait_for_motion` and `press_and_wait`, and `GrayscaleDiff`), and the
`MotionResult` they give."""

import cv2
import numpy

from ._geometry import Region
from ._imgutils import _frame_repr
from ._mask import load_mask

_UNSET = object()
_ELLIPSE3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


class MotionResult:
    """The result from `detect_motion` and `wait_for_motion`: truthy when there was motion.

    :ivar float time: when the frame was captured.
    :ivar bool motion: True if motion was found.
    :ivar Region region: the bounding box of the motion, or None.
    :ivar Frame frame: the frame in which motion was (or wasn't) found."""

    _fields = ("time", "motion", "region", "frame")

    def __init__(self, time, motion, region, frame):
        self.time, self.motion, self.region, self.frame = time, motion, region, frame

    def __bool__(self):
        return bool(self.motion)

    def __repr__(self):
        return "MotionResult(time=%s, motion=%r, region=%r, frame=%s)" % (
            "None" if self.time is None else "%.3f" % self.time, self.motion, self.region,
            _frame_repr(self.frame))


class Differ:
    """An algorithm that compares two frames to find the differences between them (see
    `BGRDiff` and `GrayscaleDiff`). Differs are immutable; their methods are internal."""

    def __init__(self, min_size=None, threshold=None, erode=True):
        self.min_size = min_size
        self.threshold = threshold
        if isinstance(erode, numpy.ndarray):
            self.kernel = erode
        else:
            self.kernel = _ELLIPSE3 if erode else None

    def replace(self, min_size=_UNSET, threshold=_UNSET, erode=_UNSET):
        """A new differ with the given parameters replaced."""
        return type(self)(self.min_size if min_size is _UNSET else min_size,
                          self.threshold if threshold is _UNSET else threshold,
                          self.kernel if erode is _UNSET else erode)

    def preprocess_mask(self, mask, frame_region):
        return load_mask(mask).to_array(frame_region)

    def preprocess(self, frame, mask):
        return frame

    def diff(self, a, b, mask):
        raise NotImplementedError("%s.diff is not implemented" % type(self).__name__)

    def _result(self, different, frame, box):
        """The MotionResult of a binary image of ``different`` pixels in region ``box``."""
        if self.kernel is not None:
            different = cv2.morphologyEx(different, cv2.MORPH_OPEN, self.kernel)
        x, y, w, h = cv2.boundingRect(different)
        region = Region(x + box.x, y + box.y, w, h) if w and h else None
        motion = bool(region and (self.min_size is None or (
            region.width >= self.min_size[0] and region.height >= self.min_size[1])))
        return MotionResult(getattr(frame, "time", None), motion, region, frame)


class BGRDiff(Differ):
    """Compares 2 frames by the euclidean distance in BGR colour space of each pair of pixels:
    distances below ``threshold`` (0-255, default 25) are ignored, then an "erode" removes
    differences only 1 pixel wide or high; any that remain are motion (with ``min_size``, only
    if their bounding box is at least ``(width, height)``)."""

    def __init__(self, min_size=None, threshold=25, erode=True):
        super().__init__(min_size, threshold, erode)

    def diff(self, a, b, mask):
        pixels, box = mask
        pa = a[box.y:box.bottom, box.x:box.right]
        pb = b[box.y:box.bottom, box.x:box.right]
        d = numpy.subtract(pa, pb, dtype=numpy.int32)
        sqd = (d * d).sum(axis=2)
        different = (sqd >= self.threshold * self.threshold * 3).astype(numpy.uint8)
        if pixels is not None:
            different &= (pixels[:, :, 0] > 0)
        return self._result(different, b, box)


class GrayscaleDiff(Differ):
    """Compares 2 frames by converting them to grayscale and ignoring absolute differences
    below ``(1 - threshold) * 255`` (``threshold`` 0-1, default 0.84); then as `BGRDiff`. The
    default before v34."""

    def __init__(self, min_size=None, threshold=0.84, erode=True):
        super().__init__(min_size, threshold, erode)

    def preprocess(self, frame, mask):
        _, box = mask
        return frame, cv2.cvtColor(numpy.ascontiguousarray(
            frame[box.y:box.bottom, box.x:box.right]), cv2.COLOR_BGR2GRAY)

    def diff(self, a, b, mask):
        pixels, box = mask
        diff = cv2.absdiff(a[1], b[1])
        if pixels is not None:
            diff = cv2.bitwise_and(diff, pixels[:, :, 0])
        _, different = cv2.threshold(diff, int((1 - self.threshold) * 255), 1,
                                     cv2.THRESH_BINARY)
        return self._result(different, b[0], box)

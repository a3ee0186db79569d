"""Masks: which pixels of a frame an image-processing function looks at (`load_mask`, `Mask`).

A mask is a `Region`, a black-and-white image the size of the frame (white: look, black:
ignore), or Regions and masks combined with ``+`` (union), ``-`` (difference) and ``~``
(inverse)."""

import functools

import cv2
import numpy

from ._geometry import Region
from ._imgutils import _image_region, find_file, load_image


def load_mask(mask):
    """A `Mask` from a filename of a mask PNG (found as `load_image` finds files), an image
    array, a `Region` or a `Mask`. TypeError for None (an empty region: use Region.ALL)."""
    if mask is None:
        raise TypeError("'mask=None' means an empty region. To analyse the entire frame use "
                        "'mask=Region.ALL' (which is the default)")
    return mask if isinstance(mask, Mask) else Mask(mask)


class Mask:
    """A mask (see `load_mask`). Immutable; equal masks hash alike."""

    def __init__(self, m, *, invert=False):
        self._kind, self._value, self._invert = None, None, bool(invert)
        if isinstance(m, Mask):
            self._kind, self._value, self._invert = m._kind, m._value, m._invert ^ self._invert
        elif isinstance(m, str):
            self._kind, self._value = "file", find_file(m)
        elif isinstance(m, numpy.ndarray):
            self._kind, self._value = "array", load_image(m, color_channels=(1, 3))
        elif isinstance(m, Region):
            self._kind, self._value = "region", m
        elif isinstance(m, tuple) and len(m) == 3 and m[0] in "+-":
            self._kind, self._value = "op", m
        elif m is None:  # Region.intersect's empty region
            self._kind, self._value, self._invert = "region", Region.ALL, not self._invert
        else:
            raise TypeError("Expected filename, Image, Mask, or Region. Got %r" % (m,))

    @staticmethod
    def from_alpha_channel(image):
        """The mask of an image's opaque pixels (all of it, if it has no alpha channel)."""
        image = load_image(image)
        if image.shape[2] == 4:
            return Mask(numpy.ascontiguousarray(image[:, :, 3]))
        return Mask(_image_region(image))

    def _key(self):
        if self._kind == "array":
            a = numpy.ascontiguousarray(self._value)
            return ("array", a.shape, a.tobytes(), self._invert)
        return (self._kind, self._value, self._invert)

    def __eq__(self, other):
        if isinstance(other, Region):
            other = Mask(other)
        return isinstance(other, Mask) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        prefix = "~" if self._invert else ""
        if self._kind == "file":
            from ._imgutils import _relative_filename  # noqa: PLC0415
            return "%sMask(%r)" % (prefix, _relative_filename(self._value))
        if self._kind == "array":
            name = getattr(self._value, "relative_filename", None)
            return "%sMask(%s)" % (prefix, repr(name) if name else "<Image>")
        if self._kind == "region":
            return prefix + repr(self._value)
        op, left, right = self._value
        r = repr(right)
        if "-" in r and r[0] not in "~(":
            r = "(%s)" % r
        s = "%r %s %s" % (left, op, r)
        return "%s(%s)" % (prefix, s) if prefix else s

    def __add__(self, other):
        if isinstance(other, (Region, Mask, type(None))):
            return Mask(("+", self, Mask(other)))
        return NotImplemented

    def __radd__(self, other):
        if isinstance(other, (Region, Mask, type(None))):
            return Mask(other) + self
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, (Region, Mask, type(None))):
            return Mask(("-", self, Mask(other)))
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, (Region, Mask, type(None))):
            return Mask(other) - self
        return NotImplemented

    def __invert__(self):
        return Mask(self, invert=True)

    def to_array(self, region, color_channels=1):
        """``(pixels, bounding_box)`` for a frame of size ``region`` (which must start at 0, 0):
        ``pixels`` the mask cropped to ``bounding_box`` (255 selected, 0 ignored; None when
        every pixel of the box is selected, as for a plain Region) and ``bounding_box`` the
        Region around the selected pixels. ValueError when no pixel is selected."""
        if region.x != 0 or region.y != 0:
            raise ValueError("%r must be a full-frame region starting at x=0, y=0" % (region,))
        if color_channels not in (1, 3):
            raise ValueError("Invalid color_channels=%r (expected 1 or 3)" % (color_channels,))
        return _to_array_cached(self, region, color_channels)


@functools.lru_cache(maxsize=16)
def _to_array_cached(mask, region, color_channels):
    if mask._kind == "region" and not mask._invert:
        array, box = None, Region.intersect(region, mask._value)
    else:
        array = _pixels(mask, region)
        box = _bounding_box(array)
    if box is None:
        raise ValueError("%r doesn't overlap with the frame's %r" % (mask, region))
    if array is not None:
        array = array[box.y:box.bottom, box.x:box.right]
        if numpy.all(array):
            array = None
        else:
            if color_channels == 3:
                array = cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
            else:
                array = array[:, :, numpy.newaxis] if array.ndim == 2 else array
            array.flags.writeable = False
    return array, box


def _pixels(mask, region):
    h, w = int(region.height), int(region.width)
    if mask._kind in ("file", "array"):
        img = load_image(mask._value, color_channels=(1,))
        if img.shape[:2] != (h, w):
            raise ValueError("%r: shape %r doesn't match required shape %r"
                             % (mask, img.shape, (h, w, 1)))
        a = numpy.where(numpy.asarray(img)[:, :, 0] > 0, 255, 0).astype(numpy.uint8)
    elif mask._kind == "op":
        op, left, right = mask._value
        a, b = _pixels(left, region), _pixels(right, region)
        a = a | b if op == "+" else a & ~b
    else:
        a = numpy.zeros((h, w), numpy.uint8)
        r = Region.intersect(region, mask._value)
        if r is not None:
            a[int(r.y):int(r.bottom), int(r.x):int(r.right)] = 255
    if mask._invert:
        a = ~a
    return a


def _bounding_box(a):
    x, y, w, h = cv2.boundingRect(a)
    return Region(x, y, w, h) if w and h else None

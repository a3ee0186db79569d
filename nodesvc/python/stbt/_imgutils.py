"""Frames and images: `Frame`, `Image`, `Color`, `load_image`, `save_frame`, `crop` and
`find_file` (with the lookup of files relative to the calling test file)."""

import errno
import inspect
import os
import re
import threading

import cv2
import numpy

from ._geometry import Region

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class Frame(numpy.ndarray):
    """A frame of video: a `numpy.ndarray` of 8-bit BGR pixels, ``(height, width, 3)``, with:

    :ivar float time: the wall-clock time the frame was captured (seconds since the epoch).
    :ivar int width: the frame's width in pixels.
    :ivar int height: its height.
    :ivar Region region: ``Region(0, 0, width, height)``.

    Slicing a Frame gives a Frame (with the same ``time``)."""

    def __new__(cls, array, dtype=None, order=None, time=None):
        obj = numpy.asarray(array, dtype=dtype, order=order).view(cls)
        obj.time = array.time if time is None and isinstance(array, Frame) else time
        return obj

    def __array_finalize__(self, obj):
        if obj is not None:
            t = getattr(obj, "time", None)
            self.time = None if t is None else float(t)

    def __reduce__(self):
        state = super().__reduce__()
        return state[0], state[1], (state[2], self.time)

    def __setstate__(self, state):
        super().__setstate__(state[0])
        self.time = state[1]

    def __repr__(self):
        return "<Frame(time=%s)>" % ("None" if self.time is None else "%.3f" % self.time)

    __str__ = __repr__

    width = property(lambda self: self.shape[1])
    height = property(lambda self: self.shape[0])
    region = property(lambda self: Region(0, 0, self.shape[1], self.shape[0]))


class Image(numpy.ndarray):
    """An image, possibly loaded from disk (`load_image`): a `numpy.ndarray` with

    :ivar filename: the filename given to `load_image` (or None).
    :ivar absolute_filename: the absolute path it resolved to (or None).
    :ivar relative_filename: that path relative to the test pack's root, when inside it."""

    def __new__(cls, array, dtype=None, order=None, filename=None, absolute_filename=None):
        obj = numpy.asarray(array, dtype=dtype, order=order).view(cls)
        was = isinstance(array, Image)
        obj.filename = filename or (array.filename if was else None)
        obj.absolute_filename = absolute_filename or (array.absolute_filename if was else None)
        obj.relative_filename = _relative_filename(obj.absolute_filename)
        return obj

    def __array_finalize__(self, obj):
        if obj is not None:
            for a in ("filename", "absolute_filename", "relative_filename"):
                setattr(self, a, getattr(obj, a, None))

    def __repr__(self):
        if self.ndim == 3:
            dims = "%dx%dx%d" % (self.shape[1], self.shape[0], self.shape[2])
        elif self.ndim == 2:
            dims = "%dx%d" % (self.shape[1], self.shape[0])
        else:
            return numpy.ndarray.__repr__(self)
        name = self.relative_filename
        if name is None or name.startswith("../"):
            name = self.absolute_filename
        return "<Image(filename=%r, dimensions=%s)>" % (name, dims)

    __str__ = __repr__

    width = property(lambda self: self.shape[1])
    height = property(lambda self: self.shape[0])
    region = property(lambda self: Region(0, 0, self.shape[1], self.shape[0]))


def _relative_filename(absolute):
    if absolute is None:
        return None
    import stbt  # noqa: PLC0415 - the package imports this module
    root = getattr(stbt, "TEST_PACK_ROOT", None)
    if root is None:
        return absolute
    rel = os.path.relpath(absolute, root)
    return absolute if rel.startswith("..") else rel


def _frame_repr(frame):
    if frame is None:
        return "None"
    if isinstance(frame, (Frame, Image)):
        return repr(frame)
    if frame.ndim == 3:
        return "<%dx%dx%d>" % (frame.shape[1], frame.shape[0], frame.shape[2])
    return "<%dx%d>" % (frame.shape[1], frame.shape[0])


class Color:
    """A BGR color, optionally with an alpha value: ``Color('#f77f00')``, ``Color('#f77f00ff')``,
    ``Color(0, 127, 247)`` (blue, green, red: OpenCV's order), ``Color(blue=0, green=127,
    red=247)``, ``Color((0, 127, 247))`` or another Color. APIs that take a Color take any of
    these forms too."""

    def __init__(self, *args, hexstring=None, blue=None, green=None, red=None, alpha=None,
                 bgr=None, bgra=None):
        if len(args) == 1 and isinstance(args[0], Color):
            values = list(args[0].array.ravel())
        elif len(args) == 1 and isinstance(args[0], str):
            values = _parse_hex(args[0])
        elif not args and hexstring is not None:
            values = _parse_hex(hexstring)
        elif len(args) == 1 and isinstance(args[0], (list, tuple, numpy.ndarray)) \
                and len(args[0]) in (3, 4):
            values = list(args[0])
        elif len(args) in (3, 4):
            values = list(args)
        elif not args and (bgr is not None or bgra is not None):
            values = list(bgr if bgr is not None else bgra)
        elif not args and None not in (blue, green, red):
            values = [blue, green, red] + ([] if alpha is None else [alpha])
        else:
            raise TypeError("Color: __init__() expected a Color, '#rrggbb' string, or 3 "
                            "integers in Blue-Green-Red order.")
        out = []
        for v in values:
            v = int(v, 16) if isinstance(v, str) else int(v)
            if not 0 <= v <= 255:
                raise ValueError("Color: __init__ expected a value between 0 and 255: Got %d" % v)
            out.append(v)
        self.array = numpy.array(out, dtype=numpy.uint8).reshape((1, 1, len(out)))
        self.array.flags.writeable = False
        self.hexstring = "#%02x%02x%02x" % (out[2], out[1], out[0]) + \
            ("%02x" % out[3] if len(out) == 4 else "")

    def __repr__(self):
        return "Color('%s')" % self.hexstring

    def __eq__(self, other):
        return isinstance(other, Color) and self.hexstring == other.hexstring

    def __hash__(self):
        return hash(self.hexstring)


def _parse_hex(s):
    m = re.match(r"^#?([0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$", s)
    if not m:
        raise ValueError("Invalid color string. Expected hexadecimal digits in the format "
                         "'#rrggbb'; got %r" % (s,))
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    rgb = [h[i:i + 2] for i in range(0, len(h), 2)]
    return [rgb[2], rgb[1], rgb[0]] + rgb[3:]


def _image_region(image):
    return Region(0, 0, image.shape[1], image.shape[0])


def _validate_region(frame, region):
    """The part of ``region`` inside the frame; TypeError for None, ValueError when none is."""
    if region is None:
        raise TypeError("'region=None' means an empty region. To analyse the entire frame use "
                        "'region=Region.ALL' (which is the default)")
    r = Region.intersect(_image_region(frame), region)
    if r is None:
        raise ValueError("%r doesn't overlap with the frame dimensions %ix%i"
                         % (region, frame.shape[1], frame.shape[0]))
    return Region(int(r.x), int(r.y), right=int(r.right), bottom=int(r.bottom))


def crop(frame, region):
    """The part of ``frame`` (any OpenCV image) inside ``region``: a view onto the same pixels
    (call ``copy()`` before changing them). A region partly outside the frame is clipped to it;
    ValueError if it is entirely outside."""
    r = _validate_region(frame, region)
    return frame[r.y:r.bottom, r.x:r.right]


def save_frame(image, filename):
    """Save an OpenCV image (a frame, a screenshot of an exception, ...) to ``filename``."""
    if not cv2.imwrite(filename, numpy.asarray(image)):
        raise IOError("could not write %s" % filename)


def _caller_frames():
    """Python stack frames from the caller of the public API outwards, skipping this package."""
    f = inspect.currentframe()
    try:
        f = f.f_back
        while f is not None:
            path = os.path.abspath(f.f_code.co_filename)
            if os.path.dirname(path) != _PACKAGE_DIR:
                yield os.path.dirname(path)
            f = f.f_back
    finally:
        del f


def find_file(filename):
    """The absolute path of ``filename``: as given if absolute; otherwise searched in the
    directory of the Python file that called the stbt API, then of that file's caller and so on
    up the stack, then at the root of the test pack, then in the current working directory
    (files saved earlier in the same test run).

    :raises: `FileNotFoundError` if it is in none of them."""
    if os.path.isabs(filename):
        if os.path.isfile(filename):
            return filename
    else:
        seen = set()
        import stbt  # noqa: PLC0415
        dirs = list(_caller_frames())
        root = getattr(stbt, "TEST_PACK_ROOT", None)
        if root:
            dirs.append(root)
        for d in dirs:
            if d in seen:
                continue
            seen.add(d)
            path = os.path.join(d, filename)
            if os.path.isfile(path):
                return path
        if os.path.isfile(filename):
            return os.path.abspath(filename)
    raise FileNotFoundError(errno.ENOENT, "No such file", filename)


_cache_lock = threading.Lock()
_cache = {}  # (absolute filename, mtime, size, channels) -> Image, the last few


def load_image(filename, flags=None, color_channels=None):
    """Find (see `find_file`) and read an image, or normalise an image given as an array.

    :param filename: a relative or absolute filename, or a `numpy.ndarray` / `Image`.
    :param flags: deprecated ``cv2.imread`` flags (IMREAD_GRAYSCALE, IMREAD_COLOR or
        IMREAD_UNCHANGED); use ``color_channels``.
    :param color_channels: the acceptable numbers of channels (1 gray, 3 BGR, 4 BGRA), an int
        or a tuple; default ``(3, 4)``. Other images are converted. A fully opaque alpha channel
        is dropped when 3 is acceptable; alpha values below 255 become 0 (transparent).
    :rtype: Image (read-only)
    :raises: `IOError` (FileNotFoundError) if the file is missing or not an image."""
    if flags is not None:
        if color_channels is not None:
            raise ValueError("flags cannot be specified at the same time as color_channels")
        color_channels = {cv2.IMREAD_GRAYSCALE: (1,), cv2.IMREAD_COLOR: (3,),
                          cv2.IMREAD_UNCHANGED: (1, 3, 4)}.get(flags)
        if color_channels is None:
            raise ValueError("Unsupported imread flags %s" % flags)
    if color_channels is None:
        color_channels = (3, 4)
    elif isinstance(color_channels, int):
        color_channels = (color_channels,)
    color_channels = tuple(color_channels)

    if isinstance(filename, Image):
        img = _convert_color(filename, color_channels, filename.absolute_filename)
        name, absolute = filename.filename, filename.absolute_filename
    elif isinstance(filename, numpy.ndarray):
        img = _normalise_alpha(_convert_color(filename, color_channels, None))
        name = absolute = None
    elif isinstance(filename, str):
        absolute = find_file(filename)
        name = filename
        img = _read(absolute, color_channels)
    else:
        raise TypeError("load_image requires a filename or an image, not %r"
                        % (type(filename).__name__,))
    if not isinstance(img, Image) or img.filename != name:
        img = Image(img, filename=name, absolute_filename=absolute)
    img.flags.writeable = False  # this view only: a caller's own array stays writeable
    return img


def _read(absolute, color_channels):
    st = os.stat(absolute)
    key = (absolute, st.st_mtime_ns, st.st_size, color_channels)
    with _cache_lock:
        img = _cache.get(key)
    if img is not None:
        return img
    flags = {(3,): cv2.IMREAD_COLOR, (1,): cv2.IMREAD_GRAYSCALE}
    flag = flags.get(color_channels, cv2.IMREAD_UNCHANGED)
    raw = cv2.imread(absolute, flag)
    if raw is None:
        raise IOError("Failed to load image: %s" % absolute)
    img = _normalise_alpha(_convert_color(raw, color_channels, absolute))
    img = Image(img, absolute_filename=absolute)
    img.flags.writeable = False
    with _cache_lock:
        if len(_cache) >= 16:
            _cache.pop(next(iter(_cache)))
        _cache[key] = img
    return img


def _normalise_alpha(img):
    if img.shape[2] == 4 and numpy.any((img[:, :, 3] > 0) & (img[:, :, 3] < 255)):
        img = numpy.array(img)
        alpha = img[:, :, 3]
        alpha[alpha < 255] = 0
    return img


def _convert_color(img, color_channels, absolute):
    if img.ndim not in (2, 3):
        raise ValueError("Invalid shape for image: %r. Shape must have 2 or 3 elements"
                         % (img.shape,))
    if img.dtype == numpy.uint16:
        img = cv2.convertScaleAbs(img, alpha=1.0 / 256)
    elif img.dtype != numpy.uint8:
        raise ValueError("Image %s must be 8-bits per channel (got %s)"
                         % (absolute or "<Image>", img.dtype))
    if img.ndim == 2:
        img = img.reshape(img.shape + (1,))
    c = img.shape[2]
    if c in color_channels:
        if c == 4 and 3 in color_channels and numpy.all(img[:, :, 3] == 255):
            img = img[:, :, :3]
        return img
    opaque = None
    if 4 in color_channels and c in (1, 3):
        opaque = numpy.full(img.shape[:2] + (1,), 255, numpy.uint8)
    if c == 1:
        bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        if 3 in color_channels:
            return bgr
        if opaque is not None:
            return numpy.concatenate((bgr, opaque), axis=2)
    elif c == 3:
        if opaque is not None:
            return numpy.concatenate((img, opaque), axis=2)
        if 1 in color_channels:
            return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[:, :, numpy.newaxis]
    elif c == 4:
        if 3 in color_channels:
            return numpy.ascontiguousarray(img[:, :, :3])
        if 1 in color_channels:
            return cv2.cvtColor(numpy.ascontiguousarray(img[:, :, :3]),
                                cv2.COLOR_BGR2GRAY)[:, :, numpy.newaxis]
    raise ValueError("load_image can only handle images with 1, 3 or 4 color channels. %s "
                     "has %i channels" % (absolute or "<Image>", c))

"""The C fast path (nodesvc/python/native, built by the project's CMake into this directory as
_libstbt_native.so) through ctypes. `available()` says whether it loaded; without it the
callers use their numpy/OpenCV code."""

import ctypes
import os

import numpy

_PATH = os.environ.get("STBT_NATIVE_LIB") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "_libstbt_native.so")
_lib = None
_tried = False


def _load():
    global _lib, _tried
    if not _tried:
        _tried = True
        try:
            lib = ctypes.CDLL(_PATH)
        except OSError:
            return None
        f = lib.stbt_sqdiff_search
        f.restype = ctypes.c_int
        f.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_ssize_t,
                      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int64, ctypes.c_void_p, ctypes.c_int,
                      ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int32),
                      ctypes.POINTER(ctypes.c_int64)]
        _lib = lib
    return _lib


def available():
    return _load() is not None


def sqdiff_search(frame, template, mask, limit, exclusions=()):
    """See stbt_sqdiff_search in stbt_native.h: ``(found, x, y, ssd)`` for a BGR ``frame``
    (rows may be strided, pixels contiguous), a contiguous BGR ``template``, an optional
    contiguous uint8 ``mask`` (nonzero opaque) and exclusion rectangles ``(x0, y0, x1, y1)``."""
    lib = _load()
    if frame.strides[2] != 1 or frame.strides[1] != 3:
        frame = numpy.ascontiguousarray(frame)
    template = numpy.ascontiguousarray(template)
    if mask is not None:
        mask = numpy.ascontiguousarray(mask, dtype=numpy.uint8)
    excl = numpy.ascontiguousarray(numpy.array(exclusions, dtype=numpy.int32).reshape(-1, 4))
    x, y, s = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int64()
    rc = lib.stbt_sqdiff_search(
        frame.ctypes.data, frame.shape[1], frame.shape[0], frame.strides[0],
        template.ctypes.data, None if mask is None else mask.ctypes.data,
        template.shape[1], template.shape[0], int(limit),
        excl.ctypes.data if len(excl) else None, len(excl),
        ctypes.byref(x), ctypes.byref(y), ctypes.byref(s))
    if rc < 0:
        raise MemoryError("stbt_sqdiff_search failed")
    return bool(rc), x.value, y.value, s.value

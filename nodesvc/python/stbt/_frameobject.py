"""`FrameObject`: the base class of Page Objects, and `for_object_repository`.

A FrameObject describes one frame: its public properties are computed from ``self._frame``
once each (cached), are None when the object isn't visible, and make its equality, hash and
repr."""

import functools
import threading


def for_object_repository(cls=None):
    """Mark a class or function for the Object Repository (stbfarm has none: a no-op)."""
    if cls is None:
        return lambda c: c
    return cls


def _cached(name, fget, public):
    @functools.wraps(fget)
    def get(self):
        cache = self._FrameObject__cache
        if name in cache:
            return cache[name]
        if public and not self._FrameObject__in_is_visible() and not self.is_visible:
            return None
        if name in cache:  # is_visible read it
            return cache[name]
        value = fget(self)
        if name == "is_visible":
            value = bool(value)
        cache[name] = value
        return value
    return get


def _visible_guard(fget):
    """is_visible itself: properties it reads must not ask is_visible again."""
    @functools.wraps(fget)
    def get(self):
        local = self._FrameObject__local
        local.depth = getattr(local, "depth", 0) + 1
        try:
            return fget(self)
        finally:
            local.depth -= 1
    return get


class _FrameObjectMeta(type):
    def __new__(mcs, name, bases, ns):
        for k, v in list(ns.items()):
            if isinstance(v, property):
                if v.fset is not None or v.fdel is not None:
                    raise TypeError("FrameObjects must be immutable but property %r has a "
                                    "setter" % k)
                fget = _visible_guard(v.fget) if k == "is_visible" else v.fget
                ns[k] = property(_cached(k, fget, not k.startswith("_") and k != "is_visible"),
                                 doc=v.__doc__)
        cls = super().__new__(mcs, name, bases, ns)
        props = sorted(p for p in dir(cls) if isinstance(getattr(cls, p, None), property) and
                       not p.startswith("_") and p != "is_visible")
        cls._fields = ("is_visible",) + tuple(props)
        return cls


class FrameObject(metaclass=_FrameObjectMeta):
    """Base class for user-defined Page Objects.

    Define an ``is_visible`` property and any other properties, each reading the frame with
    ``frame=self._frame`` given to stbt's image processing. Then instances are truthy when
    visible; every other public property is None when not visible; each property is computed
    once; two instances of a class are equal (and hash alike) when their public properties are
    (all invisible ones are equal); the repr lists them."""

    def __init__(self, frame=None):
        """``frame``: the frame to describe (default: a new one from the device under test)."""
        if frame is None:
            from ._frames import get_frame  # noqa: PLC0415
            frame = get_frame()
        self.__cache = {}
        self.__local = threading.local()
        self._frame = frame

    def __in_is_visible(self):
        return getattr(self.__local, "depth", 0) > 0

    def _iter_fields(self):
        if self:
            for name in self._fields:
                yield name, getattr(self, name)
        else:
            yield "is_visible", False

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__,
                           ", ".join("%s=%r" % kv for kv in self._iter_fields()))

    def __bool__(self):
        return bool(self.is_visible)

    def __eq__(self, other):
        if not isinstance(other, type(self)):
            return NotImplemented
        return list(self._iter_fields()) == list(other._iter_fields())

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(tuple(v for _, v in self._iter_fields()))

    @property
    def is_visible(self):
        raise NotImplementedError("Objects deriving from FrameObject must define an is_visible "
                                  "property")

    def refresh(self, frame=None, **kwargs):
        """A new instance of this class for ``frame`` (default: a new frame); ``kwargs`` go to
        the constructor. ``self`` is not changed."""
        return type(self)(frame=frame, **kwargs)

"""Geometry of the video frame: `Position`, `Size`, `Direction` and `Region`.

A `Region` is an immutable ``(x, y, right, bottom)`` tuple: ``x`` and ``y`` inclusive, ``right``
and ``bottom`` exclusive, any of them possibly infinite. ``Region.ALL`` is the whole plane."""

import enum
import numbers
from typing import NamedTuple, Optional

INF = float("inf")


class Position(NamedTuple):
    """A point with ``x`` and ``y`` coordinates."""
    x: float
    y: float


class Size(NamedTuple):
    """Size of a rectangle with ``width`` and ``height``."""
    width: float
    height: float


class Direction(enum.Enum):
    #: Process the image from left to right
    HORIZONTAL = "horizontal"
    #: Process the image from top to bottom
    VERTICAL = "vertical"

    def __repr__(self):
        return str(self)


class _RegionClassMethods(type):
    """`Region.intersect` and `Region.bounding_box` live on the metaclass so that they are
    class methods only: ``a.intersect(b)`` on an instance would read as something else."""

    def intersect(cls, *regions):
        """The intersection of the regions, or None when it is empty. None (an empty region)
        may be any argument; no argument at all is ``Region.ALL``."""
        if not regions:
            return cls.ALL
        x, y, right, bottom = -INF, -INF, INF, INF
        for r in regions:
            if r is None:
                return None
            x, y = max(x, r.x), max(y, r.y)
            right, bottom = min(right, r.right), min(bottom, r.bottom)
            if right <= x or bottom <= y:
                return None
        return cls.from_extents(x, y, right, bottom)

    def bounding_box(cls, *regions):
        """The smallest region that contains all the given regions (None ones ignored), or
        None when there are none."""
        regions = [r for r in regions if r is not None]
        if not regions:
            return None
        return cls.from_extents(min(r.x for r in regions), min(r.y for r in regions),
                                max(r.right for r in regions), max(r.bottom for r in regions))


class Region(tuple, metaclass=_RegionClassMethods):
    """``Region(x, y, width=width, height=height)`` or ``Region(x, y, right=right,
    bottom=bottom)``: a rectangular region within the video frame.

    Raises ValueError unless exactly one of ``width``/``right`` and one of ``height``/``bottom``
    is given, and the region is not empty."""

    __slots__ = ()
    _fields = ("x", "y", "right", "bottom")

    def __new__(cls, x, y, width=None, height=None, right=None, bottom=None):
        if (width is None) == (right is None):
            raise ValueError("You must specify either 'width' or 'right'")
        if (height is None) == (bottom is None):
            raise ValueError("You must specify either 'height' or 'bottom'")
        if right is None:
            right = x + width
        if bottom is None:
            bottom = y + height
        if right <= x:
            raise ValueError("'right' (%r) must be greater than 'x' (%r)" % (right, x))
        if bottom <= y:
            raise ValueError("'bottom' (%r) must be greater than 'y' (%r)" % (bottom, y))
        return tuple.__new__(cls, (x, y, right, bottom))

    def __getnewargs__(self):
        return (self[0], self[1], None, None, self[2], self[3])

    x = property(lambda self: self[0], doc="left edge (inclusive)")
    y = property(lambda self: self[1], doc="top edge (inclusive)")
    right = property(lambda self: self[2], doc="right edge (exclusive)")
    bottom = property(lambda self: self[3], doc="bottom edge (exclusive)")

    @property
    def width(self):
        return self[2] - self[0]

    @property
    def height(self):
        return self[3] - self[1]

    @property
    def center(self):
        """The `Position` of the region's center (rounded down)."""
        return Position((self.x + self.right) // 2, (self.y + self.bottom) // 2)

    def __repr__(self):
        if self == Region.ALL:
            return "Region.ALL"
        return "Region(x=%r, y=%r, right=%r, bottom=%r)" % tuple(self)

    __str__ = __repr__

    def _replace(self, **kwargs):
        return Region.from_extents(*(kwargs.get(f, v) for f, v in zip(self._fields, self)))

    def _asdict(self):
        return dict(zip(self._fields, self))

    @staticmethod
    def from_extents(x, y, right, bottom):
        """A Region from its extents rather than its width and height."""
        return Region(x, y, right=right, bottom=bottom)

    def to_slice(self):
        """A 2-dimensional slice ``(rows, columns)`` suitable for indexing a `stbt.Frame`."""
        return (slice(max(0, self.y), max(0, self.bottom)),
                slice(max(0, self.x), max(0, self.right)))

    def contains(self, other):
        """True if ``other`` (a `Region` or `Position`) is entirely inside this region; False
        for None."""
        if other is None:
            return False
        if isinstance(other, Region) or all(hasattr(other, a)
                                            for a in ("x", "y", "right", "bottom")):
            return (self.x <= other.x and other.right <= self.right and
                    self.y <= other.y and other.bottom <= self.bottom)
        if hasattr(other, "x") and hasattr(other, "y"):
            return self.x <= other.x < self.right and self.y <= other.y < self.bottom
        raise TypeError("Region.contains expects a Region, Position, or None. Got %r"
                        % (other,))

    def translate(self, x=None, y=None):
        """This region moved by ``x`` and ``y`` (or by a single `Region`'s or `Position`'s x and
        y); its size is unchanged."""
        if x is not None and not isinstance(x, numbers.Real):
            if y is not None:
                raise TypeError("translate() takes either a single Region argument or two "
                                "ints (both given)")
            x, y = x[0], x[1]
        dx, dy = x or 0, y or 0
        return Region.from_extents(self.x + dx, self.y + dy, self.right + dx, self.bottom + dy)

    def extend(self, x=0, y=0, right=0, bottom=0):
        """This region with each edge moved by the given amount."""
        return Region.from_extents(self.x + x, self.y + y, self.right + right,
                                   self.bottom + bottom)

    def replace(self, x=None, y=None, width=None, height=None, right=None, bottom=None):
        """This region with the given edges set to absolute coordinates: two of ``x``,
        ``width`` and ``right`` at most (and of ``y``, ``height``, ``bottom``); the other edge
        of each pair stays where it is."""
        x, right = _replace_span("x", "width", "right", x, width, right, self.x, self.right)
        y, bottom = _replace_span("y", "height", "bottom", y, height, bottom, self.y,
                                  self.bottom)
        return Region(x, y, right=right, bottom=bottom)

    def dilate(self, n):
        """Expand the region by n px in all directions."""
        return self.extend(-n, -n, n, n)

    def erode(self, n):
        """Shrink the region by n px in all directions; None when nothing is left."""
        if self.width > 2 * n and self.height > 2 * n:
            return self.dilate(-n)
        return None

    def above(self, height=INF):
        """The region above this one, up to the top of the frame (or ``height`` tall)."""
        return self.replace(y=self.y - height, bottom=self.y)

    def below(self, height=INF):
        """The region below this one, down to the bottom of the frame (or ``height`` tall)."""
        return self.replace(y=self.bottom, bottom=self.bottom + height)

    def right_of(self, width=INF):
        """The region right of this one, to the right edge of the frame (or ``width`` wide)."""
        return self.replace(x=self.right, right=self.right + width)

    def left_of(self, width=INF):
        """The region left of this one, to the left edge of the frame (or ``width`` wide)."""
        return self.replace(x=self.x - width, right=self.x)

    # Regions added, subtracted or inverted are masks (see `stbt.load_mask`).
    def __add__(self, other):
        from ._mask import Mask  # noqa: PLC0415 - _mask imports this module
        return Mask(self) + other

    def __radd__(self, other):
        from ._mask import Mask  # noqa: PLC0415
        return Mask(other) + self

    def __sub__(self, other):
        from ._mask import Mask  # noqa: PLC0415
        return Mask(self) - other

    def __rsub__(self, other):
        from ._mask import Mask  # noqa: PLC0415
        return Mask(other) - self

    def __invert__(self):
        from ._mask import Mask  # noqa: PLC0415
        return ~Mask(self)


def _replace_span(nx, nw, nr, x, width, right, old_x, old_right):
    given = [v is not None for v in (x, width, right)]
    if all(given):
        raise ValueError("Region.replace: Argument conflict: you may only specify two of "
                         "%s, %s and %s.  You specified %s=%s, %s=%s and %s=%s"
                         % (nx, nw, nr, nx, x, nw, width, nr, right))
    if x is None:
        x = right - width if width is not None and right is not None else old_x
    if right is None:
        right = x + width if width is not None else old_right
    return x, right


Region.ALL = Region(-INF, -INF, right=INF, bottom=INF)


def as_region(r: Optional[Region]):
    """A Region from a Region or any 4-tuple of extents (the Object Repository's form)."""
    if r is None or isinstance(r, Region):
        return r
    return Region.from_extents(*r)

"""`Grid`: items of the same size laid out left to right, then down, and the conversion between
pixel coordinates and grid positions."""

from typing import NamedTuple

from ._geometry import Position, Region


class Grid:
    """A grid of ``cols`` x ``rows`` cells within ``region`` (or sized by ``data``, a list of
    rows of per-cell data)."""

    class Cell(NamedTuple):
        """A single cell of a `Grid`: its 1D ``index`` (row-major from 0), 2D ``position``
        (x, y), pixel ``region`` and ``data``."""
        index: int
        position: Position
        region: Region
        data: object

    def __init__(self, region, cols=None, rows=None, data=None):
        if (rows is None or cols is None) and data is None:
            raise ValueError("Either `cols` and `rows`, or `data` must be specified")
        self.region = region
        self.data = data
        self.rows = len(data) if rows is None else rows
        self.cols = len(data[0]) if cols is None else cols

    def __repr__(self):
        s = "Grid(region=%r, cols=%r, rows=%r)" % (self.region, self.cols, self.rows)
        return "<%s>" % s if self.data else s

    @property
    def area(self):
        return self.cols * self.rows

    @property
    def cells(self):
        return [self.get(index=i) for i in range(self.area)]

    def __len__(self):
        return self.area

    def __iter__(self):
        for i in range(self.area):
            yield self.get(index=i)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.get(index=key)
        if isinstance(key, Region):
            return self.get(region=key)
        if isinstance(key, tuple) and len(key) == 2 and all(isinstance(v, int) for v in key):
            return self.get(position=key)
        return self.get(data=key)

    def get(self, index=None, position=None, region=None, data=None):
        """The `Grid.Cell` given exactly one of ``index`` (negative counts from the end),
        ``position``, ``region`` (the cell containing its center) or ``data``.

        :raises: IndexError if out of bounds or the data is not found."""
        if sum(v is not None for v in (index, position, region, data)) != 1:
            raise ValueError("Exactly one of index, position, region, or data must be "
                             "specified")
        if index is not None:
            position = self._index_to_position(index)
        elif region is not None:
            position = self._region_to_position(region)
        elif data is not None:
            if self.data is None:
                raise IndexError("Searching by data %r but this Grid doesn't have any data "
                                 "associated" % (data,))
            for i in range(self.area):
                p = self._index_to_position(i)
                if self.data[p.y][p.x] == data:
                    position = p
                    break
            else:
                raise IndexError("data %r not found" % (data,))
        position = Position(*position)
        if not (0 <= position.x < self.cols and 0 <= position.y < self.rows):
            raise IndexError("Index out of range: position %r in %r" % (position, self))
        return Grid.Cell(position.x + position.y * self.cols, position,
                         None if self.region is None else self._cell_region(position),
                         self.data[position.y][position.x] if self.data else None)

    def _index_to_position(self, index):
        if not -self.area <= index < self.area:
            raise IndexError("Index out of range: index %r in %r" % (index, self))
        index %= self.area
        return Position(index % self.cols, index // self.cols)

    def _region_to_position(self, region):
        r = self.region
        cx = (region.x + region.right) / 2 - r.x
        cy = (region.y + region.bottom) / 2 - r.y
        x, y = int(cx * self.cols // r.width), int(cy * self.rows // r.height)
        if not (0 <= x < self.cols and 0 <= y < self.rows):
            raise IndexError("The centre of region %r is outside the grid area %r"
                             % (region, self.region))
        return Position(x, y)

    def _cell_region(self, p):
        r = self.region
        return Region.from_extents(r.x + r.width * p.x // self.cols,
                                   r.y + r.height * p.y // self.rows,
                                   r.x + r.width * (p.x + 1) // self.cols,
                                   r.y + r.height * (p.y + 1) // self.rows)

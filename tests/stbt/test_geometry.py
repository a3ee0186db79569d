"""Region, Position, Size, Direction: construction, the documented examples, and the laws of
intersect and bounding_box on many random regions."""

import itertools
import pickle

import pytest

import stbt
from stbt import Region

INF = float("inf")


def test_region_takes_width_and_height_or_right_and_bottom():
    r = Region(10, 20, width=20, height=40)
    assert r == Region(10, 20, right=30, bottom=60) == Region(10, 20, 20, 40)
    assert (r.x, r.y, r.right, r.bottom, r.width, r.height) == (10, 20, 30, 60, 20, 40)
    assert Region(1, 2, width=3, bottom=9) == Region(1, 2, right=4, height=7)
    assert tuple(r) == (10, 20, 30, 60) and r == (10, 20, 30, 60)


@pytest.mark.parametrize("kwargs", [
    dict(width=1), dict(height=1), dict(width=1, right=2, height=1), dict(),
    dict(width=1, height=1, bottom=2), dict(width=0, height=1), dict(right=0, height=1),
    dict(width=1, height=-1),
])
def test_region_rejects_a_bad_or_empty_specification(kwargs):
    with pytest.raises(ValueError):
        Region(0, 0, **kwargs)


def test_region_is_an_immutable_hashable_tuple():
    r = Region(1, 2, 3, 4)
    with pytest.raises(AttributeError):
        r.x = 5
    assert {r: 1}[Region(1, 2, right=4, bottom=6)] == 1
    assert pickle.loads(pickle.dumps(r)) == r
    assert r._replace(x=0) == Region(0, 2, right=4, bottom=6)
    assert r._asdict() == {"x": 1, "y": 2, "right": 4, "bottom": 6}


def test_region_reprs():
    assert repr(Region(10, 4, width=3, height=2)) == "Region(x=10, y=4, right=13, bottom=6)"
    assert repr(Region.ALL) == str(Region.ALL) == "Region.ALL"
    assert Region.ALL.width == INF and Region.ALL.x == -INF


def test_region_documented_examples():
    a = Region(0, 0, width=8, height=8)
    b = Region(4, 4, right=13, bottom=10)
    c = Region(10, 4, width=3, height=2)
    assert b.center == stbt.Position(x=8, y=7)
    assert (b.contains(c), a.contains(b), c.contains(b), c.contains(None)) == (
        True, False, False, False)
    assert (b.contains(c.center), a.contains(b.center)) == (True, False)
    assert b.extend(x=6, bottom=-4) == c
    assert a.extend(right=5).contains(c)
    assert (a.width, a.extend(x=3).width, a.extend(right=-3).width) == (8, 5, 5)
    assert c.replace(bottom=10) == Region(x=10, y=4, right=13, bottom=10)
    assert Region.intersect(a, b) == Region(x=4, y=4, right=8, bottom=8)
    assert Region.intersect(a, c) is None and Region.intersect(None, a) is None
    assert Region.intersect(a) == a and Region.intersect() == Region.ALL
    quadrant = Region(x=-INF, y=-INF, right=0, bottom=0)
    assert quadrant.translate(2, 2) == Region(x=-INF, y=-INF, right=2, bottom=2)
    assert c.translate(x=-9, y=-3) == Region(x=1, y=1, right=4, bottom=3)
    assert Region(2, 3, 2, 1).translate(b) == Region(x=6, y=7, right=8, bottom=8)
    assert Region(2, 3, 2, 1).translate(stbt.Position(1, 1)) == Region(3, 4, 2, 1)
    with pytest.raises(TypeError):
        c.translate(b, 1)
    assert c.above() == Region(x=10, y=-INF, right=13, bottom=4)
    assert c.below() == Region(x=10, y=6, right=13, bottom=INF)
    assert a.right_of() == Region(x=8, y=0, right=INF, bottom=8)
    assert a.right_of(width=2) == Region(x=8, y=0, right=10, bottom=8)
    assert c.left_of() == Region(x=-INF, y=4, right=10, bottom=6)
    assert c.above(height=1) == Region(10, 3, right=13, bottom=4)
    assert Region(20, 30, right=30, bottom=50).dilate(3) == Region(17, 27, right=33, bottom=53)
    assert Region(20, 30, right=30, bottom=50).erode(3) == Region(23, 33, right=27, bottom=47)
    assert Region(20, 30, 10, 20).erode(5) is None
    assert Region.from_extents(4, 4, 13, 10) == Region(x=4, y=4, right=13, bottom=10)
    with pytest.raises(ValueError):
        c.replace(x=1, width=2, right=3)
    with pytest.raises(TypeError):
        c.contains("c")


def test_bounding_box_documented_examples():
    a = Region(50, 20, right=60, bottom=40)
    b = Region(20, 30, right=30, bottom=50)
    c = Region(55, 25, right=70, bottom=35)
    assert Region.bounding_box(a, b) == Region(x=20, y=20, right=60, bottom=50)
    assert Region.bounding_box(b, b) == Region.bounding_box(None, b) == b
    assert Region.bounding_box(b, None) == Region.bounding_box(b) == b
    assert Region.bounding_box(b, Region.ALL) == Region.ALL
    assert Region.bounding_box(None, None) is None and Region.bounding_box() is None
    assert Region.bounding_box(a, b, c) == Region.bounding_box(a, Region.bounding_box(b, c))


def test_intersect_and_bounding_box_are_class_methods_only():
    with pytest.raises(AttributeError):
        Region(0, 0, 1, 1).intersect(Region(0, 0, 1, 1))


def random_regions(rng, n):
    out = [None, Region.ALL]
    for _ in range(n):
        x, y = (int(v) for v in rng.integers(-20, 20, 2))
        w, h = (int(v) for v in rng.integers(1, 25, 2))
        out.append(Region(x, y, w, h))
    return out


def test_intersect_is_commutative_associative_and_idempotent(rng):
    regions = random_regions(rng, 14)
    for a, b in itertools.product(regions, repeat=2):
        assert Region.intersect(a, b) == Region.intersect(b, a)
        assert Region.intersect(a, a) == a
        assert Region.intersect(a, Region.ALL) == a
        assert Region.intersect(a, None) is None
    for a, b, c in itertools.product(regions[:9], repeat=3):
        assert Region.intersect(Region.intersect(a, b), c) == \
            Region.intersect(a, Region.intersect(b, c)) == Region.intersect(a, b, c)


def test_bounding_box_laws(rng):
    regions = random_regions(rng, 14)
    for a, b in itertools.product(regions, repeat=2):
        bb = Region.bounding_box(a, b)
        assert bb == Region.bounding_box(b, a)
        if a is not None:
            assert bb.contains(a)
            assert Region.intersect(a, bb) == a
    for a, b, c in itertools.product(regions[:9], repeat=3):
        assert Region.bounding_box(Region.bounding_box(a, b), c) == \
            Region.bounding_box(a, Region.bounding_box(b, c))


def test_contains_intersection_and_translation_laws(rng):
    regions = random_regions(rng, 30)[2:]
    for a, b in itertools.product(regions, repeat=2):
        i = Region.intersect(a, b)
        if i is not None:
            assert a.contains(i) and b.contains(i)
        assert a.contains(b) == (Region.intersect(a, b) == b)
        t = a.translate(3, -2)
        assert (t.width, t.height) == (a.width, a.height)
        assert t.translate(-3, 2) == a
        assert a.dilate(2).erode(2) == a
        assert a.replace(x=a.x) == a
        assert a.contains(a.center)


def test_to_slice_indexes_a_frame():
    import numpy
    f = stbt.Frame(numpy.arange(100 * 3, dtype=numpy.uint8).reshape(10, 10, 3))
    assert (f[Region(2, 3, 4, 5).to_slice()] == f[3:8, 2:6]).all()
    assert Region.ALL.to_slice() == (slice(0, float("inf")), slice(0, float("inf")))
    assert Region(-5, -5, 7, 7).to_slice() == (slice(0, 2), slice(0, 2))


def test_position_size_direction():
    assert stbt.Position(1, 2).x == 1 and stbt.Position(1, 2) == (1, 2)
    assert stbt.Size(3, 4).height == 4
    assert stbt.Direction("horizontal") is stbt.Direction.HORIZONTAL
    assert repr(stbt.Direction.VERTICAL) == "Direction.VERTICAL"

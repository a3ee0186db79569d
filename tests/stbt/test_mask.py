"""Masks: load_mask, Region arithmetic, to_array."""

import cv2
import numpy
import pytest

import stbt
from stbt import Region

FRAME = Region(0, 0, 20, 10)


def test_a_region_is_a_mask_of_its_bounding_box_alone():
    pixels, box = stbt.load_mask(Region(2, 3, 4, 5)).to_array(FRAME)
    assert pixels is None and box == Region(2, 3, 4, 5)
    assert stbt.load_mask(Region.ALL).to_array(FRAME) == (None, FRAME)


def test_regions_add_subtract_and_invert():
    m = Region(0, 0, 4, 4) + Region(10, 5, 2, 2) - Region(1, 1, 1, 1)
    assert isinstance(m, stbt.Mask)
    pixels, box = m.to_array(FRAME)
    assert box == Region(0, 0, right=12, bottom=7)
    assert pixels[0, 0, 0] == 255 and pixels[1, 1, 0] == 0 and pixels[5, 10, 0] == 255
    assert pixels[5, 5, 0] == 0
    inv, box = (~Region(0, 0, 20, 5)).to_array(FRAME)
    assert box == Region(0, 5, 20, 5) and inv is None
    assert repr(Region(0, 0, 4, 4) - Region(1, 1, 1, 1)) == \
        "Region(x=0, y=0, right=4, bottom=4) - Region(x=1, y=1, right=2, bottom=2)"
    assert stbt.load_mask(Region(1, 1, 2, 2)) == Region(1, 1, 2, 2)


def test_a_mask_image_from_disk(tmp_path):
    img = numpy.zeros((10, 20), numpy.uint8)
    img[2:4, 5:9] = 255
    cv2.imwrite(str(tmp_path / "m.png"), img)
    m = stbt.load_mask(str(tmp_path / "m.png"))
    pixels, box = m.to_array(FRAME)
    assert box == Region(5, 2, 4, 2) and pixels is None
    with pytest.raises(ValueError):
        m.to_array(Region(0, 0, 30, 30))
    assert stbt.Mask.from_alpha_channel(numpy.dstack(
        [numpy.zeros((10, 20, 3), numpy.uint8), img])).to_array(FRAME)[1] == box


def test_empty_and_none_masks():
    with pytest.raises(TypeError):
        stbt.load_mask(None)
    with pytest.raises(ValueError):
        stbt.load_mask(Region(100, 100, 1, 1)).to_array(FRAME)
    with pytest.raises(ValueError):
        stbt.load_mask(Region.ALL).to_array(Region(1, 1, 5, 5))

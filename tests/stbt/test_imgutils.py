"""Frame, Image, Color, load_image (and where it finds files), find_file, save_frame, crop."""

import os
import sys

import cv2
import numpy
import pytest

import stbt
from stbt import Region

from conftest import solid


def test_frame_is_an_array_with_time_and_size():
    f = stbt.Frame(solid(7, (72, 128)), time=1234.5)
    assert isinstance(f, numpy.ndarray)
    assert (f.time, f.width, f.height, f.region) == (1234.5, 128, 72, Region(0, 0, 128, 72))
    assert repr(f) == "<Frame(time=1234.500)>" and repr(stbt.Frame(f[:1])) == repr(f)
    part = f[10:20, 30:60]
    assert isinstance(part, stbt.Frame) and part.time == 1234.5 and part.width == 30
    assert repr(stbt.Frame(solid(0))) == "<Frame(time=None)>"


def test_image_repr_and_filenames(tmp_path):
    cv2.imwrite(str(tmp_path / "x.png"), solid(9, (4, 5)))
    img = stbt.load_image(str(tmp_path / "x.png"))
    assert isinstance(img, stbt.Image) and img.shape == (4, 5, 3)
    assert img.absolute_filename == str(tmp_path / "x.png") == img.filename
    assert repr(img) == "<Image(filename=%r, dimensions=5x4x3)>" % str(tmp_path / "x.png")
    assert not img.flags.writeable
    assert repr(stbt.load_image(solid(0, (2, 3)))) == \
        "<Image(filename=None, dimensions=3x2x3)>"


def test_load_image_relative_to_the_calling_file_up_the_stack(tmp_path, monkeypatch):
    (tmp_path / "pack" / "helpers").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "pack" / "helpers" / "near.png"), solid(1, (2, 2)))
    cv2.imwrite(str(tmp_path / "pack" / "far.png"), solid(2, (3, 3)))
    (tmp_path / "pack" / "helpers" / "helper.py").write_text(
        "import stbt\n\ndef load(name):\n    return stbt.load_image(name)\n")
    (tmp_path / "pack" / "caller.py").write_text(
        "from helper import load\n\ndef far():\n    return load('far.png')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "pack" / "helpers"))
    monkeypatch.syspath_prepend(str(tmp_path / "pack"))
    import helper
    import caller
    assert helper.load("near.png").shape == (2, 2, 3)
    assert caller.far().shape == (3, 3, 3)  # found beside the caller's caller
    for name in ("helper", "caller"):
        sys.modules.pop(name)


def test_find_file_looks_in_the_test_pack_root_and_the_working_directory(
        tmp_path, monkeypatch):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "data.csv").write_text("a,b\n")
    monkeypatch.setattr(stbt, "TEST_PACK_ROOT", str(tmp_path / "root"))
    assert stbt.find_file("data.csv") == str(tmp_path / "root" / "data.csv")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "saved.txt").write_text("x")
    assert stbt.find_file("saved.txt") == str(tmp_path / "saved.txt")
    with pytest.raises(FileNotFoundError):
        stbt.find_file("nowhere.txt")
    with pytest.raises(IOError):
        stbt.load_image("nowhere.png")


def test_find_file_does_not_find_the_packages_own_files():
    with pytest.raises(FileNotFoundError):
        stbt.find_file("_match.py")


def test_relative_filename_is_relative_to_the_test_pack(tmp_path, monkeypatch):
    cv2.imwrite(str(tmp_path / "a.png"), solid(3, (2, 2)))
    monkeypatch.setattr(stbt, "TEST_PACK_ROOT", str(tmp_path))
    img = stbt.load_image(str(tmp_path / "a.png"))
    assert img.relative_filename == "a.png"
    assert repr(img) == "<Image(filename='a.png', dimensions=2x2x3)>"


def test_load_image_channels_and_alpha():
    bgra = numpy.dstack([solid(5, (3, 3)), numpy.full((3, 3), 255, numpy.uint8)])
    assert stbt.load_image(bgra).shape == (3, 3, 3)  # fully opaque: alpha dropped
    bgra[0, 0, 3] = 100
    img = stbt.load_image(bgra)
    assert img.shape == (3, 3, 4) and img[0, 0, 3] == 0 and bgra[0, 0, 3] == 100
    assert stbt.load_image(solid(5, (3, 3)), color_channels=1).shape == (3, 3, 1)
    assert stbt.load_image(numpy.zeros((3, 3), numpy.uint8)).shape == (3, 3, 3)
    assert stbt.load_image(solid(5, (3, 3)), color_channels=(4,)).shape == (3, 3, 4)
    assert stbt.load_image(solid(5, (3, 3)), cv2.IMREAD_GRAYSCALE).shape == (3, 3, 1)
    with pytest.raises(ValueError):
        stbt.load_image(numpy.zeros((3, 3), numpy.float32))
    with pytest.raises(TypeError):
        stbt.load_image(42)


def test_save_frame_and_crop(tmp_path):
    f = stbt.Frame(numpy.arange(10 * 12 * 3, dtype=numpy.uint8).reshape(10, 12, 3), time=3)
    stbt.save_frame(f, str(tmp_path / "f.png"))
    assert (cv2.imread(str(tmp_path / "f.png")) == f).all()
    c = stbt.crop(f, Region(2, 3, 4, 5))
    assert (c == f[3:8, 2:6]).all() and c.time == 3
    assert stbt.crop(f, Region(8, 8, 100, 100)).shape == (2, 4, 3)
    with pytest.raises(ValueError):
        stbt.crop(f, Region(50, 50, 1, 1))


def test_color_forms():
    assert stbt.Color("#f77f00") == stbt.Color(0, 127, 247) == stbt.Color((0, 127, 247))
    assert stbt.Color(blue=0, green=127, red=247) == stbt.Color(stbt.Color("f77f00"))
    assert repr(stbt.Color("#f77f00")) == "Color('#f77f00')"
    assert repr(stbt.Color("#abc")) == "Color('#aabbcc')"
    assert stbt.Color("#f77f0080").array.shape == (1, 1, 4)
    assert len({stbt.Color("#000000"), stbt.Color(0, 0, 0)}) == 1
    with pytest.raises(ValueError):
        stbt.Color("nope")
    with pytest.raises(ValueError):
        stbt.Color(0, 0, 256)
    with pytest.raises(TypeError):
        stbt.Color()


def test_frame_pickles_with_its_time():
    import pickle
    f = stbt.Frame(solid(1, (2, 2)), time=5.0)
    g = pickle.loads(pickle.dumps(f))
    assert isinstance(g, stbt.Frame) and g.time == 5.0 and (g == f).all()
    assert os.path.exists(stbt._imgutils._PACKAGE_DIR)

"""get_config: the built-in defaults, the files of $STBT_CONFIG_FILE in order, types."""

import enum

import pytest

import stbt


def test_built_in_defaults_are_the_documented_ones():
    assert stbt.get_config("match", "match_threshold", type_=float) == 0.98
    assert stbt.get_config("press", "interpress_delay_secs", type_=float) == 0.3
    assert stbt.get_config("press_until_match", "max_presses", type_=int) == 10
    assert stbt.get_config("press_until_match", "interval_secs", type_=float) == 3
    assert stbt.get_config("motion", "consecutive_frames") == "10/20"
    assert stbt.get_config("motion", "noise_threshold", type_=int) == 25
    assert stbt.get_config("is_screen_black", "threshold", type_=int) == 20
    assert stbt.get_config("ocr", "lang") == "eng"
    assert stbt.get_config("ocr", "upsample", type_=bool) is True
    assert stbt.get_config("ocr", "engine", type_=stbt.OcrEngine) == stbt.OcrEngine.TESSERACT


def test_files_are_read_in_order_each_overriding_the_last(config):
    config("[test_pack]\nx = 1\ny = 2\n[match]\nmatch_threshold = 0.9\n")
    config("[test_pack]\ny = 3\nz = abc\n[result.tags]\nmodel = T-1000\n")
    assert stbt.get_config("test_pack", "x", type_=int) == 1
    assert stbt.get_config("test_pack", "y") == "3"
    assert stbt.get_config("result.tags", "model") == "T-1000"
    assert stbt.get_config("match", "match_threshold", type_=float) == 0.9
    assert stbt.get_config("match", "erode_passes", type_=int) == 1


def test_missing_values_and_bad_types(config):
    config("[s]\nz = abc\nyes = On\nno = 0\nbad = maybe\n")
    assert stbt.get_config("s", "nope", default="d") == "d"
    with pytest.raises(stbt.ConfigurationError):
        stbt.get_config("s", "nope")
    with pytest.raises(stbt.ConfigurationError):
        stbt.get_config("nosection", "nope")
    with pytest.raises(stbt.ConfigurationError):
        stbt.get_config("s", "z", type_=int)
    assert stbt.get_config("s", "yes", type_=bool) is True
    assert stbt.get_config("s", "no", type_=bool) is False
    with pytest.raises(stbt.ConfigurationError):
        stbt.get_config("s", "bad", type_=bool)


def test_enum_values_by_name_or_value(config):
    class Mode(enum.Enum):
        FAST_ONE = "fast"
    config("[s]\na = fast_one\nb = fast\nc = slow\n")
    assert stbt.get_config("s", "a", type_=Mode) is Mode.FAST_ONE
    assert stbt.get_config("s", "b", type_=Mode) is Mode.FAST_ONE
    with pytest.raises(stbt.ConfigurationError):
        stbt.get_config("s", "c", type_=Mode)


def test_configuration_error_is_an_error_not_a_failure():
    assert not issubclass(stbt.ConfigurationError, stbt.UITestFailure)

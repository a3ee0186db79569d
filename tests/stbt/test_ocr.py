"""ocr, match_text, corrections, ocr_eq, on text the tests draw (Tesseract from Debian)."""

import re

import cv2
import numpy
import pytest

import stbt
from stbt import Region

from conftest import solid


def text_frame(lines, color=(255, 255, 255), background=(40, 30, 20)):
    img = solid(background, (200, 640))
    for i, line in enumerate(lines):
        cv2.putText(img, line, (20, 50 + 60 * i), cv2.FONT_HERSHEY_DUPLEX, 1.2, color, 2,
                    cv2.LINE_AA)
    return stbt.Frame(img, time=7.0)


@pytest.fixture(autouse=True)
def corrections():
    yield
    stbt.set_global_ocr_corrections({})


def test_ocr_reads_text():
    f = text_frame(["Hello World", "Settings 42"])
    text = stbt.ocr(f)
    assert "Hello World" in text and "Settings 42" in text
    assert stbt.ocr(f, region=Region(0, 0, 640, 80)) == "Hello World"
    assert stbt.ocr(f, region=Region(0, 0, 640, 80), mode=stbt.OcrMode.SINGLE_LINE,
                    lang="eng", upsample=False) == "Hello World"


def test_ocr_options_reach_tesseract():
    f = text_frame(["0123 4567"])
    assert stbt.ocr(f, char_whitelist="0123456789 ", mode=stbt.OcrMode.SINGLE_LINE) == \
        "0123 4567"
    assert stbt.ocr(f, tesseract_config={"tessedit_char_whitelist": "0123"},
                    mode=stbt.OcrMode.SINGLE_LINE).replace(" ", "").startswith("0123")
    assert stbt.ocr(text_frame(["Blorpy"]), tesseract_user_words=["Blorpy"],
                    tesseract_user_patterns=r"\A\a\a\a\a\a") == "Blorpy"
    with pytest.raises(ValueError):
        stbt.ocr(f, char_whitelist="1", tesseract_config={"tessedit_char_whitelist": "2"})


def test_ocr_with_a_text_color():
    f = text_frame(["Red text"], color=(0, 0, 255), background=(0, 0, 200))
    assert stbt.ocr(f, text_color=(0, 0, 255), text_color_threshold=20) == "Red text"


def test_engine_tesseract_falls_back_when_its_data_is_missing():
    assert stbt.ocr(text_frame(["Menu"]), engine=stbt.OcrEngine.TESSERACT) == "Menu"
    assert stbt.ocr(text_frame(["Menu"]), engine=stbt.OcrEngine.LSTM) == "Menu"


def test_match_text_finds_words_and_their_region():
    f = text_frame(["Hello World", "Settings 42"])
    m = stbt.match_text("settings 42", frame=f)
    assert m and m.match and m.time == 7.0 and m.text == "settings 42"
    assert Region(10, 70, 300, 70).contains(m.region)
    assert not stbt.match_text("settings 42", frame=f, case_sensitive=True)
    assert not stbt.match_text("Goodbye", frame=f)
    assert stbt.match_text("Goodbye", frame=f).region is None
    assert repr(m).startswith("TextMatchResult(time=7.000, match=True, region=Region(")
    assert stbt.match_text("World", frame=f, region=Region(0, 0, 640, 80))


def test_corrections():
    assert stbt.apply_ocr_corrections("he saw the saw", {"saw": "cut"}) == "he cut the cut"
    assert stbt.apply_ocr_corrections("the saws", {"saw": "cut"}) == "the saws"
    assert stbt.apply_ocr_corrections("a0b0", {re.compile(r"0"): "o"}) == "aobo"
    stbt.set_global_ocr_corrections({"Wor1d": "World"})
    assert stbt.apply_ocr_corrections("Hello Wor1d", {"Hello": "Hi"}) == "Hi World"
    f = text_frame(["Hello World"])
    assert stbt.ocr(f, corrections={"World": "Earth"}) == "Hello Earth"


def test_ocr_eq():
    assert stbt.ocr_eq("hello", "hel 10")
    assert stbt.ocr_eq.normalize("hel 10") == "hello"
    assert not stbt.ocr_eq("hello", "world")
    with pytest.raises(TypeError):
        del stbt.ocr_eq.replacements["0"]
    assert numpy is not None

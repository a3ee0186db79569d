"""Text: `ocr`, `match_text`, `apply_ocr_corrections`, `set_global_ocr_corrections`,
`ocr_eq`, `OcrMode`, `OcrEngine`, `TextMatchResult`. OCR is Tesseract's command line."""

import collections
import csv
import enum
import io
import os
import re
import subprocess
import tempfile
import threading
import unicodedata

import cv2
import numpy

from ._config import get_config
from ._geometry import Region
from ._imgutils import Color, _frame_repr, _validate_region
from ._logging import debug

# Glyphs Tesseract tells apart inconsistently, made one: ligatures and typographic punctuation.
_REPLACEMENTS = {
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
    "\ufb05": "ft", "\ufb06": "st", "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
}
_TRANSTAB = {ord(k): v for k, v in _REPLACEMENTS.items()}


class OcrMode(enum.IntEnum):
    """Tesseract's page segmentation modes (``--psm``)."""
    ORIENTATION_AND_SCRIPT_DETECTION_ONLY = 0
    PAGE_SEGMENTATION_WITH_OSD = 1
    PAGE_SEGMENTATION_WITHOUT_OSD_OR_OCR = 2
    PAGE_SEGMENTATION_WITHOUT_OSD = 3
    SINGLE_COLUMN_OF_TEXT_OF_VARIABLE_SIZES = 4
    SINGLE_UNIFORM_BLOCK_OF_VERTICALLY_ALIGNED_TEXT = 5
    SINGLE_UNIFORM_BLOCK_OF_TEXT = 6
    SINGLE_LINE = 7
    SINGLE_WORD = 8
    SINGLE_WORD_IN_A_CIRCLE = 9
    SINGLE_CHARACTER = 10
    SPARSE_TEXT = 11
    SPARSE_TEXT_WITH_OSD = 12
    RAW_LINE = 13

    def __repr__(self):
        return str(self)


class OcrEngine(enum.IntEnum):
    """Tesseract's engines (``--oem``)."""
    #: Tesseract's "legacy" engine (needs traineddata that has it; see docs/api.md).
    TESSERACT = 0
    #: The LSTM neural network.
    LSTM = 1
    #: Both.
    TESSERACT_AND_LSTM = 2
    #: Whatever the installed data supports.
    DEFAULT = 3

    def __repr__(self):
        return str(self)


class TextMatchResult:
    """The result from `match_text`: truthy when the text was found.

    :ivar float time: when the frame was captured.
    :ivar bool match: True if the text was found.
    :ivar Region region: the text's bounding box, or None.
    :ivar Frame frame: the frame searched.
    :ivar str text: the text searched for."""

    _fields = ("time", "match", "region", "frame", "text")

    def __init__(self, time, match, region, frame, text):
        self.time, self.match, self.region = time, match, region
        self.frame, self.text = frame, text

    def __bool__(self):
        return bool(self.match)

    def __repr__(self):
        return "TextMatchResult(time=%s, match=%r, region=%r, frame=%s, text=%r)" % (
            "None" if self.time is None else "%.3f" % self.time, self.match, self.region,
            _frame_repr(self.frame), self.text)


_global_corrections = {}


def set_global_ocr_corrections(corrections):
    """Default corrections for every `ocr` and `apply_ocr_corrections` (see ``corrections``
    of `ocr`); best called from the test pack's ``tests/__init__.py``."""
    global _global_corrections
    debug("Initialising global ocr corrections to: %r" % (corrections,))
    _global_corrections = dict(corrections or {})


def apply_ocr_corrections(text, corrections=None):
    """Apply ``corrections`` (as `ocr`'s parameter), then the global corrections, to ``text``."""
    if corrections:
        text = _correct(text, corrections)
    if _global_corrections:
        text = _correct(text, _global_corrections)
    return text


def _correct(text, corrections):
    # plain strings first, at word boundaries, in order; then regular expressions, in order
    for old, new in corrections.items():
        if isinstance(old, str):
            text = re.sub(r"(^|\W)" + re.escape(old) + r"(?=\W|$)",
                          lambda m, new=new: m.group(1) + new, text)
    for old, new in corrections.items():
        if isinstance(old, re.Pattern):
            text = old.sub(new, text)
    return text


def ocr(frame=None, region=Region.ALL, mode=OcrMode.PAGE_SEGMENTATION_WITHOUT_OSD, lang=None,
        tesseract_config=None, tesseract_user_words=None, tesseract_user_patterns=None,
        upsample=None, text_color=None, text_color_threshold=None, engine=None,
        char_whitelist=None, corrections=None):
    """The text in ``region`` of ``frame`` (default: a new frame), read by Tesseract.

    :param lang: ISO 639-3 language(s), ``"eng+deu"``; default ``[ocr] lang`` (``eng``).
    :param dict tesseract_config: Tesseract parameters (``-c name=value``).
    :param tesseract_user_words: a word or list of words added to the dictionary.
    :param tesseract_user_patterns: a pattern or list of patterns added (``\\d\\d:\\d\\d``).
    :param bool upsample: scale the image 3x first (default ``[ocr] upsample``, True).
    :param Color text_color: read only pixels within ``text_color_threshold`` (default 25) of it.
    :param OcrEngine engine: default ``[ocr] engine``.
    :param str char_whitelist: the only characters that may be read.
    :param dict corrections: replacements of known mis-reads: plain strings (at word
        boundaries) or compiled regular expressions, applied before the global ones.
    :returns: the text, stripped."""
    frame, region, upsample = _prepare(frame, region, upsample)
    words = [tesseract_user_words] if isinstance(tesseract_user_words, str) \
        else tesseract_user_words
    patterns = [tesseract_user_patterns] if isinstance(tesseract_user_patterns, str) \
        else tesseract_user_patterns
    text = _tesseract(frame, region, mode, lang, tesseract_config, words, patterns, upsample,
                      text_color, text_color_threshold, engine, char_whitelist, "txt")
    text = apply_ocr_corrections(text.strip().translate(_TRANSTAB), corrections)
    debug("ocr(frame=%s, region=%r): %r" % (_frame_repr(frame), region, text))
    return text


def match_text(text, frame=None, region=Region.ALL, mode=OcrMode.PAGE_SEGMENTATION_WITHOUT_OSD,
               lang=None, tesseract_config=None, case_sensitive=False, upsample=None,
               text_color=None, text_color_threshold=None, engine=None, char_whitelist=None):
    """Search for ``text`` (one or more words, in order) in a single frame; arguments as `ocr`.

    :param bool case_sensitive: False (the default) ignores case.
    :returns: a `TextMatchResult` (truthy if found, with the words' bounding box)."""
    frame, region, upsample = _prepare(frame, region, upsample)
    tsv = _tesseract(frame, region, mode, lang, tesseract_config, text.split(), None, upsample,
                     text_color, text_color_threshold, engine, char_whitelist, "tsv")
    fold = (lambda s: s) if case_sensitive else str.lower
    found = [(fold(w.translate(_TRANSTAB)), box) for w, box in _tsv_words(tsv)]
    phrase = [fold(w.translate(_TRANSTAB)) for w in text.split()]
    box = None
    for i in range(len(found) - len(phrase) + 1 if phrase else 0):
        if all(found[i + j][0] == p for j, p in enumerate(phrase)):
            box = Region.bounding_box(*(b for _, b in found[i:i + len(phrase)]))
            break
    if box is not None:
        n = 3 if upsample else 1
        box = Region.from_extents(region.x + box.x // n, region.y + box.y // n,
                                  region.x + -(-box.right // n), region.y + -(-box.bottom // n))
    result = TextMatchResult(getattr(frame, "time", None), box is not None, box, frame, text)
    debug("match_text: %s: %s" % ("Match found" if result else "No match found", result))
    return result


def _prepare(frame, region, upsample):
    if frame is None:
        from ._frames import get_frame  # noqa: PLC0415
        frame = get_frame()
    region = _validate_region(frame, region)
    if upsample is None:
        upsample = get_config("ocr", "upsample", type_=bool)
    return frame, region, upsample


def _tsv_words(tsv):
    """(word, Region) of each word Tesseract's TSV output found, in reading order."""
    out = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") == "5" and word:
            x, y, w, h = (int(row[k]) for k in ("left", "top", "width", "height"))
            out.append((word, Region(x, y, max(1, w), max(1, h))))
    return out


_legacy_missing = set()  # languages whose traineddata lacks the legacy engine
_legacy_lock = threading.Lock()


def _tesseract(frame, region, mode, lang, config, user_words, user_patterns, upsample,
               text_color, text_color_threshold, engine, char_whitelist, output):
    if lang is None:
        lang = get_config("ocr", "lang", "eng")
    if engine is None:
        engine = get_config("ocr", "engine", type_=OcrEngine)
    if text_color_threshold is None:
        text_color_threshold = get_config("ocr", "text_color_threshold", type_=int)
    img = numpy.ascontiguousarray(frame[region.y:region.bottom, region.x:region.right])
    if upsample:
        img = cv2.resize(img, (img.shape[1] * 3, img.shape[0] * 3),
                         interpolation=cv2.INTER_LINEAR)
    if text_color is not None:
        img = _text_color_mask(img, text_color, text_color_threshold)
    config = dict(config or {})
    if char_whitelist:
        if "tessedit_char_whitelist" in config:
            raise ValueError("You cannot specify 'char_whitelist' and "
                             "'tesseract_config[\"tessedit_char_whitelist\"]' at the same time")
        config["tessedit_char_whitelist"] = char_whitelist
    with _legacy_lock:
        if engine == OcrEngine.TESSERACT and lang in _legacy_missing:
            engine = OcrEngine.DEFAULT
    tmp_parent = os.environ.get("XDG_RUNTIME_DIR") or None
    with tempfile.TemporaryDirectory(prefix="stbt-ocr-", dir=tmp_parent) as tmp:
        cv2.imwrite(os.path.join(tmp, "input.png"), img)
        extra = []
        for name, items in (("words", user_words), ("patterns", user_patterns)):
            if items:
                path = os.path.join(tmp, "user-" + name)
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(items) + "\n")
                extra += ["--user-" + name, path]
        for k, v in config.items():
            v = ("1" if v else "0") if isinstance(v, bool) else str(v)
            extra += ["-c", "%s=%s" % (k, v)]
        while True:
            cmd = ["tesseract", os.path.join(tmp, "input.png"), os.path.join(tmp, "output"),
                   "-l", lang, "--psm", str(int(mode)), "--oem", str(int(engine))] + extra
            if output == "tsv":
                cmd.append("tsv")
            try:
                p = subprocess.run(cmd, cwd=tmp, capture_output=True, check=False)
            except FileNotFoundError:
                raise RuntimeError("Tesseract OCR engine isn't installed") from None
            err = p.stderr.decode("utf-8", "replace")
            if p.returncode and engine == OcrEngine.TESSERACT and "legacy" in err:
                with _legacy_lock:
                    _legacy_missing.add(lang)
                debug("ocr: the %s traineddata has no legacy (OcrEngine.TESSERACT) engine; "
                      "using OcrEngine.DEFAULT" % lang)
                engine = OcrEngine.DEFAULT
                continue
            if p.returncode:
                raise RuntimeError("Tesseract failed: %s" % err.strip())
            with open(os.path.join(tmp, "output." + output), encoding="utf-8") as f:
                return f.read()


def _text_color_mask(img, color, threshold):
    """Black where a pixel is within ``threshold`` of ``color`` (per channel, on average),
    white elsewhere: dark text on white, as Tesseract reads best."""
    d = numpy.subtract(img, Color(color).array[:, :, :3], dtype=numpy.int32)
    sqd = (d * d).sum(axis=2)
    return ((sqd >= threshold * threshold * 3) * 255).astype(numpy.uint8)


class _OcrEqReplacements(collections.UserDict):
    def __setitem__(self, key, value):
        super().__setitem__(key, _normalize(value, self, False, False))

    def __delitem__(self, key):
        raise TypeError("Cannot remove items from ocr_eq.replacements")


def _normalize(text, replacements, remove_whitespace=True, remove_punctuation=True):
    for a, b in replacements.items():
        text = text.replace(a, b)
    if remove_whitespace:
        text = "".join(c for c in text if not c.isspace())
    if remove_punctuation:
        text = "".join(c for c in text if unicodedata.category(c)[0] != "P")
    return text


def ocr_eq(a, b):
    """Whether two strings are equal, ignoring spaces, punctuation and the characters OCR
    confuses (``ocr_eq.replacements``: "0" and "O" as "o", "1", "I" and "|" as "l", ...)."""
    return ocr_eq.normalize(a) == ocr_eq.normalize(b)


def _ocr_eq_normalize(text):
    if not isinstance(text, str):
        raise TypeError("stbt.ocr_eq.normalize: Expected a str, got %r" % (text,))
    return _normalize(text, ocr_eq.replacements)


ocr_eq.replacements = _OcrEqReplacements()
for _k, _v in {"0": "o", "O": "o", "1": "l", "i": "l", "I": "l", "|": "l", "7": "l", "2": "z",
               "Z": "z", "4": "A", "5": "s", "S": "s", "6": "g", "G": "g", "9": "g", "q": "g",
               "8.": "&", "8": "B", "f": "r", "F": "r", "\u0142": "t", "m": "rn", "C": "c",
               "K": "k", "P": "p", "V": "v", "W": "w", "vv": "w", "X": "x", "Y": "y"}.items():
    ocr_eq.replacements.data[_k] = _v
ocr_eq.normalize = _ocr_eq_normalize

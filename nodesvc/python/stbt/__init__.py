"""The stbt module of stbfarm: Stb-tester's Python API for test scripts, so that test packs
written for Stb-tester run unchanged (``import stbt`` or ``import stbt_core``: one module).

Each concept is a module of its own (docs/architecture.md lists them); this file only
re-exports the public names. The node agent is reached through _agent.py."""

from ._config import get_config
from ._diff import BGRDiff, Differ, GrayscaleDiff, MotionResult
from ._errors import (ConfigurationError, NoVideo, PreconditionError, UITestError,
                      UITestFailure)
from ._frameobject import FrameObject, for_object_repository
from ._frames import frames, get_frame
from ._geometry import Direction, Position, Region, Size
from ._grid import Grid
from ._imgutils import Color, Frame, Image, crop, find_file, load_image, save_frame
from ._keyboard import Keyboard
from ._logging import debug
from ._mask import Mask, load_mask
from ._match import (ConfirmMethod, MatchMethod, MatchParameters, MatchResult, MatchTimeout,
                     match, match_all, wait_for_match)
from ._motion import MotionTimeout, detect_motion, is_screen_black, wait_for_motion
from ._multipress import MultiPress
from ._ocr import (OcrEngine, OcrMode, TextMatchResult, apply_ocr_corrections, match_text,
                   ocr, ocr_eq, set_global_ocr_corrections)
from ._precondition import as_precondition
from ._press import (Keypress, draw_text, last_keypress, press, press_until_match,
                     pressing)
from ._transition import (Transition, TransitionStatus, press_and_wait,
                          wait_for_transition_to_end)
from ._wait import wait_until

#: What `load_mask` and the ``mask`` parameters take (for type annotations).
MaskTypes = "str | numpy.ndarray | Mask | Region | None"

#: The root of the test pack being run (set by stbt_run.py), for `Image.relative_filename`
#: and `find_file`.
TEST_PACK_ROOT = None

__all__ = [
    "apply_ocr_corrections", "as_precondition", "BGRDiff", "Color", "ConfigurationError",
    "ConfirmMethod", "crop", "debug", "detect_motion", "Differ", "Direction", "draw_text",
    "find_file", "for_object_repository", "Frame", "FrameObject", "frames", "get_config",
    "get_frame", "GrayscaleDiff", "Grid", "Image", "is_screen_black", "Keyboard", "Keypress",
    "last_keypress", "load_image", "load_mask", "Mask", "MaskTypes", "match", "match_all",
    "match_text", "MatchMethod", "MatchParameters", "MatchResult", "MatchTimeout",
    "MotionResult", "MotionTimeout", "MultiPress", "NoVideo", "ocr", "ocr_eq", "OcrEngine",
    "OcrMode", "Position", "PreconditionError", "press", "press_and_wait", "press_until_match",
    "pressing", "Region", "save_frame", "set_global_ocr_corrections", "Size",
    "TextMatchResult", "Transition", "TransitionStatus", "UITestError", "UITestFailure",
    "wait_for_match", "wait_for_motion", "wait_for_transition_to_end", "wait_until",
]

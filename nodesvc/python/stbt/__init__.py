"""The stbt module of stbfarm: Stb-tester's Python API for test scripts, so that test packs
written for Stb-tester run unchanged (``import stbt`` or ``import stbt_core``: one module).

Each concept is a module of its own (docs/architecture.md lists them); this file only
re-exports the public names, importing each module the first time one of its names is used
(numpy and OpenCV load only for tests that look at the video). The node agent is reached
through _agent.py."""

import importlib

# public name -> the module that defines it
_EXPORTS = {
    "config": ("get_config",),
    "diff": ("BGRDiff", "Differ", "GrayscaleDiff", "MotionResult"),
    "errors": ("ConfigurationError", "NoVideo", "PreconditionError", "UITestError",
               "UITestFailure"),
    "frameobject": ("for_object_repository", "FrameObject"),
    "frames": ("frames", "get_frame"),
    "geometry": ("Direction", "Position", "Region", "Size"),
    "grid": ("Grid",),
    "imgutils": ("Color", "crop", "find_file", "Frame", "Image", "load_image", "save_frame"),
    "keyboard": ("Keyboard",),
    "logging": ("debug",),
    "mask": ("load_mask", "Mask"),
    "match": ("ConfirmMethod", "match", "match_all", "MatchMethod", "MatchParameters",
              "MatchResult", "MatchTimeout", "wait_for_match"),
    "motion": ("detect_motion", "is_screen_black", "MotionTimeout", "wait_for_motion"),
    "multipress": ("MultiPress",),
    "ocr": ("apply_ocr_corrections", "match_text", "ocr", "ocr_eq", "OcrEngine", "OcrMode",
            "set_global_ocr_corrections", "TextMatchResult"),
    "precondition": ("as_precondition",),
    "press": ("draw_text", "Keypress", "last_keypress", "press", "press_until_match", "pressing"),
    "transition": ("press_and_wait", "Transition", "TransitionStatus",
                   "wait_for_transition_to_end"),
    "wait": ("wait_until",),
}

_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

#: What `load_mask` and the ``mask`` parameters take (for type annotations).
MaskTypes = "str | numpy.ndarray | Mask | Region | None"

#: The root of the test pack being run (set by stbt_run.py), for `Image.relative_filename`
#: and `find_file`.
TEST_PACK_ROOT = None

__all__ = sorted(list(_WHERE) + ["MaskTypes"], key=str.lower)


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError("module 'stbt' has no attribute %r" % (name,))
    value = getattr(importlib.import_module("._" + module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

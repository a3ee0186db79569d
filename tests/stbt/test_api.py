"""The module's surface: the documented names, stbt_core, the exceptions and their outcomes."""

import pytest

import stbt

# The public names of Stb-tester's Python API reference (v34) that stbfarm implements; android
# and PDU are not (docs/api.md).
DOCUMENTED = """
apply_ocr_corrections as_precondition BGRDiff Color ConfigurationError ConfirmMethod crop debug
detect_motion Differ Direction draw_text find_file for_object_repository Frame FrameObject
frames get_config get_frame GrayscaleDiff Grid Image is_screen_black Keyboard Keypress
last_keypress load_image load_mask Mask MaskTypes match match_all match_text MatchMethod
MatchParameters MatchResult MatchTimeout MotionResult MotionTimeout MultiPress NoVideo ocr
ocr_eq OcrEngine OcrMode Position PreconditionError press press_and_wait press_until_match
pressing Region save_frame set_global_ocr_corrections Size TextMatchResult Transition
TransitionStatus UITestError UITestFailure wait_for_match wait_for_motion
wait_for_transition_to_end wait_until
""".split()


def test_all_is_exactly_the_documented_names():
    assert sorted(stbt.__all__) == sorted(DOCUMENTED)
    assert all(hasattr(stbt, name) for name in DOCUMENTED)


def test_stbt_core_is_the_same_module():
    import stbt_core
    assert stbt_core is stbt
    assert stbt_core.Region is stbt.Region and stbt_core.get_config is stbt.get_config


def test_failures_and_errors():
    assert issubclass(stbt.MatchTimeout, stbt.UITestFailure)
    assert issubclass(stbt.MotionTimeout, stbt.UITestFailure)
    assert issubclass(stbt.PreconditionError, stbt.UITestError)
    for error in (stbt.NoVideo, stbt.ConfigurationError, stbt.UITestError):
        assert not issubclass(error, (stbt.UITestFailure, AssertionError))


def test_as_precondition_turns_failures_into_errors():
    with pytest.raises(stbt.PreconditionError) as e:
        with stbt.as_precondition("Tuned to channel 100"):
            raise stbt.MatchTimeout("shot", "x.png", 3)
    assert e.value.message == "Tuned to channel 100" and e.value.screenshot == "shot"
    assert isinstance(e.value.original_exception, stbt.MatchTimeout)
    assert str(e.value).startswith("Didn't meet precondition 'Tuned to channel 100' "
                                   "(original exception was: Didn't find match")
    with pytest.raises(stbt.PreconditionError):
        with stbt.as_precondition("x"):
            assert False
    with pytest.raises(KeyError):
        with stbt.as_precondition("x"):
            raise KeyError("not a failure: passes through")


def test_debug_and_draw_text_write_to_the_log(capsys):
    stbt.debug("hello log")
    stbt.draw_text("on screen")
    err = capsys.readouterr().err
    assert "hello log\n" in err and "on screen\n" in err

"""Live TV on the virtual set-top box: channels and pause."""

import stbt


def test_that_pause_button_pauses_live_tv():
    stbt.press("KEY_TV")
    stbt.press("KEY_PAUSE")
    stbt.wait_for_match("images/paused.png", timeout_secs=5)
    stbt.press("KEY_PLAY")
    assert stbt.wait_until(lambda: not stbt.match("images/paused.png"), timeout_secs=5), \
        "live TV stayed paused after KEY_PLAY"


def test_that_digits_tune_channel_1():
    stbt.press("KEY_TV")
    for key in ("KEY_0", "KEY_0", "KEY_1"):
        stbt.press(key)
    stbt.wait_for_match("images/channel-1.png", timeout_secs=5)

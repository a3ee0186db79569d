"""The virtual set-top box's menu: KEY_MENU opens it, KEY_UP/KEY_DOWN move its highlight,
KEY_BACK closes it."""

import stbt


def open_menu():
    stbt.press("KEY_HOME")
    stbt.press("KEY_MENU")
    return stbt.wait_for_match("images/menu-title.png", timeout_secs=5)


def test_that_menu_appears_when_menu_key_is_pressed():
    open_menu()


def test_that_down_moves_the_highlight_to_the_guide():
    open_menu()
    stbt.press("KEY_DOWN")
    stbt.wait_for_match("images/guide-highlighted.png", timeout_secs=5)


def test_that_back_closes_the_menu():
    open_menu()
    stbt.press("KEY_BACK")
    assert stbt.wait_until(lambda: not stbt.match("images/menu-title.png"), timeout_secs=5), \
        "the menu is still open after KEY_BACK"

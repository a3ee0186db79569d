"""Stb-tester's API on the virtual set-top box's guide and search screens, written as a test
pack for Stb-tester would be: text (stbt.match_text, stbt.ocr), Page Objects (stbt.FrameObject),
an on-screen keyboard (stbt.Keyboard, stbt.Grid), motion (stbt.wait_for_motion) and transitions
(stbt.press_and_wait).

MENU > GUIDE shows a loading animation for 2 s, then six channels' programmes with the
highlighted one repeated in a panel below. MENU > RECORDINGS opens a search: a 6x6 keyboard of
letters and digits above SPACE, DEL and CLEAR, a text field, and the titles that contain the
text."""

import stbt

GUIDE_PANEL = stbt.Region(80, 622, width=1120, height=76)  # the highlighted programme
LOADING_AREA = stbt.Region(240, 360, right=1040, bottom=620)  # the bar and the ring of dots
SEARCH_FIELD = stbt.Region(80, 120, width=520, height=64)
SEARCH_RESULTS = stbt.Region(700, 180, right=1260, bottom=560)
KEYS = stbt.Grid(stbt.Region(80, 204, right=608, bottom=564),
                 data=["ABCDEF", "GHIJKL", "MNOPQR", "STUVWX", "YZ1234", "567890"])
WIDE_KEYS = stbt.Grid(stbt.Region(80, 564, right=608, bottom=624),
                      data=[[" ", "DEL", "CLEAR"]])


def open_menu_item(downs):
    """Open the menu from the home screen and highlight its item number `downs` (from 0)."""
    stbt.press("KEY_HOME")
    stbt.press("KEY_MENU")
    stbt.wait_for_match("images/menu-title.png")
    for _ in range(downs):
        stbt.press("KEY_DOWN")
    if downs == 1:
        stbt.wait_for_match("images/guide-highlighted.png")


class Guide(stbt.FrameObject):
    """The programme guide, once it has loaded."""

    @property
    def is_visible(self):
        return bool(stbt.match("images/guide-title.png", frame=self._frame)) and \
            not stbt.match("images/loading.png", frame=self._frame)

    @property
    def selected_title(self):
        return stbt.ocr(frame=self._frame, region=GUIDE_PANEL).strip()


def open_guide():
    open_menu_item(1)
    stbt.press("KEY_OK")
    guide = stbt.wait_until(Guide, timeout_secs=10)
    assert guide, "the guide did not load"
    return guide


def test_that_the_guide_lists_the_news_at_nine():
    """stbt.match_text: text anywhere on the screen, and in a region."""
    open_guide()
    found = stbt.match_text("NEWS AT NINE")
    assert found, "no NEWS AT NINE in the guide: %r" % (found,)
    assert found.match and found.region.y > 100
    assert stbt.match_text("NEWS AT NINE", region=GUIDE_PANEL)
    assert not stbt.match_text("LATE NIGHT JAZZ", region=GUIDE_PANEL)


def test_that_the_guide_frame_object_follows_the_highlight():
    """stbt.FrameObject: properties of one frame, cached, None when not visible; refresh."""
    guide = open_guide()
    assert guide.selected_title == "NEWS AT NINE"
    assert guide.selected_title is guide.selected_title  # computed once per frame
    first = guide
    assert stbt.press_and_wait("KEY_DOWN")
    guide = guide.refresh()
    assert guide.is_visible and guide.selected_title == "WEATHER WATCH"
    assert guide != first
    assert "WEATHER WATCH" in repr(guide)
    stbt.press("KEY_BACK")
    stbt.wait_for_match("images/menu-title.png")
    gone = Guide()
    assert not gone and gone.selected_title is None


class Search(stbt.FrameObject):
    """The search screen and its on-screen keyboard."""

    @property
    def is_visible(self):
        return bool(stbt.match("images/search-title.png", frame=self._frame))

    @property
    def selection(self):
        """The highlighted key (Keyboard needs it): key-selection.png is the top-left corner
        of a highlighted key with 8 pixels of the background around it."""
        m = stbt.match("images/key-selection.png", frame=self._frame,
                       region=KEYS.region.extend(x=-8, y=-8, bottom=WIDE_KEYS.region.height))
        return KEYBOARD.find_key(region=m.region.translate(8, 8)) if m else None

    @property
    def text(self):
        return stbt.ocr(frame=self._frame, region=SEARCH_FIELD).strip()

    def enter_text(self, text):
        return KEYBOARD.enter_text(text.upper(), page=self)

    def clear(self):
        page = KEYBOARD.navigate_to("CLEAR", page=self)
        stbt.press_and_wait("KEY_OK")
        return page.refresh()


KEYBOARD = stbt.Keyboard()
KEYBOARD.add_grid(KEYS)
KEYBOARD.add_grid(WIDE_KEYS)
# Down from the last row lands on the wide key below; up from a wide key on the left of the
# two grid keys above it.
for digit, wide in zip("567890", [" ", " ", "DEL", "DEL", "CLEAR", "CLEAR"]):
    KEYBOARD.add_transition(digit, wide, "KEY_DOWN", symmetrical=False)
for wide, digit in ((" ", "5"), ("DEL", "7"), ("CLEAR", "9")):
    KEYBOARD.add_transition(wide, digit, "KEY_UP", symmetrical=False)


def test_that_the_keyboard_types_a_search():
    """stbt.Keyboard: enter_text and navigate_to on a Page Object with a selection."""
    open_menu_item(2)
    stbt.press("KEY_OK")
    page = stbt.wait_until(Search)
    assert page, "the search screen did not open"
    assert page.selection.name == "A"
    page = page.enter_text("news")
    assert page.text == "NEWS"
    assert stbt.match_text("NEWS AT NINE", region=SEARCH_RESULTS)
    page = page.clear()
    assert page.text == ""
    assert stbt.match_text("TYPE TO SEARCH", region=SEARCH_RESULTS)


def test_that_the_loading_animation_is_motion_that_stops():
    """stbt.wait_for_motion: motion while the guide loads, none once it has."""
    open_menu_item(1)
    stbt.press("KEY_OK")
    motion = stbt.wait_for_motion(consecutive_frames="10/20", mask=LOADING_AREA)
    assert motion and motion.motion
    assert stbt.wait_until(Guide, timeout_secs=10)
    try:
        still = stbt.wait_for_motion(timeout_secs=2)
    except stbt.MotionTimeout:
        pass
    else:
        raise AssertionError("motion on the loaded guide: %r" % (still,))


def test_that_opening_the_guide_is_one_transition():
    """stbt.press_and_wait: the transition ends once the guide has loaded; a key that changes
    nothing starts none."""
    open_menu_item(1)
    transition = stbt.press_and_wait("KEY_OK", timeout_secs=10, stable_secs=1)
    assert transition, "the guide did not load: %r" % (transition,)
    assert transition.status == stbt.TransitionStatus.COMPLETE
    assert Guide(frame=transition.frame), "the transition ended before the guide was shown"
    nothing = stbt.press_and_wait("KEY_RED", timeout_secs=2)
    assert not nothing and nothing.status == stbt.TransitionStatus.START_TIMEOUT

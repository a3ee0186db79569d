"""FrameObject: properties computed once each, None when not visible, equality, hash, repr,
refresh; and Grid and Keyboard (navigation against a simulated keyboard)."""

import numpy
import pytest

import stbt
from stbt import Region

from conftest import solid


class Dialog(stbt.FrameObject):
    calls = []

    @property
    def is_visible(self):
        Dialog.calls.append("is_visible")
        return self._frame[0, 0, 0] > 0 and self.title is not None

    @property
    def title(self):
        Dialog.calls.append("title")
        return "Dialog %d" % self._frame[0, 0, 0]

    @property
    def _private(self):
        Dialog.calls.append("_private")
        return 5


def test_properties_are_computed_once_each():
    Dialog.calls = []
    d = Dialog(solid(3))
    assert d.title == "Dialog 3" and d.title == "Dialog 3"
    assert d and d.is_visible is True
    assert d._private == 5 and d._private == 5
    assert sorted(Dialog.calls) == ["_private", "is_visible", "title"]


def test_public_properties_are_none_when_not_visible():
    d = Dialog(solid(0))
    assert not d and d.title is None and d._private == 5
    assert repr(d) == "Dialog(is_visible=False)"


def test_equality_hash_repr_and_refresh():
    a, b, c = Dialog(solid(3)), Dialog(solid(3)), Dialog(solid(4))
    assert a == b and hash(a) == hash(b) and a != c
    assert Dialog(solid(0)) == Dialog(solid(0, (10, 10)))
    assert repr(a) == "Dialog(is_visible=True, title='Dialog 3')"
    assert Dialog._fields == ("is_visible", "title")
    r = a.refresh(solid(9))
    assert isinstance(r, Dialog) and r.title == "Dialog 9" and a.title == "Dialog 3"
    assert a != "Dialog 3"


def test_frame_objects_are_immutable():
    with pytest.raises(TypeError):
        class Bad(stbt.FrameObject):
            @property
            def is_visible(self):
                return True

            @is_visible.setter
            def is_visible(self, v):
                pass


def test_for_object_repository_returns_the_class():
    assert stbt.for_object_repository(Dialog) is Dialog
    assert stbt.for_object_repository()(Dialog) is Dialog


def test_grid():
    g = stbt.Grid(Region(0, 0, 60, 20), data=["abc", "def"])
    assert (g.cols, g.rows, g.area, len(g)) == (3, 2, 6, 6)
    assert g[4].data == "e" and g[4].position == stbt.Position(1, 1)
    assert g[4].region == Region(20, 10, 20, 10)
    assert g["f"].index == 5 and g[-1].data == "f" and g[2, 0].data == "c"
    assert g[Region(41, 11, 5, 5)].data == "f"
    assert [c.data for c in g] == list("abcdef") and len(g.cells) == 6
    with pytest.raises(IndexError):
        g[6]
    with pytest.raises(IndexError):
        g["z"]
    with pytest.raises(IndexError):
        g[Region(100, 0, 5, 5)]
    with pytest.raises(ValueError):
        g.get()
    assert repr(stbt.Grid(Region(0, 0, 60, 20), cols=3, rows=2)) == \
        "Grid(region=Region(x=0, y=0, right=60, bottom=20), cols=3, rows=2)"


def keyboard():
    kb = stbt.Keyboard()
    grid = kb.add_grid(stbt.Grid(Region(0, 0, 120, 60), data=["abcd", "efgh", "ijkl"]))
    space = kb.add_key(" ", region=Region(0, 60, 120, 20))
    for k in "ijkl":
        kb.add_transition(k, space, "KEY_DOWN", symmetrical=False)
    kb.add_transition(space, "i", "KEY_UP", symmetrical=False)
    return kb, grid


def test_keyboard_model():
    kb, grid = keyboard()
    assert kb.find_key("a").region == Region(0, 0, 30, 20)
    assert kb.find_key(region=Region(95, 45, 5, 5)).name == "l"
    assert kb.find_key(text=" ").name == " " and len(kb.find_keys(text="q")) == 0
    assert grid[0].data == kb.find_key("a")
    with pytest.raises(ValueError):
        kb.add_key("a", region=Region(0, 0, 30, 20))
    with pytest.raises(ValueError):
        kb.add_key("z")  # every other key has a region
    with pytest.raises(ValueError):
        kb.find_key("nope")
    e = stbt.Keyboard()
    e.add_edgelist("### a comment\na b KEY_RIGHT\nb SPACE KEY_DOWN\n")
    assert {k.name for k in e.find_keys(text=" ")} == {" "}
    assert e._path(e.find_key("a"), [e.find_key(" ")]) == [
        ("KEY_RIGHT", {e.find_key("b")}), ("KEY_DOWN", {e.find_key(" ")})]
    with pytest.raises(ValueError):
        e.add_edgelist("a b")


class Screen:
    """A simulated on-screen keyboard: the focused key drawn as a bright cell."""

    def __init__(self, kb):
        self.kb, self.focus, self.typed = kb, kb.find_key("a"), ""

    def press(self, key):
        if key == "KEY_OK":
            self.typed += self.focus.text
            return
        for target, rc in self.kb._edges[self.focus].items():
            if rc == key:
                self.focus = target
                return

    def frame(self):
        img = solid(0, (100, 140))
        r = self.focus.region
        img[r.y:r.bottom, r.x:r.right] = 200
        return img


def test_enter_text_navigates_the_keyboard(agent, config):
    config("[press]\ninterpress_delay_secs = 0\n")
    kb, _ = keyboard()
    screen = Screen(kb)

    class Page(stbt.FrameObject):
        @property
        def is_visible(self):
            return True

        @property
        def focus(self):
            ys, xs = numpy.nonzero(self._frame[:, :, 0] > 100)
            return kb.find_key(region=Region(int(xs.min()), int(ys.min()), 1, 1))

    frames = []

    def on_press(fake, key):
        screen.press(key)
        # the screen after the press: a few frames of it, then it holds still
        fake.show(screen.frame(), 40)

    fake = agent([screen.frame()] * 40, on_press=on_press)
    page = Page()
    page = kb.enter_text("hi j", page=page)
    assert screen.typed == "hi j" and page.focus == kb.find_key("j")
    page = kb.navigate_to("a", page=page)
    assert page.focus == kb.find_key("a") and fake.presses
    assert frames == []

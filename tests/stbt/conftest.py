"""Unit tests of the stbt module (nodesvc/python/stbt) on frames they pass explicitly: no node,
no agent (the tests that need one replace _agent's three functions with fakes)."""

import os
import sys

import numpy
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = os.path.join(REPO, "nodesvc", "python")
sys.path.insert(0, PYTHON)

import stbt  # noqa: E402
from stbt import _config  # noqa: E402


@pytest.fixture(autouse=True)
def config(tmp_path, monkeypatch):
    """Each test starts from the built-in configuration; write_config(text) adds a file."""
    monkeypatch.delenv("STBT_CONFIG_FILE", raising=False)
    monkeypatch.delenv("STBFARM_AGENT_SOCKET", raising=False)
    _config._reset()
    files = []

    def write(text):
        path = tmp_path / ("config-%d.conf" % len(files))
        path.write_text(text)
        files.append(str(path))
        monkeypatch.setenv("STBT_CONFIG_FILE", ":".join(files))
        _config._reset()
        return path
    yield write
    _config._reset()


@pytest.fixture
def rng():
    return numpy.random.default_rng(1234)


class FakeAgent:
    """_agent's press/frame/reset over frames on a virtual clock: the frames given are captured
    1/25 s apart from T0; show(image, n) changes the screen from the clock's present on. Fetching a
    frame moves the clock to its time, sleeping moves it on, and the newest frame is the last
    captured by the clock's present. `time` and `sleep` replace the modules' own in stbt's
    modules that read the clock."""

    T0 = 1000.0

    def __init__(self, frames, on_press=None):
        self.frames, self.times = [], []
        self.presses = []
        self.on_press = on_press
        self.now = self.T0
        self.show_all(frames)
        self.now = self.times[0] if self.times else self.T0

    def show_all(self, images):
        for img in images:
            t = max([self.now] + self.times[-1:]) + 1 / 25.0
            self.frames.append(img)
            self.times.append(t)

    def show(self, image, n):
        """From now on the screen shows `image` (for n frames): frames not yet captured are
        replaced."""
        keep = sum(1 for t in self.times if t <= self.now)
        del self.frames[keep:], self.times[keep:]
        self.show_all([image] * n)

    def time(self):
        return self.now

    def sleep(self, secs):
        self.now += max(0, secs)

    def frame(self, after=0):
        if after == 0:
            seq = max(1, sum(1 for t in self.times if t <= self.now))
        else:
            seq = after + 1
        if seq > len(self.frames):
            from stbt._errors import NoVideo
            raise NoVideo("no more frames in the fake agent")
        t = self.times[seq - 1]
        self.now = max(self.now, t)
        return self.frames[seq - 1], t, seq

    def press(self, key, hold_secs=None):
        """As _agent.press: the times the key went to the device and was sent."""
        self.presses.append((key, hold_secs))
        start = self.now
        self.now += 0.001 + (hold_secs or 0)
        if self.on_press:
            self.on_press(self, key)
        return start, self.now

    def reset(self):
        pass


@pytest.fixture
def agent(monkeypatch):
    """make(frames, on_press=None): a FakeAgent in place of the node agent and the clock."""
    import types

    from stbt import _agent, _frames, _press, _wait, _multipress

    def make(frames, on_press=None):
        fake = FakeAgent(frames, on_press)
        monkeypatch.setattr(_agent, "frame", fake.frame)
        monkeypatch.setattr(_agent, "press", fake.press)
        monkeypatch.setattr(_agent, "reset", fake.reset)
        clock = types.SimpleNamespace(time=fake.time, sleep=fake.sleep)
        for module in (_frames, _press, _wait, _multipress):
            monkeypatch.setattr(module, "time", clock)
        return fake
    return make


def solid(color, shape=(72, 128)):
    return numpy.full(shape + (3,), color, numpy.uint8)


__all__ = ["stbt", "solid"]

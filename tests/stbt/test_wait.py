"""wait_until's rules, on a fake clock: the first truthy value; predicate; stable_secs; one
last try at the deadline; the last falsy value (or None) on time-out."""

import pytest

import stbt
from stbt import _wait


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = 1000.0
        calls = []

        def time(self):
            return self.now

        def sleep(self, secs):
            assert secs >= 0
            self.now += secs

    c = Clock()
    monkeypatch.setattr(_wait.time, "time", c.time)
    monkeypatch.setattr(_wait.time, "sleep", c.sleep)
    return c


def calls(clock, values, step=0.0):
    """A callable returning each of `values` in turn, the clock moving `step` per call."""
    it = iter(values)
    seen = []

    def f():
        seen.append(clock.now)
        clock.now += step
        return next(it)
    f.seen = seen
    return f


def test_returns_the_first_truthy_value(clock):
    f = calls(clock, [0, None, "", "ready", "later"])
    assert stbt.wait_until(f, timeout_secs=5) == "ready"
    assert len(f.seen) == 4


def test_returns_the_last_falsy_value_on_time_out(clock):
    f = calls(clock, [0] * 100 + [[]], step=0.1)
    assert stbt.wait_until(f, timeout_secs=10, interval_secs=0.5) == 0
    assert stbt.wait_until(lambda: [], timeout_secs=0) == []


def test_calls_once_more_at_the_deadline(clock):
    f = calls(clock, [False, False, False, "late"])
    assert stbt.wait_until(f, timeout_secs=2.5, interval_secs=1) == "late"
    assert f.seen == [1000.0, 1001.0, 1002.0, 1002.5]


def test_the_interval_separates_calls(clock):
    f = calls(clock, [0, 0, 1])
    stbt.wait_until(f, timeout_secs=10, interval_secs=2)
    assert f.seen == [1000.0, 1002.0, 1004.0]


def test_predicate_decides_and_the_value_is_returned(clock):
    f = calls(clock, [{"n": 1}, {"n": 2}, {"n": 3}])
    assert stbt.wait_until(f, predicate=lambda v: v["n"] >= 2) == {"n": 2}
    f = calls(clock, [{"n": 1}] * 50, step=1)
    assert stbt.wait_until(f, timeout_secs=5, predicate=lambda v: v["n"] >= 2) is None


def test_stable_secs_returns_the_first_value_of_the_stable_run(clock):
    a, b = ["a"], ["b"]
    values = [a, b, list(b), list(b), list(b), list(b)]
    f = calls(clock, values, step=1)
    got = stbt.wait_until(f, timeout_secs=10, stable_secs=2)
    assert got is b  # equal (==) values are stable; the first of them is returned
    assert f.seen == [1000.0, 1001.0, 1002.0, 1003.0]


def test_stable_secs_compares_the_predicate(clock):
    values = [(1, "x"), (2, "y"), (2, "z"), (2, "w"), (3, "v")]
    f = calls(clock, values, step=1)
    assert stbt.wait_until(f, timeout_secs=10, stable_secs=2,
                           predicate=lambda v: v[0]) == (2, "y")


def test_a_truthy_value_never_stable_times_out_as_none(clock):
    f = calls(clock, list(range(1, 100)), step=1)
    assert stbt.wait_until(f, timeout_secs=5, stable_secs=2) is None


def test_a_falsy_stable_value_is_not_success(clock):
    f = calls(clock, [0] * 100, step=1)
    assert stbt.wait_until(f, timeout_secs=5, stable_secs=1) == 0

"""The remote control: `press`, `pressing`, `press_until_match`, `last_keypress`, `Keypress`,
and `draw_text`. Presses go to the node agent (_agent.press), which says when each key was
sent; texts go to it too, to be drawn on the run's video."""

import contextlib
import enum
import threading
import time

from . import _agent
from ._config import get_config
from ._frames import get_frame
from ._geometry import Region
from ._imgutils import _frame_repr
from ._logging import debug

MAX_HOLD_SECS = 60
MAX_TEXT_SECS = 86400  # nodesvc/node_stbt.c: a day, longer than any run
_state = threading.local()
_last_lock = threading.Lock()
_last = {"keypress": None, "end": 0.0}


class Keypress:
    """Information about a key press sent to the device under test (returned by `press`).

    :ivar str key: the name of the key pressed.
    :ivar float start_time: the time just before the press started (seconds since the epoch).
    :ivar float end_time: when sending the press completed.
    :ivar Frame frame_before: the most recent frame just before the press started."""

    def __init__(self, key, start_time, end_time, frame_before):
        self.key = key
        self.start_time = start_time
        self.end_time = end_time
        self.frame_before = frame_before

    def __repr__(self):
        return "Keypress(key=%r, start_time=%r, end_time=%r, frame_before=%s)" % (
            self.key, self.start_time, self.end_time, _frame_repr(self.frame_before))


def _key_name(key):
    if isinstance(key, enum.Enum):
        key = key.value
    if not isinstance(key, str) or not key:
        raise ValueError("key must be a non-empty string, not %r" % (key,))
    return key


def _wait_interpress(delay):
    if delay is None:
        delay = get_config("press", "interpress_delay_secs", type_=float)
    with _last_lock:
        wait = _last["end"] + delay - time.time()
    if wait > 0:
        time.sleep(wait)


def _send(key, hold_secs):
    frame_before = _frame_before()
    start, end = _agent.press(key, hold_secs)  # when the key went to the device, and was sent
    kp = Keypress(key, start, end, frame_before)
    with _last_lock:  # the next press's delay counts from now, on this module's clock
        _last["keypress"], _last["end"] = kp, time.time()
    return kp


def _frame_before():
    try:
        return get_frame()
    except Exception:  # noqa: BLE001 - a press needs no video; frame_before is then None
        return None


def press(key, interpress_delay_secs=None, hold_secs=None):
    """Send a key press to the device under test.

    :param key: the key's name in the remote control's configuration (or an Enum whose value is).
    :param interpress_delay_secs: the minimum time since the previous press (default: the
        ``[press]`` section's ``interpress_delay_secs``, 0.3).
    :param hold_secs: hold the key down this long (at most 60 seconds).
    :returns: a `Keypress`."""
    key = _key_name(key)
    if hold_secs is not None and not 0 <= hold_secs <= MAX_HOLD_SECS:
        raise ValueError("hold_secs must be between 0 and %d seconds, not %r"
                         % (MAX_HOLD_SECS, hold_secs))
    _wait_interpress(interpress_delay_secs)
    kp = _send(key, hold_secs)
    debug("Pressed %s%s" % (key, " for %gs" % hold_secs if hold_secs else ""))
    return kp


# How long each hold lasts while `pressing` holds a key: the agent's press blocks for the hold,
# so the key is held in slices, the agent's connection free for frames between them.
_HOLD_SLICE_SECS = 0.1


@contextlib.contextmanager
def pressing(key, interpress_delay_secs=None):
    """Hold ``key`` down for the duration of the ``with`` block; yields the `Keypress`."""
    key = _key_name(key)
    _wait_interpress(interpress_delay_secs)
    stop = threading.Event()
    first = threading.Event()
    box = {}

    def hold():
        try:
            box["kp"] = _send(key, _HOLD_SLICE_SECS)
        except BaseException as e:  # noqa: BLE001 - raised in the caller's thread
            box["error"] = e
        first.set()
        while not stop.is_set() and "error" not in box:
            try:
                _agent.press(key, _HOLD_SLICE_SECS)
            except BaseException as e:  # noqa: BLE001
                box["error"] = e
                break

    t = threading.Thread(target=hold, name="stbt.pressing", daemon=True)
    t.start()
    first.wait()
    if "error" in box:
        t.join()
        raise box["error"]
    debug("Holding %s" % key)
    try:
        yield box["kp"]
    finally:
        stop.set()
        t.join()
        with _last_lock:
            _last["end"] = time.time()
        debug("Released %s" % key)
    if "error" in box:
        raise box["error"]


def last_keypress():
    """The `Keypress` of the last key press sent to the device under test (None if none)."""
    with _last_lock:
        return _last["keypress"]


def press_until_match(key, image, interval_secs=None, max_presses=None, match_parameters=None,
                      region=Region.ALL):
    """Press ``key`` until ``image`` appears: up to ``max_presses`` presses (default: the
    ``[press_until_match]`` section's, 10), waiting ``interval_secs`` (3) for a match after each.

    :returns: the `MatchResult`.
    :raises: `MatchTimeout` if there is no match after ``max_presses`` presses."""
    from ._match import MatchTimeout, wait_for_match  # noqa: PLC0415 - _match imports _frames
    if interval_secs is None:
        interval_secs = get_config("press_until_match", "interval_secs", type_=float)
    if max_presses is None:
        max_presses = get_config("press_until_match", "max_presses", type_=int)
    i = 0
    while True:
        try:
            return wait_for_match(image, timeout_secs=interval_secs,
                                  match_parameters=match_parameters, region=region)
        except MatchTimeout:
            if i == max_presses:
                raise
        press(key)
        i += 1


def draw_text(text, duration_secs=3):
    """Write the specified text to the video recording of the test run (and to its log).

    :param str text: the text (letters are drawn as capitals).
    :param duration_secs: how long it stays on the video, in seconds."""
    text = str(text)
    duration_secs = float(duration_secs)
    if not 0 <= duration_secs <= MAX_TEXT_SECS:
        raise ValueError("duration_secs must be between 0 and %d seconds, not %r"
                         % (MAX_TEXT_SECS, duration_secs))
    debug(text)
    _agent.draw_text(text, duration_secs)

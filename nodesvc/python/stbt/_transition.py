"""Transitions: `press_and_wait`, `wait_for_transition_to_end`, `Transition`,
`TransitionStatus`. Frame-accurate: only differences between successive frames."""

import enum

from ._diff import BGRDiff
from ._geometry import Region
from ._logging import debug
from ._motion import DetectMotion, _mask_arg


class TransitionStatus(enum.Enum):
    #: The transition didn't start (nothing moved).
    START_TIMEOUT = 0
    #: The transition didn't end (movement didn't stop).
    STABLE_TIMEOUT = 1
    #: The transition started and then stopped.
    COMPLETE = 2


class Transition:
    """The return value of `press_and_wait` and `wait_for_transition_to_end`: truthy when the
    transition completed.

    :ivar key: the key pressed (None for `wait_for_transition_to_end`).
    :ivar frame: the first frame of the completed transition; if timed out, the last frame seen.
    :ivar TransitionStatus status: START_TIMEOUT, STABLE_TIMEOUT or COMPLETE.
    :ivar press_time: when the key press completed.
    :ivar animation_start_time: when motion started (None if it never did).
    :ivar end_time: when the motion ended (None if timed out).
    :ivar duration: ``end_time - press_time`` (None if either is).
    :ivar animation_duration: ``end_time - animation_start_time`` (None if either is).
    :ivar started: motion was seen; ``complete``: it stopped; ``stable``: nothing is moving."""

    def __init__(self, key, frame, status, press_time, animation_start_time, end_time):
        self.key, self.frame, self.status = key, frame, status
        self.press_time = press_time
        self.animation_start_time = animation_start_time
        self.end_time = end_time

    def __bool__(self):
        return self.status == TransitionStatus.COMPLETE

    def __repr__(self):
        return ("Transition(key=%r, frame=<Frame>, status=%s, press_time=%s, "
                "animation_start_time=%s, end_time=%s)" % (
                    self.key, self.status, self.press_time, self.animation_start_time,
                    self.end_time))

    def __str__(self):
        return "%s, duration=%s, animation_duration=%s)" % (
            repr(self)[:-1], self.duration, self.animation_duration)

    @property
    def duration(self):
        if self.end_time is None or self.press_time is None:
            return None
        return self.end_time - self.press_time

    @property
    def animation_duration(self):
        if self.end_time is None or self.animation_start_time is None:
            return None
        return self.end_time - self.animation_start_time

    @property
    def started(self):
        return self.status != TransitionStatus.START_TIMEOUT

    @property
    def complete(self):
        return self.status == TransitionStatus.COMPLETE

    @property
    def stable(self):
        return self.status in (TransitionStatus.START_TIMEOUT, TransitionStatus.COMPLETE)


def press_and_wait(key, mask=Region.ALL, region=Region.ALL, timeout_secs=10, stable_secs=1,
                   min_size=None, retries=0, frames=None):
    """Press ``key``, wait for the screen (within ``mask``) to change, then for it to stay
    unchanged for ``stable_secs``.

    :param timeout_secs: from the key press, for the whole transition.
    :param min_size: ``(width, height)``: smaller differences are not motion.
    :param retries: press again (up to this many times) if nothing moved.
    :param frames: the frames to analyse (default ``stbt.frames()``).
    :returns: a `Transition`, truthy if it completed."""
    from ._frames import frames as live_frames  # noqa: PLC0415
    from ._press import press  # noqa: PLC0415
    mask = _mask_arg("press_and_wait", mask, region)
    if frames is None:
        frames = live_frames()
    frames = iter(frames)
    for attempt in range(retries + 1):
        t = _Transition(mask, timeout_secs, stable_secs, min_size, frames)
        result = t.wait(press(key))
        debug("press_and_wait(%r) -> %s" % (key, result))
        if result.status != TransitionStatus.START_TIMEOUT or attempt == retries:
            return result
        debug("Keypress %s had no effect; retrying %d/%d" % (key, attempt + 1, retries))
    return result


press_and_wait.differ = BGRDiff()


def wait_for_transition_to_end(initial_frame=None, mask=Region.ALL, region=Region.ALL,
                               timeout_secs=10, stable_secs=1, min_size=None, frames=None):
    """Wait for the screen to stop changing; arguments and result as `press_and_wait`, from
    ``initial_frame`` (default: the next frame)."""
    from ._frames import frames as live_frames  # noqa: PLC0415
    mask = _mask_arg("wait_for_transition_to_end", mask, region)
    frames = iter(live_frames() if frames is None else frames)
    result = _Transition(mask, timeout_secs, stable_secs, min_size, frames).to_end(initial_frame)
    debug("wait_for_transition_to_end() -> %s" % (result,))
    return result


class _Transition:
    def __init__(self, mask, timeout_secs, stable_secs, min_size, frames):
        self.mask, self.timeout_secs, self.stable_secs = mask, timeout_secs, stable_secs
        self.min_size, self.frames = min_size, frames
        self.expiry = None

    def _differ(self):
        return press_and_wait.differ.replace(min_size=self.min_size)

    def wait(self, keypress):
        self.expiry = keypress.end_time + self.timeout_secs
        before = keypress.frame_before
        f = None
        if before is None:
            before = next(self.frames)
        dm = DetectMotion(self._differ(), before, self.mask)
        for f in self.frames:
            if f.time is not None and f.time < keypress.end_time:
                continue  # captured before the press reached the device
            if dm.diff(f):
                start = f.time
                break
            if f.time is None or f.time >= self.expiry:
                return Transition(keypress.key, f, TransitionStatus.START_TIMEOUT,
                                  keypress.end_time, None, None)
        else:
            return Transition(keypress.key, f, TransitionStatus.START_TIMEOUT,
                              keypress.end_time, None, None)
        end = self.to_end(f)
        return Transition(keypress.key, end.frame, end.status, keypress.end_time, start,
                          end.end_time)

    def to_end(self, initial):
        if initial is None:
            initial = next(self.frames)
        if self.expiry is None:
            self.expiry = initial.time + self.timeout_secs
        stable_from = initial
        dm = DetectMotion(self._differ(), initial, self.mask)
        f = initial
        for f in self.frames:
            if dm.diff(f):
                stable_from = f
            if f.time - stable_from.time >= self.stable_secs:
                return Transition(None, stable_from, TransitionStatus.COMPLETE, None,
                                  initial.time, stable_from.time)
            if f.time >= self.expiry:
                break
        return Transition(None, f, TransitionStatus.STABLE_TIMEOUT, None, initial.time, None)

"""Video from the device under test: `get_frame`, `frames`. Frames come from the node agent's
ring of frames in shared memory through _agent.py, which is safe to call from any thread."""

import time

from . import _agent
from ._imgutils import Frame


def _fetch(after=0):
    array, t, seq = _agent.frame(after)
    frame = Frame(array, time=t)
    frame.flags.writeable = False
    return frame, seq


def get_frame():
    """The most recent video frame (a read-only `stbt.Frame`). Two calls faster than the frame
    rate may return the same frame; `frames` gives each frame once."""
    return _fetch(0)[0]


def frames(timeout_secs=None):
    """An iterator of the video's frames, each once, in order, for ``timeout_secs`` seconds
    (None: forever; stop iterating whenever you like)."""
    end = None if timeout_secs is None else time.time() + timeout_secs
    seq = 0
    while True:
        frame, seq = _fetch(seq)
        if end is not None and frame.time is not None and frame.time > end:
            return
        yield frame
        if end is not None and frame.time is None and time.time() > end:
            return


def limit_time(frames, duration_secs):
    """``frames`` until one captured more than ``duration_secs`` from now (None: all)."""
    if duration_secs is None:
        yield from frames
        return
    end = time.time() + duration_secs
    for frame in frames:
        t = getattr(frame, "time", None)
        if t is not None and t > end:
            return
        yield frame

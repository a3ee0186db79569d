"""The transport between the stbt module and its node agent: the only module that knows how
frames and key presses travel.

Requests go over the unix socket named by $STBFARM_AGENT_SOCKET, one JSON line each way
(nodesvc/node_stbt.h). Frames never do: while a job runs, the agent converts every frame it
captures to BGR once, into a ring of frames in shared memory (a sealed memfd whose layout is in
nodesvc/node_frames.h); this module maps the ring read-only and copies each frame it returns
out of it, checking the slot's sequence number before and after the copy so that a frame is
never torn. Only waiting for a frame that has not arrived yet asks the agent (a "wait" request
answered when the frame is in the ring).

The rest of the package calls only these functions:
    press(key, hold_secs=None) -> KeySent
        One key press of the job's remote control (held for hold_secs when given). Returns
        KeySent(start_time, end_time), unix seconds: just before the key went to the LIRC
        daemon, and when the daemon said it was sent (for a held key, the end of its release):
        what stb-tester's Keypress.start_time and end_time report. A tuple: callers may ignore it.
    frame(after=0) -> (array, time, seq)
        after=0: the newest frame. Otherwise the first frame newer than seq `after` that the
        ring still holds: seq after + 1, unless the caller fell more than the ring (25 frames,
        1 s at 25 fps, by default) behind, when it is the oldest frame still there. Waits up to
        5 s for a frame newer than `after`. array is a (height, width, 3) uint8 BGR numpy array
        of the caller's own (writable, valid for as long as it is kept); time is when the frame
        was captured, unix seconds; seq numbers the node's frames, 1, 2, 3... without gaps.
    frames(after=0) -> iterator of (array, time, seq)
        Every frame from frame(after) on, in order: none is skipped while the caller keeps
        within the ring of the newest; one that fell further behind sees a gap in seq.
    draw_text(text, duration_secs) -> bool
        Write text on the test run's video recording for duration_secs from now (the agent
        draws it on the frames it encodes). False when nothing is being recorded, or when not
        running on a node at all: the text then is only in the log, which draw_text writes too.
    reset()
        Forget the connection and the ring (tests; a forked child does it by itself).
Errors raise NoVideo (no video) or UITestError (anything else)."""

import array as _array
import json
import mmap
import os
import socket
import threading
import time
from typing import NamedTuple

from ._errors import NoVideo, UITestError

# nodesvc/node_frames.h
_MAGIC = b"SFRING01"
_HEADER = 4096
_SLOT_HEADER = 64
_WAIT_MS = 5000


class KeySent(NamedTuple):
    """When a key press went to the LIRC daemon and when it was sent, unix seconds."""

    start_time: float
    end_time: float


class _Connection:
    """A socket to the agent: one request at a time, from any thread."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.lock = threading.Lock()
        self.pending = b""

    def call(self, **request):
        """The reply to request, and the file descriptors that came with it."""
        fds = []
        with self.lock:
            self.sock.sendall(json.dumps(request).encode() + b"\n")
            while b"\n" not in self.pending:
                data, ancillary, _, _ = self.sock.recvmsg(
                    65536, socket.CMSG_SPACE(4 * _array.array("i").itemsize),
                    socket.MSG_CMSG_CLOEXEC)
                for level, kind, payload in ancillary:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        whole = len(payload) - len(payload) % 4
                        fds.extend(_array.array("i", payload[:whole]))
                if not data:
                    raise UITestError("the node agent closed the connection")
                self.pending += data
            line, _, self.pending = self.pending.partition(b"\n")
        reply = json.loads(line)
        if "error" in reply:
            for fd in fds:
                os.close(fd)
            kind = {"novideo": NoVideo}.get(reply.get("kind"), UITestError)
            raise kind(reply["error"])
        return reply, fds


class _Ring:
    """The agent's ring of frames, mapped read-only (nodesvc/node_frames.h)."""

    def __init__(self, fd, size):
        import numpy  # noqa: PLC0415 - imported on first use to keep test start-up fast
        try:
            self.map = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
        finally:
            os.close(fd)
        if self.map[:8] != _MAGIC:
            self.map.close()
            raise UITestError("the node agent's frames are not in a layout this module reads")
        # 64-bit fields are read through a "Q" view: one aligned load each, never torn
        self.u64 = memoryview(self.map).cast("Q")
        self.u32 = memoryview(self.map).cast("I")
        self.i64 = memoryview(self.map).cast("q")
        self.bytes = numpy.frombuffer(self.map, numpy.uint8)
        self.slots = self.u32[2]
        self.lost_after = self.u32[3] / 1000.0
        self.slot_bytes = self.u64[2]

    def newest(self):
        return self.u64[4]

    def replaced(self):
        return self.u32[10] != 0

    def _at(self, seq):
        return _HEADER + (seq % self.slots) * self.slot_bytes

    def time_of(self, seq):
        return self.i64[(self._at(seq) + 24) // 8] / 1e6

    def read(self, seq):
        """Frame seq as (array, time, seq), copied whole, or None when the ring does not hold
        it (any more)."""
        at = self._at(seq)
        if self.u64[at // 8] != seq:
            return None
        width, height, stride = self.u32[at // 4 + 2], self.u32[at // 4 + 3], self.u32[at // 4 + 4]
        t = self.i64[at // 8 + 3] / 1e6
        pixels = self.bytes[at + _SLOT_HEADER:at + _SLOT_HEADER + height * stride]
        frame = pixels.reshape(height, stride)[:, :width * 3].reshape(height, width, 3).copy()
        if self.u64[at // 8] != seq:  # the agent began to overwrite it while we copied
            return None
        return frame, t, seq


# Two connections, so that a press never queues behind a wait for the next frame: "control"
# (presses, the ring) and "wait". A ring that is replaced or forgotten is unmapped once nothing
# refers to it (a frame returned is a copy, never a view of it).
_connections = {}
_ring = None
_lock = threading.Lock()  # guards _connections and _ring


def _connect(which="control"):
    with _lock:
        conn = _connections.get(which)
        if conn is None:
            path = os.environ.get("STBFARM_AGENT_SOCKET")
            if not path:
                raise UITestError("not running on an stbfarm node ($STBFARM_AGENT_SOCKET is "
                                  "unset)")
            conn = _connections[which] = _Connection(path)
        return conn


def _frames():
    """The ring, mapped on first use and again when the agent replaced it."""
    global _ring
    with _lock:
        ring = _ring
    if ring is not None and not ring.replaced():
        return ring
    reply, fds = _connect().call(op="frames")
    if len(fds) != 1:
        for fd in fds:
            os.close(fd)
        raise UITestError("the node agent sent no frames' memory")
    ring = _Ring(fds[0], reply["size"])
    with _lock:
        _ring = ring
    return ring


def _wait(after):
    """The seq of the newest frame once the ring has one newer than `after`."""
    reply, _ = _connect("wait").call(op="wait", after=after, timeout_ms=_WAIT_MS)
    return reply["newest"]


def reset():
    global _connections, _ring
    with _lock:
        connections, _connections, _ring = _connections, {}, None
    for conn in connections.values():
        conn.sock.close()


def _forget_in_child():
    # the parent's sockets and locks are not the child's to use (another thread may have held
    # them at the fork); closing the child's copies leaves the parent's open
    global _connections, _ring, _lock
    for conn in _connections.values():
        conn.sock.close()
    _connections, _ring, _lock = {}, None, threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def press(key, hold_secs=None):
    reply, _ = _connect().call(op="press", key=key, hold_secs=hold_secs or 0)
    return KeySent(reply["start_time"], reply["end_time"])


def draw_text(text, duration_secs):
    if not os.environ.get("STBFARM_AGENT_SOCKET"):
        return False
    reply, _ = _connect().call(op="draw_text", text=text, duration_secs=duration_secs)
    return reply["recorded"]


def frame(after=0):
    while True:
        ring = _frames()
        newest = ring.newest()
        if after <= 0:
            if not newest or time.time() - ring.time_of(newest) > ring.lost_after:
                newest = _wait(0)  # the agent says whether the video is lost
            want = newest
        else:
            if newest <= after:
                newest = _wait(after)
            want = max(after + 1, newest - ring.slots + 2)  # the oldest one not being rewritten
        if ring.replaced():
            continue
        got = ring.read(want)
        if got is not None:
            return got
        if after > 0:
            after = want  # lost: overwritten while we were behind, or never converted


def frames(after=0):
    array, t, seq = frame(after)
    while True:
        yield array, t, seq
        array, t, seq = frame(seq)

"""The transport between the stbt module and its node agent: the only module that knows how
frames and key presses travel (the unix socket named by $STBFARM_AGENT_SOCKET, one JSON line
per request; a frame comes back as a JSON header line and then its raw BGR bytes).

The rest of the package calls only these functions:
    press(key, hold_secs=None) -> None      one key press of the job's remote control
    frame(after=0) -> (array, time, seq)    the newest frame, or the first one newer than seq
                                            `after`; array is a (height, width, 3) uint8 BGR
                                            numpy array, time in unix seconds
    reset()                                 forget the connection (tests, forked processes)
Errors raise NoVideo (no video) or UITestError (anything else)."""

import json
import os
import socket

from ._errors import NoVideo, UITestError

_agent = None


class _Connection:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.rfile = self.sock.makefile("rb")

    def call(self, **request):
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        line = self.rfile.readline()
        if not line:
            raise UITestError("the node agent closed the connection")
        reply = json.loads(line)
        if "error" in reply:
            kind = {"novideo": NoVideo}.get(reply.get("kind"), UITestError)
            raise kind(reply["error"])
        payload = self.rfile.read(reply["size"]) if reply.get("size") else None
        return reply, payload


def _connect():
    global _agent
    if _agent is None:
        path = os.environ.get("STBFARM_AGENT_SOCKET")
        if not path:
            raise UITestError("not running on an stbfarm node ($STBFARM_AGENT_SOCKET is unset)")
        _agent = _Connection(path)
    return _agent


def reset():
    global _agent
    _agent = None


def press(key, hold_secs=None):
    _connect().call(op="press", key=key, hold_secs=hold_secs or 0)


def frame(after=0):
    import numpy  # noqa: PLC0415 - imported on first use to keep test start-up fast
    reply, data = _connect().call(op="frame", after=after)
    array = numpy.frombuffer(data, dtype=numpy.uint8).reshape(reply["height"], reply["width"], 3)
    return array, reply["time"], reply["seq"]

"""A client of GET /api/v2/events for the tests: Server-Sent Events over a raw socket, decoded
here (HTTP/1.1 chunks, then events) so that nothing between the test and the gateway buffers
them, and a test can also stop reading altogether."""

import json
import socket
import time


class Stream:
    """One event stream over a raw socket: the answer's head, then events one at a time
    (next_event), decoded from the chunked body here so that nothing buffers them."""

    def __init__(self, port, token=None, query="", headers=None, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", port))
        lines = ["GET /api/v2/events%s HTTP/1.1" % query, "Host: 127.0.0.1:%d" % port]
        if token:
            lines.append("Authorization: token " + token)
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.raw = b""
        self.text = ""
        self.status, self.headers, self.body = None, {}, None

    def head(self):
        while b"\r\n\r\n" not in self.raw:
            self._fill()
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        first, *rest = head.decode().split("\r\n")
        self.status = int(first.split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in rest)}
        if self.status != 200:
            n = int(self.headers.get("content-length", "0"))
            while len(self.raw) < n:
                self._fill()
            self.body = json.loads(self.raw[:n])
        return self

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the gateway closed the stream")
        self.raw += data

    def _decode(self):
        while b"\r\n" in self.raw:
            size_line, rest = self.raw.split(b"\r\n", 1)
            size = int(size_line, 16)
            if len(rest) < size + 2:
                return
            self.text += rest[:size].decode()
            self.raw = rest[size + 2:]
            if size == 0:
                raise EOFError("the stream ended")

    def next_event(self, timeout=30):
        """The next event (comments and retry lines skipped): {"id", "event", "data"}."""
        end = time.monotonic() + timeout
        while True:
            while "\n\n" not in self.text:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no event within %s s" % timeout)
                self.sock.settimeout(left)
                self._decode()
                if "\n\n" not in self.text:
                    self._fill()
                    self._decode()
            block, self.text = self.text.split("\n\n", 1)
            ev = {}
            for line in block.split("\n"):
                if line.startswith(":") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                ev[k] = v[1:] if v.startswith(" ") else v
            if "event" in ev:
                ev["data"] = json.loads(ev.get("data", "null"))
                return ev

    def until(self, pred, timeout=60, what="an event"):
        """Every event up to and including the first that pred accepts."""
        end = time.monotonic() + timeout
        seen = []
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %s within %s s; saw %r" % (what, timeout, seen[-10:]))
            seen.append(self.next_event(left))
            if pred(seen[-1]):
                return seen

    def close(self):
        self.sock.close()

"""Recording test results in a test farm: through the real ingest protocol (stbfarm-admin
result push: results.begin, put_chunk, finish via the broker, as a node agent does) or, for
many results at once, straight into the store (stbfarm-admin result load)."""

import hashlib
import json
import os
import struct
import tempfile
import zlib

NODE = "stb-tester-abcdef123456"
JOB = "/stb-tester-abcdef123456/0a23/972"


def record(**fields):
    """A result as `result push` takes it: the fields of GET /api/v2/results/<id>."""
    r = {
        "job_uid": JOB,
        "node_id": NODE,
        "test_case": "tests/epg.py::test_that_epg_is_populated",
        "test_pack_sha": "c2c82cad08114f973e2c36f0bbfbfb0a78dad911",
        "test_pack_branch": "refs/heads/master",
        "username": "johnsmith",
        "job_category": "example",
        "tags": {"model": "T-1000"},
        "start_time": "2015-05-28T14:46:35.354791Z",
        "end_time": "2015-05-28T14:46:42.325432Z",
        "result": "pass",
    }
    r.update(fields)
    return {k: v for k, v in r.items() if v is not None}


def push(farm, rec, artifacts=None, *args, check=True):
    """Push one result; returns the CompletedProcess (stdout: the result id)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=farm.dir, delete=False) as f:
        json.dump(rec, f)
    argv = ["result", "push", "--json", f.name] + list(args)
    if artifacts:
        argv += ["--artifacts", artifacts]
    try:
        return farm.admin(*argv, check=check)
    finally:
        os.unlink(f.name)


def push_id(farm, rec, artifacts=None, *args):
    return push(farm, rec, artifacts, *args).stdout.strip()


def load(farm, records):
    """Store many results without artifacts; returns how many."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", dir=farm.dir, delete=False) as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    try:
        return int(farm.admin("result", "load", f.name).stdout)
    finally:
        os.unlink(f.name)


def png(width=4, height=3):
    """A small valid PNG (grey gradient)."""
    raw = b"".join(b"\x00" + bytes((x * 40 + y * 20) % 256 for x in range(width))
                   for y in range(height))

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_artifacts(root, files):
    """Write {relative path: bytes} under root; returns {path: {"size", "md5"}}."""
    listing = {}
    for path, data in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        listing[path] = {"size": len(data), "md5": hashlib.md5(data).hexdigest()}
    return listing

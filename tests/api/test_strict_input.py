"""Strict input: a NUL anywhere in a request line or header is a 400 before routing (a NUL
never makes a check see a shorter name than the one used), and request bodies are RFC 8259
JSON, nested at most 32 deep, or a 400 naming the problem and its byte offset."""

import json
import os
import socket

import pytest

from farm import REPO, Farm, commit_files
from results_push import NODE as RESULT_NODE, push_id, record, write_artifacts

NODE = "stb-tester-000000000001"
QUICK = "tests/quick.py::test_instant"


@pytest.fixture(scope="module")
def sfarm():
    f = Farm(nodes=1).start()
    commit_files(f.test_pack, {"tests/quick.py": "def test_instant():\n    pass\n"}, "quick")
    f.local = f.dir + "/local-artifacts"
    write_artifacts(f.local, {"stbt.log": b"a log\n", "screenshot.png": b"not a png"})
    f.result_id = push_id(f, record(node_id=RESULT_NODE), f.local)
    yield f
    f.stop()


@pytest.fixture
def api(sfarm):
    return sfarm.session("alice")


def error_of(r, status=400):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()["error"]


def reserve(api, body):
    return api.post("/api/v2/reservations", data=body,
                    headers={"Content-Type": "application/json"})


def end_all(api):
    for r in api.get("/api/v2/reservations").json()["reservations"]:
        api.delete("/api/v2/reservations/%d" % r["reservation_id"])


# ---- NUL in the path, the query string and headers ----

def test_nul_in_a_reservation_path_ends_nothing(api):
    r = reserve(api, json.dumps({"node_ids": [NODE], "message": "mine"}))
    assert r.status_code == 200, r.text
    rid = r.json()["reservations"][0]["reservation_id"]
    try:
        assert "NUL" in error_of(api.delete("/api/v2/reservations/%d%%00999" % rid))
        current = [x["reservation_id"] for x in api.get("/api/v2/reservations").json()
                   ["reservations"]]
        assert rid in current
    finally:
        end_all(api)


def test_nul_in_a_node_path_is_400_not_the_node(api):
    assert api.get("/api/v2/nodes/%s" % NODE).status_code == 200
    assert "NUL" in error_of(api.get("/api/v2/nodes/%s%%00junk" % NODE))


def test_nul_in_an_artifact_path_serves_nothing(sfarm, api):
    base = "/api/v2/results%s/artifacts/" % sfarm.result_id
    assert api.get(base + "stbt.log").status_code == 200
    assert "NUL" in error_of(api.get(base + "stbt.log%00.png"))


def test_nul_in_a_job_path_is_not_the_job(api):
    r = api.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                            "test_cases": [QUICK], "remote_control": "vstb"})
    assert r.status_code == 200, r.text
    uid = r.json()["job_uid"]
    assert api.get("/api/v2/jobs%s/await_completion" % uid).status_code == 200
    assert "NUL" in error_of(api.get("/api/v2/jobs%s%%00/await_completion" % uid))


@pytest.mark.parametrize("query", ["filter=job:x%00y", "%00=1", "tz=UTC&sort=%00"])
def test_nul_in_the_query_string_is_400(api, query):
    assert "NUL" in error_of(api.get("/api/v2/results?" + query))


def test_nul_before_authentication_is_400_too(sfarm):
    r = sfarm.session("alice").get("/api/v2/nodes%00", headers={"Authorization": "nobody"})
    assert "NUL" in error_of(r)


def raw_request(sfarm, data):
    with socket.create_connection(("127.0.0.1", sfarm.ports[0]), timeout=10) as c:
        c.sendall(data)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
            chunk = c.recv(4096)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


@pytest.mark.parametrize("line, header", [
    (b"GET /api/v2/nodes\x00x HTTP/1.1", b""),
    (b"GET /api/v2/nodes HTTP/1.1", b"X-Note: a\x00b\r\n"),
    (b"GET /api/v2/nodes?a=\x00 HTTP/1.1", b""),
])
def test_raw_nul_bytes_in_the_request_are_a_json_400(sfarm, line, header):
    token = sfarm.token("alice").encode()
    status, body = raw_request(sfarm, line + b"\r\nHost: x\r\n" + header +
                               b"Authorization: token " + token + b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400"), status
    assert "error" in json.loads(body)


# ---- JSON bodies outside RFC 8259 ----

# Each body, what the error must say, and where: the offset of the first `mark` in the body.
@pytest.mark.parametrize("body, words, mark", [
    ('{"node_ids": ["%s"], "message": "a\x01b"}' % NODE, "control character (U+0001)", "\x01"),
    ('{"node_ids": ["%s"], "message": "x", "duration_secs": 010}' % NODE, "leading zero", "010"),
    ('{"node_ids": ["%s"], "message": "x",}' % NODE, "trailing comma", "}"),
    ('{"node_ids": ["%s",], "message": "x"}' % NODE, "trailing comma", "]"),
    ('{"node_ids": ["%s"], /* why */ "message": "x"}' % NODE, "comments are not JSON", "/"),
    ('{"node_ids": ["%s"], "message": "x", "message": "y"}' % NODE,
     'a key repeated in one object: "message"', '"message": "y"'),
    ('{"node_ids": ["%s"], "message": "\xff"}' % NODE, "invalid UTF-8", "\xff"),
    ('{"node_ids": ["%s"], "message": "\\ud800"}' % NODE, "high surrogate", "\\"),
    ('{"node_ids": ["%s"], "message": NaN}' % NODE, "expected a value", "NaN"),
    ('{"node_ids": [\'%s\'], "message": "x"}' % NODE, "double quotes", "'"),
])
def test_reservation_bodies_outside_rfc_8259_are_400_with_the_offset(api, body, words, mark):
    data = body.encode("latin-1")  # one byte per character, so offsets are indexes
    message = error_of(reserve(api, data))
    at = body.rindex(mark) if words == "trailing comma" else body.index(mark)
    assert words in message and ("at byte %d:" % at) in message, message
    assert api.get("/api/v2/reservations").json()["reservations"] == []


def test_the_same_reservation_in_strict_json_is_accepted(api):
    r = reserve(api, '{"node_ids": ["%s"], "message": "a\\u0001b", "duration_secs": 10}' % NODE)
    assert r.status_code == 200, r.text
    end_all(api)


@pytest.mark.parametrize("tags", ['{"model": "T\x02"}', '{"model": "T", "model": "U"}'])
def test_run_tests_with_tags_outside_rfc_8259_is_400(api, tags):
    body = ('{"node_id": "%s", "test_pack_revision": "master", "test_cases": ["%s"], '
            '"remote_control": "vstb", "tags": %s}' % (NODE, QUICK, tags))
    message = error_of(api.post("/api/v2/run_tests", data=body))
    assert "invalid JSON at byte" in message


@pytest.mark.parametrize("levels", [33, 700, 900, 100000])
def test_deeply_nested_bodies_are_400_and_the_gateway_lives(sfarm, api, levels):
    body = "[" * levels + "]" * levels
    assert body[:1] == "[" and len(body) < 1024 * 1024
    message = error_of(reserve(api, body))
    assert "nested more than 32 levels deep" in message and "at byte 32:" in message
    assert sfarm.proc("gateway0").alive()
    assert api.get("/api/v2/nodes").status_code == 200


def test_32_levels_are_parsed(api):
    body = '{"node_ids": ["%s"], "message": "x", "x": %s}' % (NODE, "[" * 31 + "]" * 31)
    r = reserve(api, body)
    assert r.status_code == 200, r.text
    end_all(api)


# ---- the check against a reference parser ----

def json_check(texts):
    """sf_json_check's verdict (True: accepted) on each of texts (bytes)."""
    import struct
    import subprocess
    from farm import BUILD
    data = b"".join(struct.pack("<I", len(t)) + t for t in texts)
    out = subprocess.run([os.path.join(BUILD, "tests", "unit", "json_check_cli")], input=data,
                         capture_output=True, check=True).stdout
    assert len(out) == len(texts)
    return [c == ord("1") for c in out]


def python_accepts(text):
    try:
        json.loads(text.decode("utf-8"))
        return True
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False


def random_value(rng, depth=0):
    kind = rng.randrange(8 if depth < 6 else 5)
    if kind == 0:
        return rng.choice([True, False, None])
    if kind == 1:
        return rng.randrange(-10 ** 12, 10 ** 12)
    if kind == 2:
        return rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-30, 30)
    if kind in (3, 4):
        alphabet = "ab\"\\/\b\f\n\r\t\x01\x1f\x7f é€😀\u2028"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {"k%d%s" % (i, rng.choice(["", "é", "\\"])): random_value(rng, depth + 1)
            for i in range(rng.randrange(4))}


INTERESTING = [b"\x00", b"\x01", b"\x1f", b'"', b"\\", b",", b"]", b"}", b"[", b"{", b"0", b"1",
               b"-", b"+", b".", b"e", b"E", b"/", b"*", b"'", b"\xff", b"\xc0", b"\xed\xa0",
               b"\xf4\x90", b"\\u", b"d8", b"\\ud800", b"\t", b"\n", b" ", b":", b"00", b"NaN",
               b"tru", b"null", b'"k0"', b"\xef\xbb\xbf"]


def mutate(rng, text):
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(text) + 1)
        op = rng.randrange(3)
        piece = rng.choice(INTERESTING)
        if op == 0:
            text = text[:at] + piece + text[at:]
        elif op == 1:
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + piece + text[at + len(piece):]
    return text


def test_every_text_the_check_accepts_python_json_accepts_too():
    import random
    rng = random.Random(8259)
    valid = []
    for _ in range(3000):
        v = random_value(rng)
        valid.append(json.dumps(v, ensure_ascii=rng.random() < 0.5,
                                indent=rng.choice([None, 1, "\t"])).encode())
    mutants = [mutate(rng, rng.choice(valid)) for _ in range(30000)]
    corpus = os.path.join(REPO, "tests", "fuzz", "corpus")
    seeds = []
    for d in ("fuzz_json_check", "fuzz_json_request"):
        for name in sorted(os.listdir(os.path.join(corpus, d))):
            with open(os.path.join(corpus, d, name), "rb") as f:
                seeds.append(f.read())
    texts = valid + mutants + seeds
    verdicts = json_check(texts)
    wrongly_accepted = [t for t, ok in zip(texts, verdicts) if ok and not python_accepts(t)]
    assert not wrongly_accepted[:5]
    # what Python writes (no NUL, 32 levels at most, no repeated keys) is strict JSON
    refused = [t for t, ok in zip(valid, verdicts) if not ok and b"\\u0000" not in t]
    assert not refused[:5]
    # the mutations do reach both answers
    assert 0.05 < sum(verdicts[len(valid):len(valid) + len(mutants)]) / len(mutants) < 0.95

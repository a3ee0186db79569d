"""GET /api/v2/events: the farm's changes as Server-Sent Events (docs/api.md, "Events"). Every
event is the object as its GET shows it, with the feed's id; a client that resumes with
Last-Event-ID misses nothing still kept, and is told when something may be gone; streams are
capped per gateway and per token; a client that stops reading is cut off."""

import re
import subprocess

import pytest

from farm import Farm, wait_until
from sse import Stream

NODE = "stb-tester-000000000001"
MENU = "tests/menu.py::test_that_menu_appears_when_menu_key_is_pressed"
ID_RE = re.compile(r"^\d+-\d+$")


def stream(farm, user="alice", auth=True, **kw):
    return Stream(farm.ports[0], farm.token(user) if auth else None, **kw)


def open_stream(farm, **kw):
    s = stream(farm, **kw).head()
    assert s.status == 200, s.body
    assert s.headers["content-type"] == "text/event-stream"
    return s


@pytest.fixture(scope="module")
def farm():
    f = Farm(nodes=1).start()
    f.admin("node", "register", "stb-tester-000000000002", "--alive")
    f.wait_node(1)
    yield f
    f.stop()


def reserve(s, node="stb-tester-000000000002"):
    r = s.post("/api/v2/reservations", json={"node_ids": [node], "message": "events"})
    assert r.status_code == 200, r.text
    return r.json()["reservations"][0]["reservation_id"]


def end_reservation(s, rid):
    assert s.delete("/api/v2/reservations/%d" % rid).status_code == 204


def is_(event, key, value):
    return lambda e: e["event"] == event and e["data"].get(key) == value


def test_events_need_a_token(farm):
    s = stream(farm, auth=False).head()
    assert s.status == 403 and "error" in s.body
    s.close()


@pytest.mark.parametrize("query,headers,words", [
    ("?topics=jobs,bogus", {}, "'bogus' is not a topic"),
    ("?topics=", {}, "is not a topic"),
    ("?topics=jobs,,nodes", {}, "is not a topic"),
    ("", {"Last-Event-ID": "12-x"}, "Last-Event-ID"),
    ("?last_event_id=-1-0", {}, "Last-Event-ID"),
    ("?last_event_id=99999999999999999999999-0", {}, "Last-Event-ID"),
])
def test_bad_topics_or_last_event_id_are_400(farm, query, headers, words):
    s = stream(farm, query=query, headers=headers).head()
    assert s.status == 400 and words in s.body["error"], s.body
    s.close()


def test_a_job_its_node_and_its_result_come_as_their_new_state(farm):
    api = farm.session("alice")
    s = open_stream(farm, query="?topics=jobs,nodes,results")
    r = api.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                            "test_cases": [MENU], "remote_control": "vstb"})
    assert r.status_code == 200, r.text
    uid = r.json()["job_uid"]
    seen = s.until(lambda e: e["event"] == "job" and e["data"]["job_uid"] == uid
                   and e["data"]["status"] == "exited", 120, "the job's end")
    jobs = [e for e in seen if e["event"] == "job" and e["data"]["job_uid"] == uid]
    assert jobs[-1]["data"] == api.get("/api/v2/jobs" + uid).json()
    assert {e["event"] for e in seen} >= {"job", "node"}
    nodes = [e for e in seen if e["event"] == "node" and e["data"]["node_id"] == NODE]
    assert nodes and all(set(e["data"]) == set(api.get("/api/v2/nodes/" + NODE).json())
                         for e in nodes)
    result = [e for e in seen if e["event"] == "result"]
    if not result:
        result = s.until(lambda e: e["event"] == "result", 30, "the result")[-1:]
    assert result[0]["data"]["job_uid"] == uid
    assert result[0]["data"] == api.get("/api/v2/results" + result[0]["data"]["result_id"]).json()
    ids = [e["id"] for e in seen]
    assert all(ID_RE.match(i) for i in ids) and ids == sorted(
        ids, key=lambda i: tuple(map(int, i.split("-"))))
    s.close()


def test_a_reservation_and_its_node_come_on_their_topics_only(farm):
    api = farm.session("alice")
    s = open_stream(farm, query="?topics=reservations")
    rid = reserve(api)
    made = s.until(is_("reservation", "reservation_id", rid), what="the reservation")[-1]
    assert made["data"] == api.get("/api/v2/reservations/%d" % rid).json()
    end_reservation(api, rid)
    ended = s.until(lambda e: e["data"].get("end_reason") == "ended", what="its end")
    assert all(e["event"] == "reservation" for e in ended)
    s.close()


def test_a_node_going_online_and_offline_is_a_node_event(farm):
    s = open_stream(farm, query="?topics=nodes")
    node = "stb-tester-00000000e7e7"
    farm.admin("node", "register", node, "--alive")
    s.until(lambda e: e["data"]["node_id"] == node and e["data"]["online"], what="online")
    # no heartbeats follow: the node is offline within the online TTL, and said so
    s.until(lambda e: e["data"]["node_id"] == node and not e["data"]["online"], 30,
            what="offline")
    s.close()


def test_maintenance_on_and_off_is_a_node_event(farm):
    node = "stb-tester-000000000002"
    s = open_stream(farm, query="?topics=nodes")
    farm.admin("node", "register", node, "--alive")
    farm.admin("node", "maintenance", node, "on", "--message", "new HDMI cable")
    s.until(lambda e: e["data"]["node_id"] == node
            and e["data"]["not_available_reason"] == "new HDMI cable", what="maintenance on")
    farm.admin("node", "maintenance", node, "off")
    s.until(lambda e: e["data"]["node_id"] == node and e["data"]["available"], what="off")
    s.close()


def test_a_queued_job_comes_as_queued_then_until_its_end(farm):
    api = farm.session("alice")
    s = open_stream(farm, query="?topics=jobs")
    farm.admin("node", "maintenance", NODE, "on", "--message", "hold the queue")
    try:
        r = api.post("/api/v2/run_tests", json={
            "node_id": NODE, "test_pack_revision": "master", "test_cases": [MENU],
            "remote_control": "vstb", "queue": True})
        assert r.status_code == 200, r.text
        uid = r.json()["job_uid"]
        s.until(lambda e: e["data"]["job_uid"] == uid and e["data"]["status"] == "queued",
                what="queued")
    finally:
        farm.admin("node", "maintenance", NODE, "off")
    s.until(lambda e: e["data"]["job_uid"] == uid and e["data"]["status"] == "exited", 120,
            what="started and ended")
    s.close()


def test_resuming_with_last_event_id_misses_nothing(farm):
    api = farm.session("alice")
    always = open_stream(farm, query="?topics=reservations")
    first = open_stream(farm, query="?topics=reservations")
    rids = [reserve(api)]
    end_reservation(api, rids[0])
    got = first.until(lambda e: e["data"].get("end_reason") == "ended")
    first.close()
    for _ in range(3):  # while nobody reads
        rids.append(reserve(api))
        end_reservation(api, rids[-1])
    want = always.until(lambda e: e["data"]["reservation_id"] == rids[-1]
                        and e["data"].get("end_reason") == "ended")
    for how in ("header", "query"):
        if how == "header":
            again = open_stream(farm, query="?topics=reservations",
                                headers={"Last-Event-ID": got[-1]["id"]})
        else:
            again = open_stream(farm, query="?topics=reservations&last_event_id=" + got[-1]["id"])
        rest = again.until(lambda e: e["id"] == want[-1]["id"])
        assert [e["id"] for e in got + rest] == [e["id"] for e in want]
        assert "lost" not in [e["event"] for e in rest]
        again.close()
    always.close()


def test_past_the_retained_history_comes_a_lost_event(farm):
    api = farm.session("alice")
    s = open_stream(farm, query="?topics=reservations")
    rid = reserve(api)
    old = s.until(is_("reservation", "reservation_id", rid))[-1]["id"]
    s.close()
    end_reservation(api, rid)
    rid2 = reserve(api)
    end_reservation(api, rid2)
    # keep only the newest two entries (the second reservation's end and its node's): the
    # first reservation's end is gone
    farm.redis("XTRIM", "sf:events", "MAXLEN", "2")
    again = open_stream(farm, query="?topics=reservations", headers={"Last-Event-ID": old})
    lost = again.next_event()
    assert lost["event"] == "lost" and "afresh" in lost["data"]["error"]
    assert again.next_event()["data"]["end_reason"] == "ended"  # then what is kept
    again.close()
    # an id from beyond the stream's end (Redis lost its data, say): lost too
    future = open_stream(farm, headers={"Last-Event-ID": "99999999999999-0"})
    assert future.next_event()["event"] == "lost"
    future.close()


def test_results_topic_needs_a_role_that_reads_results(farm):
    farm.user("manny", "manual")
    s = stream(farm, user="manny", query="?topics=results").head()
    assert s.status == 403 and "results topic" in s.body["error"], s.body
    s.close()
    ok = open_stream(farm, user="manny", query="?topics=nodes,reservations")
    ok.close()


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": ["--max-event-streams", "5"]}],
                         indirect=True)
def test_streams_are_capped_per_token_429_and_per_gateway_503(fresh_farm):
    held = [open_stream(fresh_farm, user="alice") for _ in range(4)]
    s = stream(fresh_farm, user="alice").head()
    assert s.status == 429 and "per token" in s.body["error"]
    assert int(s.headers["retry-after"]) > 0
    s.close()
    held.append(open_stream(fresh_farm, user="bob"))
    s = stream(fresh_farm, user="carol").head()
    assert s.status == 503 and "event streams" in s.body["error"]
    s.close()
    for h in held:
        h.close()


def test_a_reader_that_stops_reading_is_cut_off(farm):
    api = farm.session("alice")
    rid = reserve(api)
    slow = stream(farm, user="slowpoke", query="?topics=reservations", rcvbuf=4096).head()
    assert slow.status == 200
    # a few thousand events for the client to take; it takes none
    cmds = "".join("XADD sf:events * t reservations k %d\n" % rid for _ in range(3000))
    subprocess.run(["redis-cli", "-s", farm.redis_sock], input=cmds, text=True, check=True,
                   capture_output=True)
    wait_until(lambda: re.search(r"GET /api/v2/events 200 \d+B [\d.]+ms user=slowpoke",
                                 farm.proc("gateway0").log()), 60, what="the slow reader cut off")
    # the stream gave up: others are served as before
    s = open_stream(farm, query="?topics=reservations")
    end_reservation(api, rid)
    s.until(is_("reservation", "reservation_id", rid))
    s.close()
    slow.close()


def test_a_revoked_tokens_stream_ends(farm):
    tok = farm.admin("token", "create", "revokee").stdout.strip()
    s = Stream(farm.ports[0], tok, query="?topics=reservations").head()
    assert s.status == 200
    farm.admin("token", "revoke", tok)
    with pytest.raises(EOFError):
        while True:  # keepalives and events, until the gateway ends the stream
            s.next_event(timeout=30)
    s.close()

"""Reservations: exclusive use of nodes, atomic across nodes, ended by their owner, by another
user's interruption or by their expiry, and shown in node status."""

import datetime
import re
import threading
import time

import pytest
import requests

from farm import Farm, make_test_pack, wait_ok, wait_until

NODES = ["stb-tester-%012d" % i for i in range(1, 5)]
N1, N2, N3, N4 = NODES
SPEC_FIELDS = {"expires", "message", "message_html", "node_id", "reservation_id",
               "reserved_by_you", "start_time", "username"}
EXTRA_FIELDS = {"end_time", "end_reason", "interruption"}  # beyond the spec: docs/api.md
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def parse_time(text):
    return datetime.datetime.fromisoformat(text).timestamp()


def register_nodes(farm):
    for n in NODES:
        farm.admin("node", "register", n, "--alive")


@pytest.fixture(scope="module")
def rfarm(tmp_path_factory):
    pack = str(tmp_path_factory.mktemp("pack"))
    make_test_pack(pack, {
        ".stbt.conf": "[test_pack]\ndefault_remote_control = vstb\n",
        "config/remote-control/vstb.lircd.conf": "begin remote\n  name vstb\nend remote\n",
        "tests/menu.py": "def test_menu_opens():\n    pass\n",
    })
    f = Farm(test_pack=pack).start()
    register_nodes(f)
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def no_reservations_left(request):
    """Each test starts with every node online (nodes count as online for a few seconds after
    registering) and free: end what the previous test left."""
    if "rfarm" not in request.fixturenames:
        yield
        return
    f = request.getfixturevalue("rfarm")
    register_nodes(f)
    yield
    s = f.session("cleaner")
    for r in s.get("/api/v2/reservations").json()["reservations"]:
        s.post("/api/v2/reservations/%d/interrupt" % r["reservation_id"],
               json={"message": "test clean-up"})
    for n in NODES:
        f.redis("del", "sf:node:%s:job" % n)


@pytest.fixture
def alice(rfarm):
    return rfarm.session("alice")


@pytest.fixture
def bob(rfarm):
    return rfarm.session("bob")


def reserve(s, nodes, message="soak", **kw):
    body = {"node_ids": nodes, "message": message}
    body.update(kw)
    return s.post("/api/v2/reservations", json=body)


def reserve_ok(s, nodes, message="soak", **kw):
    r = reserve(s, nodes, message, **kw)
    assert r.status_code == 200, r.text
    return r.json()["reservations"]


def node(s, node_id):
    r = s.get("/api/v2/nodes/" + node_id)
    assert r.status_code == 200
    return r.json()


# ---- reserving ----

def test_reserve_two_nodes_returns_a_reservation_per_node(alice):
    before = time.time()
    rs = reserve_ok(alice, [N1, N2],
                    "Reserved for overnight DVR soak\n\nSee JIRA-12345 for details",
                    duration_secs=12 * 60 * 60)
    assert [r["node_id"] for r in rs] == [N1, N2]
    for r in rs:
        assert set(r) == SPEC_FIELDS | EXTRA_FIELDS
        assert isinstance(r["reservation_id"], int)
        assert r["username"] == "alice"
        assert r["reserved_by_you"] is True
        assert r["message"] == "Reserved for overnight DVR soak\n\nSee JIRA-12345 for details"
        assert r["message_html"] == ("<p>Reserved for overnight DVR soak</p>\n"
                                     "<p>See JIRA-12345 for details</p>")
        assert TIME_RE.match(r["start_time"]) and TIME_RE.match(r["expires"])
        start, expires = parse_time(r["start_time"]), parse_time(r["expires"])
        assert before - 1 <= start <= time.time()
        # held at least as long as asked; expires is a whole second, rounded up
        assert 12 * 3600 <= expires - start <= 12 * 3600 + 1
        assert r["end_time"] is None and r["end_reason"] is None and r["interruption"] is None
    assert rs[0]["reservation_id"] != rs[1]["reservation_id"]


@pytest.mark.parametrize("extra", [{}, {"duration_secs": None}])
def test_reservation_without_duration_never_expires(alice, extra):
    (r,) = reserve_ok(alice, [N1], **extra)
    assert r["expires"] is None


def test_reservation_ids_are_unique_and_increase(alice):
    a = reserve_ok(alice, [N1, N2])
    b = reserve_ok(alice, [N3])
    ids = [r["reservation_id"] for r in a + b]
    assert ids == sorted(ids) and len(set(ids)) == 3


@pytest.mark.parametrize("body, words", [
    ({"node_ids": [N1]}, "message is mandatory"),
    ({"node_ids": [N1], "message": None}, "message is mandatory"),
    ({"node_ids": [N1], "message": ""}, "message must not be empty"),
    ({"node_ids": [N1], "message": "  \n"}, "message must not be empty"),
    ({"node_ids": [N1], "message": 5}, "message must be"),
    ({"message": "m"}, "node_ids"),
    ({"node_ids": [], "message": "m"}, "node_ids"),
    ({"node_ids": N1, "message": "m"}, "node_ids must be"),
    ({"node_ids": [N1, 3], "message": "m"}, "node_ids[1]"),
    ({"node_ids": [N1, N1], "message": "m"}, "twice"),
    ({"node_ids": [N1], "message": "m", "duration_secs": 0}, "duration_secs"),
    ({"node_ids": [N1], "message": "m", "duration_secs": -60}, "duration_secs"),
    ({"node_ids": [N1], "message": "m", "duration_secs": 1.5}, "duration_secs"),
    ({"node_ids": [N1], "message": "m", "duration_secs": "60"}, "duration_secs"),
    ({"node_ids": [N1], "message": "m", "duration_secs": True}, "duration_secs"),
    ({"node_ids": [N1], "message": "m", "duration_secs": 10 ** 12}, "duration_secs"),
])
def test_invalid_reservation_request_is_400_and_reserves_nothing(alice, body, words):
    r = alice.post("/api/v2/reservations", json=body)
    assert r.status_code == 400, r.text
    assert words in r.json()["error"]
    assert node(alice, N1)["reservation"] is None


@pytest.mark.parametrize("data", ["", "{", "[]", '{"node_ids": ["%s"], "message": "m"} x' % N1])
def test_malformed_body_is_400(alice, data):
    r = alice.post("/api/v2/reservations", data=data)
    assert r.status_code == 400
    assert r.json()["error"]


def test_message_must_be_utf8(alice):
    body = b'{"node_ids": ["%s"], "message": "caf\xe9"}' % N1.encode()
    r = alice.post("/api/v2/reservations", data=body)
    assert r.status_code == 400
    assert "UTF-8" in r.json()["error"]


def test_unknown_node_is_404_and_reserves_nothing(alice):
    r = reserve(alice, [N1, "stb-tester-nope"])
    assert r.status_code == 404
    assert r.json() == {"error": "unknown node_id 'stb-tester-nope'"}
    assert node(alice, N1)["reservation"] is None
    r = reserve(alice, [N1, "bad:id"])
    assert r.status_code == 404


def test_a_set_with_one_taken_node_reserves_nothing(alice, bob):
    reserve_ok(bob, [N2], "mine")
    r = reserve(alice, [N1, N2, N3])
    assert r.status_code == 409
    assert r.json() == {"error": "Node %s is already reserved by @bob: mine" % N2}
    for n in (N1, N3):
        assert node(alice, n)["reservation"] is None
    assert [x["node_id"] for x in alice.get("/api/v2/reservations").json()["reservations"]] == [N2]


def test_reserving_a_node_you_hold_is_409_too(alice):
    reserve_ok(alice, [N1])
    assert reserve(alice, [N1]).status_code == 409


def test_busy_node_is_409(rfarm, alice):
    rfarm.redis("set", "sf:node:%s:job" % N2, "/%s/0000/1" % N2)
    r = reserve(alice, [N1, N2])
    assert r.status_code == 409
    assert r.json() == {"error": "Node %s is busy running a job" % N2}
    assert node(alice, N1)["reservation"] is None


def test_reserving_records_last_used_by(alice):
    reserve_ok(alice, [N3])
    n = node(alice, N3)
    assert n["last_used_by"] == "alice"


# ---- node status ----

def test_node_status_shows_the_reservation_to_everyone(alice, bob):
    (r,) = reserve_ok(alice, [N1], "Overnight DVR soak", duration_secs=3600)
    mine, theirs = node(alice, N1), node(bob, N1)
    for n in (mine, theirs):
        assert n["available"] is False
        assert n["not_available_reason"] == "Node %s reserved by @alice" % N1
    assert mine["reservation"] == r
    assert theirs["reservation"] == dict(r, reserved_by_you=False)
    assert mine["reservation"]["message_html"] == "<p>Overnight DVR soak</p>"


def test_node_list_shows_reservations(alice, bob):
    reserve_ok(alice, [N2])
    nodes = {n["node_id"]: n for n in bob.get("/api/v2/nodes").json()}
    assert nodes[N2]["reservation"]["username"] == "alice"
    assert nodes[N2]["available"] is False
    assert nodes[N1]["reservation"] is None
    assert nodes[N1]["available"] is True


def test_offline_wins_over_reserved_as_the_reason(rfarm, alice):
    rfarm.admin("node", "register", "stb-tester-offline")
    reserve_ok(alice, ["stb-tester-offline"])
    n = node(alice, "stb-tester-offline")
    assert n["reservation"]["username"] == "alice"
    assert n["not_available_reason"] == "Node stb-tester-offline is offline"


# ---- ending ----

def test_two_nodes_reserved_and_ended(alice, bob):
    rs = reserve_ok(alice, [N1, N2], duration_secs=600)
    for r in rs:
        d = alice.delete("/api/v2/reservations/%d" % r["reservation_id"])
        assert d.status_code == 204
        assert d.content == b""
    for n in (N1, N2):
        st = node(bob, n)
        assert st["reservation"] is None
        assert st["available"] is True
        assert st["not_available_reason"] is None
    got = alice.get("/api/v2/reservations/%d" % rs[0]["reservation_id"]).json()
    assert got["end_reason"] == "ended"
    assert TIME_RE.match(got["end_time"])
    reserve_ok(bob, [N1, N2])


def test_ending_an_ended_reservation_is_204(alice):
    (r,) = reserve_ok(alice, [N1])
    url = "/api/v2/reservations/%d" % r["reservation_id"]
    assert alice.delete(url).status_code == 204
    assert alice.delete(url).status_code == 204


def test_only_the_owner_may_end_a_reservation(alice, bob):
    (r,) = reserve_ok(alice, [N1])
    d = bob.delete("/api/v2/reservations/%d" % r["reservation_id"])
    assert d.status_code == 403
    assert "not made by you" in d.json()["error"]
    assert node(bob, N1)["reservation"]["username"] == "alice"


@pytest.mark.parametrize("rid", ["999999", "0", "-1", "abc", "1.5"])
def test_unknown_reservation_is_404(alice, rid):
    for r in (alice.delete("/api/v2/reservations/" + rid),
              alice.get("/api/v2/reservations/" + rid),
              alice.post("/api/v2/reservations/%s/extend" % rid, json={"duration_secs": 5}),
              alice.post("/api/v2/reservations/%s/interrupt" % rid, json={"message": "m"})):
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
        assert r.json()["error"]


# ---- extending ----

def test_extend_moves_expires_by_the_duration(alice):
    (r,) = reserve_ok(alice, [N1], duration_secs=60)
    url = "/api/v2/reservations/%d" % r["reservation_id"]
    e = alice.post(url + "/extend", json={"duration_secs": 600})
    assert e.status_code == 204
    assert e.content == b""
    got = alice.get(url).json()
    assert parse_time(got["expires"]) - parse_time(r["expires"]) == 600
    assert node(alice, N1)["reservation"]["expires"] == got["expires"]


def test_extend_a_reservation_that_never_expires_changes_nothing(alice):
    (r,) = reserve_ok(alice, [N1])
    url = "/api/v2/reservations/%d" % r["reservation_id"]
    assert alice.post(url + "/extend", json={"duration_secs": 60}).status_code == 204
    assert alice.get(url).json()["expires"] is None


def test_only_the_owner_may_extend(alice, bob):
    (r,) = reserve_ok(alice, [N1], duration_secs=60)
    e = bob.post("/api/v2/reservations/%d/extend" % r["reservation_id"],
                 json={"duration_secs": 60})
    assert e.status_code == 403
    assert "not created by you" in e.json()["error"]


def test_extend_an_ended_reservation_is_400(alice):
    (r,) = reserve_ok(alice, [N1], duration_secs=60)
    url = "/api/v2/reservations/%d" % r["reservation_id"]
    alice.delete(url)
    e = alice.post(url + "/extend", json={"duration_secs": 60})
    assert e.status_code == 400
    assert "already ended" in e.json()["error"]


@pytest.mark.parametrize("body", [None, {}, {"duration_secs": None}, {"duration_secs": 0},
                                  {"duration_secs": -1}, {"duration_secs": "5"},
                                  {"duration_secs": 2.5}])
def test_extend_needs_a_positive_integer_duration(alice, body):
    (r,) = reserve_ok(alice, [N1], duration_secs=60)
    e = alice.post("/api/v2/reservations/%d/extend" % r["reservation_id"], json=body)
    assert e.status_code == 400
    assert "duration_secs" in e.json()["error"]


# ---- interrupting ----

def test_another_user_interrupts_and_the_owner_sees_who_and_why(alice, bob):
    (r,) = reserve_ok(alice, [N1], duration_secs=3600)
    url = "/api/v2/reservations/%d" % r["reservation_id"]
    message = "Node needed for emergency regression testing\n\nSee JIRA-54321."
    i = bob.post(url + "/interrupt", json={"message": message})
    assert i.status_code == 204
    assert node(bob, N1)["reservation"] is None
    got = alice.get(url).json()
    assert got["reserved_by_you"] is True
    assert got["end_reason"] == "interrupted"
    assert got["interruption"] == {
        "username": "bob",
        "message": "Node needed for emergency regression testing\n\nSee JIRA-54321.",
        "message_html": "<p>Node needed for emergency regression testing</p>\n"
                        "<p>See JIRA-54321.</p>"}
    reserve_ok(bob, [N1])


def test_interrupting_an_ended_reservation_is_204_and_keeps_the_first_end(alice, bob):
    (r,) = reserve_ok(alice, [N1])
    url = "/api/v2/reservations/%d" % r["reservation_id"]
    assert bob.post(url + "/interrupt", json={"message": "first"}).status_code == 204
    assert bob.post(url + "/interrupt", json={"message": "second"}).status_code == 204
    assert alice.get(url).json()["interruption"]["message"] == "first"
    alice.delete(url)


@pytest.mark.parametrize("body", [None, {}, {"message": None}, {"message": ""},
                                  {"message": " "}, {"message": ["x"]}])
def test_interrupt_needs_a_message(alice, bob, body):
    (r,) = reserve_ok(alice, [N1])
    i = bob.post("/api/v2/reservations/%d/interrupt" % r["reservation_id"], json=body)
    assert i.status_code == 400
    assert "message" in i.json()["error"]
    assert node(bob, N1)["reservation"]["username"] == "alice"


# ---- expiry ----

def test_a_reservation_ends_by_itself_at_expires(rfarm, alice, bob):
    (r,) = reserve_ok(alice, [N1], duration_secs=1)
    rid = r["reservation_id"]
    expires = parse_time(r["expires"])
    assert node(bob, N1)["reservation"]["reservation_id"] == rid
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    # at once, with nothing else asking first
    st = node(bob, N1)
    assert st["reservation"] is None
    assert st["available"] is True
    got = alice.get("/api/v2/reservations/%d" % rid).json()
    assert got["end_reason"] == "expired"
    assert got["end_time"] == r["expires"]
    assert alice.get("/api/v2/reservations").json() == {"reservations": []}
    # the service writes the end down at that time too
    wait_until(lambda: rfarm.redis("hget", "sf:resv:%d" % rid, "end_reason").strip() == "expired",
               3, what="the expiry recorded")
    assert rfarm.redis("zscore", "sf:resv:current", rid).strip() == ""
    assert bob.post("/api/v2/reservations/%d/extend" % rid,
                    json={"duration_secs": 5}).status_code == 403
    assert alice.post("/api/v2/reservations/%d/extend" % rid,
                      json={"duration_secs": 5}).status_code == 400
    assert alice.delete("/api/v2/reservations/%d" % rid).status_code == 204


# ---- listing and reading ----

def test_list_shows_current_reservations_for_the_caller(alice, bob):
    a = reserve_ok(alice, [N1, N2])
    b = reserve_ok(bob, [N3])
    alice.delete("/api/v2/reservations/%d" % a[1]["reservation_id"])
    got = bob.get("/api/v2/reservations").json()["reservations"]
    assert [r["reservation_id"] for r in got] == [a[0]["reservation_id"], b[0]["reservation_id"]]
    assert [r["reserved_by_you"] for r in got] == [False, True]


def test_get_one_reservation(alice, bob):
    (r,) = reserve_ok(alice, [N1], duration_secs=60)
    got = bob.get("/api/v2/reservations/%d" % r["reservation_id"]).json()
    assert got == dict(r, reserved_by_you=False)


def test_markdown_with_script_comes_back_escaped(alice, bob):
    (r,) = reserve_ok(alice, [N1], "Hi <script>alert('x')</script> *there*\n\n<script>\nboom()\n"
                                   "</script>\n\n[x](javascript:alert(1))")
    html = r["message_html"]
    assert "<script" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt; <em>there</em>" in html
    assert "<p>&lt;script&gt;\nboom()\n&lt;/script&gt;</p>" in html
    assert node(bob, N1)["reservation"]["message_html"] == html


def test_reservation_endpoints_need_a_token(rfarm):
    for method, path in [("GET", "/api/v2/reservations"), ("POST", "/api/v2/reservations"),
                         ("GET", "/api/v2/reservations/1"), ("DELETE", "/api/v2/reservations/1"),
                         ("POST", "/api/v2/reservations/1/extend"),
                         ("POST", "/api/v2/reservations/1/interrupt")]:
        r = requests.request(method, rfarm.url + path, json={})
        assert r.status_code == 403, (method, path)


def test_wrong_method_is_405(alice):
    r = alice.put("/api/v2/reservations")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, POST"


# ---- what a reservation keeps others from doing ----

def served(r):
    return not (r.status_code == 404 and r.json().get("error", "").startswith("no such endpoint"))


def test_a_reserved_node_refuses_another_users_press(alice, bob):
    reserve_ok(alice, [N1], "hands off")
    r = bob.post("/api/v2/nodes/%s/press" % N1, json={"key": "KEY_MENU"})
    if not served(r):
        pytest.skip("press is not served yet (nodes issue)")
    assert r.status_code == 409
    assert r.json() == {"error": "Node %s is reserved by @alice: hands off" % N1}
    assert alice.post("/api/v2/nodes/%s/press" % N1, json={"key": "KEY_MENU"}).status_code != 409


def test_a_reserved_node_refuses_another_users_run_tests(alice, bob):
    reserve_ok(alice, [N1], "hands off\n\n*really*")
    body = {"node_id": N1, "test_pack_revision": "master",
            "test_cases": ["tests/menu.py::test_menu_opens"]}
    r = bob.post("/api/v2/run_tests", json=body)
    assert r.status_code == 409
    assert r.json() == {"error": "Node %s is reserved by @alice: hands off *really*" % N1}
    # the holder gets past the reservation (to the node agent, which this farm lacks)
    r = alice.post("/api/v2/run_tests", json=body)
    assert r.status_code == 503 and "did not accept the job" in r.json()["error"]


def test_a_reserved_node_refuses_another_user_stopping_its_job(rfarm, alice, bob):
    # a job running on the node, as the jobs service records one (no node agent here)
    uid = "/%s/0000/1" % N1
    rfarm.redis("hset", "sf:job:" + uid, "node_id", N1, "user", "alice", "status", "running",
                "start_us", int(time.time() * 1e6), "sha", "0" * 40, "branch", "master",
                "test_cases", "[]", "tags", "{}", "total", 0)
    rfarm.redis("set", "sf:node:%s:job" % N1, uid)
    try:
        reserve_ok(alice, [N2], "other node")
        assert reserve(alice, [N1]).status_code == 409  # busy
        rfarm.redis("del", "sf:node:%s:job" % N1)
        reserve_ok(alice, [N1], "hands off")
        rfarm.redis("set", "sf:node:%s:job" % N1, uid)
        want = {"error": "Node %s is reserved by @alice: hands off" % N1}
        for r in (bob.put("/api/v2/jobs%s/stop" % uid),
                  bob.post("/api/v2/jobs%s/stop" % uid),
                  bob.post("/api/v2/nodes/%s/job/stop" % N1)):
            assert r.status_code == 409, r.text
            assert r.json() == want
        assert rfarm.redis("hget", "sf:job:" + uid, "stopping").strip() == ""
    finally:
        rfarm.redis("del", "sf:job:" + uid, "sf:node:%s:job" % N1)


# ---- many clients, many replicas, restarts ----

@pytest.mark.parametrize("fresh_farm", [{"replicas": {"reservations": 2},
                                         "env": {"STBF_LOG_LEVEL": "debug"}}], indirect=True)
def test_two_clients_racing_for_overlapping_sets_never_both_win(fresh_farm):
    register_nodes(fresh_farm)
    a, b = fresh_farm.session("alice"), fresh_farm.session("bob")
    sets = {"alice": (a, [N1, N2]), "bob": (b, [N2, N3])}
    for _ in range(100):
        barrier = threading.Barrier(2)
        results = {}

        def race(user):
            s, nodes = sets[user]
            barrier.wait()
            results[user] = reserve(s, nodes)

        threads = [threading.Thread(target=race, args=(u,)) for u in sets]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200, 409], {u: r.text for u, r in results.items()}
        for user, r in results.items():
            if r.status_code == 200:
                for x in r.json()["reservations"]:
                    d = sets[user][0].delete("/api/v2/reservations/%d" % x["reservation_id"])
                    assert d.status_code == 204
        assert a.get("/api/v2/reservations").json() == {"reservations": []}
    # both replicas took part
    for key in ("reservations0", "reservations1"):
        assert "reservations.create" in fresh_farm.proc(key).log()


def restart_redis(f):
    f.proc("redis").stop()
    f.start_redis()


def test_reservations_survive_restarts_of_redis_and_of_every_service(fresh_farm):
    f = fresh_farm
    register_nodes(f)
    a, b = f.session("alice"), f.session("bob")
    held = reserve_ok(a, [N1], "forever")[0]
    timed = reserve_ok(a, [N2], "timed", duration_secs=3600)[0]
    a.post("/api/v2/reservations/%d/extend" % timed["reservation_id"], json={"duration_secs": 60})
    short = reserve_ok(a, [N3], "short", duration_secs=2)[0]
    gone = reserve_ok(a, [N4], "interrupted")[0]
    b.post("/api/v2/reservations/%d/interrupt" % gone["reservation_id"], json={"message": "mine"})
    before = {r["reservation_id"]: r for r in a.get("/api/v2/reservations").json()["reservations"]}

    restart_redis(f)  # the services stay up and reconnect
    wait_ok(a, "/api/v2/reservations", 10, "reconnect")
    assert {r["reservation_id"]: r for r in
            a.get("/api/v2/reservations").json()["reservations"]} == before

    for key in ["gateway0"] + ["%s0" % s for s in f.services]:  # every process but the broker
        f.proc(key).stop()
    restart_redis(f)
    for s in f.services:
        f.start_service(s, 0)
    f.start_gateway(0)
    f.wait_healthy(0)

    time.sleep(max(0.0, parse_time(short["expires"]) - time.time()) + 0.05)
    now = {r["reservation_id"]: r for r in a.get("/api/v2/reservations").json()["reservations"]}
    assert set(now) == {held["reservation_id"], timed["reservation_id"]}
    assert now[held["reservation_id"]] == held
    assert parse_time(now[timed["reservation_id"]]["expires"]) == parse_time(timed["expires"]) + 60
    assert node(b, N1)["reservation"]["username"] == "alice"
    assert node(b, N3)["reservation"] is None
    got = a.get("/api/v2/reservations/%d" % gone["reservation_id"]).json()
    assert got["interruption"]["username"] == "bob"
    assert a.get("/api/v2/reservations/%d" % short["reservation_id"]).json()["end_reason"] == \
        "expired"
    # ids keep counting up after the restart
    (new,) = reserve_ok(b, [N4])
    assert new["reservation_id"] > gone["reservation_id"]


@pytest.mark.parametrize("fresh_farm", [{"gateways": 2, "gateway_args": ["--rate-limit", "off"]}],
                         indirect=True)
def test_node_status_polled_by_many_shows_each_change_at_once(fresh_farm):
    """Identical GETs arriving together share one call to the nodes service, yet every answer
    is read after its request arrived: a change made through either gateway shows at once in
    the next GET through both, however many clients poll the same node meanwhile."""
    register_nodes(fresh_farm)
    a0, a1 = fresh_farm.session("alice", 0), fresh_farm.session("alice", 1)
    stop, errors = threading.Event(), []

    def poll(s):
        while not stop.is_set():
            r = s.get("/api/v2/nodes/" + N1)
            if r.status_code != 200:
                errors.append(r.text)

    pollers = [threading.Thread(target=poll, args=(s,)) for s in (a0, a1) for _ in range(6)]
    for t in pollers:
        t.start()
    try:
        for i in range(10):
            writer, other = (a0, a1) if i % 2 else (a1, a0)
            rid = reserve_ok(writer, [N1])[0]["reservation_id"]
            for s in (writer, other):
                assert node(s, N1)["reservation"]["reservation_id"] == rid
            assert other.delete("/api/v2/reservations/%d" % rid).status_code == 204
            for s in (writer, other):
                assert node(s, N1)["reservation"] is None
    finally:
        stop.set()
        for t in pollers:
            t.join()
    assert not errors, errors[:3]

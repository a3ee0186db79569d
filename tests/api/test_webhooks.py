"""Webhooks (docs/api.md, "Webhooks"): stbfarm-webhooks POSTs the farm's changes to a receiver,
signed with HMAC-SHA256 of the body, in order, at least once, retried with back-off; URLs that
point at loopback (unless the operator allows it), link-local addresses or the farm itself are
refused. The receiver here is a real HTTP server on loopback."""

import hashlib
import hmac
import http.server
import json
import threading

import pytest

from farm import Farm, free_port, wait_until

NODE = "stb-tester-000000000002"
SECRET = "correct horse battery staple"


class Receiver:
    """An HTTP server on loopback that records every POST (headers, body) and answers 500 to
    the first `fail` of them."""

    def __init__(self, fail=0):
        self.got = []
        self.fail = fail
        self.port = free_port()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                failing = receiver.fail > 0
                receiver.fail -= 1 if failing else 0
                answer = b"try later" if failing else b"thanks"
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def events(self):
        return [json.loads(body) for _, body in self.got]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def farm():
    # two deliverers of two threads each: they share the webhooks through their leases
    f = Farm(services=Farm.SERVICES + ("webhooks",), env={"STBF_WEBHOOK_ALLOW_LOOPBACK": "1"},
             replicas={"webhooks": 2}, service_args={"webhooks": ["--threads", "2"]}).start()
    f.admin("node", "register", NODE, "--alive")
    yield f
    f.stop()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def key(event_id):
    return tuple(map(int, event_id.split("-")))


def make_hook(api, url, events=("reservations",), secret=SECRET):
    r = api.post("/api/v2/webhooks", json={"url": url, "events": list(events), "secret": secret})
    assert r.status_code == 201, r.text
    return r.json()


def reserve_and_end(api):
    r = api.post("/api/v2/reservations", json={"node_ids": [NODE], "message": "hooks"})
    assert r.status_code == 200, r.text
    rid = r.json()["reservations"][0]["reservation_id"]
    assert api.delete("/api/v2/reservations/%d" % rid).status_code == 204
    return rid


def test_deliveries_are_signed_in_order_and_listed(farm, receiver):
    api = farm.session("alice")
    hook = make_hook(api, receiver.url)
    assert "secret" not in hook and hook["events"] == ["reservations"]
    rids = [reserve_and_end(api) for _ in range(3)]
    wait_until(lambda: len(receiver.got) >= 6, 30, what="six deliveries")
    events = receiver.events()
    # made, then ended, each in turn (the state shown is the one when it was sent)
    assert [e["data"]["reservation_id"] for e in events[:6]] == [r for r in rids for _ in "12"]
    assert all(e["data"]["end_reason"] == "ended" for e in events[1:6:2])
    ids = [key(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for headers, body in receiver.got:
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Stbfarm-Signature"] == want
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Stbfarm-Event"] == "reservation"
        assert headers["X-Stbfarm-Webhook"] == hook["id"]
    assert all(e["webhook_id"] == hook["id"] and e["event"] == "reservation" for e in events)
    # each is recorded once its answer came: just after the receiver saw it
    got = wait_until(lambda: (lambda h: len(h["deliveries"]) >= 6 and h)(
        api.get("/api/v2/webhooks/" + hook["id"]).json()), 30, what="six recorded")
    assert "secret" not in got
    assert [d["status"] for d in got["deliveries"]][:6] == [200] * 6
    assert got["deliveries"][0]["event_id"] == events[-1]["id"]
    assert got["deliveries"][0]["answer"] == "thanks"
    assert hook["id"] in [h["id"] for h in api.get("/api/v2/webhooks").json()]
    logs = [farm.proc(k).log() for k in ("webhooks0", "webhooks1", "gateway0")]
    assert not any(SECRET in text for text in logs)
    assert api.delete("/api/v2/webhooks/" + hook["id"]).status_code == 204


def test_a_failing_receiver_is_retried_with_back_off_and_order_kept(farm):
    api = farm.session("alice")
    receiver = Receiver(fail=2)
    try:
        hook = make_hook(api, receiver.url)
        rid = reserve_and_end(api)
        wait_until(lambda: len(receiver.got) >= 4, 60, what="two failures, then two deliveries")
        events = receiver.events()
        first = events[0]["id"]
        assert [e["id"] for e in events[:3]] == [first] * 3  # the same event until it is taken
        assert key(events[3]["id"]) > key(first)
        assert all(e["data"]["reservation_id"] == rid for e in events)
        log = wait_until(lambda: (lambda d: len(d) >= 4 and d)(
            api.get("/api/v2/webhooks/" + hook["id"]).json()["deliveries"]), 30,
            what="four recorded")
        outcomes = [(d["status"], d["outcome"]) for d in reversed(log)]
        assert outcomes[:3] == [(500, "will retry"), (500, "will retry"), (200, "delivered")]
        assert [d["attempt"] for d in reversed(log)][:3] == [1, 2, 3]
        assert log[-1]["answer"] == "try later"
        api.delete("/api/v2/webhooks/" + hook["id"])
    finally:
        receiver.close()


@pytest.mark.parametrize("body,words", [
    ({"events": ["jobs"], "secret": SECRET}, "url is required"),
    ({"url": "ftp://example.com/", "events": ["jobs"], "secret": SECRET}, "http or https"),
    ({"url": "not a url", "events": ["jobs"], "secret": SECRET}, "url"),
    ({"url": "http://u:p@127.0.0.1:9/", "events": ["jobs"], "secret": SECRET}, "no user"),
    ({"url": "http://127.0.0.1:9/", "events": [], "secret": SECRET}, "events"),
    ({"url": "http://127.0.0.1:9/", "events": ["jobs,nodes"], "secret": SECRET}, "events"),
    ({"url": "http://127.0.0.1:9/", "events": ["bogus"], "secret": SECRET}, "events"),
    ({"url": "http://127.0.0.1:9/", "events": ["jobs"]}, "secret"),
    ({"url": "http://127.0.0.1:9/", "events": ["jobs"], "secret": "short"}, "secret"),
    ({"url": "http://169.254.169.254/", "events": ["jobs"], "secret": SECRET}, "link-local"),
    ({"url": "http://[fe80::1]/", "events": ["jobs"], "secret": SECRET}, "link-local"),
    ({"url": "http://0.0.0.0:80/", "events": ["jobs"], "secret": SECRET}, "unspecified"),
])
def test_bad_webhooks_are_400(farm, body, words):
    r = farm.session("alice").post("/api/v2/webhooks", json=body)
    assert r.status_code == 400 and words in r.json()["error"], r.text


def test_webhooks_are_their_owners_and_need_write(farm, receiver):
    alice, bob = farm.session("alice"), farm.session("bob")
    hook = make_hook(alice, receiver.url)
    assert bob.get("/api/v2/webhooks/" + hook["id"]).status_code == 404
    assert bob.delete("/api/v2/webhooks/" + hook["id"]).status_code == 404
    assert hook["id"] not in [h["id"] for h in bob.get("/api/v2/webhooks").json()]
    farm.user("reader", "read")
    r = farm.session("reader").post("/api/v2/webhooks", json={
        "url": receiver.url, "events": ["jobs"], "secret": SECRET})
    assert r.status_code == 403
    assert alice.delete("/api/v2/webhooks/" + hook["id"]).status_code == 204
    assert alice.get("/api/v2/webhooks/" + hook["id"]).status_code == 404


def test_loopback_is_refused_unless_the_operator_allows_it():
    f = Farm().start()
    try:
        r = f.session("alice").post("/api/v2/webhooks", json={
            "url": "http://127.0.0.1:9/", "events": ["jobs"], "secret": SECRET})
        assert r.status_code == 400 and "loopback" in r.json()["error"], r.text
        assert "--webhook-allow-loopback" in r.json()["error"]
        r = f.session("alice").post("/api/v2/webhooks", json={
            "url": "http://[::1]:9/", "events": ["jobs"], "secret": SECRET})
        assert r.status_code == 400 and "loopback" in r.json()["error"], r.text
    finally:
        f.stop()


@pytest.mark.parametrize("fresh_farm", [{
    "services": Farm.SERVICES + ("webhooks",), "gateway_args": ["--webhook-allow-loopback"],
    "service_args": {"webhooks": ["--retry-secs", "0"]}}], indirect=True)
def test_the_address_is_checked_again_at_delivery_and_a_failure_given_up(fresh_farm):
    # the gateway allows loopback, the deliverer does not: as if the URL's name had come to
    # resolve to loopback after the webhook was made (DNS rebinding)
    fresh_farm.admin("node", "register", NODE, "--alive")
    api = fresh_farm.session("alice")
    receiver = Receiver()
    try:
        hook = make_hook(api, receiver.url)
        reserve_and_end(api)

        def given_up():
            log = api.get("/api/v2/webhooks/" + hook["id"]).json()["deliveries"]
            return len(log) >= 2 and log

        log = wait_until(given_up, 30, what="two deliveries given up")
        assert all(d["outcome"] == "gave up" and d["status"] is None
                   and "loopback" in d["answer"] for d in log)
        assert receiver.got == []
    finally:
        receiver.close()


def test_removing_a_user_removes_their_webhooks(farm, receiver):
    farm.user("wendy", "write")
    hook = make_hook(farm.session("wendy"), receiver.url)
    farm.user("root", "admin")
    root = farm.session("root")
    assert root.get("/api/v2/webhooks/" + hook["id"]).status_code == 200  # an admin sees all
    farm.admin("user", "remove", "wendy")
    assert root.get("/api/v2/webhooks/" + hook["id"]).status_code == 404


def test_a_webhook_behind_the_retained_history_gets_lost_first(farm, receiver):
    api = farm.session("alice")
    hook = make_hook(api, receiver.url)
    for r in (0, 1):
        farm.proc("webhooks%d" % r).stop()
    try:
        rids = [reserve_and_end(api) for _ in range(2)]
        # keep the last reservation's end and its node's entry: the rest is gone
        farm.redis("XTRIM", "sf:events", "MAXLEN", "2")
    finally:
        for r in (0, 1):
            farm.start_service("webhooks", r)
    wait_until(lambda: len(receiver.got) >= 2, 30, what="lost, then what was kept")
    events = receiver.events()
    assert events[0]["event"] == "lost" and "dropped" in events[0]["data"]["error"]
    assert events[1]["data"]["reservation_id"] == rids[-1]
    assert events[1]["data"]["end_reason"] == "ended"
    api.delete("/api/v2/webhooks/" + hook["id"])

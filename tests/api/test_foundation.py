"""The foundation: every request travels HTTP -> gateway -> broker -> service -> Redis and back;
tokens, errors, rate limits, and the farm's survival of its parts' deaths."""

import concurrent.futures
import os
import time

import pytest
import requests

from farm import wait_ok, wait_until

NODE = "stb-tester-000000000001"


# ---- auth ----

def test_request_without_token_is_403_json(farm):
    r = requests.get(farm.url + "/api/v2/nodes")
    assert r.status_code == 403
    assert r.headers["Content-Type"] == "application/json"
    assert "token" in r.json()["error"]


@pytest.mark.parametrize("header", [
    "Bearer abcdefabcdefabcdef", "token", "token ", "tokenabc", "token a b", "basic xyz",
    "token " + "x" * 300,
])
def test_malformed_authorization_is_403(farm, header):
    r = requests.get(farm.url + "/api/v2/nodes", headers={"Authorization": header})
    assert r.status_code == 403
    assert r.json()["error"]


def test_header_bytes_civetweb_refuses_get_a_json_400(farm):
    r = requests.get(farm.url + "/api/v2/nodes", headers={"Authorization": "token \x7fabc"})
    assert r.status_code == 400
    assert r.json()["error"]


def test_unknown_token_is_403(farm):
    r = requests.get(farm.url + "/api/v2/nodes",
                     headers={"Authorization": "token BP7BxqZvuZPGeQRBuG6fxh7S_B1iWmS9"})
    assert r.status_code == 403
    assert r.json() == {"error": "invalid or revoked access token"}


def test_revoked_token_is_403(farm):
    tok = farm.admin("token", "create", "mallory").stdout.strip()
    h = {"Authorization": "token " + tok}
    assert requests.get(farm.url + "/api/v2/user", headers=h).status_code == 200
    farm.admin("token", "revoke", tok)
    assert requests.get(farm.url + "/api/v2/user", headers=h).status_code == 403


@pytest.mark.parametrize("fresh_farm", [{"gateways": 2}], indirect=True)
def test_revocation_reaches_every_gateway_before_revoke_returns(fresh_farm):
    """Gateways keep the tokens they verified; a revocation is pushed to each of them, and the
    revoke command waits until every one has dropped the token."""
    tok = fresh_farm.admin("token", "create", "mallory").stdout.strip()
    h = {"Authorization": "token " + tok}
    urls = [fresh_farm.url_of(0), fresh_farm.url_of(1)]
    for _ in range(3):  # each gateway now holds the verified token
        for u in urls:
            assert requests.get(u + "/api/v2/user", headers=h).status_code == 200
    t0 = time.monotonic()
    fresh_farm.admin("token", "revoke", tok)
    assert time.monotonic() - t0 < 2.5  # both acknowledged; nobody waited out the timeout
    for u in urls:
        r = requests.get(u + "/api/v2/user", headers=h)
        assert r.status_code == 403
        assert r.json() == {"error": "invalid or revoked access token"}
    assert fresh_farm.admin("token", "revoke", tok, check=False).returncode != 0


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": ["--token-cache-secs", "1"]}],
                         indirect=True)
def test_token_deleted_by_hand_stops_working_within_the_cache_time(fresh_farm):
    tok = fresh_farm.admin("token", "create", "mallory").stdout.strip()
    h = {"Authorization": "token " + tok}
    assert requests.get(fresh_farm.url + "/api/v2/user", headers=h).status_code == 200
    for key in fresh_farm.redis("--scan", "--pattern", "sf:token:*").split():
        if fresh_farm.redis("hget", key, "user").strip() == "mallory":
            fresh_farm.redis("del", key)
    wait_until(lambda: requests.get(fresh_farm.url + "/api/v2/user", headers=h).status_code
               == 403, 3, what="the gateway's copy to expire")


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": ["--token-cache-secs", "0"]}],
                         indirect=True)
def test_token_cache_off_asks_redis_every_time(fresh_farm):
    tok = fresh_farm.admin("token", "create", "mallory").stdout.strip()
    h = {"Authorization": "token " + tok}
    assert requests.get(fresh_farm.url + "/api/v2/user", headers=h).status_code == 200
    for key in fresh_farm.redis("--scan", "--pattern", "sf:token:*").split():
        fresh_farm.redis("del", key)
    assert requests.get(fresh_farm.url + "/api/v2/user", headers=h).status_code == 403


def test_token_scheme_is_case_insensitive(farm):
    r = requests.get(farm.url + "/api/v2/user",
                     headers={"Authorization": "Token " + farm.token("alice")})
    assert r.status_code == 200


def test_tokens_are_stored_only_as_hashes(farm):
    tok = farm.token("alice")
    dump = farm.redis("--scan", "--pattern", "sf:token:*")
    for key in dump.split():
        assert tok not in key
        assert tok not in farm.redis("hgetall", key)


def test_user_returns_login(api):
    r = api.get("/api/v2/user")
    assert r.status_code == 200
    assert r.json() == {"login": "alice"}


def test_token_never_appears_in_access_log(farm, api):
    api.get("/api/v2/nodes")
    # access lines are written out in batches, every 50 ms
    wait_until(lambda: "GET /api/v2/nodes 200" in farm.proc("gateway0").log(), 5,
               what="the access log line")
    assert farm.token("alice") not in farm.proc("gateway0").log()


# ---- routing and errors ----

def test_nodes_list_is_a_json_array_of_nodes(api):
    r = api.get("/api/v2/nodes")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    nodes = r.json()
    assert [n["node_id"] for n in nodes] == [NODE, "stb-tester-000000000002"]


def test_node_status_has_every_field_of_the_spec(farm, api):
    farm.admin("node", "register", NODE, "--alive")  # online for the next few seconds
    n = api.get("/api/v2/nodes/" + NODE).json()
    assert set(n) == {"available", "config", "device_type", "external_ip_address",
                      "friendly_name", "geoip_city", "geoip_country", "job", "last_used_by",
                      "last_used_time", "licence_expiry", "local_ip_address", "node_id",
                      "node_url", "not_available_reason", "online", "reservation"}
    assert n["node_id"] == NODE
    assert n["node_url"] == api.base + "/api/v2/nodes/" + NODE
    assert n["online"] is True
    assert n["config"] == {}


def test_offline_node_is_not_available_with_a_reason(api):
    n = api.get("/api/v2/nodes/stb-tester-000000000002").json()
    assert n["online"] is False
    assert n["available"] is False
    assert "offline" in n["not_available_reason"]


def test_unknown_node_is_404_json(api):
    r = api.get("/api/v2/nodes/stb-tester-nope")
    assert r.status_code == 404
    assert r.json() == {"error": "unknown node_id 'stb-tester-nope'"}


def test_unknown_route_is_404_json(api):
    r = api.get("/api/v2/no/such/thing")
    assert r.status_code == 404
    assert "error" in r.json()


def test_wrong_method_is_405_with_allow(api):
    r = api.delete("/api/v2/nodes")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"
    assert "DELETE" in r.json()["error"]


def test_doubled_and_trailing_slashes_are_tolerated(api):
    assert api.get(api.base + "/api/v2/nodes//" + NODE).status_code == 200
    assert api.get(api.base + "/api/v2/nodes/" + NODE + "/").status_code == 200


def test_dot_dot_segments_are_400(farm, api):
    s = requests.Session()
    req = requests.Request("GET", farm.url + "/api/v2/nodes/../nodes",
                           headers=dict(api.headers)).prepare()
    req.url = farm.url + "/api/v2/nodes/../nodes"  # keep the dots: requests would resolve them
    r = s.send(req)
    assert r.status_code == 400
    assert "'..'" in r.json()["error"]


def test_health_needs_no_token_and_names_each_part(farm):
    r = requests.get(farm.url + "/healthz")
    assert r.status_code == 200
    assert r.json() == dict({"redis": "ok"}, **{s: "ok" for s in farm.services})


# ---- rate limits ----

def test_serial_requests_are_never_limited(api):
    for _ in range(60):
        assert api.get("/api/v2/nodes/" + NODE).status_code == 200


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": ["--rate-limit", "5:10"]}],
                         indirect=True)
def test_parallel_burst_gets_429_with_retry_after(fresh_farm):
    fresh_farm.admin("node", "register", NODE)
    s = fresh_farm.session("alice")

    def get(_):
        return s.get("/api/v2/nodes/" + NODE)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(get, range(40)))
    codes = [r.status_code for r in results]
    assert codes.count(200) >= 10
    limited = [r for r in results if r.status_code == 429]
    assert limited, codes
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert "rate limit" in limited[0].json()["error"]
    # the bucket is per token: another user is not limited
    assert fresh_farm.session("bob").get("/api/v2/user").status_code == 200
    # and it refills
    time.sleep(1.2)
    assert s.get("/api/v2/user").status_code == 200


@pytest.mark.parametrize("fresh_farm", [{"gateways": 2, "gateway_args": ["--rate-limit", "2:4"]}],
                         indirect=True)
def test_rate_limit_is_shared_by_gateway_replicas(fresh_farm):
    a, b = fresh_farm.session("alice", 0), fresh_farm.session("alice", 1)
    codes = [s.get("/api/v2/user").status_code for s in (a, b, a, b, a, b, a, b)]
    assert codes[:4] == [200] * 4
    assert 429 in codes[4:]


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": ["--rate-limit", "off"]}],
                         indirect=True)
def test_rate_limit_off(fresh_farm):
    s = fresh_farm.session("alice")
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: s.get("/api/v2/user").status_code, range(100)))
    assert set(codes) == {200}


# ---- surviving the death of parts ----

def test_stopped_service_gives_503_then_recovers_without_gateway_restart(fresh_farm):
    fresh_farm.admin("node", "register", NODE)
    s = fresh_farm.session()
    assert s.get("/api/v2/nodes").status_code == 200
    fresh_farm.proc("nodes0").kill()
    t0 = time.monotonic()
    r = s.get("/api/v2/nodes")
    assert r.status_code == 503
    assert "nodes service did not answer" in r.json()["error"]
    assert time.monotonic() - t0 < 10
    fresh_farm.start_service("nodes")
    wait_ok(s, "/api/v2/nodes", 15, "nodes back")


@pytest.mark.parametrize("fresh_farm", [{"gateways": 2, "replicas": {"nodes": 2},
                                         "env": {"STBF_LOG_LEVEL": "debug"}}], indirect=True)
def test_two_gateways_and_two_replicas_all_serve(fresh_farm):
    fresh_farm.admin("node", "register", NODE)
    for g in (0, 1):
        s = fresh_farm.session("alice", g)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: s.get("/api/v2/nodes/" + NODE).status_code,
                                  range(40)))
        assert set(codes) == {200}
    for key in ("nodes0", "nodes1"):
        assert "nodes.get" in fresh_farm.proc(key).log(), key
    for key in ("gateway0", "gateway1"):  # access lines are written out every 50 ms
        wait_until(lambda: "GET /api/v2/nodes/%s 200" % NODE in fresh_farm.proc(key).log(), 5,
                   what="the access log line in " + key)


def test_broker_restart_is_survived(fresh_farm):
    fresh_farm.admin("node", "register", NODE)
    s = fresh_farm.session()
    assert s.get("/api/v2/nodes").status_code == 200
    fresh_farm.proc("broker0").kill()
    assert s.get("/api/v2/nodes").status_code == 503
    fresh_farm.start_broker(0)
    wait_ok(s, "/api/v2/nodes", 15, "broker back")


@pytest.mark.parametrize("fresh_farm", [{"nodes": 1, "replicas": {"jobs": 2}}], indirect=True)
def test_every_process_reaches_every_service_again_after_each_of_many_broker_restarts(
        fresh_farm):
    # nng 1.5.2 now and then stops redialling a broker that restarted: lib/sf_rpc.c redials
    s = fresh_farm.session("admin")
    for i in range(6):
        fresh_farm.proc("broker0").kill()
        time.sleep(0.3 * (i % 3))  # down for a moment, or for longer than a redial
        fresh_farm.start_broker(0)
        wait_ok(s, "/healthz", 20, "every service through the gateway after restart %d" % i)
        fresh_farm.wait_node(1)
        for _ in range(4):  # both jobs replicas, and the agent's heartbeats, get through
            assert s.get("/api/v2/jobs").status_code == 200
    assert s.get("/api/v2/nodes/" + NODE).json()["online"]


@pytest.mark.parametrize("fresh_farm", [{"brokers": 2, "replicas": {"nodes": 2}}], indirect=True)
def test_redundant_broker_keeps_serving_when_one_dies(fresh_farm):
    fresh_farm.admin("node", "register", NODE)
    s = fresh_farm.session()
    fresh_farm.proc("broker1").kill()
    for _ in range(20):
        assert s.get("/api/v2/nodes/" + NODE).status_code == 200
    fresh_farm.start_broker(1)
    fresh_farm.proc("broker0").kill()
    wait_until(lambda: all(s.get("/api/v2/nodes/" + NODE).status_code == 200 for _ in range(10)),
               15, what="serving through broker1")


def test_redis_restart_is_survived_and_tokens_persist(fresh_farm):
    fresh_farm.admin("node", "register", NODE)
    s = fresh_farm.session()
    assert s.get("/api/v2/nodes").status_code == 200
    time.sleep(1.1)  # appendfsync everysec
    fresh_farm.proc("redis").kill()
    r = s.get("/api/v2/nodes")
    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/json"
    # the gateway's copies of verified tokens go with the subscription that keeps them true
    wait_until(lambda: s.get("/api/v2/user").status_code == 503, 5,
               what="the gateway to stop trusting its copy of the token")
    os.unlink(fresh_farm.redis_sock)
    fresh_farm.start_redis()
    wait_ok(s, "/api/v2/nodes", 15, "redis back")
    assert s.get("/api/v2/nodes").json()[0]["node_id"] == NODE

"""The portal's accounts, sessions, roles and CSRF, and the user menu's endpoints, over HTTP as a
browser and a script use them. The farm has two gateways: what one gateway did (a sign-out, a
revocation, a role change) must hold on the other at once."""

import re

import pytest
import requests

from farm import Farm, Session

NODE = "stb-tester-000000000001"


@pytest.fixture(scope="module")
def farm():
    f = Farm(gateways=2).start()
    f.admin("node", "register", NODE, "--alive")
    yield f
    f.stop()


def sign_in(farm, user, password, gateway=0, **kwargs):
    return requests.post(farm.url_of(gateway) + "/api/v2/session",
                         json={"username": user, "password": password}, **kwargs)


# ---- accounts ----

def test_passwords_are_stored_only_as_argon2id_hashes(farm):
    password = farm.user("pat")
    assert len(password) >= 16
    dump = farm.redis("hgetall", "sf:user:pat")
    assert password not in dump
    assert re.search(r"\$argon2id\$v=19\$m=65536,t=2,p=1\$", dump)
    for key in farm.redis("--scan").split():
        if farm.redis("type", key).strip() == "hash":
            assert password not in farm.redis("hgetall", key)


def test_user_add_refuses_bad_names_roles_and_short_passwords(farm, tmp_path):
    assert farm.admin("user", "add", "-x", check=False).returncode == 1
    assert farm.admin("user", "add", "quinn", "--role", "root", check=False).returncode == 1
    short = tmp_path / "pw"
    short.write_text("short\n")
    r = farm.admin("user", "add", "quinn", "--password-file", str(short), check=False)
    assert r.returncode == 1 and "8 to 1024" in r.stderr


# ---- signing in ----

def test_sign_in_sets_a_strict_http_only_cookie_and_answers_the_csrf_token(farm):
    r = sign_in(farm, "sam", farm.user("sam"))
    assert r.status_code == 200
    body = r.json()
    assert body["login"] == "sam" and body["role"] == "write"
    assert re.fullmatch(r"[0-9a-f]{43}", body["csrf_token"])
    cookie = r.headers["Set-Cookie"]
    assert re.match(r"stbf_session=[A-Za-z0-9_-]{43}; ", cookie)
    for attr in ("Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=604800"):
        assert attr in cookie.split("; ")
    assert "Secure" not in cookie  # plain HTTP here: a Secure cookie would never come back
    assert r.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_stored_only_hashed(farm):
    r = sign_in(farm, "sam", farm.user("sam"))
    sid = r.cookies["stbf_session"]
    for key in farm.redis("--scan", "--pattern", "sf:session:*").split():
        assert sid not in key
        assert sid not in farm.redis("hgetall", key)


def test_signed_in_browser_reads_the_api_with_its_cookie(farm):
    s = farm.portal("sam")
    assert s.get("/api/v2/user").json() == {"login": "sam"}
    assert s.get("/api/v2/nodes").status_code == 200
    me = s.get("/api/v2/session").json()
    assert me["login"] == "sam" and me["role"] == "write" and me["expires"].endswith("Z")
    assert me["csrf_token"] == s.headers["X-CSRF-Token"]


def test_the_cookie_works_on_every_gateway(farm):
    s = farm.portal("sam")
    other = Session(farm.url_of(1))
    other.cookies = s.cookies
    assert other.get("/api/v2/user").json() == {"login": "sam"}


def test_wrong_password_and_unknown_user_get_the_same_403(farm):
    farm.user("wendy")
    a = sign_in(farm, "wendy", "not her password")
    b = sign_in(farm, "nobody-at-all", "not her password")
    assert a.status_code == b.status_code == 403
    assert a.json() == b.json() == {"error": "wrong username or password"}
    assert "Set-Cookie" not in a.headers


def test_a_token_user_without_account_cannot_sign_in(farm):
    farm.token("tokenonly")
    assert sign_in(farm, "tokenonly", "whatever-password").status_code == 403


@pytest.mark.parametrize("body,status", [
    ("{}", 400), ({"username": "sam"}, 400), ({"username": 1, "password": "x"}, 400),
    ("[1, 2]", 400),
])
def test_malformed_sign_ins_are_400(farm, body, status):
    if isinstance(body, str):
        r = requests.post(farm.url + "/api/v2/session", data=body,
                          headers={"Content-Type": "application/json"})
    else:
        r = requests.post(farm.url + "/api/v2/session", json=body)
    assert r.status_code == status
    assert r.json()["error"]


def test_sign_in_from_a_form_is_refused(farm):
    """A form on another site can post urlencoded credentials without a preflight: only JSON is
    taken, so no other site can sign a browser in as someone."""
    r = requests.post(farm.url + "/api/v2/session",
                      data={"username": "sam", "password": farm.user("sam")})
    assert r.status_code == 415
    r = sign_in(farm, "sam", farm.user("sam"), headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_failed_sign_ins_are_limited_per_user(farm):
    password = farm.user("victor")
    for _ in range(10):
        assert sign_in(farm, "victor", "wrong password!").status_code == 403
    r = sign_in(farm, "victor", "wrong password!", gateway=1)  # limits are shared by gateways
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 6
    assert "too many failed sign-ins" in r.json()["error"]
    # while limited, not even the right password is checked
    assert sign_in(farm, "victor", password).status_code == 429
    # other users are not held up by victor's attacker
    assert sign_in(farm, "sam", farm.user("sam")).status_code == 200


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": ["--sign-in-address-limit", "3:60"]}],
                         indirect=True)
def test_failed_sign_ins_are_limited_per_client_address(fresh_farm):
    for name in ("a1", "a2", "a3"):
        assert sign_in(fresh_farm, name, "wrong password!").status_code == 403
    r = sign_in(fresh_farm, "a4", "wrong password!")
    assert r.status_code == 429
    assert 50 <= int(r.headers["Retry-After"]) <= 60  # 60 s after the first failure


# ---- CSRF and other sites ----

def test_a_change_with_the_cookie_alone_is_refused(farm):
    s = farm.portal("sam")
    del s.headers["X-CSRF-Token"]
    r = s.post("/api/v2/tokens", json={"note": "csrf"})
    assert r.status_code == 403
    assert "CSRF" in r.json()["error"]
    for method, path in (("DELETE", "/api/v2/session"), ("POST", "/api/v2/reservations"),
                         ("POST", "/api/v2/nodes/%s/press" % NODE),
                         ("POST", "/api/v2/run_tests"), ("PUT", "/api/v2/jobs/a/b/1/stop")):
        r = s.request(method, path, json={})
        assert r.status_code == 403, (method, path)
        assert "CSRF" in r.json()["error"]
    assert s.get("/api/v2/user").status_code == 200  # the session itself still holds


def test_a_wrong_csrf_token_is_refused(farm):
    s = farm.portal("sam")
    other = farm.portal("sam")
    s.headers["X-CSRF-Token"] = other.headers["X-CSRF-Token"]  # another session's
    assert s.post("/api/v2/tokens", json={}).status_code == 403
    s.headers["X-CSRF-Token"] = "x" * 43
    assert s.post("/api/v2/tokens", json={}).status_code == 403


def test_requests_from_another_site_are_refused_even_to_read(farm):
    s = farm.portal("sam")
    r = s.get("/api/v2/nodes", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert s.get("/api/v2/nodes", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_a_token_needs_no_csrf_token(farm):
    """Token clients work exactly as before, cookie or not."""
    api = farm.session("alice")
    r = api.post("/api/v2/tokens", json={"note": "from a script"})
    assert r.status_code == 201
    api.cookies.set("stbf_session", "garbage")
    assert api.get("/api/v2/user").json() == {"login": "alice"}


def test_a_forged_or_ended_cookie_is_403(farm):
    s = Session(farm.url)
    s.cookies.set("stbf_session", "A" * 43)
    r = s.get("/api/v2/nodes")
    assert r.status_code == 403
    assert r.json() == {"error": "your session has ended: sign in again"}


# ---- signing out and expiry ----

def test_sign_out_ends_the_session_on_every_gateway(farm):
    s = farm.portal("sam")
    other = Session(farm.url_of(1))
    other.cookies.update(s.cookies)
    jar = dict(s.cookies)
    for _ in range(3):  # both gateways now hold the verified session
        assert s.get("/api/v2/user").status_code == 200
        assert other.get("/api/v2/user").status_code == 200
    r = s.delete("/api/v2/session")
    assert r.status_code == 204
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    for url in (farm.url_of(0), farm.url_of(1)):
        r = requests.get(url + "/api/v2/user", cookies=jar)
        assert r.status_code == 403
    assert farm.redis("smembers", "sf:user:sam:sessions").count("\n") >= 0


def test_a_user_has_at_most_100_sessions_and_a_new_one_ends_the_oldest(farm):
    s = farm.portal("many")
    for i in range(99):  # sessions made earlier, as 99 sign-ins would have
        sel = "%032x" % i
        farm.redis("hset", "sf:session:" + sel, "hash", "0" * 64, "user", "many", "created",
                   "2000-01-01T00:%02d:%02d.000000Z" % (i // 60, i % 60), "expires",
                   "99999999999999")
        farm.redis("sadd", "sf:user:many:sessions", sel)
    assert farm.redis("scard", "sf:user:many:sessions").strip() == "100"
    farm.portal("many")
    assert farm.redis("scard", "sf:user:many:sessions").strip() == "100"
    assert farm.redis("exists", "sf:session:" + "%032x" % 0).strip() == "0"  # the oldest
    assert s.get("/api/v2/user").status_code == 200  # the newest ones stay


def test_sign_out_with_a_token_is_400(farm):
    assert farm.session("alice").delete("/api/v2/session").status_code == 400


def test_session_of_a_token_names_the_role_and_no_csrf(farm):
    me = farm.session("alice").get("/api/v2/session").json()
    assert me == {"login": "alice", "role": "write", "csrf_token": None, "expires": None}


@pytest.mark.parametrize("fresh_farm", [{"gateway_args": ["--token-cache-secs", "0"]}],
                         indirect=True)
def test_a_session_past_its_absolute_expiry_has_ended(fresh_farm):
    s = fresh_farm.portal("sam")
    assert s.get("/api/v2/user").status_code == 200
    (key,) = fresh_farm.redis("--scan", "--pattern", "sf:session:*").split()
    fresh_farm.redis("hset", key, "expires", "1000")
    assert s.get("/api/v2/user").status_code == 403
    assert fresh_farm.redis("exists", key).strip() == "0"


def test_each_use_renews_the_idle_expiry(farm):
    s = farm.portal("idle")
    keys = [k for k in farm.redis("--scan", "--pattern", "sf:session:*").split()
            if farm.redis("hget", k, "user").strip() == "idle"]
    (key,) = keys
    ttl = int(farm.redis("pttl", key))
    assert 43000_000 < ttl <= 43200_000  # --session-idle-secs 43200
    farm.redis("pexpire", key, 100000)
    other = Session(farm.url_of(1))  # a gateway that never saw it asks Redis, and renews it
    other.cookies.update(s.cookies)
    assert other.get("/api/v2/user").status_code == 200
    assert int(farm.redis("pttl", key)) > 43000_000


# ---- roles ----

def test_read_role_reads_but_changes_nothing(farm):
    s = farm.portal("reed", "read")
    assert s.get("/api/v2/nodes").status_code == 200
    assert s.get("/api/v2/results").status_code == 200
    for method, path, body in (
            ("POST", "/api/v2/run_tests", {"node_id": NODE, "test_pack_revision": "x",
                                           "test_cases": ["a"]}),
            ("POST", "/api/v2/nodes/%s/press" % NODE, {"key": "KEY_OK"}),
            ("POST", "/api/v2/reservations", {"node_ids": [NODE], "message": "x"}),
            ("POST", "/api/v2/reservations/1/interrupt", {"message": "x"}),
            ("PUT", "/api/v2/jobs/x/y/1/stop", None)):
        r = s.request(method, path, json=body)
        assert r.status_code == 403, path
        assert "needs the role" in r.json()["error"] and "reed has the role read" in \
            r.json()["error"]
    r = s.post("/api/v2/run_tests", json={})
    assert r.json()["error"] == \
        "POST /api/v2/run_tests needs the role write or admin; reed has the role read"


def test_manual_control_presses_and_reserves_but_sees_no_tests_or_results(farm):
    s = farm.portal("manny", "manual")
    assert s.get("/api/v2/nodes").status_code == 200
    r = s.post("/api/v2/nodes/%s/press" % NODE, json={"key": "KEY_OK"})
    assert r.status_code != 403  # allowed (the node has no agent here: 503)
    r = s.post("/api/v2/reservations", json={"node_ids": ["stb-tester-nope"], "message": "x"})
    assert r.status_code == 404  # allowed; the node does not exist
    for path in ("/api/v2/results", "/api/v2/results.csv", "/api/v2/test_pack/HEAD/test_case_names",
                 "/api/v2/jobs/x/y/1/log"):
        r = s.get(path)
        assert r.status_code == 403, path
        assert "needs the role read, write or admin; manny has the role manual control" in \
            r.json()["error"]
    r = s.post("/api/v2/run_tests", json={})
    assert r.status_code == 403


def test_tokens_act_with_their_users_role(farm):
    farm.user("rita", "read")
    api = farm.session("rita")
    assert api.get("/api/v2/results").status_code == 200
    assert api.post("/api/v2/run_tests", json={}).status_code == 403


def test_users_without_an_account_keep_write(farm):
    api = farm.session("legacy")
    r = api.post("/api/v2/run_tests", json={})
    assert r.status_code == 400  # past the role check, refused by the jobs service
    assert api.get("/api/v2/users").status_code == 403


def test_a_role_change_holds_on_every_gateway_at_once(farm):
    farm.user("chuck", "write")
    apis = [farm.session("chuck", 0), farm.session("chuck", 1)]
    for api in apis:
        for _ in range(3):
            assert api.post("/api/v2/run_tests", json={}).status_code == 400
    farm.admin("user", "role", "chuck", "read")
    for api in apis:
        assert api.post("/api/v2/run_tests", json={}).status_code == 403
    farm.admin("user", "role", "chuck", "write")
    for api in apis:
        assert api.post("/api/v2/run_tests", json={}).status_code == 400


def test_only_admin_manages_users(farm):
    for role in ("manual", "read", "write"):
        s = farm.portal("not-admin-" + role, role)
        r = s.get("/api/v2/users")
        assert r.status_code == 403
        assert "needs the role admin" in r.json()["error"]
        assert s.post("/api/v2/users", json={"username": "x"}).status_code == 403


# ---- users through the API ----

def test_admin_adds_changes_and_removes_a_user(farm):
    admin = farm.portal("ada", "admin")
    r = admin.post("/api/v2/users", json={"username": "newbie", "role": "read"})
    assert r.status_code == 201
    body = r.json()
    assert body["username"] == "newbie" and body["role"] == "read"
    password = body["password"]
    assert sign_in(farm, "newbie", password).json()["role"] == "read"
    assert "newbie" in [u["username"] for u in admin.get("/api/v2/users").json()]
    assert admin.post("/api/v2/users", json={"username": "newbie"}).status_code == 409
    r = admin.put("/api/v2/users/newbie", json={"role": "manual", "password": "a new password"})
    assert r.json() == {"username": "newbie", "role": "manual", "created": body["created"]}
    assert sign_in(farm, "newbie", password).status_code == 403
    assert sign_in(farm, "newbie", "a new password").json()["role"] == "manual"
    assert admin.delete("/api/v2/users/newbie").status_code == 204
    assert admin.delete("/api/v2/users/newbie").status_code == 404
    assert admin.put("/api/v2/users/newbie", json={}).status_code == 404


@pytest.mark.parametrize("body", [{"username": "bad name"}, {"username": "x", "role": "boss"},
                                  {"username": "x", "password": "short"}, {"username": 5}, {}])
def test_bad_user_requests_are_400(farm, body):
    admin = farm.portal("ada", "admin")
    r = admin.post("/api/v2/users", json=body)
    assert r.status_code == 400
    assert r.json()["error"]


def test_an_admin_cannot_remove_or_demote_themselves(farm):
    admin = farm.portal("ada", "admin")
    assert admin.delete("/api/v2/users/ada").status_code == 409
    assert admin.put("/api/v2/users/ada", json={"role": "read"}).status_code == 409


def test_removing_a_user_ends_their_tokens_and_sessions_everywhere(farm):
    farm.user("leaver")
    s = farm.portal("leaver")
    api = farm.session("leaver", 1)
    made = s.post("/api/v2/tokens", json={}).json()["token"]
    for _ in range(3):
        assert s.get("/api/v2/user").status_code == 200
        assert api.get("/api/v2/user").status_code == 200
    farm.admin("user", "remove", "leaver")
    assert s.get("/api/v2/user").status_code == 403
    assert api.get("/api/v2/user").status_code == 403
    for url in (farm.url_of(0), farm.url_of(1)):
        assert requests.get(url + "/api/v2/user",
                            headers={"Authorization": "token " + made}).status_code == 403


def test_a_new_password_ends_the_users_sessions(farm):
    farm.user("pwchange")
    s = farm.portal("pwchange")
    farm.admin("user", "passwd", "pwchange")
    assert s.get("/api/v2/user").status_code == 403


# ---- tokens through the API ----

def test_generate_use_list_and_revoke_a_token(farm):
    s = farm.portal("tess")
    r = s.post("/api/v2/tokens", json={"note": "jenkins"})
    assert r.status_code == 201
    made = r.json()
    assert set(made) == {"id", "token", "note", "created", "last_used"}
    assert made["note"] == "jenkins" and made["last_used"] is None
    h = {"Authorization": "token " + made["token"]}
    assert requests.get(farm.url_of(1) + "/api/v2/user", headers=h).json() == {"login": "tess"}
    listed = s.get("/api/v2/tokens").json()
    mine = [t for t in listed if t["id"] == made["id"]]
    assert mine and "token" not in mine[0]
    assert mine[0]["created"] == made["created"]
    assert mine[0]["last_used"] is not None
    assert s.delete("/api/v2/tokens/" + made["id"]).status_code == 204
    for url in (farm.url_of(0), farm.url_of(1)):
        assert requests.get(url + "/api/v2/user", headers=h).status_code == 403
    assert made["id"] not in [t["id"] for t in s.get("/api/v2/tokens").json()]
    assert s.delete("/api/v2/tokens/" + made["id"]).status_code == 404


def test_tokens_are_listed_newest_first_and_only_your_own(farm):
    a, b = farm.portal("owner1"), farm.portal("owner2")
    first = a.post("/api/v2/tokens", json={"note": "first"}).json()
    second = a.post("/api/v2/tokens", json={}).json()
    other = b.post("/api/v2/tokens", json={}).json()
    ids = [t["id"] for t in a.get("/api/v2/tokens").json()]
    assert ids[:2] == [second["id"], first["id"]]
    assert other["id"] not in ids
    assert a.delete("/api/v2/tokens/" + other["id"]).status_code == 404
    assert requests.get(farm.url + "/api/v2/user",
                        headers={"Authorization": "token " + other["token"]}).status_code == 200


def test_token_notes_are_checked(farm):
    s = farm.portal("tess")
    assert s.post("/api/v2/tokens", json={"note": "x" * 201}).status_code == 400
    assert s.post("/api/v2/tokens", json={"note": 5}).status_code == 400
    assert s.delete("/api/v2/tokens/nothex").status_code == 404


def test_scripts_manage_their_tokens_with_a_token(farm):
    api = farm.session("scripter")
    made = api.post("/api/v2/tokens", json={}).json()
    assert made["id"] in [t["id"] for t in api.get("/api/v2/tokens").json()]
    assert api.delete("/api/v2/tokens/" + made["id"]).status_code == 204


# ---- the portal's files ----

def test_root_redirects_to_the_portal(farm):
    r = requests.get(farm.url + "/", allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == "/app/"


def test_portal_pages_need_no_token_and_carry_a_strict_csp(farm):
    for path in ("/app/", "/app", "/app/index.html"):
        r = requests.get(farm.url + path)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_portal_files_have_etags_and_answer_304(farm):
    r = requests.get(farm.url + "/app/")
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{16}"', etag)
    assert r.headers["Cache-Control"] == "no-cache"
    again = requests.get(farm.url + "/app/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_no_file_outside_the_portal_is_served(farm):
    for path in ("/app/nope.js", "/app/.git/config", "/app/%2e%2e/stbfarm", "/app/js/.hidden"):
        r = requests.get(farm.url + path)
        assert r.status_code in (400, 404), path
        assert r.headers["Content-Type"] == "application/json"


def test_the_api_still_needs_a_credential(farm):
    for path in ("/api/v2/nodes", "/api/v2/results", "/api/v2/tokens", "/api/v2/session",
                 "/api/v2/users"):
        r = requests.get(farm.url + path)
        assert r.status_code == 403, path

"""The farm-wide pages in Chromium: reservations, the monitor wall, flaky tests, comparing two
jobs, and the admin's users page; and payloads in every user-written field showing as text."""

import datetime

import pytest
import requests

from results_push import load, record

NODE1 = "stb-tester-000000000001"
NODE2 = "stb-tester-000000000002"
XSS = ('<script>window.__pwned=1</script>"onerror=window.__pwned=1 '
       '<img src=x onerror=window.__pwned=1>')
JOB_A = "/stb-tester-000000000001/aaaa/9001"
JOB_B = "/stb-tester-000000000001/bbbb/9002"


def runs(job, category, verdicts, day=10):
    """One result per (test case, verdict) in order, a minute apart."""
    t0 = datetime.datetime(2024, 5, day, tzinfo=datetime.timezone.utc)
    out = []
    for i, (tc, verdict) in enumerate(verdicts):
        start = t0 + datetime.timedelta(minutes=i)
        out.append(record(job_uid=job, node_id=NODE1, test_case=tc, result=verdict,
                          job_category=category,
                          failure_reason=None if verdict == "pass" else "broke",
                          start_time=start.isoformat().replace("+00:00", "Z"),
                          end_time=(start + datetime.timedelta(seconds=5)).isoformat()
                          .replace("+00:00", "Z")))
    return out


@pytest.fixture(scope="module")
def results(farm):
    load(farm, runs("/stb-tester-000000000001/ffff/9000", "flaky", [
        ("tests/f.py::test_sometimes", "pass"), ("tests/f.py::test_never", "fail"),
        ("tests/f.py::test_always", "pass"), ("tests/f.py::test_sometimes", "fail"),
        ("tests/f.py::test_never", "error"), ("tests/f.py::test_always", "pass"),
        ("tests/f.py::test_sometimes", "pass"), ("tests/f.py::test_" + XSS, "pass")]))
    load(farm, runs(JOB_A, "cmp", [("tests/c.py::test_1", "pass"), ("tests/c.py::test_2", "pass"),
                                   ("tests/c.py::test_3", "fail"),
                                   ("tests/c.py::test_" + XSS, "pass")], day=11))
    load(farm, runs(JOB_B, "cmp", [("tests/c.py::test_1", "pass"), ("tests/c.py::test_2", "fail"),
                                   ("tests/c.py::test_3", "fail"), ("tests/c.py::test_4", "pass"),
                                   ("tests/c.py::test_" + XSS, "fail")], day=12))


def no_injection(browser):
    assert browser.js("return document.querySelectorAll('main script, main img[src=\"x\"],"
                      " main [onerror]').length") == 0
    assert browser.js("return window.__pwned === undefined")


def test_reservations_page_lists_them_and_interrupts_one(browser, farm):
    api = farm.session("holder")
    made = api.post("/api/v2/reservations", json={"node_ids": [NODE2],
                                                  "message": "Soak " + XSS,
                                                  "duration_secs": 3600}).json()
    rid = made["reservations"][0]["reservation_id"]
    try:
        browser.sign_in(farm, "interrupter", path="/app/#/reservations")
        browser.find("main [data-loaded]")
        row = browser.find("#reservations tr[data-id='%d']" % rid)
        assert "@holder" in row.text and "Soak " + XSS in row.text and "left" in row.text
        no_injection(browser)
        row.find_element("css selector", "button").click()
        browser.find("#interrupt-%d textarea" % rid).send_keys("Release day")
        browser.find("#interrupt-%d button[type=submit]" % rid).click()
        browser.wait(lambda: not browser.find_all("#reservations tr[data-id='%d']" % rid), 5,
                     "the reservation gone")
        got = api.get("/api/v2/reservations/%d" % rid).json()
        assert got["end_reason"] == "interrupted"
    finally:
        api.delete("/api/v2/reservations/%d" % rid)


def test_monitor_shows_every_node_with_its_screen_and_verdicts(browser, farm, results):
    browser.sign_in(farm, "watcher", path="/app/#/monitor")
    browser.find("main [data-loaded]")
    figs = browser.find_all("#wall figure")
    assert [f.get_attribute("data-node") for f in figs] == [NODE1, NODE2]
    img = browser.find("#wall figure img")
    browser.wait(lambda: browser.js("return arguments[0].naturalWidth", img) == 320, 10,
                 "a thumbnail")
    browser.wait(lambda: browser.find_all("#wall figure[data-node='%s'] .strip a" % NODE1), 10,
                 "the verdict strip of node 1")


def test_flaky_tests_come_first_with_their_pass_rate_and_verdicts(browser, farm, results):
    browser.sign_in(farm, "flake", path="/app/#/flaky?filter=category:flaky")
    browser.find("main [data-loaded]")
    rows = browser.find_all("#flaky tbody tr")
    names = [r.get_attribute("data-testcase") for r in rows]
    assert names[0] == "tests/f.py::test_sometimes"
    assert names.index("tests/f.py::test_never") < names.index("tests/f.py::test_always")
    cells = [c.text for c in rows[0].find_elements("css selector", "td")]
    assert cells[1:4] == ["3", "67%", "2"]  # runs, pass rate, changes of verdict
    verdicts = [a.get_attribute("class") for a in rows[0].find_elements("css selector", ".strip a")]
    assert verdicts == ["pass", "fail", "pass"]
    assert XSS in browser.text("#flaky")
    no_injection(browser)


def test_two_jobs_compare_with_what_changed_first(browser, farm, results):
    browser.sign_in(farm, "cmp", path="/app/#/compare?a=%s&b=%s" % (JOB_A, JOB_B))
    browser.find("main [data-loaded]")
    rows = browser.find_all("#comparison tbody tr")
    changed = [r.get_attribute("data-testcase") for r in rows if "changed" in
               (r.get_attribute("class") or "")]
    assert sorted(changed) == sorted(["tests/c.py::test_2", "tests/c.py::test_4",
                                      "tests/c.py::test_" + XSS])
    assert all("changed" in (r.get_attribute("class") or "") for r in rows[:3])
    assert "3 changed verdict" in browser.text("#comparison")
    no_injection(browser)


def test_admin_adds_a_user_changes_the_role_and_removes_it(browser, farm):
    browser.sign_in(farm, "boss", role="admin", path="/app/#/users")
    browser.find("#add-user input[name=username]").send_keys("newcomer")
    browser.find("#add-user button[type=submit]").click()
    browser.wait_text("main", "Their password (shown once)")
    password = browser.text("main .secret")
    assert farm.redis("hget", "sf:user:newcomer", "role").strip() == "write"
    r = requests.post(farm.url + "/api/v2/session",
                      json={"username": "newcomer", "password": password})
    assert r.status_code == 200
    select = browser.find("#users tr[data-user=newcomer] select")
    select.find_element("css selector", "option[value=read]").click()
    browser.wait(lambda: farm.redis("hget", "sf:user:newcomer", "role").strip() == "read", 5,
                 "the new role")
    browser.find("#users tr[data-user=newcomer] button").click()
    browser.wait(lambda: not browser.find_all("#users tr[data-user=newcomer]"), 5, "removed")
    assert farm.redis("exists", "sf:user:newcomer").strip() == "0"


def test_the_users_page_is_only_in_an_admins_menu(browser, farm):
    browser.sign_in(farm, "plain", path="/app/")
    browser.find("#user-button").click()
    assert not [a for a in browser.find_all("#user-menu a") if "Users" in a.text]


def test_phone_width_keeps_every_page_usable(browser, farm, results):
    browser.sign_in(farm, "phone", path="/app/#/results?filter=category:cmp")
    browser.driver.set_window_size(390, 844)
    for path in ("/app/#/results?filter=category:cmp", "/app/#/nodes", "/app/#/node/" + NODE1,
                 "/app/#/reservations", "/app/#/flaky?filter=category:flaky"):
        browser.open(path)
        browser.find("main [data-loaded]", 15)
        # nothing but tables (which scroll inside their frame) is wider than the screen
        wide = browser.js("return document.documentElement.scrollWidth")
        assert wide <= 400, (path, wide)

"""Signing in, tokens from the user menu, and triage: the results page's search, sorting, counts,
downloads and "older", a result's page with its video following stbt.log, as a person does
them in Chromium."""

import datetime
import re
import tempfile
import urllib.parse

import pytest
import requests

from results_push import load, push_id, record, write_artifacts

XSS = ('<script>window.__pwned=1</script>"onerror=window.__pwned=1 '
       '<img src=x onerror=window.__pwned=1>')
NODE = "stb-tester-000000000001"
MENU = "tests/menu.py::test_that_menu_appears_when_menu_key_is_pressed"


def bulk(n, **fields):
    """n results of one test case, a second apart, newest last."""
    t0 = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
    out = []
    for i in range(n):
        start = t0 + datetime.timedelta(seconds=i)
        r = record(start_time=start.isoformat().replace("+00:00", "Z"),
                   end_time=(start + datetime.timedelta(seconds=2)).isoformat()
                   .replace("+00:00", "Z"), **fields)
        out.append(r)
    return out


@pytest.fixture(scope="module")
def data(farm):
    """Results in the farm: 2,100 of a bulk category; a few of each verdict; one with every
    field an XSS payload."""
    load(farm, bulk(2100, job_category="bulk", job_uid="/stb-tester-abcdef123456/0b00/1",
                    test_case="tests/bulk.py::test_bulk"))
    mixed = []
    for i, result in enumerate(["pass", "fail", "error", "pass", "fail"]):
        mixed += bulk(1, job_category="mixed", job_uid="/stb-tester-abcdef123456/0c00/%d" % i,
                      test_case="tests/mixed.py::test_%d" % i, result=result,
                      failure_reason=None if result == "pass" else "reason %d" % i)
    load(farm, mixed)
    with tempfile.TemporaryDirectory() as d:
        write_artifacts(d, {"stbt.log": ("2024-03-01T00:00:00.000000+00:00 %s\n" % XSS).encode(),
                            XSS.replace("/", "_") + ".log": b"x"})
        xss_id = push_id(farm, record(test_case="tests/x.py::test_" + XSS, result="fail",
                                      failure_reason=XSS, tags={"model": XSS},
                                      job_category="xss"), d)
    return {"xss_id": xss_id}


def test_sign_in_shows_the_portal_and_sign_out_ends_it(browser, farm):
    browser.sign_in(farm, "brenda")
    assert browser.text("#user-button").startswith("brenda (write)")
    assert "/app/#/results" in browser.driver.current_url
    browser.sign_out()
    r = browser.js("return fetch('/api/v2/user').then(r => r.status)")
    assert r == 403


def test_a_wrong_password_says_so_and_signs_nobody_in(browser, farm):
    farm.user("brenda")
    browser.open("/app/")
    browser.find("input[name=username]").send_keys("brenda")
    browser.find("input[name=password]").send_keys("not the password")
    browser.find("form.signin button[type=submit]").click()
    browser.wait_text("form.signin .alert", "wrong username or password")
    assert not browser.find_all("#user-button")


def test_the_farm_url_in_a_browser_is_the_sign_in_page_then_the_link_it_asked(browser, farm, data):
    browser.open("/")
    assert browser.driver.current_url.endswith("/app/")
    browser.sign_in(farm, "brenda", path="/app/#/results?filter=category:mixed")
    browser.find("#results-table[data-loaded]")
    assert len(browser.find_all("#results tbody tr")) == 5


def test_generate_a_token_use_it_and_revoke_it(browser, farm):
    browser.sign_in(farm, "tokyo")
    browser.find("#user-button").click()
    browser.find("#generate-token").click()
    browser.find("#token-dialog input[name=note]").send_keys("my script")
    browser.find("#token-dialog button[type=submit]").click()
    token = browser.text("#new-token")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    h = {"Authorization": "token " + token}
    assert requests.get(farm.url + "/api/v2/user", headers=h).json() == {"login": "tokyo"}
    assert requests.get(farm.url + "/api/v2/nodes", headers=h).status_code == 200
    browser.find("#token-dialog button[type=button]").click()
    browser.open("/app/#/tokens")
    row = browser.find("#tokens tbody tr")
    assert "my script" in row.text
    browser.wait(lambda: "never" not in browser.find("#tokens tbody tr").text, 5,
                 "last used to show")
    assert token not in browser.driver.page_source
    row.find_element("css selector", "button").click()
    browser.wait(lambda: not browser.find_all("#tokens tbody tr"), 5, "the token gone")
    assert requests.get(farm.url + "/api/v2/user", headers=h).status_code == 403


def test_search_with_a_filter_updates_the_url_and_the_table(browser, farm, data):
    browser.sign_in(farm, "sid", path="/app/#/results")
    box = browser.find("#filter-input")
    box.send_keys("category:mixed result:fail")
    box.submit()
    browser.wait(lambda: "filter=category%3Amixed" in browser.driver.current_url, 5, "the URL")
    browser.find("#results-table[data-loaded]")
    rows = browser.find_all("#results tbody tr")
    assert len(rows) == 2
    assert all("fail" in r.text for r in rows)
    counts = browser.text("#results-counts")
    assert "2 results" in counts


def test_an_invalid_filter_shows_the_apis_message(browser, farm):
    browser.sign_in(farm, "sid", path="/app/#/results?filter=resutl:fail")
    assert "unknown term 'resutl:'" in browser.text("#results-table .alert")


def test_columns_sort_through_the_url(browser, farm, data):
    browser.sign_in(farm, "sid", path="/app/#/results?filter=category:mixed")
    browser.find("#results-table[data-loaded]")
    browser.find("th button[data-sort=testcase]").click()
    browser.wait(lambda: "sort=testcase%3Aasc" in browser.driver.current_url, 5, "the URL")
    browser.find("#results-table[data-loaded]")
    names = [r.text for r in browser.find_all("#results tbody td.testcase")]
    assert names == sorted(names)
    assert browser.find("th[aria-sort=ascending] button").get_attribute("data-sort") == "testcase"
    browser.find("th button[data-sort=testcase]").click()
    browser.wait(lambda: "sort=testcase%3Adesc" in browser.driver.current_url, 5, "the URL")
    browser.find("#results-table[data-loaded]")
    assert [r.text for r in browser.find_all("#results tbody td.testcase")] == sorted(names)[::-1]


def test_past_2000_results_older_shows_the_rest(browser, farm, data):
    browser.sign_in(farm, "sid", path="/app/#/results?filter=category:bulk")
    browser.find("#results-table[data-loaded]")
    assert len(browser.find_all("#results tbody tr")) == 2000
    assert "2,000 results" in browser.text("#results-counts")
    browser.find("#older").click()
    browser.wait(lambda: "before=" in browser.driver.current_url, 5, "the URL")
    browser.find("#results-table[data-loaded]")
    assert len(browser.find_all("#results tbody tr")) == 100
    assert not browser.find_all("#older")


def test_downloads_are_the_same_query_as_csv_and_junit(browser, farm, data):
    browser.sign_in(farm, "sid", path="/app/#/results?filter=category:mixed")
    browser.find("#results-table[data-loaded]")
    csv_href = browser.find("#download-csv").get_attribute("href")
    xml_href = browser.find("#download-junit").get_attribute("href")
    assert "filter=category%3Amixed" in csv_href
    got = browser.js("return Promise.all([fetch(arguments[0]).then(r => r.text()),"
                     " fetch(arguments[1]).then(r => r.text())])", csv_href, xml_href)
    assert got[0].count("\r\n") == 6  # the header and five results
    assert got[1].startswith("<?xml") and got[1].count("<testcase") == 5


def test_times_are_in_the_browsers_zone_or_the_urls(browser, farm, data):
    browser.sign_in(farm, "sid", path="/app/#/results?filter=category:mixed&tz=Asia/Tokyo")
    browser.find("#results-table[data-loaded]")
    assert browser.text("#results tbody td.when").startswith("2024-03-01 09:00:00")
    assert "Asia/Tokyo" in browser.text("#results-counts")


def test_xss_payloads_show_as_text_on_the_results_and_result_pages(browser, farm, data):
    browser.sign_in(farm, "sid", path="/app/#/results?filter=category:xss")
    browser.find("#results-table[data-loaded]")
    row = browser.find("#results tbody tr")
    assert XSS in row.text  # test case and failure reason, as written
    browser.open("/app/#/result/" + data["xss_id"])
    browser.find("main [data-loaded]")
    page = browser.find("main").text
    assert page.count(XSS) >= 3  # test case (title), failure reason, tag
    assert XSS.replace("/", "_") + ".log" in browser.text("#artifacts")
    assert XSS in browser.text("#stbt-log")
    injected = browser.js("return document.querySelectorAll('main script, main img[src=\"x\"],"
                          " main [onerror]').length")
    assert injected == 0
    assert browser.js("return window.__pwned === undefined")


@pytest.fixture(scope="module")
def job_result(farm):
    """A real test run on node 1: its video, stbt.log and screenshot."""
    api = farm.session("runner")
    job = api.post("/api/v2/run_tests", json={"node_id": NODE, "test_pack_revision": "master",
                                              "test_cases": [MENU], "remote_control": "vstb"})
    assert job.status_code == 200, job.text
    uid = job.json()["job_uid"]
    done = api.get("/api/v2/jobs%s/await_completion" % uid, timeout=120)
    while done.status_code == 202:
        done = api.get("/api/v2/jobs%s/await_completion" % uid, timeout=120)
    (result,) = api.get("/api/v2/results", params={"filter": "job:" + uid}).json()
    return result


def test_a_triage_url_as_the_api_gave_it_plays_the_video_and_the_log_follows(browser, farm,
                                                                             job_result):
    url = job_result["triage_url"]
    assert "/app/#/result//" in url
    browser.sign_in(farm, "triager", path=urllib.parse.urlsplit(url).path)
    browser.open(url)
    browser.find("main [data-loaded]")
    assert MENU in browser.text("#test-case")
    video = browser.find("#video")
    browser.wait(lambda: browser.js("return arguments[0].readyState >= 2", video), 15,
                 "the video to load")
    browser.js("arguments[0].muted = true; return arguments[0].play()", video)
    t0 = browser.js("return arguments[0].currentTime", video)
    browser.wait(lambda: browser.js("return arguments[0].currentTime", video) > t0 + 0.5, 10,
                 "currentTime to advance")
    first = browser.wait(lambda: browser.js(
        "const n = document.querySelector('#stbt-log li.now'); return n && n.dataset.i"), 10,
        "a highlighted log line")
    browser.js("arguments[0].pause()", video)
    # a click on a later line seeks the video there, and that line is the one highlighted
    lines = browser.find_all("#stbt-log li")
    later = lines[-1]
    later.click()
    browser.wait(lambda: browser.js(
        "return document.querySelector('#stbt-log li.now').dataset.i") == later.get_attribute(
        "data-i"), 5, "the clicked line highlighted")
    assert browser.js("return arguments[0].currentTime", video) > 0.5
    assert first != later.get_attribute("data-i")
    shot = browser.find("#screenshot")
    browser.wait(lambda: browser.js("return arguments[0].naturalWidth", shot) == 1280, 5,
                 "the screenshot")
    assert "video.mp4" in browser.text("#artifacts")
    browser.find("#last-runs a.current")
    link = browser.find("#job-link").get_attribute("href")
    assert link.endswith("#/job/" + job_result["job_uid"])

"""The nodes in Chromium: cards with live thumbnails, a node's live screen and remote control,
reservations between two users, running a job from the node page and following its log to its
verdict, and what each role is shown."""

import time

import pytest

from farm import commit_files
from talk import TALK, TALK_FILES

NODE1 = "stb-tester-000000000001"
NODE2 = "stb-tester-000000000002"


@pytest.fixture(scope="module")
def talk(farm):
    commit_files(farm.test_pack, TALK_FILES, "a test that talks slowly")
    return TALK


@pytest.fixture
def idle(farm):
    """Both nodes free of jobs and reservations before and after the test."""
    def clean():
        api = farm.session("cleaner", )
        for node in (NODE1, NODE2):
            api.post("/api/v2/nodes/%s/job/stop" % node)
        for r in farm.session("admin-cleaner").get("/api/v2/reservations").json()["reservations"]:
            farm.session(r["username"]).delete("/api/v2/reservations/%d" % r["reservation_id"])
    clean()
    yield
    clean()


def test_nodes_page_has_a_card_per_node_with_a_thumbnail_that_keeps_coming(browser, farm):
    browser.sign_in(farm, "nina", path="/app/#/nodes")
    browser.find("main [data-loaded]")
    cards = browser.find_all("#node-cards .card")
    assert [c.get_attribute("data-node") for c in cards] == [NODE1, NODE2]
    assert "Virtual STB 1" in cards[0].text and "available" in cards[0].text
    img = browser.find("#node-cards .card img")
    browser.wait(lambda: browser.js("return arguments[0].naturalWidth", img) == 320, 10,
                 "the thumbnail")
    first = img.get_attribute("src")
    browser.wait(lambda: img.get_attribute("src") != first, 5, "the next thumbnail")


def test_a_key_pressed_on_the_node_page_changes_the_live_screen(browser, farm, idle):
    browser.sign_in(farm, "pressman", path="/app/#/node/" + NODE1)
    screen = browser.find("#live-screen")
    browser.wait(lambda: browser.js("return window.__stbfLiveStats.read().width") == 1280, 10,
                 "frames of 720p")
    browser.find("#remote button[data-key=KEY_HOME]").click()
    browser.wait_text("#press-status", "Pressed KEY_HOME")
    time.sleep(0.5)
    browser.js("window.__stbfLiveStats.watchChange()")
    browser.find("#remote button[data-key=KEY_MENU]").click()
    browser.wait(lambda: browser.js("return window.__stbfLiveStats.changedAt()"), 5,
                 "the live screen to change after KEY_MENU")
    # and by keyboard: Backspace is KEY_BACK while the live screen has the focus
    time.sleep(0.5)
    browser.js("window.__stbfLiveStats.watchChange()")
    screen.click()
    screen.send_keys("\ue003")  # Backspace
    browser.wait_text("#press-status", "Pressed KEY_BACK")
    browser.wait(lambda: browser.js("return window.__stbfLiveStats.changedAt()"), 5,
                 "the live screen to change after Backspace")
    browser.js("window.__stbfLiveStats.reset()")
    time.sleep(2)
    assert browser.js("return window.__stbfLiveStats.read().fps") >= 5
    assert browser.find("#screenshot-button").get_attribute("href").endswith(
        "/api/v2/nodes/%s/screenshot.png" % NODE1)


def test_leaving_the_node_page_stops_the_live_screen(browser, farm):
    browser.sign_in(farm, "pressman", path="/app/#/node/" + NODE2)
    browser.wait(lambda: farm.redis("zcard", "sf:live:" + NODE2).strip() == "1", 10,
                 "a viewer")
    browser.open("/app/#/nodes")
    browser.wait(lambda: farm.redis("zcard", "sf:live:" + NODE2).strip() == "0", 5,
                 "the viewer gone")
    browser.open("/app/#/node/" + NODE2)
    browser.wait(lambda: farm.redis("zcard", "sf:live:" + NODE2).strip() == "1", 10,
                 "a viewer again")
    browser.open("/app/icon.svg")  # as a closed tab
    browser.wait(lambda: farm.redis("zcard", "sf:live:" + NODE2).strip() == "0", 5,
                 "the viewer gone")


def test_reserve_as_one_user_and_interrupt_as_another(browser, farm, idle):
    browser.sign_in(farm, "rosa", path="/app/#/node/" + NODE2)
    browser.find("#reserve-form textarea").send_keys("Soak of **release 7**")
    browser.find("#reserve-form button[type=submit]").click()
    browser.wait_text("#reservation", "Reserved by you")
    assert browser.find("#reservation .message strong").text == "release 7"
    browser.sign_out()
    browser.sign_in(farm, "ivan", path="/app/#/node/" + NODE2)
    browser.wait_text("#reservation", "Reserved by @rosa")
    assert "Soak of release 7" in browser.text("#reservation")
    assert "reserved by @rosa" in browser.text("#node-status")
    # a press from ivan is refused with the holder's message
    browser.find("#remote button[data-key=KEY_OK]").click()
    browser.wait_text("#press-status", "reserved by @rosa")
    browser.find("#interrupt-form textarea").send_keys("Needed for the hotfix")
    browser.find("#interrupt-form button[type=submit]").click()
    browser.wait(lambda: "Not reserved" in browser.text("#reservation"), 5, "the interruption")
    ended = farm.session("rosa").get("/api/v2/reservations/%s" % farm.redis(
        "get", "sf:resv:next_id").strip()).json()
    assert ended["end_reason"] == "interrupted"
    assert ended["interruption"]["username"] == "ivan"
    assert ended["interruption"]["message"] == "Needed for the hotfix"


def test_run_tests_from_the_node_page_and_follow_the_log_to_the_verdict(browser, farm, talk,
                                                                        idle):
    browser.sign_in(farm, "runa", path="/app/#/node/" + NODE2)
    browser.find("#run-cases input")
    browser.find("#run-filter").send_keys("talk")
    browser.wait(lambda: len([c for c in browser.find_all("#run-cases label")
                              if c.is_displayed()]) == 1, 5, "one test case shown")
    browser.find("#run-cases label:not(.hidden) input").click()
    browser.find("#run-category").send_keys("from the portal")
    browser.find("#run-tags").send_keys("model=T-1000")
    browser.find("#run-submit").click()
    browser.wait(lambda: "#/job//" + NODE2 in browser.driver.current_url, 10, "the job page")
    browser.wait_text("#job-status", "running", 10)
    browser.wait_text("#job-log", "talking line 0", 10)
    assert "running" in browser.text("#job-status")  # the line showed while the job ran
    browser.wait_text("#job-log", "talking line 3", 10)
    browser.wait_text("#job-status", "pass", 20)
    assert "The job has exited" in browser.text("#job-log-status")
    assert "from the portal" in browser.text("#job-summary")
    assert "model=T-1000" in browser.text("#job-summary")
    browser.wait(lambda: len(browser.find_all("#job-runs tbody tr")) == 1, 10, "its run")


def test_stop_a_running_job_from_its_page(browser, farm, talk, idle):
    api = farm.session("stopper")
    job = api.post("/api/v2/run_tests", json={"node_id": NODE2, "test_pack_revision": "master",
                                              "test_cases": [talk], "soak": "run forever"}).json()
    browser.sign_in(farm, "stopper", path="/app/#/job/" + job["job_uid"])
    browser.find("#job-stop").click()
    browser.wait(lambda: "running" not in browser.text("#job-status"), 20, "the job to exit")
    assert api.get("/api/v2/jobs" + job["job_uid"]).json()["status"] == "exited"


def test_read_role_sees_the_node_but_may_not_press_reserve_or_run(browser, farm, idle):
    browser.sign_in(farm, "reader", role="read", path="/app/#/node/" + NODE1)
    browser.find("main [data-loaded]")
    assert browser.find("#remote button[data-key=KEY_MENU]").get_attribute("disabled") is not None
    assert "cannot run tests" in browser.text("main")
    assert not browser.find_all("#reserve-form")
    assert browser.find_all("nav.main a[data-route=results]")


def test_manual_control_presses_and_reserves_but_sees_no_results(browser, farm, idle):
    browser.sign_in(farm, "manuel", role="manual", path="/app/")
    browser.wait(lambda: "#/nodes" in browser.driver.current_url, 5, "the nodes page first")
    assert not browser.find_all("nav.main a[data-route=results]")
    browser.open("/app/#/node/" + NODE1)
    assert browser.find("#remote button[data-key=KEY_MENU]").get_attribute("disabled") is None
    browser.find("#reserve-form")
    assert "cannot run tests" in browser.text("main")


def test_a_queued_job_shows_in_the_nodes_queue_and_stops_from_its_page(browser, farm, talk,
                                                                       idle):
    api = farm.session("queuer")
    busy = api.post("/api/v2/run_tests", json={"node_id": NODE2, "test_pack_revision": "master",
                                               "test_cases": [talk], "soak": "run forever"})
    assert busy.status_code == 200, busy.text
    job = api.post("/api/v2/run_tests", json={"node_id": NODE2, "test_pack_revision": "master",
                                              "test_cases": [talk], "queue": True}).json()
    assert job["status"] == "queued"
    browser.sign_in(farm, "queuer", path="/app/#/node/" + NODE2)
    browser.wait_text("#node-queue", job["job_uid"], 10)
    browser.driver.get(farm.url + "/app/#/job/" + job["job_uid"])
    browser.wait_text("#job-status", "queued", 10)
    browser.find("#job-stop").click()
    browser.wait(lambda: "queued" not in browser.text("#job-status"), 20, "the job to exit")
    assert "Stopped by queuer before it started" in browser.text("#job-summary")
    assert api.get("/api/v2/jobs" + job["job_uid"]).json()["status"] == "exited"

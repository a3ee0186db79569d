"""Browser tests: the portal in headless Chromium (Debian's chromium and chromium-driver through
python3-selenium) against a real farm with two virtual nodes. One farm and one browser serve the
whole session (each test signs in afresh), so the suite costs one farm's start.

A test that fails saves a screenshot, the page's URL and the browser's console beside its report
in $STBF_BROWSER_REPORTS (default <build>/browser-reports/<test>.png and .txt)."""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api"))

from farm import BUILD, Farm  # noqa: E402
from portal import Browser  # noqa: E402

REPORTS = os.environ.get("STBF_BROWSER_REPORTS", os.path.join(BUILD, "browser-reports"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)
    if report.when == "call" and report.failed:
        browser = item.funcargs.get("browser")
        if browser is not None:
            os.makedirs(REPORTS, exist_ok=True)
            name = item.nodeid.split("::")[-1].replace("/", "_")[:150]
            shot = os.path.join(REPORTS, name + ".png")
            try:
                browser.driver.save_screenshot(shot)
                with open(os.path.join(REPORTS, name + ".txt"), "w") as f:
                    f.write("url: %s\n\n%s\n\nconsole:\n" % (browser.driver.current_url,
                                                             report.longreprtext))
                    for entry in browser.console():
                        f.write("%s\n" % entry)
                report.sections.append(("browser", "screenshot and report: %s" % shot))
            except Exception as e:  # noqa: BLE001 - a dead browser must not hide the failure
                report.sections.append(("browser", "no screenshot: %r" % e))


@pytest.fixture(scope="session")
def farm():
    f = Farm(nodes=2, gateway_args=["--long-poll-secs", "5"]).start()
    yield f
    f.stop()


@pytest.fixture(scope="session")
def chromium():
    profile = tempfile.mkdtemp(prefix="sf-chromium-")
    b = Browser(profile)
    yield b
    b.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium, farm):
    """The session's browser, signed out and on a blank page."""
    chromium.reset(farm.url)
    yield chromium
    chromium.reset(farm.url)

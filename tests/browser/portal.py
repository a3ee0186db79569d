"""Driving the portal in headless Chromium: start it, sign in, wait for what the page shows."""

import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900"]


class Browser:
    def __init__(self, profile):
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for flag in CHROMIUM_FLAGS:
            opts.add_argument(flag)
        opts.add_argument("--user-data-dir=" + profile)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        self.driver.set_page_load_timeout(30)
        self.base = None

    def quit(self):
        self.driver.quit()

    def reset(self, base):
        self.base = base
        self.driver.get(base + "/app/icon.svg")  # an origin page, so cookies can be cleared
        self.driver.delete_all_cookies()
        self.driver.set_window_size(1280, 900)

    def console(self):
        try:
            return self.driver.get_log("browser")
        except WebDriverException:
            return []

    def open(self, path):
        self.driver.get(path if path.startswith("http") else self.base + path)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css, timeout=10):
        return self.wait(lambda: self.driver.find_element(By.CSS_SELECTOR, css), timeout,
                         "an element %s" % css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css, timeout=10):
        return self.find(css, timeout).text

    def wait(self, fn, timeout=10, what="the page"):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            try:
                v = fn()
                if v:
                    return v
            except (WebDriverException, StaleElementReferenceException, AssertionError) as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s (last: %r); url %s" % (
            what, last, self.driver.current_url))

    def wait_text(self, css, text, timeout=10):
        return self.wait(lambda: text in self.driver.find_element(By.CSS_SELECTOR, css).text,
                         timeout, "%r in %s" % (text, css))

    def sign_in(self, farm, user, role="write", path="/app/"):
        self.open(path)
        self.find("input[name=username]").send_keys(user)
        self.find("input[name=password]").send_keys(farm.user(user, role))
        self.find("form.signin button[type=submit]").click()
        self.find("#user-button")
        return self

    def sign_out(self):
        self.find("#user-button").click()
        self.find("#sign-out").click()
        self.find("form.signin")

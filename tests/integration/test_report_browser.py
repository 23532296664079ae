"""audit.html of the broken lab in a real browser: Debian's chromium and chromium-driver (scripts/setup.sh)
driven by Selenium. The page loads without a console error, filtering by P0 leaves only the P0 rows,
a header click sorts the findings, and a screenshot is kept under the test's tmp folder."""
import os
import re
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

ROWS = "#findings-table tbody tr"


@pytest.fixture(scope="module")
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("chromium and chromium-driver are not installed: run `make setup` (scripts/setup.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--window-size=1400,1000", "--disable-gpu"):
        options.add_argument(arg)
    if os.geteuid() == 0:
        # Chromium will not start its sandbox as root, which is how CI and make test run here.
        options.add_argument("--no-sandbox")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(options=options, service=Service(driver))  # no driver download: Debian's
    session.set_page_load_timeout(30)
    yield session
    session.quit()


def shown_rows(browser):
    return [r for r in browser.find_elements(By.CSS_SELECTOR, ROWS) if r.is_displayed()]


def column(browser, index):
    """The findings table's cells of column ``index`` (1-based), in page order, as the page sorts them."""
    cells = browser.find_elements(By.CSS_SELECTOR, "%s td:nth-child(%d)" % (ROWS, index))
    return [c.get_attribute("textContent").strip().lower() for c in cells]


def test_audit_html_in_a_real_browser(audit, browser, tmp_path):
    report = audit["normal"]["report"]
    browser.get((audit["normal"]["dir"] / "audit.html").resolve().as_uri())
    assert browser.find_elements(By.CSS_SELECTOR, ROWS) and len(shown_rows(browser)) == len(report["findings"])
    text = browser.find_element(By.TAG_NAME, "body").get_attribute("textContent")
    assert not re.search(r"\b(True|False|None)\b", text) and "`" not in text  # no Python values, no raw Markdown

    Select(browser.find_element(By.ID, "filter-priority")).select_by_visible_text("P0")
    p0 = shown_rows(browser)
    assert p0 and {r.get_attribute("data-priority") for r in p0} == {"P0"}
    assert len(p0) == len([f for f in report["findings"] if f["priority"] == "P0"])
    assert browser.find_element(By.ID, "finding-count").text == "%d of %d findings shown" % (
        len(p0), len(report["findings"]))
    browser.execute_script("document.getElementById('findings').scrollIntoView()")
    screenshot = tmp_path / "audit-html-p0.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 0
    print("screenshot: %s" % screenshot)

    Select(browser.find_element(By.ID, "filter-priority")).select_by_index(0)  # all again
    before = column(browser, 4)  # Service
    browser.find_element(By.CSS_SELECTOR, "#findings-table thead th:nth-child(4) button").click()
    ascending = column(browser, 4)
    assert ascending != before and ascending == sorted(before)
    browser.find_element(By.CSS_SELECTOR, "#findings-table thead th:nth-child(4) button").click()
    assert column(browser, 4) == sorted(before, reverse=True)

    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe

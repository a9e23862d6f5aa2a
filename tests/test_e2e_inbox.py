"""The inbox in headless Chromium: deadlines as working days left, sorting by a column header,
and on a phone (375 px wide) the deadline stays on the screen. Screenshots in /tmp/screens/."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import AMS, PASSWORD

SCREENS = Path("/tmp/screens")


def login(driver, server: str, email: str) -> None:
    driver.get(f"{server}/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "wachtwoord").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 15).until(ec.url_contains("/inbox"))


def references(driver) -> list[str]:
    return [td.text.split()[0] for td in driver.find_elements(By.CSS_SELECTOR, "tbody td.kolom-klacht")]


def test_inbox_counts_down_sorts_and_fits_a_phone(live_server, chrome, make_user, runtime, vclock):
    make_user("els@test.nl", "testorg:behandelaar", name="Els van Dijk")
    started = []
    for day, location in ((2, "Bolderburen, Lelystad"), (3, "Aventurijn, Almere"), (4, "Citroenvlinder, Zwolle")):
        vclock.set(datetime(2026, 3, day, 9, 0, tzinfo=AMS))
        started.append(runtime.start("testorg", {}, complaint_type="klacht", location=location).reference)
    vclock.set(datetime(2026, 3, 10, 10, 0, tzinfo=AMS))  # the first is a day late, the last due tomorrow
    login(chrome, live_server, "els@test.nl")

    rows = chrome.find_elements(By.CSS_SELECTOR, "tbody tr")
    deadlines = [r.find_element(By.CSS_SELECTOR, "td.kolom-termijn .resterend").text for r in rows]
    assert deadlines == ["1 werkdag te laat", "vandaag", "nog 1 werkdag"]
    assert references(chrome) == started
    SCREENS.mkdir(exist_ok=True)
    chrome.save_screenshot(str(SCREENS / "inbox-desktop.png"))

    # Sorting by location through the column header, then reversed by a second click.
    chrome.find_element(By.CSS_SELECTOR, "th.kolom-locatie a").click()
    WebDriverWait(chrome, 15).until(ec.url_contains("sorteer=locatie"))
    assert references(chrome) == [started[1], started[0], started[2]]
    assert chrome.find_element(By.CSS_SELECTOR, "th.kolom-locatie").get_attribute("aria-sort") == "ascending"
    chrome.find_element(By.CSS_SELECTOR, "th.kolom-locatie a").click()
    WebDriverWait(chrome, 15).until(ec.url_contains("sorteer=-locatie"))
    assert references(chrome) == [started[2], started[0], started[1]]
    assert chrome.find_element(By.CSS_SELECTOR, "th.kolom-locatie").get_attribute("aria-sort") == "descending"

    # A phone: every row's deadline lies inside the 375 px viewport, and nothing scrolls sideways.
    chrome.set_window_size(375, 812)
    chrome.get(f"{live_server}/testorg/inbox")
    width = chrome.execute_script("return window.innerWidth")
    assert width <= 375
    for cell in chrome.find_elements(By.CSS_SELECTOR, "tbody td.kolom-termijn"):
        box = chrome.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.right];", cell)
        assert box[0] >= 0 and box[1] <= width, box
        assert cell.is_displayed() and "werkdag" in cell.text or "vandaag" in cell.text
    assert chrome.execute_script("return document.documentElement.scrollWidth") <= width
    chrome.set_window_size(375, 1450)  # tall enough to show the cards below the filters
    chrome.save_screenshot(str(SCREENS / "inbox-phone.png"))

"""Comparing two versions in headless Chromium against the live server: version 2 renames the
task and adds a second one after it. The page draws both diagrams with bpmn-js and marks, from
bpmn-js-differ's diff, the new task green and the renamed one orange, and lists both by name.
Leaves a screenshot in /tmp/versiondiff.png."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from webapp.runtime.organisations import REPO_ROOT, load_config

from .conftest import FIXTURES
from .test_version_views import ORG, V2, store_version

BUILD = REPO_ROOT / "webapp" / "web" / "static" / "build" / "versiondiff.js"
ASSETS = REPO_ROOT / "webapp" / "web" / "assets"
SCREENSHOT = Path("/tmp/versiondiff.png")
WAIT = 20


@pytest.fixture
def test_org():
    return load_config(FIXTURES / "modeller_org")


@pytest.fixture(scope="module")
def bundle():
    """The esbuild bundle; built here when missing or older than its sources."""
    newest = max(p.stat().st_mtime for p in ASSETS.iterdir())
    if not BUILD.exists() or BUILD.stat().st_mtime < newest:
        subprocess.run(["npm", "run", "--silent", "build"], cwd=REPO_ROOT, check=True, timeout=120)
    return BUILD


def test_the_comparison_marks_the_added_and_the_renamed_task(bundle, runtime, make_user, live_server, chrome):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    store_version(runtime, ORG, V2, "tweede controle")
    make_user("pieter@test.nl", f"{ORG}:procesbeheerder")
    driver = chrome
    driver.get(f"{live_server}/login")
    driver.find_element(By.NAME, "email").send_keys("pieter@test.nl")
    driver.find_element(By.NAME, "wachtwoord").send_keys("correct-paard-batterij")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, WAIT).until(lambda d: "/login" not in d.current_url)

    driver.get(f"{live_server}/{ORG}/procesontwerp/versies")
    driver.find_element(By.LINK_TEXT, "Vergelijk met vorige").click()
    WebDriverWait(driver, WAIT).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-verschil"))
    assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-verschil") == "klaar", \
        driver.find_element(By.ID, "verschil-status").text

    def marked(canvas: str, marker: str) -> list[str]:
        return sorted(e.get_attribute("data-element-id") for e in driver.find_elements(
            By.CSS_SELECTOR, f"#{canvas} svg .djs-element.{marker}"))

    assert marked("doek-nieuw", "diff-toegevoegd") == ["Flow_controle", "Task_controle"]
    assert "Task_behandelen" in marked("doek-nieuw", "diff-gewijzigd")
    assert "Task_behandelen" in marked("doek-oud", "diff-gewijzigd")
    assert marked("doek-oud", "diff-toegevoegd") == [] and marked("doek-nieuw", "diff-verwijderd") == []
    # The marker is drawn: the new task's outline is green.
    stroke = driver.execute_script(
        "return getComputedStyle(document.querySelector("
        "'#doek-nieuw [data-element-id=Task_controle] .djs-visual > rect')).stroke")
    assert stroke == "rgb(0, 112, 60)"
    flow = driver.execute_script(
        "return getComputedStyle(document.querySelector("
        "'#doek-nieuw [data-element-id=Flow_controle] .djs-visual > path')).stroke")
    assert flow == "rgb(0, 112, 60)"

    items = {li.get_attribute("data-element-id"): (li.get_attribute("data-kind"), " ".join(li.text.split()))
             for li in driver.find_elements(By.CSS_SELECTOR, "#verschil-lijst li")}
    assert items["Task_controle"] == ("added", "Tweede controle (gebruikerstaak, Task_controle)")
    assert items["Task_behandelen"][0] == "changed"
    assert "naam: ‘Klacht behandelen’ → ‘Klacht onderzoeken’" in items["Task_behandelen"][1]
    assert driver.find_element(By.ID, "verschil-status").text.startswith("2 toegevoegd, 0 verwijderd")
    # No CSP violations, no script errors (the browser's own favicon request aside).
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]
    assert errors == []
    driver.save_screenshot(str(SCREENSHOT))

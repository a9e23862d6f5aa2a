"""End to end in headless Chromium: a parent submits SAMEN's public complaint form, the
manager VE logs in, finds the task in the inbox, enters one invalid value, corrects it
and completes the task. Screenshots land in the pytest tmp folder (and /tmp/klachtroute-e2e)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from webapp.db.models import HumanTask, Instance, OutboxMessage
from webapp.runtime.organisations import BPMN_ROOT
from webapp.runtime.service import Runtime

from .conftest import PASSWORD

SHOTS = Path("/tmp/klachtroute-e2e")


@pytest.fixture
def samen(add_organisation):
    return add_organisation(BPMN_ROOT / "samen-kinderopvang")


def shot(driver, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height + 150, 700), 3000))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def fill(driver, field_id: str, text: str) -> None:
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)


def test_complaint_from_form_to_completed_task(live_server, chrome, samen, make_user, runtime: Runtime):
    make_user("manager.ve@samen.nl", "samen-kinderopvang:manager_ve", name="Marieke de Boer")
    wait = WebDriverWait(chrome, 15)

    # The parent submits the public form.
    chrome.get(f"{live_server}/samen-kinderopvang/klacht-indienen")
    fill(chrome, "veld-naam", "Fatima el Amrani")
    fill(chrome, "veld-email", "fatima@example.nl")
    Select(chrome.find_element(By.ID, "veld-relatie")).select_by_value("ouder")
    fill(chrome, "veld-locatie", "KDV De Vlinder, Zwolle")
    chrome.execute_script("document.getElementById('veld-datum_gebeurtenis').value = '2026-02-26'")
    fill(chrome, "veld-omschrijving", "Mijn dochter kwam met een schaafwond thuis en niemand had het ons verteld.")
    chrome.find_element(By.ID, "veld-toestemming").click()
    shot(chrome, "intake-form")
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.url_contains("/klacht-indienen/ontvangen"))
    confirmation = chrome.find_element(By.TAG_NAME, "main").text
    reference = re.search(r"SAMEN-2026-\d{4}", confirmation).group(0)

    # The manager VE logs in and finds the task in the inbox.
    chrome.get(f"{live_server}/login")
    fill(chrome, "email", "manager.ve@samen.nl")
    fill(chrome, "wachtwoord", PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.url_contains("/samen-kinderopvang/inbox"))
    row = chrome.find_element(By.XPATH, f"//tbody/tr[td[normalize-space()='{reference}']]")
    assert "Ontvangst bevestigen" in row.text and "KDV De Vlinder, Zwolle" in row.text
    shot(chrome, "inbox")
    row.find_element(By.TAG_NAME, "a").click()

    # One invalid entry: an employee is involved, but no name is given (required then).
    wait.until(ec.presence_of_element_located((By.ID, "veld-aard_klacht")))
    assert "schaafwond" in chrome.find_element(By.TAG_NAME, "aside").text
    assert "uiterlijk 5 maart 2026 (drie werkdagen na ontvangst)" in chrome.find_element(By.CLASS_NAME, "instructies").text
    Select(chrome.find_element(By.ID, "veld-aard_klacht")).select_by_visible_text("veiligheid en gezondheid")
    chrome.find_element(By.XPATH, "//input[@name='medewerker_betrokken'][@value='ja']").click()
    assert chrome.find_element(By.ID, "veld-betrokken_medewerker").get_attribute("maxlength") == "200"
    chrome.find_element(By.XPATH, "//button[@value='afronden']").click()
    error = wait.until(ec.presence_of_element_located(
        (By.XPATH, "//*[@id='veld-betrokken_medewerker']/ancestor::*[contains(@class,'veld')][1]"
                   "//*[contains(@class,'veld-fout')]")))
    assert "Dit veld is verplicht." in error.text
    assert chrome.find_element(By.ID, "veld-betrokken_medewerker").get_attribute("aria-invalid") == "true"
    assert Select(chrome.find_element(By.ID, "veld-aard_klacht")).first_selected_option.text == "veiligheid en gezondheid"
    shot(chrome, "task-with-error")

    # Corrected and completed.
    fill(chrome, "veld-betrokken_medewerker", "Sanne Bakker")
    chrome.find_element(By.XPATH, "//button[@value='afronden']").click()
    wait.until(ec.url_contains("/samen-kinderopvang/inbox"))
    assert f"Taak 'Ontvangst bevestigen' is afgerond voor klacht {reference}." in chrome.page_source

    with runtime.sessions() as s:
        instance = s.scalar(select(Instance).where(Instance.reference == reference))
        done = s.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                HumanTask.bpmn_id.like("%ontvangst%")))
        letters = s.scalars(select(OutboxMessage.template).where(OutboxMessage.instance_id == instance.id,
                                                                 OutboxMessage.kind == "letter")).all()
    assert (done.state, done.completed_by) == ("completed", "manager.ve@samen.nl")
    assert any("ontvangstbevestiging" in t for t in letters)
    data = runtime.load(instance.id).workflow.last_task.data
    assert data["betrokken_medewerker"] == "Sanne Bakker" and data["aard_klacht"] == "veiligheid en gezondheid"

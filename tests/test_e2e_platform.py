"""End to end in headless Chromium: a platform administrator creates an organisation from a
template in the browser; its public complaint form works at once and a parent submits the
first complaint; the first process owner's invitation is in the outbox."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select, update

from webapp.db.models import Instance, OutboxMessage, User
from webapp.runtime.organisations import BPMN_ROOT, load_config
from webapp.runtime.service import Runtime

from .conftest import PASSWORD


def fill(driver, field_id: str, text: str) -> None:
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)


def test_a_platform_administrator_creates_an_organisation_and_it_takes_complaints(live_server, chrome, make_user,
                                                                                   runtime: Runtime):
    runtime.organisations["skar"] = load_config(BPMN_ROOT / "skar")  # a template the platform ships
    make_user("beheer@klachtroute.test")
    with runtime.write_sessions.begin() as s:
        s.execute(update(User).where(User.email == "beheer@klachtroute.test").values(platform_admin=True))
    wait = WebDriverWait(chrome, 60, ignored_exceptions=(StaleElementReferenceException,))

    chrome.get(f"{live_server}/login")
    chrome.find_element(By.NAME, "email").send_keys("beheer@klachtroute.test")
    chrome.find_element(By.NAME, "wachtwoord").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(lambda d: "/login" not in d.current_url)
    chrome.find_element(By.ID, "link-organisaties-beheren").click()
    wait.until(ec.presence_of_element_located((By.ID, "nieuwe-organisatie")))

    fill(chrome, "naam", "Kinderopvang De Hoeve")
    fill(chrome, "slug", "de-hoeve")
    fill(chrome, "kenmerk", "HOEVE")
    fill(chrome, "locaties", "Locatie Noord\nLocatie Zuid")
    Select(chrome.find_element(By.ID, "sjabloon")).select_by_value("sjabloon:skar")
    fill(chrome, "email", "eerste@dehoeve.nl")
    chrome.find_element(By.ID, "knop-aanmaken").click()
    wait.until(ec.any_of(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "is aangemaakt"),
                         ec.presence_of_element_located((By.CSS_SELECTOR, ".foutmelding, #sjabloon-problemen"))))
    assert "is aangemaakt" in chrome.find_element(By.TAG_NAME, "main").text, chrome.find_element(By.TAG_NAME, "main").text
    assert "Kinderopvang De Hoeve" in chrome.find_element(By.ID, "organisaties").text

    # The public form of the new organisation works at once, with its own locations.
    chrome.get(f"{live_server}/de-hoeve/klacht-indienen")
    assert "Kinderopvang De Hoeve" in chrome.find_element(By.TAG_NAME, "body").text
    fill(chrome, "veld-naam", "Fatima el Amrani")
    fill(chrome, "veld-email", "fatima@example.nl")
    Select(chrome.find_element(By.ID, "veld-relatie")).select_by_value("ouder")
    chrome.find_element(By.CSS_SELECTOR, "input[name='soort'][value='klacht']").click()
    location = chrome.find_element(By.ID, "veld-locatie")
    if location.tag_name == "select":
        assert [o.text for o in Select(location).options if o.get_attribute("value")][:2] == \
            ["Locatie Noord", "Locatie Zuid"]
        Select(location).select_by_visible_text("Locatie Zuid")
    else:
        location.send_keys("Locatie Zuid")
    chrome.execute_script("document.getElementById('veld-datum_gebeurtenis').value = '2026-02-26'")
    fill(chrome, "veld-omschrijving", "Mijn zoon is twee keer vergeten bij het ophalen uit school.")
    chrome.find_element(By.ID, "veld-toestemming").click()
    chrome.find_element(By.ID, "veld-omschrijving").find_element(By.XPATH, "ancestor::form//button[@type='submit']").click()
    invalid = chrome.execute_script(
        "return [...document.querySelectorAll('input,select,textarea')].filter(e => !e.checkValidity())"
        ".map(e => e.id + ': ' + e.validationMessage)")
    assert not invalid, invalid
    wait.until(ec.any_of(ec.url_contains("/klacht-indienen/ontvangen"),
                         ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "Er is een probleem")))
    assert "/ontvangen" in chrome.current_url, chrome.find_element(By.TAG_NAME, "main").text
    assert "HOEVE-2026-0001" in chrome.find_element(By.TAG_NAME, "main").text

    with runtime.sessions() as s:
        complaint = s.scalars(select(Instance).where(Instance.reference == "HOEVE-2026-0001")).one()
        assert complaint.location == "Locatie Zuid" and complaint.status == "running"
        invitation = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "eerste@dehoeve.nl")).one()
    assert "Kinderopvang De Hoeve" in invitation.subject + invitation.body and "/uitnodiging/" in invitation.body
    assert runtime.organisation("de-hoeve").letters.exists("skar/wie_behandelt")  # the template's package

"""The form editor's field builder in headless Chromium against the live server: a process
owner opens a new form, adds a choice field and a long text shown only for one of its
answers, sees both in the preview, saves, and finds the schema the builder wrote; opened
again, the builder reads it back. Saved forms go into a draft package in the database: nothing
under forms/ or tests/fixtures/forms is written. Leaves a screenshot in /tmp/formbouwer.png."""

from __future__ import annotations

import json
import subprocess

import pytest

from webapp.runtime.deploy import load_draft, save_draft
from webapp.runtime.organisations import REPO_ROOT

from .conftest import PASSWORD
from .test_e2e_portal import axe_serious

BUILD = REPO_ROOT / "webapp" / "web" / "static" / "build" / "formeditor.js"
ASSETS = REPO_ROOT / "webapp" / "web" / "assets"
FORM = "testorg-gesprek-schema.json"
WAIT = 20


@pytest.fixture(scope="module")
def formeditor_bundle():
    """The esbuild bundle; built here when missing or older than its sources."""
    newest = max(p.stat().st_mtime for p in ASSETS.iterdir())
    if not BUILD.exists() or BUILD.stat().st_mtime < newest:
        subprocess.run(["npm", "run", "--silent", "build"], cwd=REPO_ROOT, check=True, timeout=120)
    return BUILD


def test_a_process_owner_builds_a_form_with_a_conditional_field(formeditor_bundle, runtime, make_user, tmp_path,
                                                                 live_server, chrome):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    draft_id = save_draft(runtime, "testorg", runtime.organisation("testorg").read_diagram_files()[0], "pieter@test.nl")
    url = f"/testorg/procesontwerp/concept/{draft_id}/formulieren/{FORM}"
    make_user("pieter@test.nl", "testorg:procesbeheerder")
    driver = chrome
    wait = WebDriverWait(driver, WAIT)

    def css(selector: str):
        return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def card(number: int):
        return driver.find_elements(By.CSS_SELECTOR, "#bouwer-velden > li.bouwer-veld")[number - 1]

    def field(number: int, what: str):
        return card(number).find_element(By.CSS_SELECTOR, f'[data-eigenschap="{what}"]')

    def add(kind_label: str) -> None:
        Select(css("#bouwer-nieuw-soort")).select_by_visible_text(kind_label)
        css('#bouwer-toevoegen button[data-actie="toevoegen"]').click()

    def preview_has(name: str):
        return wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#voorbeeld [name="{name}"]'))

    driver.get(f"{live_server}/login")
    driver.find_element(By.NAME, "email").send_keys("pieter@test.nl")
    driver.find_element(By.NAME, "wachtwoord").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(lambda d: "/login" not in d.current_url)

    driver.get(live_server + url)
    css("#veldenbouwer")
    assert "Dit formulier heeft nog geen velden." in css("#bouwer-velden").text
    # The builder speaks for the form; the JSON view is folded away.
    assert not driver.find_element(By.ID, "json-weergave").get_attribute("open")

    # A choice field: the focus lands on its title, the technical name follows the title.
    add("Keuze uit opties")
    title = driver.switch_to.active_element
    assert title == field(1, "titel")
    title.send_keys("Soort melding", Keys.ENTER)  # Enter does not submit the form
    assert field(1, "naam").get_attribute("value") == "soort_melding"
    field(1, "keuzes").send_keys("Klacht", Keys.ENTER, "Iets anders")
    field(1, "verplicht").click()

    # A long text shown only for "Iets anders", and then required.
    add("Lange tekst")
    field(2, "titel").send_keys("Wat is het dan?")
    Select(field(2, "als-veld")).select_by_value("soort_melding")
    Select(field(2, "als-waarde")).select_by_visible_text("Iets anders")
    field(2, "verplicht").click()
    assert field(2, "naam").get_attribute("value") == "wat_is_het_dan"

    # The preview follows: both fields, the choice with its options.
    preview_has("wat_is_het_dan")
    wait.until(lambda d: "Iets anders" in d.find_element(By.ID, "voorbeeld").text)
    assert "Soort melding" in driver.find_element(By.ID, "voorbeeld").text
    assert axe_serious(driver) == []
    driver.save_screenshot("/tmp/formbouwer.png")

    driver.find_element(By.CSS_SELECTOR, 'button[name="actie"][value="opslaan"]').click()
    wait.until(lambda d: "is opgeslagen" in d.find_element(By.TAG_NAME, "main").text)

    saved = load_draft(runtime, "testorg", draft_id).files  # into the draft's package, not a file
    schema = json.loads(saved["forms/testorg-gesprek-schema.json"])
    ui = json.loads(saved["forms/testorg-gesprek-uischema.json"])
    assert schema["properties"] == {
        "soort_melding": {"type": "string", "title": "Soort melding", "oneOf": [
            {"const": "klacht", "title": "Klacht"}, {"const": "iets_anders", "title": "Iets anders"}]},
        "wat_is_het_dan": {"type": "string", "title": "Wat is het dan?"}}
    assert schema["required"] == ["soort_melding"]
    assert schema["allOf"] == [{"if": {"properties": {"soort_melding": {"const": "iets_anders"}},
                                       "required": ["soort_melding"]},
                                "then": {"required": ["wat_is_het_dan"]}}]
    assert ui == {"wat_is_het_dan": {"ui:widget": "textarea",
                                     "ui:toonAls": {"veld": "soort_melding", "waarde": "iets_anders"}}}

    # Opened again, the builder reads what it wrote.
    css("#veldenbouwer")
    assert field(1, "keuzes").get_attribute("value") == "Klacht\nIets anders"
    assert Select(field(2, "als-veld")).first_selected_option.get_attribute("value") == "soort_melding"
    assert Select(field(2, "als-waarde")).first_selected_option.text == "Iets anders"
    assert field(2, "verplicht").is_selected() and field(1, "verplicht").is_selected()

    # Moving the second field up by keyboard writes the new order into the JSON.
    move = card(2).find_element(By.CSS_SELECTOR, '[data-actie="omhoog"]')
    move.send_keys(Keys.ENTER)
    wait.until(lambda d: list(json.loads(d.find_element(By.ID, "schema").get_property("value"))["properties"])
               == ["wat_is_het_dan", "soort_melding"])
    # At the top it cannot go further up: the focus stays on the field, on its other move button.
    assert driver.switch_to.active_element.get_attribute("aria-label") == "Veld Wat is het dan? omlaag"

    untouched = subprocess.run(["git", "status", "--porcelain", "forms", "tests/fixtures/forms"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True)
    assert untouched.stdout == ""

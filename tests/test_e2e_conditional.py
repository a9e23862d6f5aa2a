"""End to end in headless Chromium: on the task page, a question shown only when another answer
says so ("alleen tonen als") appears and disappears with that answer; without the answer that
shows it, the server keeps nothing of it."""

from __future__ import annotations

import json
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from webapp.db.models import HumanTask
from webapp.runtime import packages
from webapp.runtime.organisations import load_config
from webapp.scenarios import publish

from .conftest import PASSWORD

FIXTURE = Path(__file__).parent / "fixtures" / "package_org"
FORM = "forms/pakket-behandelen-schema.json"


def test_a_conditional_question_follows_the_answer_it_depends_on(live_server, chrome, make_user, runtime):
    config = load_config(FIXTURE)
    runtime.organisations[config.slug] = config
    runtime.ensure_organisations()
    runtime.deploy(config.slug)
    schema = json.loads(config.files[FORM])
    schema["properties"]["vervolg"] = {"type": "string", "title": "Welk vervolg is afgesproken?"}
    ui = {"vervolg": {"ui:widget": "textarea", "ui:toonAls": {"veld": "opgelost", "waarde": False}}}
    files = {**config.files, FORM: json.dumps(schema), "forms/pakket-behandelen-uischema.json": json.dumps(ui)}
    diagrams, rest = packages.split(files)
    publish.deploy(runtime, config.slug, diagrams["pakket.bpmn"], "pieter@test.nl", "vervolg als niet opgelost", {}, rest)
    started = runtime.start(config.slug, {"klager": {"naam": "A. de Vries"}})
    with runtime.sessions() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == started.instance_id)).one()
    make_user("els@test.nl", f"{config.slug}:behandelaar")
    wait = WebDriverWait(chrome, 20)

    chrome.get(f"{live_server}/login")
    chrome.find_element(By.NAME, "email").send_keys("els@test.nl")
    chrome.find_element(By.NAME, "wachtwoord").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(lambda d: "/login" not in d.current_url)
    chrome.get(f"{live_server}/{config.slug}/taken/{task.id}")

    question = chrome.find_element(By.NAME, "vervolg")
    wait.until(lambda d: not question.is_displayed())  # nothing answered yet: not asked
    chrome.find_element(By.CSS_SELECTOR, "input[name='opgelost'][value='nee']").click()
    wait.until(lambda d: question.is_displayed())
    assert "Alleen invullen als" in chrome.find_element(By.TAG_NAME, "main").text
    question.send_keys("Over twee weken opnieuw bellen")
    chrome.find_element(By.CSS_SELECTOR, "input[name='opgelost'][value='ja']").click()
    wait.until(lambda d: not question.is_displayed())
    chrome.find_element(By.CSS_SELECTOR, "button[name='actie'][value='afronden']").click()
    wait.until(lambda d: "/inbox" in d.current_url)
    data = runtime.load(started.instance_id).data
    assert data["opgelost"] is True and "vervolg" not in data  # the hidden answer was not kept

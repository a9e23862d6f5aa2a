"""The modeller end to end, in headless Chromium against the live server: a process owner
logs in, opens a diagram without BPMN DI (laid out for the modeller), then the small
organisation with a drawn diagram; adds a user task after the existing one through the
context pad and the replace menu, is refused on deploy (the new task has no form: the list
names it and the element is marked), picks the form in the side panel and deploys version 2.
A complaint started before the deploy stays on version 1; a new one runs on version 2.
Also: the korein diagram through the page's own bpmn-js Modeler keeps every spiffworkflow
extension. Leaves a screenshot of the modeller with the side panel in /tmp/modeller.png."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from webapp.db.models import DiagramVersion, HumanTask, Instance
from webapp.runtime.organisations import REPO_ROOT, load_config

from .conftest import FIXTURES, PASSWORD
from .test_modeller import semantic, spiff_content

BUILD = REPO_ROOT / "webapp" / "web" / "static" / "build" / "modeller.js"
ASSETS = REPO_ROOT / "webapp" / "web" / "assets"
SCREENSHOT = Path("/tmp/modeller.png")
WAIT = 20


@pytest.fixture
def test_org():
    """The conftest's runtime, with this organisation: a diagram WITH BPMN DI."""
    return load_config(FIXTURES / "modeller_org")


@pytest.fixture(scope="module")
def bundle():
    """The esbuild bundle; built here when missing or older than its sources."""
    newest = max(p.stat().st_mtime for p in ASSETS.iterdir())
    if not BUILD.exists() or BUILD.stat().st_mtime < newest:
        subprocess.run(["npm", "run", "--silent", "build"], cwd=REPO_ROOT, check=True, timeout=120)
    return BUILD


def test_a_process_owner_adds_a_user_task_and_deploys_it(bundle, runtime, make_user, live_server, chrome):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    timers = load_config(FIXTURES / "timers")  # testorg: a diagram without BPMN DI
    runtime.organisations[timers.slug] = timers
    runtime.ensure_organisations()
    runtime.deploy(timers.slug)
    make_user("pieter@test.nl", "testorg:procesbeheerder", "modellerorg:procesbeheerder", "modellerorg:behandelaar")
    before = runtime.start("modellerorg", {"klager": {"naam": "A. de Vries", "email": "a@example.nl"}})

    driver = chrome
    wait = WebDriverWait(driver, WAIT)

    def css(selector: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def clickable(selector: str):
        return wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, selector)))

    def shape(element_id: str):
        return css(f'.djs-element.djs-shape[data-element-id="{element_id}"]')

    def click_shape(element_id: str) -> None:
        ActionChains(driver).move_to_element(shape(element_id)).click().perform()
        css(".djs-context-pad.open")

    def selected() -> str:
        return driver.execute_script("return window.klachtroute.modeler.get('selection').get()[0].id")

    def type_label(text: str) -> None:
        # Appending opens the label editor on the new element.
        editor = css(".djs-direct-editing-content[contenteditable=true]")
        editor.send_keys(text)
        # Clicking the empty canvas ends the label editing.
        ActionChains(driver).move_to_element_with_offset(css("#canvas svg"), 5, 5).click().perform()

    def status_contains(text: str):
        return wait.until(lambda d: text in d.find_element(By.ID, "modeller-status").text)

    def ready() -> None:
        wait.until(lambda d: d.execute_script("return document.body.dataset.modeller") == "klaar")

    # Log in through the login form.
    driver.get(f"{live_server}/login")
    driver.find_element(By.NAME, "email").send_keys("pieter@test.nl")
    driver.find_element(By.NAME, "wachtwoord").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(lambda d: "/login" not in d.current_url)

    # testorg has no BPMN DI: the modeller opens it with a generated layout.
    driver.get(f"{live_server}/testorg/procesontwerp")
    ready()
    assert shape("Task_behandelen") and shape("Timer_escalatie") and shape("Lane_directeur")
    status_contains("automatisch")
    driver.save_screenshot("/tmp/modeller-zonder-di.png")

    # The page's own Modeler: korein's diagram in and out, every spiffworkflow extension intact.
    korein = (REPO_ROOT / "bpmn" / "korein" / "klantreactieprocedure.bpmn").read_text(encoding="utf-8")
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.klachtroute.roundTrip(arguments[0]).then(done, (e) => done({error: String(e)}));", korein)
    assert "error" not in result and result["warnings"] == []
    before_root, after_root = etree.fromstring(korein.encode()), etree.fromstring(result["xml"].encode())
    assert spiff_content(after_root) == spiff_content(before_root)
    # The process itself in the same order; the Modeler may reorder the shapes of the drawing.
    di = "{http://www.omg.org/spec/BPMN/20100524/DI}BPMNDiagram"
    for root in (before_root, after_root):
        root.append(root.find(di))  # the drawing last, then compare it as a set
    split = sum(1 for e in before_root.iter() if isinstance(e.tag, str)) - \
        sum(1 for e in before_root.find(di).iter() if isinstance(e.tag, str))
    assert semantic(after_root)[:split] == semantic(before_root)[:split]
    assert sorted(semantic(after_root)[split:]) == sorted(semantic(before_root)[split:])

    # The organisation with a drawn diagram.
    driver.get(f"{live_server}/modellerorg/procesontwerp")
    ready()
    assert "Procesontwerp" in driver.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]").text

    # The end goes; a task is appended after the existing one, then a new end after it.
    click_shape("End_klaar")
    clickable('.djs-context-pad .entry[data-action="delete"]').click()
    click_shape("Task_behandelen")
    clickable('.djs-context-pad .entry[data-action="append.append-task"]').click()
    type_label("Tweede controle")
    new_task = wait.until(lambda d: d.execute_script(
        "return window.klachtroute.modeler.get('elementRegistry')"
        ".filter(e => e.businessObject && e.businessObject.name === 'Tweede controle' && e.type !== 'label')"
        ".map(e => e.id)[0] || null"))
    click_shape(new_task)
    clickable('.djs-context-pad .entry[data-action="append.end-event"]').click()
    type_label("Gecontroleerd")

    # Make it a user task through the replace menu (the wrench). The new end's label editor may
    # still lie over the task, so the task is selected as a keyboard user would reach it.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    driver.execute_script(
        "const m = window.klachtroute.modeler;"
        "m.get('selection').select(m.get('elementRegistry').get(arguments[0]));", new_task)
    css(".djs-context-pad.open")
    clickable('.djs-context-pad .entry[data-action="replace"]').click()
    clickable('.djs-popup [data-id="replace-with-user-task"]').click()
    wait.until(lambda d: d.execute_script(
        "return window.klachtroute.modeler.get('elementRegistry').get(arguments[0]).type", new_task) == "bpmn:UserTask")
    wait.until(lambda d: selected() == new_task)  # the replaced element stays selected
    assert css("#paneel-titel").text == "Tweede controle"
    assert "nog geen formulier" in css("#paneel").text

    # Deploy: refused, the new task has no form; it is listed and marked on the canvas.
    css("#publiceren-notitie").send_keys("Tweede controle toegevoegd")
    clickable("#knop-publiceren").click()
    clickable("#publiceren-ja").click()  # the confirmation: running complaints stay on their version
    status_contains("Niet gepubliceerd")
    item = css(f'#probleemlijst li[data-element-id="{new_task}"]')
    assert "Tweede controle" in item.text and "geen formulier" in item.text
    assert "probleem" in shape(new_task).get_attribute("class")
    with runtime.sessions() as s:
        assert s.scalar(select(DiagramVersion.version).where(
            DiagramVersion.organisation_id == runtime.organisation_id("modellerorg"))
            .order_by(DiagramVersion.version.desc())) == 1

    # The problem leads to the element; the side panel sets its form.
    driver.find_element(By.CSS_SELECTOR, "#paneel-naam").click()  # move away first
    item.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda d: selected() == new_task)
    Select(css("#paneel-formulier")).select_by_value("test-behandelen-schema.json")
    wait.until(lambda d: Select(d.find_element(By.ID, "paneel-uischema")).first_selected_option
               .get_attribute("value") == "test-behandelen-uischema.json")
    instructions = css("#paneel-instructies")
    instructions.send_keys("Controleer of de afspraken met {{ klager.naam }} zijn nagekomen.")
    css("#paneel-id").click()  # the textarea applies its change when it loses focus
    assert "probleem" not in shape(new_task).get_attribute("class")  # changed since the check
    assert "controleer opnieuw" in css(f'#probleemlijst li[data-element-id="{new_task}"]').text
    driver.execute_script("window.scrollTo(0, 0); document.querySelector('.modeller-paneel').scrollTop = 0")
    driver.save_screenshot(str(SCREENSHOT))

    # Deploy again: version 2, with what changed.
    clickable("#knop-publiceren").click()
    clickable("#publiceren-ja").click()
    status_contains("Versie 2 is gepubliceerd")
    outcome = css("#publicatie-uitkomst").text
    assert "Toegevoegd" in outcome and "Tweede controle" in outcome
    assert css("#modeller-bron").text.startswith("Versie 2")

    # Through the runtime: the complaint from before stays on version 1, a new one runs on version 2.
    with runtime.sessions() as s:
        versions = {v.version: v for v in s.scalars(select(DiagramVersion).where(
            DiagramVersion.organisation_id == runtime.organisation_id("modellerorg")))}
    assert set(versions) == {1, 2} and versions[2].deployed_by == "pieter@test.nl"
    assert versions[2].note == "Tweede controle toegevoegd"
    after = runtime.start("modellerorg", {"klager": {"naam": "B. Jansen", "email": "b@example.nl"}})
    with runtime.sessions() as s:
        assert s.get(Instance, before.instance_id).diagram_version_id == versions[1].id
        assert s.get(Instance, after.instance_id).diagram_version_id == versions[2].id
    from webapp.runtime.service import Actor

    actor = Actor("pieter@test.nl", "modellerorg", frozenset({"behandelaar"}))
    for started in (before, after):
        with runtime.sessions() as s:
            task = s.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                    HumanTask.state == "ready"))
        assert task.bpmn_id == "Task_behandelen"
        runtime.complete_task(started.instance_id, task.task_id, actor, {"opgelost": True})
    with runtime.sessions() as s:
        assert s.get(Instance, before.instance_id).status == "completed"
        assert s.get(Instance, after.instance_id).status == "running"
        ready_tasks = s.scalars(select(HumanTask.name).where(HumanTask.instance_id == after.instance_id,
                                                             HumanTask.state == "ready")).all()
    assert ready_tasks == ["Tweede controle"]

    # What the Modeler wrote keeps the original task's spiffworkflow extensions untouched,
    # and the new task's form and instructions are where SpiffWorkflow reads them.
    original = etree.fromstring((FIXTURES / "modeller_org" / "klachtenprocedure.bpmn").read_bytes())
    deployed = etree.fromstring(versions[2].bpmn_xml.encode())
    assert [c for c in spiff_content(deployed) if c[0] == "Task_behandelen"] == \
        [c for c in spiff_content(original) if c[0] == "Task_behandelen"]
    parsed = runtime.diagram(versions[2].id)
    spec = next(t for t in parsed.spec.task_specs.values() if getattr(t, "bpmn_id", None) == new_task)
    assert spec.extensions["properties"] == {"formJsonSchemaFilename": "test-behandelen-schema.json",
                                             "formUiSchemaFilename": "test-behandelen-uischema.json"}
    assert "{{ klager.naam }}" in spec.extensions["instructionsForEndUser"]

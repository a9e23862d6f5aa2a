"""The modeller's check in headless Chromium: problems are Dutch and grouped (one line per
cause with a count), listed beside the diagram, their elements outlined, and a click scrolls
the diagram to the element. Publishing asks first and says what happens to running complaints.
Screenshot: /tmp/screens/modeller-problemen.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from webapp.db.models import DiagramVersion
from webapp.runtime.organisations import load_config

from .conftest import FIXTURES, PASSWORD
from .test_e2e_modeller import bundle  # noqa: F401 - the esbuild bundle fixture

SCREENS = Path("/tmp/screens")
ADD_TASKS = """
const m = window.klachtroute.modeler;
const registry = m.get('elementRegistry'), modeling = m.get('modeling'), factory = m.get('elementFactory');
const anchor = registry.get('Task_behandelen');
const ids = [];
for (const [i, name] of ['Eerste extra', 'Tweede extra', 'Derde extra'].entries()) {
  const shape = modeling.createShape(factory.createShape({ type: 'bpmn:UserTask' }),
    { x: anchor.x + 60 + 130 * i, y: anchor.y + 200 }, anchor.parent);
  modeling.updateProperties(shape, { name });
  ids.push(shape.id);
}
return ids;
"""


@pytest.fixture
def test_org():
    return load_config(FIXTURES / "modeller_org")


def test_grouped_problems_beside_the_diagram_and_a_publish_that_asks_first(
        bundle, runtime, make_user, live_server, chrome):  # noqa: F811
    make_user("pieter@test.nl", "modellerorg:procesbeheerder")
    runtime.start("modellerorg", {"klager": {"naam": "A. de Vries", "email": "a@example.nl"}})
    wait = WebDriverWait(chrome, 30)

    def css(selector: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))

    chrome.get(f"{live_server}/login")
    chrome.find_element(By.NAME, "email").send_keys("pieter@test.nl")
    chrome.find_element(By.NAME, "wachtwoord").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(lambda d: "/login" not in d.current_url)
    chrome.get(f"{live_server}/modellerorg/procesontwerp")
    wait.until(lambda d: d.execute_script("return document.body.dataset.modeller") == "klaar")

    added = chrome.execute_script(ADD_TASKS)
    chrome.find_element(By.ID, "knop-controleren").click()
    wait.until(lambda d: "De controle vond" in d.find_element(By.ID, "modeller-status").text)

    # One line per cause: the three tasks without a form share one line, with a count.
    groups = chrome.find_elements(By.CSS_SELECTOR, "#probleemlijst > li.probleem-groep")
    no_form = [g for g in groups if "geen formulier" in g.text]
    assert len(no_form) == 1 and "(3 keer)" in no_form[0].text
    assert [li.get_attribute("data-element-id")
            for li in no_form[0].find_elements(By.CSS_SELECTOR, ".probleem-elementen li")] == added
    assert all("Eerste extra" in g.text or "keer" in g.text or "(" in g.text for g in groups)
    assert not any("bpmnlint" in g.text or " is missing " in g.text for g in groups)  # Dutch, not bpmnlint's English
    # Beside the diagram: the list sits in the same row as the canvas, to its right.
    canvas_box = chrome.find_element(By.ID, "canvas").rect
    list_box = chrome.find_element(By.ID, "probleemlijst").rect
    assert list_box["x"] >= canvas_box["x"] + canvas_box["width"] - 1 and list_box["y"] < canvas_box["y"] + canvas_box["height"]
    for element_id in added:  # each element outlined
        shape = chrome.find_element(By.CSS_SELECTOR, f'.djs-element[data-element-id="{element_id}"]')
        assert "probleem" in shape.get_attribute("class")

    # A click scrolls the diagram to the element and selects it.
    chrome.execute_script("window.klachtroute.modeler.get('canvas').scroll({ dx: -4000, dy: -3000 })")
    target = added[2]

    def inside_canvas() -> bool:
        shape = chrome.find_element(By.CSS_SELECTOR, f'.djs-element[data-element-id="{target}"]').rect
        box = chrome.find_element(By.ID, "canvas").rect
        return (box["x"] <= shape["x"] and shape["x"] + shape["width"] <= box["x"] + box["width"]
                and box["y"] <= shape["y"] and shape["y"] + shape["height"] <= box["y"] + box["height"])

    assert not inside_canvas()
    no_form[0].find_element(By.CSS_SELECTOR, f'li[data-element-id="{target}"] button').click()
    wait.until(lambda d: d.execute_script(
        "return window.klachtroute.modeler.get('selection').get()[0].id") == target)
    assert inside_canvas()
    SCREENS.mkdir(exist_ok=True)
    chrome.save_screenshot(str(SCREENS / "modeller-problemen.png"))

    # Publishing asks first and says what happens to the running complaint; cancelling publishes nothing.
    chrome.find_element(By.ID, "publiceren-notitie").send_keys("Drie taken toegevoegd")
    chrome.find_element(By.ID, "knop-publiceren").click()
    dialog = css("#publiceren-bevestigen[open]")
    assert "1 lopende klacht blijft op de versie waarop zij begon. U kunt haar daarna" in dialog.text
    assert "migratiepagina" in dialog.text and "nieuwe klachten" in dialog.text.lower()
    chrome.save_screenshot(str(SCREENS / "modeller-publiceren.png"))
    chrome.find_element(By.ID, "publiceren-nee").click()
    wait.until(lambda d: d.find_element(By.ID, "modeller-status").text == "Niet gepubliceerd.")
    assert not chrome.find_elements(By.CSS_SELECTOR, "#publiceren-bevestigen[open]")
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(DiagramVersion).where(
            DiagramVersion.organisation_id == runtime.organisation_id("modellerorg"))) == 1

    # The timer editor shows an expression it cannot compose as it is, and offers no overwrite.
    expression = "weeks_after(6 + wkkgz_verlenging_weken, ontvangen_op, statutory=True)"
    chrome.execute_script("""
const m = window.klachtroute.modeler;
const modeling = m.get('modeling'), factory = m.get('elementFactory'), moddle = m.get('moddle');
const anchor = m.get('elementRegistry').get('Task_behandelen');
const shape = modeling.createShape(factory.createShape({ type: 'bpmn:IntermediateCatchEvent',
  eventDefinitionType: 'bpmn:TimerEventDefinition' }), { x: anchor.x + 60, y: anchor.y + 330 }, anchor.parent);
const definition = shape.businessObject.eventDefinitions[0];
modeling.updateModdleProperties(shape, definition, { timeDate: moddle.create('bpmn:FormalExpression', { body: arguments[0] }) });
m.get('selection').select(shape);
""", expression)
    own = css("#paneel-termijn-eigen")
    assert expression in own.text and "werkdagen na ontvangst" not in own.text
    assert not chrome.find_elements(By.ID, "paneel-termijn-toepassen")  # no button that would overwrite it
    assert chrome.find_element(By.ID, "paneel-termijn").get_attribute("value") == expression

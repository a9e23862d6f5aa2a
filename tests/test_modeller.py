"""Procesontwerp through Flask's test client on a real database: who may use it, the
modeller page and what it gives the side panel, drafts, import, download, check, deploy,
versions, migration, the form editor; the layout for diagrams without DI; and the round
trip of every diagram through bpmn-moddle with our spiffworkflow descriptor."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree, html
from sqlalchemy import select

from webapp.db.models import DiagramVersion, HumanTask, Instance
from webapp.runtime.checks import _check_layout, _Collector
from webapp.runtime.deploy import load_draft
from webapp.runtime.diagrams import parse_diagram, parse_xml
from webapp.runtime.errors import DiagramError
from webapp.runtime.organisations import REPO_ROOT
from webapp.web.modeller_layout import add_layout, needs_layout

from .conftest import FIXTURES, open_draft

TIMERS = FIXTURES / "timers" / "timers.bpmn"
DESCRIPTOR = REPO_ROOT / "webapp" / "web" / "assets" / "spiffworkflow-moddle.json"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def page(response):
    return html.fromstring(response.get_data(as_text=True))


def text(response) -> str:
    return " ".join(page(response).text_content().split())


def modeller_data(response) -> dict:
    node = page(response).xpath("//script[@id='modeller-gegevens']")[0]
    return json.loads(node.text)


@pytest.fixture
def owner(browser, make_user):
    make_user("pieter@test.nl", "testorg:procesbeheerder")
    browser.login("pieter@test.nl")
    return browser


def post_json(browser, url: str, body: dict, token: str | None = None):
    token = token if token is not None else browser.csrf("/testorg/procesontwerp")
    return browser.client.post(url, json=body, headers={"X-CSRFToken": token})


def laid_out(xml: str | None = None) -> str:
    """The test organisation's diagram with a layout, so that it passes the layout checks."""
    return add_layout(xml or TIMERS.read_text(encoding="utf-8"), "Testorganisatie")


# -- rights -------------------------------------------------------------------------------------


def test_only_the_process_owner_of_the_organisation_gets_in(browser, make_user, other_org, runtime):
    from webapp.runtime.deploy import save_draft

    assert save_draft(runtime, "testorg", laid_out(), "pieter@test.nl") == 1
    make_user("els@test.nl", "testorg:behandelaar")
    make_user("ada@test.nl", "testorg:auditor")
    make_user("quinn@test.nl", "quickorg:procesbeheerder")
    make_user("pieter@test.nl", "testorg:procesbeheerder")
    urls = ["/testorg/procesontwerp", "/testorg/procesontwerp/versies", "/testorg/procesontwerp/pakket",
            "/testorg/procesontwerp/download", "/testorg/procesontwerp/concept/1/formulieren/test-behandelen-schema.json",
            "/testorg/procesontwerp/concept/1/brieven/ontvangstbevestiging", "/testorg/procesontwerp/concept/1/instellingen"]

    browser.login("els@test.nl")
    for url in urls:
        assert browser.get(url).status_code == 403, url
    refused = post_json(browser, "/testorg/procesontwerp/controleren", {"xml": "<x/>"},
                        token=browser.csrf("/testorg/inbox"))
    assert refused.status_code == 403
    assert "Procesontwerp" not in text(browser.get("/testorg/inbox"))
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/testorg/inbox")})

    browser.login("ada@test.nl")
    assert browser.get("/testorg/procesontwerp").status_code == 403
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/testorg/inbox")})

    browser.login("quinn@test.nl")  # a process owner, of another organisation
    for url in urls:
        assert browser.get(url).status_code == 404, url
    assert browser.get("/quickorg/procesontwerp").status_code == 200
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/quickorg/inbox")})

    browser.login("pieter@test.nl")
    for url in urls:
        assert browser.get(url).status_code in (200, 302), url  # the package page leads to the newest draft
    nav = page(browser.get("/testorg/inbox")).xpath("//nav//a[normalize-space()='Procesontwerp']/@href")
    assert nav == ["/testorg/procesontwerp"]


def test_a_post_without_the_csrf_token_is_refused(owner):
    response = owner.client.post("/testorg/procesontwerp/concept", json={"xml": TIMERS.read_text()})
    assert response.status_code == 400


# -- the modeller page --------------------------------------------------------------------------


def test_the_page_opens_the_current_version_and_gives_the_panel_what_it_needs(owner):
    response = owner.get("/testorg/procesontwerp")
    assert response.status_code == 200
    doc = page(response)
    assert doc.xpath("//meta[@name='csrf-token']/@content")
    assert doc.xpath("//script[contains(@src, 'build/modeller.js')]")
    data = modeller_data(response)
    assert data["source"]["kind"] == "versie" and data["source"]["version"] == 1
    # The test organisation's diagram has no BPMN DI: the page gets one, so bpmn-js can show it.
    assert data["layout_generated"] is True
    root = etree.fromstring(data["xml"].encode())
    placed = {s.get("bpmnElement") for s in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape")}
    assert {"Task_behandelen", "Lane_behandelaar", "Participant_timers", "Timer_escalatie"} <= placed
    assert {"schema": "test-behandelen-schema.json", "ui": "test-behandelen-uischema.json",
            "title": "Klacht behandelen", "own": True} in data["forms"]
    assert "test-behandelen-uischema.json" in data["ui_schemas"]
    assert not any(f["schema"].startswith("korein-") for f in data["forms"])  # not another organisation's
    assert {"id": "behandelaar", "label": "Behandelaar"} in data["roles"]
    assert data["lanes"] == {"Behandelaar": "behandelaar", "Directeur": "directeur"}
    operators = {o["name"]: o for o in data["operators"]}
    assert set(operators) == {"send_letter", "notify_role", "register_complaint", "record_measure"}
    assert {"name": "template", "required": True}.items() <= operators["send_letter"]["parameters"][0].items()
    assert [p["name"] for p in operators["notify_role"]["parameters"]] == ["role", "subject", "message"]
    calendar = {f["name"]: f for f in data["calendar"]}
    assert calendar["working_days_after"]["picker"] and calendar["weeks_after"]["params"] == ["n", "moment", "statutory"]
    assert not calendar["now_iso"]["picker"]
    assert "ontvangstbevestiging" in data["letters"]
    assert data["urls"]["form_edit"] is None  # forms are edited in a draft, not in a published version


def test_a_generated_layout_passes_the_layout_checks_and_leaves_the_process_alone():
    for path in [TIMERS, FIXTURES / "quick" / "quick.bpmn", FIXTURES / "intake_org" / "klachtenprocedure.bpmn"]:
        original = path.read_text(encoding="utf-8")
        assert needs_layout(original)
        xml = add_layout(original, "Test")
        assert not needs_layout(xml)
        collector = _Collector(path.name)
        _check_layout(parse_xml(xml, path.name), collector)
        assert collector.problems == [], path
        before = etree.tostring(parse_xml(original, "a").find("{*}process"), method="c14n")
        after = etree.tostring(parse_xml(xml, "b").find("{*}process"), method="c14n")
        assert before == after  # only a collaboration (if missing) and the DI are added
    process_id = "test_timers"
    assert parse_diagram(laid_out(), "timers.bpmn", process_id).process_id == process_id
    # A diagram that has a layout is never laid out again.
    assert not needs_layout((REPO_ROOT / "bpmn" / "korein" / "klantreactieprocedure.bpmn").read_text())


# -- drafts, import, download -------------------------------------------------------------------


def test_save_a_draft_open_it_save_it_again_and_download_it(owner):
    xml = laid_out()
    saved = post_json(owner, "/testorg/procesontwerp/concept", {"xml": xml})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    draft_id = saved.json["concept_id"]
    assert saved.json["url"] == f"/testorg/procesontwerp?concept={draft_id}"

    opened = modeller_data(owner.get(f"/testorg/procesontwerp?concept={draft_id}"))
    assert opened["source"]["kind"] == "concept" and opened["xml"] == xml
    assert opened["layout_generated"] is False

    changed = xml.replace('name="Klacht behandelen"', 'name="Klacht onderzoeken"')
    again = post_json(owner, "/testorg/procesontwerp/concept", {"xml": changed, "concept": draft_id})
    assert again.json["concept_id"] == draft_id
    download = owner.get(f"/testorg/procesontwerp/download?concept={draft_id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="testorg-concept-{draft_id}.bpmn"'
    assert download.get_data(as_text=True) == changed
    assert f"Concept {draft_id}" in text(owner.get("/testorg/procesontwerp/versies"))
    assert owner.get("/testorg/procesontwerp?concept=999999").status_code == 404

    deleted = owner.post(f"/testorg/procesontwerp/concept/{draft_id}/verwijderen", page="/testorg/procesontwerp/versies",
                         follow_redirects=True)
    assert f"Concept {draft_id} is verwijderd" in text(deleted)
    assert owner.get(f"/testorg/procesontwerp?concept={draft_id}").status_code == 404


def test_a_draft_of_another_organisation_is_not_found(owner, runtime, other_org):
    from webapp.runtime import deploy

    theirs = deploy.save_draft(runtime, "quickorg", (FIXTURES / "quick" / "quick.bpmn").read_text(), "q@test.nl")
    assert owner.get(f"/testorg/procesontwerp?concept={theirs}").status_code == 404
    assert owner.get(f"/testorg/procesontwerp/download?concept={theirs}").status_code == 404
    overwrite = post_json(owner, "/testorg/procesontwerp/concept", {"xml": laid_out(), "concept": theirs})
    assert overwrite.status_code == 404


def test_download_the_current_version(owner, runtime):
    response = owner.get("/testorg/procesontwerp/download")
    assert response.headers["Content-Disposition"] == 'attachment; filename="testorg-versie-1.bpmn"'
    assert response.get_data(as_text=True) == TIMERS.read_text(encoding="utf-8")


def upload(browser, content: bytes, filename: str):
    from io import BytesIO

    return browser.client.post("/testorg/procesontwerp/importeren", data={
        "csrf_token": browser.csrf("/testorg/procesontwerp"), "bestand": (BytesIO(content), filename)},
        content_type="multipart/form-data")


def test_import_a_bpmn_file_as_a_draft(owner):
    response = upload(owner, laid_out().encode("utf-8"), "verbeterd.bpmn")
    assert response.status_code == 302
    target = response.headers["Location"]
    assert re.fullmatch(r"/testorg/procesontwerp\?concept=\d+", target)
    shown = owner.get(target)
    assert "'verbeterd.bpmn' is geïmporteerd als concept" in text(shown)
    assert modeller_data(shown)["source"]["kind"] == "concept"


@pytest.mark.parametrize(("content", "expected"), [
    (b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
     b'  <bpmn:process id="p">\n</bpmn:definitions>\n', "Regel 4: het bestand is geen geldige XML"),
    (b'<?xml version="1.0"?>\n<html><body>geen diagram</body></html>\n', "dit is geen BPMN-diagram"),
    (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<x/>', "entiteitdefinities zijn niet toegestaan"),
    ("<?xml version='1.0'?><x>é</x>".encode("latin-1"), "geen geldige UTF-8"),
])
def test_importing_a_malformed_file_says_exactly_what_is_wrong(owner, runtime, content, expected):
    response = upload(owner, content, "kapot.bpmn")
    assert response.status_code == 422
    assert expected in text(response), text(response)
    assert "'kapot.bpmn' kan niet worden geïmporteerd" in text(response)
    from webapp.runtime import deploy

    assert deploy.list_drafts(runtime, "testorg") == []


def test_import_without_a_file(owner):
    response = owner.client.post("/testorg/procesontwerp/importeren",
                                 data={"csrf_token": owner.csrf("/testorg/procesontwerp")})
    assert response.status_code == 422 and "kies een .bpmn-bestand" in text(response)


# -- check and deploy ---------------------------------------------------------------------------


def without_form(xml: str) -> str:
    root = etree.fromstring(xml.encode())
    task = root.find(".//{*}userTask[@id='Task_behandelen']")
    task.remove(task.find("{*}extensionElements"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def test_check_lists_problems_with_element_name_and_line(owner):
    response = post_json(owner, "/testorg/procesontwerp/controleren", {"xml": without_form(laid_out())})
    assert response.status_code == 200
    problems = response.json["problems"]
    mine = [p for p in problems if p["element_id"] == "Task_behandelen"]
    assert mine, problems
    assert mine[0]["element_name"] == "Klacht behandelen"
    assert isinstance(mine[0]["line"], int) and mine[0]["line"] > 1
    assert "geen formulier" in mine[0]["message"]  # in Dutch

    assert post_json(owner, "/testorg/procesontwerp/controleren", {"xml": laid_out()}).json["problems"] == []
    assert post_json(owner, "/testorg/procesontwerp/controleren", {"geen": "xml"}).status_code == 400


def test_deploy_is_refused_while_problems_remain_and_then_makes_a_new_version(owner, runtime):
    refused = post_json(owner, "/testorg/procesontwerp/publiceren", {"xml": without_form(laid_out()), "note": "test"})
    assert refused.status_code == 422
    assert any(p["element_id"] == "Task_behandelen" for p in refused.json["problems"])
    no_note = post_json(owner, "/testorg/procesontwerp/publiceren", {"xml": laid_out(), "note": " "})
    assert no_note.status_code == 400
    with runtime.sessions() as s:
        assert s.scalar(select(DiagramVersion.version).order_by(DiagramVersion.version.desc())) == 1

    draft = post_json(owner, "/testorg/procesontwerp/concept", {"xml": laid_out()}).json["concept_id"]
    xml = laid_out().replace('name="Opgelost?"', 'name="Is de klacht opgelost?"')
    done = post_json(owner, "/testorg/procesontwerp/publiceren",
                     {"xml": xml, "note": "Vraag duidelijker", "concept": draft})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.json["version"] == 2 and done.json["unchanged"] is False
    changed = {c["id"]: c for c in done.json["changes"]["changed"]}
    assert changed["Gateway_opgelost"]["aspects"] == ["name"]
    assert done.json["migration_url"] == f"/testorg/procesontwerp/versies/{done.json['version_id']}/migratie"
    assert owner.get(f"/testorg/procesontwerp?concept={draft}").status_code == 404  # the draft became the version

    versions = page(owner.get("/testorg/procesontwerp/versies"))
    row = " ".join(versions.xpath("//tr[@id='versie-2']")[0].text_content().split())
    assert "pieter@test.nl" in row and "Vraag duidelijker" in row
    assert "Gewijzigd: Is de klacht opgelost? (gateway, Gateway_opgelost): naam" in row
    assert "in gebruik" in row
    assert modeller_data(owner.get("/testorg/procesontwerp"))["source"]["version"] == 2

    same = post_json(owner, "/testorg/procesontwerp/publiceren", {"xml": xml, "note": "nog eens"})
    assert same.json["version"] == 2 and same.json["unchanged"] is True


def test_migration_moves_the_chosen_running_complaints(owner, runtime, vclock):
    escalated = runtime.start("testorg", {"klager": {"naam": "C"}})
    vclock.advance(timedelta(days=10))
    runtime.fire_due_timers()  # escalated: it waits at Task_escalatie
    first = runtime.start("testorg", {"klager": {"naam": "A"}})
    second = runtime.start("testorg", {"klager": {"naam": "B"}})
    # Version 2: a clearer gateway name, and the escalation task gets another id.
    xml = laid_out().replace('name="Opgelost?"', 'name="Is de klacht opgelost?"').replace(
        "Task_escalatie", "Task_directeur")
    version_id = post_json(owner, "/testorg/procesontwerp/publiceren", {"xml": xml, "note": "v2"}).json["version_id"]
    url = f"/testorg/procesontwerp/versies/{version_id}/migratie"
    preview = page(owner.get(url))
    rows = {" ".join(r.xpath("string(td[2])").split()): r for r in preview.xpath("//table[@id='kandidaten']/tbody/tr")}
    assert set(rows) == {first.reference, second.reference, escalated.reference}
    assert rows[first.reference].xpath(".//input[@type='checkbox']/@value") == [str(first.instance_id)]
    blocked = rows[escalated.reference]
    assert not blocked.xpath(".//input") and "nee" in blocked.text_content()
    assert blocked.xpath(".//td[4]//li"), "the reasons are listed"

    moved = owner.post(url, {"klacht": str(first.instance_id)})
    assert moved.status_code == 200
    assert f"{first.reference}: verplaatst naar versie 2" in text(moved)
    with runtime.sessions() as s:
        assert s.get(Instance, first.instance_id).diagram_version_id == version_id
        assert s.get(Instance, second.instance_id).diagram_version_id != version_id
        assert s.get(Instance, escalated.instance_id).diagram_version_id != version_id
    refused = owner.post(url, {"klacht": str(escalated.instance_id)})
    assert f"{escalated.reference}: niet verplaatst" in text(refused)
    # Someone else's complaint id is refused.
    assert owner.post(url, {"klacht": "999999"}).status_code == 404


# -- the form editor ----------------------------------------------------------------------------


@pytest.fixture
def draft(owner) -> int:
    """A draft of the current version, made as the process owner does (its forms are edited there)."""
    return open_draft(owner)


def form_url(draft_id: int, name: str = "test-behandelen-schema.json") -> str:
    return f"/testorg/procesontwerp/concept/{draft_id}/formulieren/{name}"


def test_the_forms_list_shows_the_forms_the_diagram_uses(owner, draft):
    doc = page(owner.get(f"/testorg/procesontwerp/concept/{draft}/formulieren"))
    row = " ".join(doc.xpath("//table[@id='formulieren']//tr[td]")[0].text_content().split())
    assert "Klacht behandelen" in row and "test-behandelen-schema.json" in row and "Escalatie behandelen" in row
    assert doc.xpath(f"//a[@href='{form_url(draft)}']")
    new = owner.post(f"/testorg/procesontwerp/concept/{draft}/formulieren", {"naam": "Tweede gesprek"})
    assert new.headers["Location"] == form_url(draft, "testorg-tweede-gesprek-schema.json")
    opened = owner.get(new.headers["Location"])
    assert opened.status_code == 200 and "nieuw" in text(opened)


def test_the_editor_shows_both_schemas_and_a_preview(owner, draft):
    doc = page(owner.get(form_url(draft)))
    schema = json.loads(doc.xpath("//textarea[@name='schema']")[0].text)
    assert schema["title"] == "Klacht behandelen"
    assert json.loads(doc.xpath("//textarea[@name='ui_schema']")[0].text) == {"toelichting": {"ui:widget": "textarea"}}
    preview = doc.xpath("//div[@id='voorbeeld']")[0]
    assert "Is de klacht opgelost?" in preview.text_content()
    assert preview.xpath(".//textarea[@name='toelichting']")
    assert doc.xpath("//form[@id='formulier-editor']/@data-voorbeeld-url") == [form_url(draft) + "/voorbeeld"]


def test_forms_of_other_organisations_cannot_be_edited(owner, draft):
    assert owner.get(form_url(draft, "korein-beoordelen-schema.json")).status_code == 404
    assert owner.get(form_url(draft, "..%2Fsecret-schema.json")).status_code == 404
    assert owner.get("/quickorg/procesontwerp/concept/1/formulieren").status_code == 404


def preview(owner, schema, ui="{}"):
    url = form_url(open_draft(owner))
    return owner.client.post(url + "/voorbeeld", data={
        "schema": schema if isinstance(schema, str) else json.dumps(schema), "ui_schema": ui},
        headers={"X-CSRFToken": owner.csrf(url)})


BASE = {"type": "object", "title": "Gesprek", "properties": {
    "verslag": {"type": "string", "title": "Verslag van het gesprek"},
    "tevreden": {"type": "boolean", "title": "Is de klager tevreden?"}}}


@pytest.mark.parametrize(("schema", "ui", "expected"), [
    ('{"type": "object",\n "properties": {', "{}", "JSON Schema: geen geldige JSON"),
    (BASE, '{"verslag": ', "UI-schema: geen geldige JSON"),
    ({"type": "objekt", "properties": {}}, "{}", "Geen geldig JSON Schema (Draft 2020-12)"),
    ({**BASE, "properties": {**BASE["properties"], "adres": {"$ref": "#/$defs/adres"}}, "$defs": {"adres": {"type": "string"}}},
     "{}", "Kan niet worden getoond: adres: $ref is not supported"),
    (BASE, '{"verslagg": {"ui:widget": "textarea"}}', "UI-schema: het veld 'verslagg' bestaat niet in het JSON Schema"),
    (BASE, '{"ui:order": ["tevreden", "datum", "*"]}', "ui:order noemt 'datum', maar dat veld bestaat niet"),
])
def test_the_editor_checks_the_form(owner, schema, ui, expected):
    response = preview(owner, schema, ui)
    assert response.status_code == 200
    assert any(expected in p for p in response.json["problems"]), response.json["problems"]
    assert expected.split(":")[0] in html.fromstring(response.json["problems_html"]).text_content()


def test_the_live_preview_renders_on_the_server(owner):
    response = preview(owner, BASE, '{"verslag": {"ui:widget": "textarea"}, "ui:order": ["tevreden", "*"]}')
    assert response.json["problems"] == []
    fragment = html.fromstring(response.json["html"])
    labels = [" ".join(e.text_content().split()) for e in fragment.xpath("//label|//legend")]
    assert labels[0].startswith("Is de klager tevreden?") and "Verslag van het gesprek" in labels
    assert fragment.xpath("//textarea[@name='verslag']")
    assert "Geen problemen" in response.json["problems_html"]


def test_without_javascript_the_voorbeeld_button_renders_the_preview(owner, runtime, draft):
    before = load_draft(runtime, "testorg", draft).files
    response = owner.post(form_url(draft), {"schema": json.dumps(BASE), "ui_schema": "{}", "actie": "voorbeeld"})
    assert response.status_code == 200
    assert "Verslag van het gesprek" in page(response).xpath("string(//div[@id='voorbeeld'])")
    assert load_draft(runtime, "testorg", draft).files == before  # a preview saves nothing


def test_a_form_with_problems_is_not_saved(owner, runtime, draft):
    before = load_draft(runtime, "testorg", draft).files
    response = owner.post(form_url(draft), {"schema": json.dumps(BASE), "ui_schema": '{"onbekend": {}}',
                                            "actie": "opslaan"})
    assert response.status_code == 422
    assert "het veld 'onbekend' bestaat niet" in text(response)
    doc = page(response)
    assert json.loads(doc.xpath("//textarea[@name='schema']")[0].text) == BASE  # what was typed stays
    assert load_draft(runtime, "testorg", draft).files == before


def test_a_form_saved_in_a_draft_reaches_new_complaints_only_once_published(owner, runtime, draft, make_user):
    running = runtime.start("testorg", {"klager": {"naam": "A. de Vries"}})
    make_user("els@test.nl", "testorg:behandelaar")
    changed = json.loads((FIXTURES / "forms" / "test-behandelen-schema.json").read_text())
    changed["properties"]["vervolg"] = {"type": "string", "title": "Welk vervolg is afgesproken?"}
    saved = owner.post(form_url(draft), {"schema": json.dumps(changed), "ui_schema": '{"vervolg": {"ui:widget": "textarea"}}',
                                         "actie": "opslaan"}, follow_redirects=True)
    assert saved.status_code == 200 and "is opgeslagen in concept" in text(saved)
    files = load_draft(runtime, "testorg", draft).files
    assert json.loads(files["forms/test-behandelen-schema.json"]) == changed
    assert json.loads(files["forms/test-behandelen-uischema.json"]) == {"vervolg": {"ui:widget": "textarea"}}
    # Saved in the draft only: the version in use keeps its form.
    assert "vervolg" not in runtime.organisation("testorg").forms.load("test-behandelen-schema.json")["properties"]

    published = owner.post(f"/testorg/procesontwerp/concept/{draft}/pakket",
                           {"actie": "publiceren", "notitie": "vervolg vastleggen"},
                           page=f"/testorg/procesontwerp/concept/{draft}/pakket", follow_redirects=True)
    assert "Versie 2 is gepubliceerd" in text(published), text(published)
    new = runtime.start("testorg", {"klager": {"naam": "B. Jansen"}})

    owner.client.post("/logout", data={"csrf_token": owner.csrf("/testorg/inbox")})
    owner.login("els@test.nl")
    with runtime.sessions() as s:
        tasks = {t.instance_id: t.id for t in s.scalars(select(HumanTask).where(HumanTask.state == "ready"))}
    old_page = page(owner.get(f"/testorg/taken/{tasks[running.instance_id]}"))
    new_page = page(owner.get(f"/testorg/taken/{tasks[new.instance_id]}"))
    assert not old_page.xpath("//textarea[@name='vervolg']")  # the running complaint keeps version 1's form
    assert new_page.xpath("//textarea[@name='vervolg']")
    assert "Welk vervolg is afgesproken?" in new_page.text_content()


# -- round trip through bpmn-moddle with our descriptor ---------------------------------------------

ROUND_TRIP = """
import { BpmnModdle } from 'bpmn-moddle';
import fs from 'node:fs';
const descriptor = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));  // node -e: argv[1] is the first argument
const moddle = new BpmnModdle({ spiffworkflow: descriptor });
const out = {};
for (const path of process.argv.slice(2)) {
  const { rootElement, warnings } = await moddle.fromXML(fs.readFileSync(path, 'utf8'));
  const { xml } = await moddle.toXML(rootElement, { format: true });
  out[path] = { xml, warnings: warnings.map((w) => w.message) };
}
process.stdout.write(JSON.stringify(out));
"""

# Every extension element SpiffWorkflow 3.2 reads, in the places it reads them.
ALL_EXTENSIONS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="x">
  <bpmn:message id="M" name="klacht_ingetrokken">
    <bpmn:extensionElements>
      <spiffworkflow:messageVariable>intrekking</spiffworkflow:messageVariable>
      <spiffworkflow:messagePayload>{"reden": reden}</spiffworkflow:messagePayload>
      <spiffworkflow:processVariableCorrelation>
        <spiffworkflow:propertyId>referentie</spiffworkflow:propertyId>
        <spiffworkflow:expression>referentie</spiffworkflow:expression>
      </spiffworkflow:processVariableCorrelation>
    </bpmn:extensionElements>
  </bpmn:message>
  <bpmn:process id="P" isExecutable="true">
    <bpmn:userTask id="U" name="Taak">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="a-schema.json"/>
          <spiffworkflow:property name="formUiSchemaFilename" value="a-uischema.json"/>
        </spiffworkflow:properties>
        <spiffworkflow:instructionsForEndUser>Behandel {{ referentie }} &amp; bel &lt;terug&gt;.
  Tweede regel, met spaties.  </spiffworkflow:instructionsForEndUser>
        <spiffworkflow:preScript>x = 1
if x &lt; 2:
    y = 'a'</spiffworkflow:preScript>
        <spiffworkflow:postScript>z = x + 1</spiffworkflow:postScript>
        <spiffworkflow:taskMetadataValues>
          <spiffworkflow:taskMetadataValue name="prioriteit" value="'hoog'"/>
        </spiffworkflow:taskMetadataValues>
        <spiffworkflow:allowGuest>true</spiffworkflow:allowGuest>
        <spiffworkflow:guestConfirmation>Dank u.</spiffworkflow:guestConfirmation>
        <spiffworkflow:category>intake</spiffworkflow:category>
      </bpmn:extensionElements>
      <bpmn:multiInstanceLoopCharacteristics spiffworkflow:scriptsOnInstances="true"/>
    </bpmn:userTask>
    <bpmn:serviceTask id="S" name="Brief">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="send_letter" resultVariable="brief">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="template" type="str" value="'ontvangstbevestiging'"/>
            <spiffworkflow:parameter id="to" type="str" value="klager['email']"/>
          </spiffworkflow:parameters>
          <spiffworkflow:retry retries="3" backoff_base="2"/>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:scriptTask id="T" name="Script">
      <bpmn:extensionElements>
        <spiffworkflow:unitTests>
          <spiffworkflow:unitTest id="test_1">
            <spiffworkflow:inputJson>{"a": 1}</spiffworkflow:inputJson>
            <spiffworkflow:expectedOutputJson>{"a": 2}</spiffworkflow:expectedOutputJson>
          </spiffworkflow:unitTest>
        </spiffworkflow:unitTests>
      </bpmn:extensionElements>
      <bpmn:script>a = a + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:businessRuleTask id="B" name="Beslis">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>beslissing</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:intermediateCatchEvent id="C" name="Wacht">
      <bpmn:messageEventDefinition id="MD" messageRef="M">
        <bpmn:extensionElements>
          <spiffworkflow:messageVariable>antwoord</spiffworkflow:messageVariable>
        </bpmn:extensionElements>
      </bpmn:messageEventDefinition>
    </bpmn:intermediateCatchEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def spiff_content(root: etree._Element) -> list[tuple]:
    """Every spiffworkflow element (tag, attributes, exact text, where) and every spiffworkflow
    attribute, in document order."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        owner = next((a.get("id") for a in element.iterancestors() if a.get("id")), None)
        if etree.QName(element).namespace == SPIFF:
            found.append((owner, element.tag, tuple(sorted(element.attrib.items())), element.text or ""))
        for key, value in element.attrib.items():
            if key.startswith(f"{{{SPIFF}}}"):
                found.append((element.get("id") or owner, element.tag, key, value))
    return found


def semantic(root: etree._Element) -> list[tuple]:
    """The whole document without formatting whitespace."""
    return [(e.tag, tuple(sorted(e.attrib.items())), (e.text or "").strip()) for e in root.iter() if isinstance(e.tag, str)]


def readable(path: Path) -> bool:
    try:
        parse_xml(path.read_bytes(), path.name)
    except DiagramError:
        return False
    return True


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node (make install)")
def test_every_diagram_survives_a_round_trip_with_its_spiffworkflow_extensions_untouched(tmp_path):
    synthetic = tmp_path / "alle-extensies.bpmn"
    synthetic.write_text(ALL_EXTENSIONS, encoding="utf-8")
    paths = [p for p in sorted(REPO_ROOT.glob("bpmn/*/*.bpmn")) + sorted(FIXTURES.glob("*/*.bpmn")) + [synthetic]
             if readable(p)]  # not the deliberately broken ones
    assert len(paths) >= 10
    # Run from the repository, so that bpmn-moddle resolves from node_modules as in the bundle.
    result = subprocess.run(["node", "--input-type=module", "-e", ROUND_TRIP, str(DESCRIPTOR), *map(str, paths)],
                            capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)
    for path in paths:
        out = outputs[str(path)]
        assert out["warnings"] == [], (path, out["warnings"])
        before = etree.fromstring(path.read_bytes())
        after = etree.fromstring(out["xml"].encode("utf-8"))
        assert spiff_content(after) == spiff_content(before), path
        assert semantic(after) == semantic(before), path
    assert len(spiff_content(etree.fromstring(ALL_EXTENSIONS.encode()))) == 28  # elements and attributes


def test_a_draft_file_outside_the_package_folders_is_refused(runtime):
    from webapp.runtime.deploy import save_draft, update_draft_files
    from webapp.runtime.errors import ConfigError

    draft_id = save_draft(runtime, "testorg", laid_out(), "pieter@test.nl")
    for name in ("../../webapp/boos.json", "forms/../x.json", "boos.py"):
        with pytest.raises(ConfigError):
            update_draft_files(runtime, "testorg", draft_id, {name: "{}"}, "pieter@test.nl")
    assert not any(".." in n or n.endswith(".py") for n in load_draft(runtime, "testorg", draft_id).files)


def test_a_ui_schema_name_with_a_path_is_reported_as_missing_not_a_crash(runtime):
    assert runtime.organisation("testorg").forms.exists("../secret.json") is False


def test_a_failing_scenario_is_explained_in_the_process_owners_words(owner):
    renamed = laid_out().replace('name="Klacht behandelen"', 'name="Klacht oppakken"')
    problems = post_json(owner, "/testorg/procesontwerp/controleren", {"xml": renamed}).json["problems"]
    explained = [p for p in problems if p["scenario"]]
    assert explained, problems
    first = explained[0]["message"]
    # Which scenario, which step, what was expected and what happened; no English, no raw lists.
    assert first.startswith("Scenario 'Snel opgelost', stap 1 (regel ")
    assert "verwacht dat de taak 'Klacht behandelen' klaarstaat" in first
    assert "klaar staan: 'Klacht oppakken'" in first
    assert "expected" not in first and "ready" not in first and "[" not in first

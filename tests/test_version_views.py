"""Versions you can read: the comparison page of two versions of one organisation's procedure
(/<org>/procesontwerp/versies/<old>/vergelijk/<new>), linked from the versions page. The
diagram's differences are drawn in the browser (test_e2e_versiondiff.py); here: who gets in,
what the page hands the browser, and the forms, letters and settings listed below it."""

from __future__ import annotations

import json

import pytest
from lxml import html
from sqlalchemy import func, select

from webapp.db.models import DiagramVersion
from webapp.runtime import clock
from webapp.runtime.diagrams import diagram_sha256
from webapp.runtime.organisations import load_config

from .conftest import FIXTURES

ORG = "modellerorg"
V1 = (FIXTURES / "modeller_org" / "klachtenprocedure.bpmn").read_text(encoding="utf-8")
# Version 2: the task renamed, a second task after it (its flow to the end is new), the end moved.
V2 = (V1
      .replace('name="Klacht behandelen"', 'name="Klacht onderzoeken"')
      .replace("<bpmn:flowNodeRef>End_klaar</bpmn:flowNodeRef>",
               "<bpmn:flowNodeRef>Task_controle</bpmn:flowNodeRef><bpmn:flowNodeRef>End_klaar</bpmn:flowNodeRef>")
      .replace('<bpmn:endEvent id="End_klaar" name="Afgehandeld">',
               '<bpmn:userTask id="Task_controle" name="Tweede controle">'
               '<bpmn:incoming>Flow_klaar</bpmn:incoming><bpmn:outgoing>Flow_controle</bpmn:outgoing>'
               '</bpmn:userTask>\n    <bpmn:endEvent id="End_klaar" name="Afgehandeld">')
      .replace("<bpmn:incoming>Flow_klaar</bpmn:incoming>\n    </bpmn:endEvent>",
               "<bpmn:incoming>Flow_controle</bpmn:incoming>\n    </bpmn:endEvent>")
      .replace('targetRef="End_klaar"/>', 'targetRef="Task_controle"/>\n    '
               '<bpmn:sequenceFlow id="Flow_controle" sourceRef="Task_controle" targetRef="End_klaar"/>')
      .replace('<dc:Bounds x="492" y="162" width="36" height="36"/>', '<dc:Bounds x="642" y="162" width="36" height="36"/>')
      .replace('<dc:Bounds x="479" y="205" width="62" height="14"/>', '<dc:Bounds x="629" y="205" width="62" height="14"/>')
      .replace('<di:waypoint x="492" y="180"/>', '<di:waypoint x="480" y="180"/>')
      .replace("    </bpmndi:BPMNPlane>",
               '      <bpmndi:BPMNShape id="Task_controle_di" bpmnElement="Task_controle">\n'
               '        <dc:Bounds x="480" y="140" width="100" height="80"/>\n      </bpmndi:BPMNShape>\n'
               '      <bpmndi:BPMNEdge id="Flow_controle_di" bpmnElement="Flow_controle">\n'
               '        <di:waypoint x="580" y="180"/>\n        <di:waypoint x="642" y="180"/>\n'
               '      </bpmndi:BPMNEdge>\n    </bpmndi:BPMNPlane>'))
HAS_FILES = hasattr(DiagramVersion, "files")  # the package's other files: migration 0013


@pytest.fixture
def test_org():
    """The conftest's runtime, with an organisation whose diagram is drawn (BPMN DI)."""
    return load_config(FIXTURES / "modeller_org")


def store_version(runtime, slug: str, xml: str, note: str, files: dict[str, str] | None = None) -> int:
    """A published version as the publish gate stores it (the gate itself is tested elsewhere:
    renaming the task would break this organisation's scenario). Returns its number."""
    org_id = runtime.organisation_id(slug)
    with runtime.write_sessions.begin() as session:
        number = (session.scalar(select(func.max(DiagramVersion.version))
                                 .where(DiagramVersion.organisation_id == org_id)) or 0) + 1
        row = DiagramVersion(organisation_id=org_id, version=number, process_id="modeller_proces", bpmn_xml=xml,
                             dependencies={}, sha256=diagram_sha256(xml), deployed_by="pieter@test.nl",
                             deployed_at=clock.now(), note=note, changes=None)
        if files is not None:
            row.files = files
        session.add(row)
    return number


def set_files(runtime, slug: str, number: int, files: dict[str, str]) -> None:
    with runtime.write_sessions.begin() as session:
        row = session.scalars(select(DiagramVersion).where(
            DiagramVersion.organisation_id == runtime.organisation_id(slug), DiagramVersion.version == number)).one()
        row.files = files


@pytest.fixture
def owner(browser, make_user):
    make_user("pieter@test.nl", f"{ORG}:procesbeheerder")
    browser.login("pieter@test.nl")
    return browser


def page(response):
    return html.fromstring(response.get_data(as_text=True))


def text(response) -> str:
    return " ".join(page(response).text_content().split())


def test_each_version_links_to_the_comparison_with_the_one_before(owner, runtime):
    store_version(runtime, ORG, V2, "tweede controle")
    store_version(runtime, ORG, V2.replace("Tweede controle", "Laatste controle"), "andere naam")

    rows = page(owner.get(f"/{ORG}/procesontwerp/versies")).xpath("//table[@id='versies']/tbody/tr")

    links = [row.xpath(".//a[normalize-space()='Vergelijk met vorige']/@href") for row in rows]
    assert links == [[f"/{ORG}/procesontwerp/versies/2/vergelijk/3"],
                     [f"/{ORG}/procesontwerp/versies/1/vergelijk/2"], []]
    assert owner.get(links[1][0]).status_code == 200


def test_the_page_hands_both_diagrams_to_the_browser_without_inline_script(owner, runtime):
    store_version(runtime, ORG, V2, "tweede controle")

    response = owner.get(f"/{ORG}/procesontwerp/versies/1/vergelijk/2")

    assert response.status_code == 200
    doc = page(response)
    assert "Versie 1 en versie 2 vergelijken" in text(response)
    data = json.loads(doc.xpath("//script[@id='verschil-gegevens']")[0].text)
    assert (data["old"]["version"], data["new"]["version"]) == (1, 2)
    assert data["old"]["xml"] == V1 and data["new"]["xml"] == V2
    # The server's own comparison names what changed in the renamed task, for the browser's list.
    assert data["aspects"]["Task_behandelen"] == ["name"]
    scripts = doc.xpath("//script")
    assert all(s.get("src") or s.get("type") == "application/json" for s in scripts)
    assert [s.get("src") for s in scripts if s.get("src")] == ["/static/build/versiondiff.js"]
    assert not doc.xpath("//*[@style]") and not doc.xpath("//style")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    # The menu shows the page under Procesontwerp.
    assert doc.xpath("//nav//a[@aria-current='page']/text()") == ["Procesontwerp"]
    # Versions from before procedure packages have only their diagram.
    assert "alleen het diagram bewaard" in text(response)


def test_only_the_own_organisations_process_owner_sees_existing_versions(browser, make_user, runtime, other_org):
    store_version(runtime, ORG, V2, "tweede controle")
    make_user("els@test.nl", f"{ORG}:behandelaar")
    make_user("quinn@test.nl", "quickorg:procesbeheerder")
    make_user("pieter@test.nl", f"{ORG}:procesbeheerder")
    url = f"/{ORG}/procesontwerp/versies/1/vergelijk/2"

    browser.login("els@test.nl")
    assert browser.get(url).status_code == 403
    browser.client.post("/logout", data={"csrf_token": browser.csrf(f"/{ORG}/inbox")})
    browser.login("quinn@test.nl")
    assert browser.get(url).status_code == 404
    assert browser.get("/quickorg/procesontwerp/versies/1/vergelijk/2").status_code == 404  # quickorg has one
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/quickorg/inbox")})
    browser.login("pieter@test.nl")
    assert browser.get(url).status_code == 200
    assert browser.get(f"/{ORG}/procesontwerp/versies/1/vergelijk/3").status_code == 404
    assert browser.get(f"/{ORG}/procesontwerp/versies/2/vergelijk/1").status_code == 200  # backwards is allowed


@pytest.mark.skipif(not HAS_FILES, reason="diagram_versions.files comes with migration 0013")
def test_forms_letters_and_settings_are_listed_below_the_diagram(owner, runtime):
    schema = {"type": "object", "required": ["opgelost"], "properties": {
        "opgelost": {"type": "boolean", "title": "Is de klacht opgelost?"},
        "toelichting": {"type": "string", "title": "Toelichting"}}}
    old_files = {"organisation.yaml": "name: Modeller Testorganisatie\nreference_prefix: MOD\n",
                 "forms/test-behandelen-schema.json": json.dumps(schema),
                 "letters/ontvangst.txt": "Wij hebben uw klacht ontvangen.\n"}
    schema["properties"]["opgelost"]["title"] = "Opgelost?"
    del schema["properties"]["toelichting"]
    new_files = {**old_files, "organisation.yaml": "name: Modeller Testorganisatie\nreference_prefix: MODEL\n",
                 "forms/test-behandelen-schema.json": json.dumps(schema)}
    del new_files["letters/ontvangst.txt"]
    set_files(runtime, ORG, 1, old_files)
    store_version(runtime, ORG, V2, "tweede controle", files=new_files)

    response = owner.get(f"/{ORG}/procesontwerp/versies/1/vergelijk/2")

    section = page(response).xpath("//section[@id='pakket']")[0]
    headings = [" ".join(h.text_content().split()) for h in section.xpath(".//article/h3")]
    assert headings == ["Gewijzigd Instellingen: organisation.yaml",
                        "Gewijzigd Formulier: forms/test-behandelen-schema.json",
                        "Verwijderd Brief: letters/ontvangst.txt"]
    body = " ".join(section.text_content().split())
    assert "Gewijzigd: Opgelost? (opgelost) vraag: Is de klacht opgelost? → Opgelost?" in body
    assert "Verwijderd: Toelichting (toelichting)" in body
    assert [s.text for s in section.xpath(".//span[@class='regel-weg']")] == [
        "-reference_prefix: MOD", "-Wij hebben uw klacht ontvangen."]
    assert [s.text for s in section.xpath(".//span[@class='regel-erbij']")] == ["+reference_prefix: MODEL"]

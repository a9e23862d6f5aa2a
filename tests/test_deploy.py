"""Process owners' drafts, the checks a draft must pass, and deployment as a new version
with what changed. Refused diagrams change nothing in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select

from webapp.db.models import AuditEvent, DiagramDraft, DiagramVersion, Instance
from webapp.runtime import deploy as deploy_module
from webapp.runtime import packages
from webapp.runtime.deploy import (
    compare_diagrams,
    delete_draft,
    import_bpmn,
    list_drafts,
    load_draft,
    save_draft,
)
from webapp.runtime.errors import DiagramError, NotFound
from webapp.runtime.service import Actor, Runtime
from webapp.scenarios import publish as publish_module
from webapp.scenarios.publish import check_draft, deploy

from .conftest import FIXTURES

BASE = (FIXTURES / "timers" / "timers.bpmn").read_text(encoding="utf-8")
BAD = FIXTURES / "bad"
OWNER = "eigenaar@testorg.nl"

# -- a BPMN DI layout for the test organisation's diagram and its variants ---------------------

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
FLOW_NODES = {"task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
              "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
              "eventBasedGateway", "complexGateway"}
COLUMN, ROW = 180, 120


def _local(element) -> str:
    return etree.QName(element).localname


def laid_out(xml: str) -> str:
    """The diagram with a generated BPMN DI layout, as a modeller saves it: lanes stacked, the
    flow left to right by longest path, boundary events on their task's lower border, orthogonal
    edges. (timers.bpmn has no layout; a deployable draft needs one.)"""
    root = etree.fromstring(xml.encode("utf-8"))
    for old in root.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        root.remove(old)
    process = root.find(f"{{{BPMN}}}process")
    collaboration = root.find(f"{{{BPMN}}}collaboration")
    lanes = process.findall(f".//{{{BPMN}}}lane")
    lane_of = {(ref.text or "").strip(): lane.get("id") for lane in lanes
               for ref in lane.findall(f"{{{BPMN}}}flowNodeRef")}
    nodes = [n for n in process if isinstance(n.tag, str) and _local(n) in FLOW_NODES]
    hosts = {n.get("id"): n.get("attachedToRef") for n in nodes if _local(n) == "boundaryEvent"}
    flows = [f for f in process if isinstance(f.tag, str) and _local(f) == "sequenceFlow"]
    column = {n.get("id"): 0 for n in nodes if n.get("id") not in hosts}
    for _ in nodes:  # longest path from a start; a boundary event stands in its task's column
        for flow in flows:
            start = column.get(hosts.get(flow.get("sourceRef"), flow.get("sourceRef")), 0)
            if flow.get("targetRef") in column and column[flow.get("targetRef")] < start + 1:
                column[flow.get("targetRef")] = start + 1
    rows: dict[tuple[str, int], int] = {}
    row = {}
    for node in nodes:
        if node.get("id") not in hosts:
            key = (lane_of.get(node.get("id")), column[node.get("id")])
            row[node.get("id")] = rows.get(key, 0)
            rows[key] = row[node.get("id")] + 1
    lane_rows = {lane.get("id"): max([n for (lane_id, _), n in rows.items() if lane_id == lane.get("id")] or [1])
                 for lane in lanes}
    right = 200 + (max(column.values()) + 1) * COLUMN + 40
    lane_y, bottom = {}, 80
    for lane in lanes:
        lane_y[lane.get("id")] = bottom
        bottom += lane_rows[lane.get("id")] * ROW + 20
    boxes = {}
    for node in nodes:
        node_id, kind = node.get("id"), _local(node)
        if node_id in hosts:
            continue
        if kind.endswith("Task") or kind in ("task", "callActivity", "subProcess"):
            w, h = 120, 80
        else:
            w, h = (50, 50) if kind.endswith("Gateway") else (36, 36)
        cx = 200 + column[node_id] * COLUMN + COLUMN / 2
        cy = lane_y[lane_of[node_id]] + 10 + row[node_id] * ROW + ROW / 2
        boxes[node_id] = (cx - w / 2, cy - h / 2, w, h)
    attached: dict[str, int] = {}
    for node_id, host in hosts.items():
        hx, hy, _, hh = boxes[host]
        attached[host] = attached.get(host, -1) + 1
        boxes[node_id] = (hx + 4 + 38 * attached[host], hy + hh - 18, 36, 36)

    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id="BPMNDiagram_1",
                               nsmap={"bpmndi": BPMNDI, "dc": DC, "di": DI})
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id="BPMNPlane_1",
                             bpmnElement=collaboration.get("id"))

    def shape(element_id, box, **extra):
        s = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id, **extra)
        etree.SubElement(s, f"{{{DC}}}Bounds", x=f"{box[0]:g}", y=f"{box[1]:g}", width=f"{box[2]:g}",
                         height=f"{box[3]:g}")

    shape(collaboration.find(f"{{{BPMN}}}participant").get("id"), (100, 80, right - 100, bottom - 80),
          isHorizontal="true")
    for lane in lanes:
        shape(lane.get("id"), (130, lane_y[lane.get("id")], right - 130, lane_rows[lane.get("id")] * ROW + 20),
              isHorizontal="true")
    for node_id, box in boxes.items():
        shape(node_id, box)
    for flow in flows:
        sx, sy, sw, sh = boxes[flow.get("sourceRef")]
        tx, ty, _, th = boxes[flow.get("targetRef")]
        end = (tx, ty + th / 2)
        if flow.get("sourceRef") in hosts:
            points = [(sx + sw / 2, sy + sh), (sx + sw / 2, end[1]), end]
        else:
            start, middle = (sx + sw, sy + sh / 2), (sx + sw + tx) / 2
            points = [start, end] if start[1] == end[1] else [start, (middle, start[1]), (middle, end[1]), end]
        edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow.get('id')}_di", bpmnElement=flow.get("id"))
        for px, py in points:
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=f"{px:g}", y=f"{py:g}")
    diagram.tail = "\n"
    etree.indent(diagram, level=1)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def edit(xml: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in xml, f"not in the diagram: {old}"
        xml = xml.replace(old, new)
    return xml


def draft(*replacements: tuple[str, str]) -> str:
    """The test organisation's diagram with these edits, laid out as a modeller would save it."""
    return laid_out(edit(BASE, *replacements))


def add_to_lane(node_id: str, lane: str = "Lane_behandelaar") -> tuple[str, str]:
    anchor = {"Lane_behandelaar": "<bpmn:flowNodeRef>Start_ontvangen</bpmn:flowNodeRef>",
              "Lane_directeur": "<bpmn:flowNodeRef>Task_escalatie</bpmn:flowNodeRef>"}[lane]
    return anchor, f"{anchor}<bpmn:flowNodeRef>{node_id}</bpmn:flowNodeRef>"


def script_task_after_letter(task_id: str, name: str, script: str) -> list[tuple[str, str]]:
    """A script task between 'Oordeel sturen' and the end event 'Opgelost'."""
    end = '<bpmn:endEvent id="End_opgelost" name="Opgelost">\n      <bpmn:incoming>Flow_3</bpmn:incoming>'
    return [
        add_to_lane(task_id),
        ('<bpmn:sequenceFlow id="Flow_3" sourceRef="Service_oordeel" targetRef="End_opgelost"/>',
         f'<bpmn:sequenceFlow id="Flow_3" sourceRef="Service_oordeel" targetRef="{task_id}"/>\n'
         f'    <bpmn:sequenceFlow id="Flow_3b" sourceRef="{task_id}" targetRef="End_opgelost"/>'),
        (end, f'<bpmn:scriptTask id="{task_id}" name="{name}">\n'
              f'      <bpmn:incoming>Flow_3</bpmn:incoming>\n      <bpmn:outgoing>Flow_3b</bpmn:outgoing>\n'
              f'      <bpmn:script>{script}</bpmn:script>\n    </bpmn:scriptTask>\n'
              + end.replace("Flow_3<", "Flow_3b<")),
    ]


@pytest.fixture
def counts(runtime: Runtime, db_engine):
    """Diagram versions and drafts in the database: refused input must leave both alone."""
    def count() -> tuple[int, int]:
        with runtime.sessions() as s:
            return (s.scalar(select(func.count()).select_from(DiagramVersion)),
                    s.scalar(select(func.count()).select_from(DiagramDraft)))
    return count


# -- drafts -------------------------------------------------------------------------------------

INCOMPLETE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_concept"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="test_timers" isExecutable="true">
    <bpmn:userTask id="Task_nieuw" name="Nog uitwerken"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_draft_may_be_incomplete_and_is_kept_until_deleted(runtime: Runtime, vclock):
    draft_id = save_draft(runtime, "testorg", INCOMPLETE, OWNER, note="eerste opzet")
    saved = load_draft(runtime, "testorg", draft_id)
    assert saved.bpmn_xml == INCOMPLETE and saved.dependencies == {}
    assert (saved.saved_by, saved.saved_at, saved.note) == (OWNER, vclock.now(), "eerste opzet")
    assert saved.based_on_version_id == runtime.current_version_id("testorg")
    assert check_draft(runtime, "testorg", INCOMPLETE)  # incomplete: it cannot be deployed yet

    vclock.advance(timedelta(hours=1))
    assert save_draft(runtime, "testorg", BASE, "collega@testorg.nl", "verder", draft_id=draft_id) == draft_id
    [summary] = list_drafts(runtime, "testorg")
    assert (summary.id, summary.saved_by, summary.saved_at, summary.note, summary.size) == (
        draft_id, "collega@testorg.nl", vclock.now(), "verder", len(BASE))
    assert load_draft(runtime, "testorg", draft_id).bpmn_xml == BASE

    delete_draft(runtime, "testorg", draft_id)
    assert list_drafts(runtime, "testorg") == []
    with pytest.raises(NotFound):
        load_draft(runtime, "testorg", draft_id)


def test_drafts_belong_to_their_organisation(runtime: Runtime, other_org):
    draft_id = save_draft(runtime, "testorg", INCOMPLETE, OWNER)
    with pytest.raises(NotFound):
        load_draft(runtime, "quickorg", draft_id)
    with pytest.raises(NotFound):
        save_draft(runtime, "quickorg", INCOMPLETE, OWNER, draft_id=draft_id)
    with pytest.raises(NotFound):
        delete_draft(runtime, "quickorg", draft_id)
    assert list_drafts(runtime, "quickorg") == []
    assert load_draft(runtime, "testorg", draft_id).bpmn_xml == INCOMPLETE


def test_a_draft_must_be_a_bpmn_document(runtime: Runtime, counts):
    with pytest.raises(DiagramError) as exc:
        save_draft(runtime, "testorg", "<html><body>geen diagram</body></html>", OWNER)
    assert "geen BPMN-diagram" in str(exc.value) and "<html>" in str(exc.value)
    assert counts() == (1, 0)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8-bom"])
def test_importing_a_bpmn_file_reads_utf8_with_or_without_bom(runtime: Runtime, bom):
    draft_id = import_bpmn(runtime, "testorg", bom + BASE.encode("utf-8"), OWNER, filename="procedure.bpmn")
    saved = load_draft(runtime, "testorg", draft_id)
    assert saved.bpmn_xml == BASE and "Geëscaleerd" in saved.bpmn_xml
    assert saved.note == "geïmporteerd uit procedure.bpmn"


@pytest.mark.parametrize(("data", "message"), [
    (BASE.encode("utf-16"), "gecodeerd als UTF-16"),
    (BASE.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1"), "gecodeerd als 'ISO-8859-1'"),
    (BASE.encode("latin-1"), "geen geldige UTF-8 (byte 0xEB op regel 111)"),
], ids=["utf16", "latin1-declared", "latin1-undeclared"])
def test_importing_refuses_other_encodings_clearly(runtime: Runtime, counts, data, message):
    with pytest.raises(DiagramError) as exc:
        import_bpmn(runtime, "testorg", data, OWNER, filename="procedure.bpmn")
    [problem] = exc.value.problems
    assert message in problem.message and "alleen UTF-8" in problem.message
    assert problem.file == "procedure.bpmn"
    assert counts() == (1, 0)


# -- refused before parsing, or as XML ------------------------------------------------------------

@pytest.mark.parametrize(("fixture", "message", "line"), [
    ("malformed.bpmn", "XML is not well-formed", 9),
    ("external_entity.bpmn", 'een externe entiteit of DTD (SYSTEM "file:///etc/passwd") is niet toegestaan', 2),
    ("billion_laughs.bpmn", "entiteitdefinities zijn niet toegestaan", 2),
])
def test_unsafe_or_broken_xml_is_refused_everywhere(runtime: Runtime, counts, fixture, message, line):
    xml = (BAD / fixture).read_text(encoding="utf-8")
    for attempt in (lambda: save_draft(runtime, "testorg", xml, OWNER),
                    lambda: import_bpmn(runtime, "testorg", xml.encode("utf-8"), OWNER, filename="timers.bpmn"),
                    lambda: deploy(runtime, "testorg", xml, OWNER, "poging")):
        with pytest.raises(DiagramError) as exc:
            attempt()
        [problem] = exc.value.problems
        assert message in problem.message
        assert (problem.file, problem.line) == ("timers.bpmn", line)
    assert [p.message for p in check_draft(runtime, "testorg", xml)] == [problem.message]
    assert counts() == (1, 0)


@pytest.mark.parametrize(("prolog", "message"), [
    ("<!DOCTYPE bpmn:definitions>\n", "een DOCTYPE is niet toegestaan in een diagram"),
    ('<!-- <a href="x"> uit de modeller -->\n<!DOCTYPE d SYSTEM "http://example.org/bpmn.dtd">\n',
     'een externe entiteit of DTD (SYSTEM "http://example.org/bpmn.dtd") is niet toegestaan'),
], ids=["plain-doctype", "external-dtd-after-a-comment"])
def test_any_doctype_is_refused_with_its_reason(runtime: Runtime, counts, prolog, message):
    xml = BASE.replace('<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0" encoding="UTF-8"?>\n' + prolog)
    with pytest.raises(DiagramError) as exc:
        save_draft(runtime, "testorg", xml, OWNER)
    [problem] = exc.value.problems
    assert message in problem.message and problem.line == prolog.count("\n") + 1
    assert counts() == (1, 0)


def test_a_20_mb_upload_is_refused_quickly_before_parsing(runtime: Runtime, counts, monkeypatch):
    def must_not_parse(*args, **kwargs):
        raise AssertionError("a diagram over the limit must not be parsed")

    monkeypatch.setattr(deploy_module, "parse_xml", must_not_parse)
    monkeypatch.setattr(publish_module, "check_in_child", must_not_parse)
    monkeypatch.setattr(deploy_module.etree, "fromstring", must_not_parse)
    huge = BASE.replace("</bpmn:definitions>", "<!--" + "x" * (20 * 1024 * 1024) + "--></bpmn:definitions>")
    for attempt in (lambda: save_draft(runtime, "testorg", huge, OWNER),
                    lambda: import_bpmn(runtime, "testorg", huge.encode("utf-8"), OWNER, filename="groot.bpmn"),
                    lambda: deploy(runtime, "testorg", huge, OWNER, "groot")):
        with pytest.raises(DiagramError) as exc:
            attempt()
        [problem] = exc.value.problems
        assert problem.message == "het diagram is te groot: 20,0 MB, de grens is 5 MB"
    [problem] = check_draft(runtime, "testorg", huge)
    assert "te groot" in problem.message
    assert counts() == (1, 0)


# -- every static check, each with its own bad diagram -----------------------------------------------

TASK_FORM = '<spiffworkflow:property name="formJsonSchemaFilename" value="test-behandelen-schema.json"/>'

STATIC = {
    "unsupported-element": (
        [('<bpmn:exclusiveGateway id="Gateway_opgelost"', '<bpmn:complexGateway id="Gateway_opgelost"'),
         ("</bpmn:exclusiveGateway>", "</bpmn:complexGateway>")],
        "There is no support implemented for this task type", "Gateway_opgelost", "Opgelost?"),
    "schema": (
        [('<bpmn:userTask id="Task_escalatie" name="Escalatie behandelen">',
          '<bpmn:userTask id="Task_escalatie" name="Escalatie behandelen" onbekend="ja">')],
        "attribute 'onbekend': The attribute 'onbekend' is not allowed", "Task_escalatie", "Escalatie behandelen"),
    "lane-without-role": (
        [('<bpmn:lane id="Lane_directeur" name="Directeur">', '<bpmn:lane id="Lane_directeur" name="Directie">')],
        "lane 'Directie' maps to no role", "Lane_directeur", "Directie"),
    "missing-form": (
        [(TASK_FORM, TASK_FORM.replace("test-behandelen-schema.json", "bestaat-niet-schema.json"))],
        "form 'bestaat-niet-schema.json' does not exist", "Task_behandelen", "Klacht behandelen"),
    "unknown-operator": (
        [('<spiffworkflow:serviceTaskOperator id="notify_role"', '<spiffworkflow:serviceTaskOperator id="stuur_fax"')],
        "unknown operator 'stuur_fax'", "Service_herinnering", "Herinnering sturen"),
    "missing-letter": (
        [("value=\"'ontvangstbevestiging'\"", "value=\"'bestaat_niet'\"")],
        "letter template 'bestaat_niet' does not exist", "Service_oordeel", "Oordeel sturen"),
    "script-imports": (
        script_task_after_letter("Script_ophalen", "Gegevens ophalen", "import os\ngegevens = os.environ"),
        "script (regel 1): Importeren ('import os') is niet toegestaan in een diagram.", "Script_ophalen",
        "Gegevens ophalen"),
    "expression-syntax-error": (
        [(">opgelost == True<", ">opgelost == = True<")],
        "voorwaarde: Regel 1 is geen geldige code", "Flow_ja", "ja"),
    "bpmnlint": (
        [add_to_lane("Task_los"),
         ('<bpmn:endEvent id="End_ingetrokken"',
          '<bpmn:manualTask id="Task_los" name="Losse taak"/><bpmn:endEvent id="End_ingetrokken"')],
        "bpmnlint no-disconnected", "Task_los", "Losse taak"),
}


@pytest.mark.parametrize("case", list(STATIC) + ["layout"])
def test_each_check_refuses_its_bad_diagram_with_element_name_and_line(runtime: Runtime, counts, monkeypatch, case):
    if case == "layout":  # the fixture as it is: no BPMN DI at all
        xml, message, element_id, name = BASE, "element has no shape in the diagram", "Task_behandelen", \
            "Klacht behandelen"
    else:
        replacements, message, element_id, name = STATIC[case]
        xml = draft(*replacements)
    problems = check_draft(runtime, "testorg", xml)
    matching = [p for p in problems if message in p.message]
    assert matching, "\n".join(map(str, problems))
    assert not [p for p in problems if "scenario" in (p.file or "")], "scenarios run only once the static checks pass"
    problem = matching[0]
    assert problem.file == "timers.bpmn"
    assert (problem.element_id, problem.element_name) == (element_id, name)
    element = etree.fromstring(xml.encode()).xpath("//*[@id=$id]", id=element_id)[0]
    assert element.sourceline <= problem.line <= max(e.sourceline for e in element.iter())

    with pytest.raises(DiagramError) as exc:
        deploy(runtime, "testorg", xml, OWNER, "poging")
    assert [str(p) for p in exc.value.problems] == [str(p) for p in problems]
    assert counts() == (1, 0)
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize(("replacements", "scenario", "failure"), [
    ([("End_opgelost", "End_klaar")], "Snel opgelost", "end event 'End_opgelost' not reached; reached: ['End_klaar']"),
    ([(">opgelost == True<", ">opgelost == False<")], "Snel opgelost",
     "gateway 'Gateway_opgelost' went to ['Task_escalatie'], expected 'Service_oordeel'"),
], ids=["renamed-end-event", "changed-gateway"])
def test_a_draft_that_breaks_a_scenario_is_refused(runtime: Runtime, counts, replacements, scenario, failure):
    xml = draft(*replacements)
    problems = check_draft(runtime, "testorg", xml)
    assert [p.message.split(": ", 1)[0] for p in problems] == [f"scenario '{scenario}' faalt"]
    assert failure in problems[0].message
    assert problems[0].file == "scenarios/basis.yaml"
    with pytest.raises(DiagramError) as exc:
        deploy(runtime, "testorg", xml, OWNER, "kapot")
    assert f"scenario '{scenario}' faalt" in str(exc.value)
    assert counts() == (1, 0)


# -- a successful deploy ---------------------------------------------------------------------------

V2_EDITS = [
    *script_task_after_letter("Script_vastleggen", "Afhandeling vastleggen", "afgehandeld = True"),
    ('name="Opgelost?"', 'name="Klacht opgelost?"'),
    ("<bpmn:flowNodeRef>End_herinnerd</bpmn:flowNodeRef>",
     "<bpmn:flowNodeRef>End_herinnering_verstuurd</bpmn:flowNodeRef>"),
    ('<bpmn:endEvent id="End_herinnerd" name="Herinnerd">',
     '<bpmn:endEvent id="End_herinnering_verstuurd" name="Herinnering verstuurd">'),
    ('targetRef="End_herinnerd"', 'targetRef="End_herinnering_verstuurd"'),
]


def _complete_first_task(runtime: Runtime, instance_id: int, data: dict) -> None:
    [task] = runtime.load(instance_id).ready_tasks()
    runtime.complete_task(instance_id, task.task_id, Actor("b@testorg.nl", "testorg", frozenset({"behandelaar"})),
                          data)


def _passed(runtime: Runtime, instance_id: int) -> set[str]:
    with runtime.sessions() as s:
        return set(s.scalars(select(AuditEvent.bpmn_id).where(AuditEvent.instance_id == instance_id,
                                                              AuditEvent.bpmn_id.is_not(None))))


def test_deploy_stores_a_new_version_with_what_changed(runtime: Runtime, vclock):
    v1 = runtime.current_version_id("testorg")
    before = runtime.start("testorg", {"klager": {"naam": "A"}})
    xml = draft(*V2_EDITS)
    draft_id = save_draft(runtime, "testorg", xml, OWNER, "concept versie 2")

    result = deploy(runtime, "testorg", load_draft(runtime, "testorg", draft_id).bpmn_xml, OWNER,
                    "vastleggen na het oordeel")
    assert (result.version, result.created) == (2, True)
    with runtime.sessions() as s:
        row = s.get(DiagramVersion, result.version_id)
        event = s.scalars(select(AuditEvent).where(AuditEvent.event_type == "diagram_deployed")).one()
    assert (row.deployed_by, row.deployed_at, row.note) == (OWNER, vclock.now(), "vastleggen na het oordeel")
    # The digest covers the whole package: the diagram and its forms, letters, settings and scenarios.
    assert row.sha256 == packages.sha256({**row.files, runtime.organisation("testorg").process_file: xml})
    assert row.bpmn_xml == xml and "organisation.yaml" in row.files
    assert row.changes == result.changes
    assert (event.actor, event.instance_id, event.data["version"], event.data["added"]) == (OWNER, None, 2, 3)

    changes = result.changes
    assert changes["from_version"] == 1 and changes["layout_changed"] is True  # v1 had no layout
    assert {(e["id"], e["name"], e["type"]) for e in changes["added"]} == {
        ("Script_vastleggen", "Afhandeling vastleggen", "scriptTask"), ("Flow_3b", None, "sequenceFlow"),
        ("End_herinnering_verstuurd", "Herinnering verstuurd", "endEvent")}
    assert changes["removed"] == [{"id": "End_herinnerd", "name": "Herinnerd", "type": "endEvent"}]
    changed = {e["id"]: e for e in changes["changed"]}
    assert set(changed) == {"Gateway_opgelost", "Flow_3", "Flow_h2"}
    assert changed["Gateway_opgelost"]["aspects"] == ["name"]
    assert changed["Gateway_opgelost"]["name"] == "Klacht opgelost?"
    assert changed["Gateway_opgelost"]["details"] == {"name": ["Opgelost?", "Klacht opgelost?"]}
    assert changed["Flow_3"]["details"] == {"attributes": {"targetRef": ["End_opgelost", "Script_vastleggen"]}}
    assert changed["Flow_h2"]["aspects"] == ["attributes"]

    # New complaints start on the new version; the running one stays on its own.
    after = runtime.start("testorg", {"klager": {"naam": "B"}})
    with runtime.sessions() as s:
        assert s.get(Instance, before.instance_id).diagram_version_id == v1
        assert s.get(Instance, after.instance_id).diagram_version_id == result.version_id
    for started in (before, after):
        _complete_first_task(runtime, started.instance_id, {"opgelost": True})
    assert "Script_vastleggen" not in _passed(runtime, before.instance_id)
    assert "Script_vastleggen" in _passed(runtime, after.instance_id)
    assert runtime.load(after.instance_id).workflow.last_task.data["afgehandeld"] is True

    # The same diagram again stores nothing.
    again = deploy(runtime, "testorg", xml, OWNER, "nogmaals")
    assert (again.version_id, again.version, again.created) == (result.version_id, 2, False)


# -- what counts as a change -----------------------------------------------------------------------


def test_layout_moves_and_namespace_prefixes_are_not_changes():
    laid = laid_out(BASE)
    moved = laid.replace('<bpmndi:BPMNShape id="Task_behandelen_di" bpmnElement="Task_behandelen">\n'
                         '        <dc:Bounds x="', '<bpmndi:BPMNShape id="Task_behandelen_di" '
                         'bpmnElement="Task_behandelen">\n        <dc:Bounds x="1')
    assert moved != laid
    changes = compare_diagrams(laid, moved, main_file="timers.bpmn")
    assert (changes["added"], changes["removed"], changes["changed"]) == ([], [], [])
    assert changes["layout_changed"] is True

    prefixed = BASE.replace("bpmn:", "semantic:").replace("xmlns:bpmn=", "xmlns:semantic=")
    changes = compare_diagrams(BASE, prefixed)
    assert (changes["added"], changes["removed"], changes["changed"], changes["layout_changed"]) == (
        [], [], [], False)


@pytest.mark.parametrize(("replacements", "element_id", "aspects", "details"), [
    ([("<bpmn:flowNodeRef>Service_oordeel</bpmn:flowNodeRef>", ""),
      ("<bpmn:flowNodeRef>Task_escalatie</bpmn:flowNodeRef>",
       "<bpmn:flowNodeRef>Task_escalatie</bpmn:flowNodeRef><bpmn:flowNodeRef>Service_oordeel</bpmn:flowNodeRef>")],
     "Service_oordeel", ["lane"], {"lane": ["Behandelaar", "Directeur"]}),
    ([('<bpmn:userTask id="Task_escalatie" name="Escalatie behandelen">',
       '<bpmn:manualTask id="Task_escalatie" name="Escalatie behandelen">'),
      ("</bpmn:userTask>\n    <bpmn:endEvent id=\"End_geescaleerd\"",
       "</bpmn:manualTask>\n    <bpmn:endEvent id=\"End_geescaleerd\"")],
     "Task_escalatie", ["type"], {"type": ["userTask", "manualTask"]}),
    ([('value="test-behandelen-uischema.json"', 'value="test-ander-uischema.json"')],
     "Task_behandelen", ["extensions"], {}),
    ([("working_days_after(5, ontvangen_op)", "working_days_after(10, ontvangen_op)")],
     "Timer_escalatie", ["expressions"],
     {"expressions": {"timerEventDefinition/timeDate": ["working_days_after(5, ontvangen_op)",
                                                        "working_days_after(10, ontvangen_op)"]}}),
    ([(">opgelost == True<", ">opgelost is True<")], "Flow_ja", ["expressions"],
     {"expressions": {"conditionExpression": ["opgelost == True", "opgelost is True"]}}),
    ([('cancelActivity="false"', 'cancelActivity="true"')], "Timer_herinnering", ["attributes"],
     {"attributes": {"cancelActivity": ["false", "true"]}}),
], ids=["lane", "type", "extension-property", "timer-expression", "condition", "attribute"])
def test_changed_elements_say_what_changed(replacements, element_id, aspects, details):
    changes = compare_diagrams(BASE, edit(BASE, *replacements))
    assert (changes["added"], changes["removed"]) == ([], [])
    [changed] = changes["changed"]
    assert (changed["id"], changed["aspects"], changed["details"]) == (element_id, aspects, details)


def test_called_processes_are_compared_file_by_file():
    other = BASE.replace('id="test_timers"', 'id="sub_proces"').replace('processRef="test_timers"',
                                                                        'processRef="sub_proces"')
    renamed = other.replace('name="Klacht behandelen"', 'name="Deelklacht behandelen"')
    changes = compare_diagrams(BASE, BASE, {"oud.bpmn": other, "sub.bpmn": other},
                               {"sub.bpmn": renamed, "nieuw.bpmn": other}, main_file="timers.bpmn")
    assert {(e["file"], e["id"]) for e in changes["changed"]} == {("sub.bpmn", "Task_behandelen")}
    assert {e["file"] for e in changes["added"]} == {"nieuw.bpmn"}
    assert {e["file"] for e in changes["removed"]} == {"oud.bpmn"}
    assert ("nieuw.bpmn", "Task_behandelen") in {(e["file"], e["id"]) for e in changes["added"]}

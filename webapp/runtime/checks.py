"""Static checks of an organisation's diagram before it may run: schema and parser,
forms, lanes and roles, operators and letters, expressions in the sandbox, BPMN DI
layout, and bpmnlint. Each problem names the file, element id, name and line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
from lxml import etree

from handlers.letters import LetterBook
from handlers.operators import OPERATOR_PARAMETERS, OPERATORS

from .diagrams import parse_diagram, parse_xml
from .errors import ConfigError, DiagramError, DiagramProblem
from .forms import FormCatalog, FormNotFound
from .instructions import check_instructions
from .organisations import REPO_ROOT, OrganisationConfig
from .sandbox import SandboxViolation, check_expression, check_script

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODES = ("task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "startEvent", "endEvent",
              "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway")
BPMNLINT = REPO_ROOT / "node_modules" / ".bin" / "bpmnlint"


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box) -> bool:
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)

    def contains(self, other: Box, slack: float = 1.0) -> bool:
        return (other.x >= self.x - slack and other.y >= self.y - slack
                and other.x + other.w <= self.x + self.w + slack and other.y + other.h <= self.y + self.h + slack)


class _Collector:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[DiagramProblem] = []

    def add(self, message: str, element: etree._Element | None = None) -> None:
        # A problem inside an element (a flow's condition, a timer, an operator's parameter) belongs
        # to the BPMN element around it: that is what the process owner looks for in the modeller.
        owner = bpmn_owner(element)
        self.problems.append(DiagramProblem(
            message, file=self.filename, element_id=owner.get("id") if owner is not None else None,
            element_name=owner.get("name") if owner is not None else None,
            line=element.sourceline if element is not None else None))


def bpmn_owner(element: etree._Element | None) -> etree._Element | None:
    """The nearest BPMN-namespace element with an id, the element itself included; an event
    definition (a timer's id) belongs to its event, which is what the modeller shows."""
    while element is not None and not (isinstance(element.tag, str) and element.get("id")
                                       and etree.QName(element).namespace == NS["bpmn"]
                                       and not etree.QName(element).localname.endswith("EventDefinition")):
        element = element.getparent()
    return element


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def check_documents(config: OrganisationConfig, documents: dict[str, etree._Element],
                    forms: FormCatalog) -> list[DiagramProblem]:
    problems: list[DiagramProblem] = []
    for filename, root in documents.items():
        c = _Collector(filename)
        _check_lanes(config, root, c)
        _check_user_tasks(root, forms, c)
        _check_service_tasks(root, config.letters, c)
        _check_expressions(root, c)
        _check_names(root, c)
        _check_layout(root, c)
        problems += c.problems
    return problems


def _flow_nodes(root: etree._Element) -> Iterator[etree._Element]:
    for tag in FLOW_NODES:
        yield from root.iterfind(f".//bpmn:{tag}", NS)


def _check_lanes(config: OrganisationConfig, root: etree._Element, c: _Collector) -> None:
    for process in root.iterfind(".//bpmn:process", NS):
        lanes = process.findall(".//bpmn:lane", NS)
        in_lane = {ref.text.strip() for ref in process.iterfind(".//bpmn:flowNodeRef", NS) if ref.text}
        for lane in lanes:
            name = (lane.get("name") or "").strip()
            if not name:
                c.add("lane has no name, so it cannot be mapped to a role", lane)
            elif name not in config.lanes:
                c.add(f"lane '{name}' maps to no role: add it under `lanes` in organisation.yaml "
                      f"(roles: {', '.join(sorted(config.roles))})", lane)
        if not lanes:
            continue
        for node in process.iterchildren(tag=etree.Element):  # not comments or processing instructions
            if _local(node.tag) in FLOW_NODES and _local(node.tag) != "boundaryEvent" and node.get("id") not in in_lane:
                c.add("element lies in no lane, so no role can work it", node)


def _properties(task: etree._Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}


def _check_user_tasks(root: etree._Element, forms: FormCatalog, c: _Collector) -> None:
    for task in root.iterfind(".//bpmn:userTask", NS):
        props = _properties(task)
        schema_name = props.get("formJsonSchemaFilename")
        if not schema_name:
            c.add("user task has no form: set the property formJsonSchemaFilename", task)
            continue
        try:
            schema = forms.load(schema_name)
            jsonschema.Draft202012Validator.check_schema(schema)
        except FormNotFound as exc:
            c.add(str(exc), task)
            continue
        except jsonschema.SchemaError as exc:
            c.add(f"form '{schema_name}' is not a valid JSON Schema: {exc.message}", task)
            continue
        ui_name = props.get("formUiSchemaFilename")
        if ui_name and not forms.exists(ui_name):
            c.add(f"UI schema '{ui_name}' does not exist in forms/", task)


def _check_service_tasks(root: etree._Element, letters: LetterBook, c: _Collector) -> None:
    for task in root.iterfind(".//bpmn:serviceTask", NS):
        operator = task.find(".//spiffworkflow:serviceTaskOperator", NS)
        if operator is None:
            c.add("service task names no operator (spiffworkflow:serviceTaskOperator)", task)
            continue
        name = operator.get("id")
        if name not in OPERATORS:
            c.add(f"unknown operator '{name}' (known: {', '.join(sorted(OPERATORS))})", task)
            continue
        params = {p.get("id"): p for p in operator.iterfind(".//spiffworkflow:parameter", NS)}
        expected = OPERATOR_PARAMETERS.get(name, {})
        for param, required in expected.items():
            if required and param not in params:
                c.add(f"operator '{name}' needs the parameter '{param}'", task)
        for param, node in params.items():
            if param not in expected:
                c.add(f"operator '{name}' has no parameter '{param}'", node)
                continue
            value = node.get("value") or ""
            try:
                check_expression(value)
            except SandboxViolation as exc:
                c.add(_refusal(f"parameter '{param}'", exc, multiline=False), node)
                continue
            if name == "send_letter" and param == "template":
                literal = re.fullmatch(r"\s*['\"]([^'\"]+)['\"]\s*", value)
                if literal and not letters.exists(literal.group(1)):
                    c.add(f"letter template '{literal.group(1)}' does not exist in the package's letters/", node)


# Every place SpiffWorkflow evaluates diagram code, with the Dutch word the process owner reads.
_EXPRESSIONS = (
    (".//bpmn:conditionExpression", "voorwaarde", "condition"),
    (".//bpmn:timeDate", "termijn", "timer expression"),
    (".//bpmn:timeDuration", "termijn", "timer expression"),
    (".//bpmn:timeCycle", "termijn", "timer expression"),
    (".//bpmn:loopCardinality", "aantal herhalingen", "loop cardinality"),
    (".//bpmn:completionCondition", "afrondingsvoorwaarde", "completion condition"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "voorwaarde", "condition"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "correlatie-expressie",
     "correlation expression"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:messagePath", "correlatie-expressie",
     "correlation expression"),
    (".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression", "correlatie-expressie",
     "correlation expression"),
    (".//spiffworkflow:messagePayload", "berichtinhoud", "message payload"),
)
_SCRIPTS = ((".//bpmn:script", "script"), (".//spiffworkflow:preScript", "voorbereidend script"),
            (".//spiffworkflow:postScript", "afsluitend script"))


def _check_expressions(root: etree._Element, c: _Collector) -> None:
    for path, what, empty_word in _EXPRESSIONS:
        for expr in root.iterfind(path, NS):
            _compile(check_expression, expr.text, what, expr, c, empty=f"empty {empty_word}")
    for path, what in _SCRIPTS:
        for script in root.iterfind(path, NS):
            _compile(check_script, script.text, what, script, c, empty=None)
    for node in root.iterfind(".//spiffworkflow:instructionsForEndUser", NS):
        _compile(check_instructions, node.text, "instructie", node, c, empty=None)


def _compile(checker: Callable[[str], None], source: str | None, what: str, node: etree._Element,
             c: _Collector, empty: str | None) -> None:
    # "empty ..." stays English: the modeller translates those (webapp/web/modeller_views.py).
    if not source or not source.strip():
        if empty:
            c.add(empty, node)
        return
    try:
        checker(source)
    except SandboxViolation as exc:
        c.add(_refusal(what, exc, multiline="\n" in source.strip()), node)


def _refusal(what: str, exc: SandboxViolation, multiline: bool) -> str:
    """'voorwaarde: <Dutch reason>', with the line inside a script when it has several."""
    where = f" (regel {exc.lineno})" if multiline and exc.lineno and exc.code != "syntax" else ""
    return f"{what}{where}: {exc}"


def _check_names(root: etree._Element, c: _Collector) -> None:
    for node in _flow_nodes(root):
        if _local(node.tag) in ("parallelGateway",) or (node.get("name") or "").strip():
            continue
        c.add("element has no name: every element needs a Dutch name", node)


def _check_layout(root: etree._Element, c: _Collector) -> None:
    shapes: dict[str, Box] = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        b = shape.find("dc:Bounds", NS)
        if b is not None:
            shapes[shape.get("bpmnElement")] = Box(*(float(b.get(k)) for k in ("x", "y", "width", "height")))
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    nodes = list(_flow_nodes(root))
    for node in nodes:
        if node.get("id") not in shapes:
            c.add("element has no shape in the diagram (BPMN DI)", node)
    for tag in ("lane", "participant"):
        for node in root.iterfind(f".//bpmn:{tag}", NS):
            if node.get("id") not in shapes:
                c.add(f"{tag} has no shape in the diagram (BPMN DI)", node)
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        if flow.get("id") not in edges:
            c.add("sequence flow has no edge in the diagram (BPMN DI)", flow)

    hosts = {n.get("id"): n.get("attachedToRef") for n in nodes if _local(n.tag) == "boundaryEvent"}
    placed = [n for n in nodes if n.get("id") in shapes and _inside_expanded(n) is None]
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            ida, idb = a.get("id"), b.get("id")
            if hosts.get(ida) == idb or hosts.get(idb) == ida:
                continue
            if shapes[ida].overlaps(shapes[idb]):
                c.add(f"overlaps '{b.get('name') or idb}' ({idb}) in the diagram", a)
    for lane in root.iterfind(".//bpmn:lane", NS):
        box = shapes.get(lane.get("id"))
        if box is None:
            continue
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            node_box = shapes.get((ref.text or "").strip())
            if node_box is not None and not box.contains(node_box):
                node = root.find(f".//*[@id='{ref.text.strip()}']")
                c.add(f"lies outside its lane '{lane.get('name')}' in the diagram", node if node is not None else lane)


def _inside_expanded(node: etree._Element) -> etree._Element | None:
    """Elements inside a subprocess are laid out on their own plane or inside its box."""
    parent = node.getparent()
    while parent is not None:
        if _local(parent.tag) == "subProcess":
            return parent
        parent = parent.getparent()
    return None


def run_bpmnlint(filename: str, xml: str) -> list[DiagramProblem]:
    """bpmnlint's recommended rules (needs `npm ci`); errors only, warnings are advice."""
    if not BPMNLINT.exists() or not shutil.which("node"):
        return [DiagramProblem("bpmnlint is not installed: run `npm ci`", file=filename)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_text(xml, encoding="utf-8")
        (Path(tmp) / ".bpmnlintrc").write_text(json.dumps({"extends": "bpmnlint:recommended"}))
        result = subprocess.run([str(BPMNLINT), path.name], cwd=tmp, capture_output=True, text=True, timeout=120)
    problems = []
    root = etree.fromstring(xml.encode("utf-8"))
    for line in result.stdout.splitlines():
        match = re.match(r"\s+(\S+)\s+(error)\s+(.+?)\s{2,}(\S+)\s*$", line)
        if match:
            element_id, _, message, rule = match.groups()
            found = root.xpath("//*[@id=$id]", id=element_id)
            problems.append(DiagramProblem(f"bpmnlint {rule}: {message}", file=filename, element_id=element_id,
                                           element_name=found[0].get("name") if found else None,
                                           line=found[0].sourceline if found else None))
    if result.returncode not in (0, 1) and not problems:
        problems.append(DiagramProblem(f"bpmnlint failed: {result.stderr.strip()[:300]}", file=filename))
    return problems


def check_organisation(config: OrganisationConfig, xml: str | None = None, dependencies: dict[str, str] | None = None,
                       forms: FormCatalog | None = None, lint: bool = True) -> list[DiagramProblem]:
    """Every static check of an organisation's diagram (its files, or `xml` for a draft)."""
    forms = forms or config.forms
    try:
        if xml is None:
            xml, dependencies = config.read_diagram_files()
    except (OSError, ConfigError) as exc:
        return [DiagramProblem(f"cannot read the diagram: {exc}", file=config.process_file)]
    dependencies = dependencies or {}
    try:
        documents = {config.process_file: parse_xml(xml, config.process_file)}
        documents.update({name: parse_xml(text, name) for name, text in dependencies.items()})
    except DiagramError as exc:
        return exc.problems
    problems: list[DiagramProblem] = []
    try:
        parse_diagram(xml, config.process_file, config.process_id, dependencies)
    except DiagramError as exc:
        problems += exc.problems
    problems += check_documents(config, documents, forms)
    if lint:
        problems += run_bpmnlint(config.process_file, xml)
        for name, text in dependencies.items():
            problems += run_bpmnlint(name, text)
    return problems

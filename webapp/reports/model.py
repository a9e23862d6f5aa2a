"""The structure of a procedure as the reports need it: the elements of a stored diagram version,
its flows, which timer guards which step, which branches are reminders, which end events are
outcomes, which steps escalate. Cached per diagram version and lane mapping."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lxml import etree

from webapp.db.models import DiagramVersion
from webapp.runtime.bpmn import ACTIVITIES, BPMN, FLOW_NODES, GATEWAYS, SPIFF
from webapp.runtime.diagrams import parse_xml
from webapp.runtime.organisations import OrganisationConfig

from .labels import ESCALATION_LEVELS, NOT_ESCALATION, clean

HUMAN_TAGS = {"userTask", "manualTask"}
WAIT_TAGS = HUMAN_TAGS | {"receiveTask", "callActivity"}
ACTIVITY_TAGS = ACTIVITIES
NODE_TAGS = FLOW_NODES
GATEWAY_TAGS = GATEWAYS
_LITERAL = re.compile(r"""^\s*(['"])(.*)\1\s*$""")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(.+?)\s*$")


@dataclass
class Element:
    id: str
    tag: str
    name: str
    process: str  # the bpmn:process it belongs to
    container: str  # the process or subProcess directly around it
    lane: str | None = None
    attached_to: str | None = None
    interrupting: bool = True
    timer: str | None = None
    message: bool = False
    operator: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    form: str | None = None
    script: str | None = None
    called: str | None = None


class DiagramModel:
    """What reports need to know about one diagram version: elements, flows, which timer
    guards which step, what is a reminder branch, which end events are outcomes."""

    def __init__(self, xml_files: Iterable[str], main_process: str, lane_roles: Mapping[str, str]) -> None:
        self.main_process = main_process
        self.lane_roles = dict(lane_roles)
        self.elements: dict[str, Element] = {}
        self.flows: dict[str, list[str]] = defaultdict(list)
        self.incoming: dict[str, list[str]] = defaultdict(list)
        self.boundaries: dict[str, list[str]] = defaultdict(list)
        self.children: dict[str, set[str]] = defaultdict(set)  # subProcess / called process -> node ids
        self.process_nodes: dict[str, set[str]] = defaultdict(set)
        for xml in xml_files:
            root = parse_xml(xml, "diagram")  # the runtime's safe parser; stored versions passed it at deploy
            for process in root.iter(f"{{{BPMN}}}process"):
                lanes = {}
                for lane in process.iter(f"{{{BPMN}}}lane"):
                    for ref in lane.iter(f"{{{BPMN}}}flowNodeRef"):
                        lanes[(ref.text or "").strip()] = clean(lane.get("name"))
                self._walk(process, process.get("id"), process.get("id"), lanes, None)
            for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
                source, target = flow.get("sourceRef"), flow.get("targetRef")
                if source and target:
                    self.flows[source].append(target)
                    self.incoming[target].append(source)
        for element in self.elements.values():
            if element.attached_to:
                self.boundaries[element.attached_to].append(element.id)
        self.assignments = self._assignments()
        self.main_path = self._main_path()
        self._escalation_steps: list[tuple[str, str]] | None = None
        self._escalates: dict[str, bool] = {}

    def _walk(self, node, process: str, container: str, lanes: dict[str, str], lane: str | None) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            tag = etree.QName(child).localname
            if tag not in NODE_TAGS or etree.QName(child).namespace != BPMN:
                continue
            eid = child.get("id")
            if not eid or eid in self.elements:
                continue
            element = Element(eid, tag, clean(child.get("name")) or eid, process, container,
                              lanes.get(eid, lane))
            if tag == "boundaryEvent":
                element.attached_to = child.get("attachedToRef")
                element.interrupting = child.get("cancelActivity", "true").lower() != "false"
            timer = child.find(f"{{{BPMN}}}timerEventDefinition")
            if timer is not None:
                expression = next((e.text for e in timer if isinstance(e.tag, str) and e.text), "")
                element.timer = (expression or "").strip()
            element.message = child.find(f"{{{BPMN}}}messageEventDefinition") is not None
            operator = child.find(f".//{{{SPIFF}}}serviceTaskOperator")
            if operator is not None:
                element.operator = operator.get("id")
                element.params = {p.get("id"): p.get("value") or "" for p in operator.iter(f"{{{SPIFF}}}parameter")}
            form = child.find(f".//{{{SPIFF}}}property[@name='formJsonSchemaFilename']")
            if form is not None:
                element.form = form.get("value")
            script = child.find(f"{{{BPMN}}}script")
            if script is not None:
                element.script = script.text or ""
            element.called = child.get("calledElement")
            self.elements[eid] = element
            self.process_nodes[process].add(eid)
            if container != process:
                self.children[container].add(eid)
            if tag in ("subProcess", "transaction"):
                self._walk(child, process, eid, lanes, element.lane)

    def _assignments(self) -> dict[str, list[str]]:
        """Script variables and the expressions assigned to them (a timer may name one)."""
        found: dict[str, list[str]] = defaultdict(list)
        for element in self.elements.values():
            for line in (element.script or "").splitlines():
                match = _ASSIGNMENT.match(line)
                if match:
                    found[match.group(1)].append(match.group(2))
        return found

    def _main_path(self) -> set[str]:
        """Every element a complaint can reach without a reminder (a non-interrupting timer)."""
        queue = [e.id for e in self.elements.values() if e.tag == "startEvent"]
        seen = set(queue)
        while queue:
            node = queue.pop()
            nxt = list(self.flows.get(node, []))
            for boundary in self.boundaries.get(node, []):
                b = self.elements[boundary]
                if not (b.timer is not None and not b.interrupting):
                    nxt.append(boundary)
            for target in nxt:
                if target in self.elements and target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen

    # -- questions ---------------------------------------------------------------------------

    def element(self, eid: str) -> Element | None:
        return self.elements.get(eid)

    def name(self, eid: str) -> str:
        element = self.elements.get(eid)
        return element.name if element else eid

    def role_of(self, eid: str | None) -> str | None:
        element = self.elements.get(eid or "")
        return self.lane_roles.get(element.lane) if element and element.lane else None

    def timers(self) -> list[Element]:
        return [e for e in self.elements.values() if e.timer is not None and e.tag == "boundaryEvent"]

    def timer_expressions(self, timer: Element) -> list[str]:
        text = timer.timer or ""
        if re.fullmatch(r"[A-Za-z_]\w*", text):
            return self.assignments.get(text, [])
        return [text]

    def inner(self, eid: str) -> set[str]:
        """The nodes inside a subprocess or the process a call activity calls."""
        element = self.elements.get(eid)
        if element is None:
            return set()
        if element.tag == "callActivity" and element.called:
            return set(self.process_nodes.get(element.called, set()))
        return set(self.children.get(eid, set()))

    def branch(self, start: str) -> tuple[set[str], set[str]]:
        """From a timer: the elements its branch passes until it waits for someone (a user
        task, a receive task, a call activity), and those waiting steps."""
        passed, stops, queue = set(), set(), [start]
        while queue:
            node = queue.pop()
            if node in passed:
                continue
            passed.add(node)
            element = self.elements.get(node)
            if element is None:
                continue
            if node != start and element.tag in WAIT_TAGS:
                stops.add(node)
                continue
            queue.extend(self.flows.get(node, []))
            if element.tag in ACTIVITY_TAGS:
                queue.extend(self.boundaries.get(node, []))
        return passed, stops

    def is_lapse_timer(self, timer: Element) -> bool:
        """An interrupting timer that ends the complaint without anyone acting on it."""
        if not timer.interrupting:
            return False
        _, stops = self.branch(timer.id)
        return not stops

    def escalation_steps(self) -> list[tuple[str, str]]:
        """(element id, level) of the steps on the main path that escalate a complaint."""
        if self._escalation_steps is None:
            steps = []
            for eid in sorted(self.main_path):
                element = self.elements.get(eid)
                if element is None or element.tag not in WAIT_TAGS or NOT_ESCALATION.search(element.name):
                    continue
                if element.tag == "receiveTask":
                    # Waiting for the complainant to go to an external body is no escalation yet;
                    # the step where someone records the body's case is.
                    continue
                for key, _, pattern in ESCALATION_LEVELS:
                    if pattern.search(element.name) or pattern.search(element.lane or ""):
                        steps.append((eid, key))
                        break
            self._escalation_steps = steps
        return self._escalation_steps

    def escalates(self, timer: Element) -> bool:
        if timer.id not in self._escalates:
            self._escalates[timer.id] = self._timer_escalates(timer)
        return self._escalates[timer.id]

    def _timer_escalates(self, timer: Element) -> bool:
        if timer.interrupting:
            return not self.is_lapse_timer(timer)
        passed, stops = self.branch(timer.id)
        roles = {self.role_of(s) for s in stops} - {None}
        for node in passed:
            element = self.elements.get(node)
            if element and element.operator == "notify_role":
                value = element.params.get("role") or next(iter(element.params.values()), "")
                match = _LITERAL.match(value)
                if match:
                    roles.add(match.group(2))
        own = self.role_of(timer.attached_to)
        return bool(roles - {own})

    def is_outcome(self, eid: str) -> bool:
        element = self.elements.get(eid)
        return bool(element and element.tag == "endEvent" and element.container == self.main_process
                    and eid in self.main_path)

    def register_roles(self) -> set[str]:
        roles = set()
        for element in self.elements.values():
            if element.operator == "register_complaint":
                value = element.params.get("role") or next(iter(element.params.values()), "")
                match = _LITERAL.match(value)
                if match:
                    roles.add(match.group(2))
        return roles


_models: dict[tuple[str, str], DiagramModel] = {}
_models_lock = threading.Lock()


def diagram_model(version: DiagramVersion, config: OrganisationConfig) -> DiagramModel:
    """The (cached) model of a stored diagram version."""
    key = (version.sha256, repr(sorted(config.lanes.items())))
    with _models_lock:
        model = _models.get(key)
    if model is None:
        xml = [version.bpmn_xml, *(version.dependencies or {}).values()]
        model = DiagramModel(xml, version.process_id, config.lanes)
        with _models_lock:
            if len(_models) > 64:
                _models.clear()
            _models[key] = model
    return model

"""Reports for auditors, quality officers and the toezichthouder: deadline compliance,
throughput times, escalations, complaints per location, type and outcome, the public
annual complaints report (openbaar klachtenjaarverslag) and a quarterly analysis.

Everything is computed from the database rows the runtime writes: the complaint rows
(`instances`: type, location, status, received and closed), the inbox rows (`human_tasks`:
which user task, when ready, completed or cancelled) and the audit trail (`audit_events`:
timers fired, gateways passed, end events reached, and the decisions of completed forms:
yes/no, choices and numbers, never free text). None of these hold personal data, and
retention leaves all of them in place, so the figures stay the same after a complaint's
personal data was purged. The structure of a procedure (which timer guards which step,
which end events are outcomes) comes from the stored diagram version of each complaint.

No Flask here: the web pages (`webapp.web.reports_views`) and the PDF call these functions.

How the figures are derived
---------------------------
* Population: the complaints *received* in the period (Europe/Amsterdam dates).
* Deadline kinds: the organisation's `deadlines` section. A kind is measured on the timers
  that implement it: the ids listed under `timer:` when given, else every timer whose
  expression (or the script variable it names) calls the same calendar function with the same
  number (`working_days: 3` = `working_days_after(3, ...)`, `weeks: 6, statutory: true` =
  `weeks_after(6, ..., statutory=True)`). When two kinds share a function and number, each timer
  goes to the kind whose id and label share most words with the timer, the step it guards and
  what its branch does. Per complaint: *gemist* when one of the kind's timers fired; else *open*
  while a guarded step is active; else *gehaald* when a guarded step was finished; else
  *vervallen* (the step was cancelled before its deadline, e.g. the complaint was withdrawn).
  A kind whose timers all end the complaint without a further user task (the complainant's
  twelve months for the Geschillencommissie, two months unreachable) is a *vervaltermijn*: shown
  apart as "verstreken / niet verstreken", not as a missed target.
* Throughput: days from receipt to closing (`closed_at`) of the closed complaints; median,
  90th percentile (nearest rank) and maximum, per type.
* Escalations: timers that escalate (interrupting ones that lead to a further step, and reminders
  that alert a role other than the one of the step they guard), and the steps reached in the lane
  or under the name of the management (directeur, bestuurder) or an external body
  (Geschillencommissie, Klachtenloket, Klachtencommissie, Exkocie), by BPMN element name.
* Outcome: the end events of the organisation's main process reached on the main path (reminder
  branches excluded); a complaint with parallel paths can reach more than one.
* Form decisions: the choices of the completed forms, classified by field name and options:
  a judgement (options with "gegrond"), the nature (aard, categorie, onderwerp, soort), measures
  (verbetering, maatregel, wijziging); an external body's case is a step of that body whose form
  records a judgement.
"""

from __future__ import annotations

import math
import re
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from lxml import etree
from sqlalchemy import select

from webapp import clock
from webapp.db.models import DiagramVersion, HumanTask, Instance, Organisation
from webapp.deadlines import STATES, judge
from webapp.history import load_histories
from webapp.runtime.bpmn import ACTIVITIES, BPMN, FLOW_NODES, GATEWAYS, SPIFF
from webapp.runtime.organisations import OrganisationConfig
from webapp.vocabulary import EventType, HumanTaskState, InstanceStatus

# -- vocabulary --------------------------------------------------------------------------------

TYPE_LABELS = {"klacht": "Klacht", "compliment": "Compliment", "suggestie": "Suggestie", "signaal": "Signaal"}
TYPE_ORDER = ["klacht", "suggestie", "compliment", "signaal"]
UNKNOWN = "Onbekend"
OTHER_LOCATION = "Overige locaties"

DEADLINE_STATES = STATES

# Escalation levels, checked in this order against a step's name and lane (soft hyphens removed).
ESCALATION_LEVELS: list[tuple[str, str, re.Pattern[str]]] = [
    ("extern", "Externe instantie (Geschillencommissie, Klachtenloket, Klachtencommissie, Exkocie)",
     re.compile(r"geschil|klachtencommissie|exkocie|klachtenloket", re.I)),
    ("directie", "Directie en bestuur", re.compile(r"directeur|bestuurder", re.I)),
]
TIMER_LEVEL = ("termijn", "Termijn verstreken (escalatie door een timer)")
# Organisation-wide improvements are measures, not escalations.
NOT_ESCALATION = re.compile(r"verbeter|oudercommissie|wijziging", re.I)

# External bodies, by the word that names them in a step, lane or form.
BODIES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"exkocie", re.I), "Exkocie"),
    (re.compile(r"klachtencommissie", re.I), "Klachtencommissie"),
    (re.compile(r"klachtenloket", re.I), "Klachtenloket Kinderopvang"),
    (re.compile(r"geschil", re.I), "Geschillencommissie"),
]
EXTERNAL = re.compile(r"geschil|exkocie|klachtencommissie|klachtenloket", re.I)
JUDGEMENT_VALUE = re.compile(r"gegrond", re.I)
NATURE_FIELD = re.compile(r"aard|categorie|onderwerp|soort|thema", re.I)
MEASURE_FIELD = re.compile(r"verbeter|maatregel|wijziging|afdelingsoverstijgend|opvolging", re.I)
MEASURE_TEXT_FIELD = re.compile(r"maatregel", re.I)
MEASURE_TASK = re.compile(r"verbetering", re.I)
# Roles that read reports besides auditor and procesbeheerder, when the configuration names none.
QUALITY_ROLE = re.compile(r"kwaliteit|klachtenfunctionaris|stafbureau", re.I)  # on a role's id or label
QUALITY_TASK = re.compile(r"jaarverslag|klachtenverslag|analy|rapport", re.I)  # in a role's description

RELEVANT_EVENTS = (EventType.TIMER_FIRED, EventType.GATEWAY_PASSED, EventType.END_EVENT, EventType.ELEMENT_COMPLETED,
                   EventType.MESSAGE_RECEIVED, EventType.TASK_COMPLETED)


def clean(name: str | None) -> str:
    """A BPMN name as text: soft hyphens and line breaks out."""
    return re.sub(r"\s+", " ", (name or "").replace("\xad", "")).strip()


# -- periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Calendar dates in Europe/Amsterdam, both inclusive."""

    start: date
    end: date
    label: str = ""

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), str(year))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError("een kwartaal is 1, 2, 3 of 4")
        first = date(year, 3 * quarter - 2, 1)
        last = (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)) - timedelta(days=1)
        return cls(first, last, f"{quarter}e kwartaal {year}")

    @classmethod
    def between(cls, start: date, end: date) -> Period:
        if end < start:
            start, end = end, start
        return cls(start, end, f"{start:%d-%m-%Y} t/m {end:%d-%m-%Y}")

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as UTC moments: midnight in Amsterdam."""
        begin = datetime.combine(self.start, time(0), clock.AMSTERDAM)
        finish = datetime.combine(self.end + timedelta(days=1), time(0), clock.AMSTERDAM)
        return begin.astimezone(UTC), finish.astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        begin, finish = self.bounds
        return begin <= moment < finish


# -- the structure of a procedure ----------------------------------------------------------------

HUMAN_TAGS = {"userTask", "manualTask"}
WAIT_TAGS = HUMAN_TAGS | {"receiveTask", "callActivity"}
ACTIVITY_TAGS = ACTIVITIES
NODE_TAGS = FLOW_NODES
GATEWAY_TAGS = GATEWAYS
CALENDAR_CALL = re.compile(r"\b(working_days_after|weeks_after|months_after|days_after)\(\s*(\d+)(?:\s*\+[^,]*)?\s*,(.*)\)")
UNIT_FUNCTIONS = {"working_days": "working_days_after", "weeks": "weeks_after", "months": "months_after",
                  "days": "days_after"}
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
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        for xml in xml_files:
            root = etree.fromstring(xml.encode("utf-8"), parser)
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


# -- deadline kinds ------------------------------------------------------------------------------

_STOPWORDS = {"binnen", "werkdagen", "werkdag", "weken", "week", "dagen", "maanden", "maand", "verstreken",
              "timer", "termijn", "naar", "door", "voor", "heeft", "wordt", "met", "van", "een", "het", "die",
              "ontvangst", "indiening", "uiterlijk", "klacht", "klager", "klantreactie"}


def _words(*texts: str) -> set[str]:
    words = set()
    for text in texts:
        for word in re.split(r"[^a-zà-ÿ]+", clean(text).lower().replace("_", " ")):
            if len(word) >= 4 and word not in _STOPWORDS:
                words.add(word[:7])
    return words


@dataclass(frozen=True)
class DeadlineKind:
    key: str
    label: str
    timers: frozenset[str]
    guarded: frozenset[str]
    measured_on: tuple[str, ...]  # "timer name (step)" for the page
    lapse: bool  # a vervaltermijn: the complaint ends when it passes


def _spec_call(spec: Mapping[str, Any]) -> tuple[str, int, bool] | None:
    for unit, function in UNIT_FUNCTIONS.items():
        if isinstance(spec.get(unit), int):
            return function, int(spec[unit]), bool(spec.get("statutory", False))
    return None


def _matches(expression: str, call: tuple[str, int, bool]) -> bool:
    match = CALENDAR_CALL.search(expression)
    if not match:
        return False
    function, number, rest = match.group(1), int(match.group(2)), match.group(3)
    statutory = bool(re.search(r"statutory\s*=\s*True", rest))
    return (function, number, statutory) == call


def deadline_kinds(config: OrganisationConfig, model: DiagramModel) -> list[DeadlineKind]:
    """The organisation's deadline kinds with the timers of this diagram that implement them."""
    timers = {t.id: t for t in model.timers()}
    claims: dict[str, set[str]] = {}
    explicit: set[str] = set()
    for key, spec in (config.deadlines or {}).items():
        spec = spec if isinstance(spec, Mapping) else {}
        listed = spec.get("timer") or spec.get("timers")
        if listed:
            ids = [listed] if isinstance(listed, str) else list(listed)
            claims[key] = {t for t in ids if t in timers}
            explicit.add(key)
            continue
        call = _spec_call(spec)
        claims[key] = {tid for tid, t in timers.items()
                       if call and any(_matches(e, call) for e in model.timer_expressions(t))}
    # A timer claimed by several kinds (same function and number) goes to the closest kind.
    owners: dict[str, list[str]] = defaultdict(list)
    for key, ids in claims.items():
        if key not in explicit:
            for tid in ids:
                owners[tid].append(key)
    for tid, keys in owners.items():
        if len(keys) < 2:
            continue
        timer = timers[tid]
        passed, _ = model.branch(tid)
        timer_words = _words(tid, timer.name, model.name(timer.attached_to or ""),
                             *(model.name(p) for p in passed))
        scores = {}
        for key in keys:
            spec = config.deadlines.get(key) or {}
            scores[key] = len(_words(key, str(spec.get("label", ""))) & timer_words)
        best = max(scores.values())
        for key in keys:
            if scores[key] < best:
                claims[key].discard(tid)
    kinds = []
    for key, spec in (config.deadlines or {}).items():
        spec = spec if isinstance(spec, Mapping) else {}
        ids = claims.get(key, set())
        guarded = frozenset(timers[t].attached_to for t in ids if timers[t].attached_to)
        kinds.append(DeadlineKind(
            key=key, label=str(spec.get("label") or key.replace("_", " ")), timers=frozenset(ids),
            guarded=guarded,
            measured_on=tuple(sorted(f"{timers[t].name} ({model.name(timers[t].attached_to or '')})" for t in ids)),
            lapse=bool(ids) and all(model.is_lapse_timer(timers[t]) for t in ids)))
    return kinds


# -- forms ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldInfo:
    name: str
    title: str
    kind: str  # choice, bool, number, text
    options: tuple[tuple[Any, str], ...] = ()

    def show(self, value: Any) -> str:
        if isinstance(value, bool):
            return "ja" if value else "nee"
        for option, title in self.options:
            if option == value:
                return title
        return str(value)

    @property
    def judgement(self) -> bool:
        return self.kind == "choice" and any(JUDGEMENT_VALUE.search(f"{v} {t}") for v, t in self.options)


class FormFields:
    """Field titles and options of the forms (the catalog of `forms/`), cached."""

    def __init__(self, catalog) -> None:
        self.catalog = catalog
        self._cache: dict[str, dict[str, FieldInfo]] = {}

    def of(self, form: str | None) -> dict[str, FieldInfo]:
        if not form:
            return {}
        if form not in self._cache:
            try:
                schema = self.catalog.load(form) if self.catalog is not None else {}
            except Exception:  # a removed or broken form: the figures fall back to field names
                schema = {}
            fields = {}
            for name, spec in (schema.get("properties") or {}).items():
                if not isinstance(spec, Mapping):
                    continue
                title = clean(str(spec.get("title") or name.replace("_", " ").capitalize()))
                if "enum" in spec:
                    fields[name] = FieldInfo(name, title, "choice", tuple((v, str(v)) for v in spec["enum"]))
                elif "oneOf" in spec:
                    options = tuple((o.get("const"), str(o.get("title") or o.get("const")))
                                    for o in spec["oneOf"] if isinstance(o, Mapping))
                    fields[name] = FieldInfo(name, title, "choice", options)
                elif spec.get("type") == "boolean":
                    fields[name] = FieldInfo(name, title, "bool")
                elif spec.get("type") in ("integer", "number"):
                    fields[name] = FieldInfo(name, title, "number")
                else:
                    fields[name] = FieldInfo(name, title, "text")
            self._cache[form] = fields
        return self._cache[form]

    def info(self, form: str | None, name: str, value: Any) -> FieldInfo:
        found = self.of(form).get(name)
        if found:
            return found
        kind = "bool" if isinstance(value, bool) else "number" if isinstance(value, int | float) else "choice"
        return FieldInfo(name, name.replace("_", " ").capitalize(), kind)


# -- results -------------------------------------------------------------------------------------


@dataclass
class Count:
    label: str
    count: int


@dataclass
class Breakdown:
    """One recorded choice (a form field), counted per complaint (its last value)."""

    title: str
    field: str
    step: str
    counts: list[Count]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)


@dataclass
class DeadlineFigure:
    kind: DeadlineKind
    gehaald: int = 0
    gemist: int = 0
    open: int = 0
    vervallen: int = 0

    @property
    def measured(self) -> bool:
        return bool(self.kind.timers)

    @property
    def decided(self) -> int:
        return self.gehaald + self.gemist

    @property
    def percentage(self) -> float | None:
        return round(100 * self.gehaald / self.decided, 1) if self.decided else None


@dataclass
class Throughput:
    label: str
    closed: int
    still_open: int
    median: float | None
    p90: float | None
    maximum: float | None


@dataclass
class EscalationStep:
    name: str
    count: int


@dataclass
class EscalationLevel:
    key: str
    label: str
    complaints: int
    steps: list[EscalationStep]


@dataclass
class CommitteeCases:
    body: str
    steps: list[str]
    cases: int
    decided: int
    pending: int
    verdicts: list[Count]


@dataclass
class HandlingRow:
    route: str
    count: int
    within: int
    exceeded: int
    running: int
    no_deadline: int


@dataclass
class LocationRow:
    location: str
    total: int
    per_type: dict[str, int]


@dataclass
class QuarterSummary:
    quarter: int
    label: str
    received: int
    closed: int
    within: int
    exceeded: int
    escalated: int
    committee_cases: int


@dataclass
class Report:
    slug: str
    organisation: str
    period: Period
    generated_at: datetime
    public: bool
    total: int
    closed: int
    running: int
    types: list[str]  # the type keys present, in order
    by_type: list[Count]
    by_location: list[LocationRow]
    by_status: list[Count]
    by_outcome: list[Count]
    handling: list[HandlingRow]
    deadlines: list[DeadlineFigure]
    lapse_terms: list[DeadlineFigure]
    throughput: list[Throughput]
    escalations: list[EscalationLevel]
    committees: list[CommitteeCases]
    judgements: list[Breakdown]
    nature: list[Breakdown]
    measures: list[Count]
    decisions: list[Breakdown]
    purged: int = 0
    # per complaint: "within" (every deadline met), "exceeded" (one missed), "running", "no_deadline"
    deadline_verdicts: dict[str, int] = field(default_factory=dict)
    escalated_complaints: int = 0
    quarters: list[QuarterSummary] = field(default_factory=list)

    @property
    def deadline_totals(self) -> tuple[int, int]:
        return (sum(d.gehaald for d in self.deadlines), sum(d.gemist for d in self.deadlines))

    @property
    def deadline_percentage(self) -> float | None:
        met, missed = self.deadline_totals
        return round(100 * met / (met + missed), 1) if met + missed else None

    @property
    def escalated(self) -> int:
        """Complaints that reached any level of escalation."""
        return self.escalated_complaints


# -- loading -------------------------------------------------------------------------------------


@dataclass
class _Complaint:
    id: int
    version_id: int
    type: str | None
    location: str | None
    status: str
    created_at: datetime
    closed_at: datetime | None
    purged: bool
    tasks: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)


def _current_version(runtime, slug: str) -> DiagramVersion | None:
    try:
        version_id = runtime.current_version_id(slug)
    except Exception:  # no diagram deployed (yet)
        return None
    with runtime.sessions() as session:
        return session.get(DiagramVersion, version_id)


def _organisation_id(session, slug: str) -> int | None:
    return session.scalar(select(Organisation.id).where(Organisation.slug == slug))


def _load(sessions, slug: str, period: Period) -> tuple[list[_Complaint], dict[int, DiagramVersion]]:
    begin, finish = period.bounds
    with sessions() as session:
        org_id = _organisation_id(session, slug)
        if org_id is None:
            return [], {}
        in_period = (Instance.organisation_id == org_id, Instance.created_at >= begin, Instance.created_at < finish)
        complaints = {row.id: _Complaint(row.id, row.diagram_version_id, row.complaint_type, row.location,
                                         row.status, row.created_at, row.closed_at, row.purged_at is not None)
                      for row in session.execute(
                          select(Instance.id, Instance.diagram_version_id, Instance.complaint_type, Instance.location,
                                 Instance.status, Instance.created_at, Instance.closed_at, Instance.purged_at)
                          .where(*in_period).order_by(Instance.created_at, Instance.id))}
        if not complaints:
            return [], {}
        for row in session.execute(
                select(HumanTask.instance_id, HumanTask.bpmn_id, HumanTask.name, HumanTask.state, HumanTask.form,
                       HumanTask.created_at, HumanTask.completed_at)
                .join(Instance, Instance.id == HumanTask.instance_id).where(*in_period).order_by(HumanTask.id)):
            complaints[row.instance_id].tasks.append(row)
        for instance_id, events in load_histories(session, *in_period, event_types=RELEVANT_EVENTS).items():
            complaints[instance_id].events = events
        version_ids = {c.version_id for c in complaints.values()}
        versions = {v.id: v for v in session.scalars(select(DiagramVersion).where(DiagramVersion.id.in_(version_ids)))}
    return list(complaints.values()), versions


# -- per complaint -------------------------------------------------------------------------------


class _Trace:
    """What one complaint went through, read off its rows."""

    def __init__(self, complaint: _Complaint, model: DiagramModel) -> None:
        self.c = complaint
        self.model = model
        self.seen: set[str] = set()
        self.to: dict[str, set[str]] = defaultdict(set)
        self.fired: set[str] = set()
        self.ends: list[str] = []
        for event in complaint.events:
            if not event.bpmn_id:
                continue
            self.seen.add(event.bpmn_id)
            if event.event_type == EventType.TIMER_FIRED:
                self.fired.add(event.bpmn_id)
            elif event.event_type == EventType.GATEWAY_PASSED:
                self.to[event.bpmn_id].update(event.data.get("to") or [])
            elif event.event_type == EventType.END_EVENT and event.bpmn_id not in self.ends:
                self.ends.append(event.bpmn_id)
        self.task_states: dict[str, list[str]] = defaultdict(list)
        for task in complaint.tasks:
            self.task_states[task.bpmn_id].append(task.state)
            self.seen.add(task.bpmn_id)

    @property
    def running(self) -> bool:
        return self.c.status == InstanceStatus.RUNNING

    def reached(self, eid: str) -> bool:
        if eid in self.seen or eid in self.task_states:
            return True
        if any(b in self.seen for b in self.model.boundaries.get(eid, [])):
            return True
        if self.model.inner(eid) & self.seen:
            return True
        for source in self.model.incoming.get(eid, []):
            element = self.model.element(source)
            if source in self.seen and (element is None or element.tag not in GATEWAY_TAGS or eid in self.to[source]):
                return True
        return False

    def state_of(self, eid: str) -> str | None:
        """active, done, cancelled, or None when never reached."""
        element = self.model.element(eid)
        if element is not None and element.tag in HUMAN_TAGS or eid in self.task_states:
            states = self.task_states.get(eid, [])
            if not states:
                return None
            if HumanTaskState.READY in states:
                return "active" if self.running else "cancelled"
            return "done" if HumanTaskState.COMPLETED in states else "cancelled"
        if not self.reached(eid):
            return None
        if eid in self.seen:
            return "done"
        if any(b in self.seen and self.model.elements[b].interrupting for b in self.model.boundaries.get(eid, [])):
            return "cancelled"
        return "active" if self.running else "cancelled"

    def deadline(self, kind: DeadlineKind) -> str | None:
        """The one deadline rule (`webapp.deadlines.judge`) on what the complaint went through: the
        deadline passed when one of the kind's timers fired; the guarded step is open while one is
        active, else completed when one was done, else cut off. None: the kind never applied."""
        if not kind.timers:
            return None
        passed = bool(kind.timers & self.fired)
        states = {self.state_of(g) for g in kind.guarded} - {None}
        if not states and not passed:
            return None
        ending = (HumanTaskState.READY if "active" in states or not states else
                  HumanTaskState.COMPLETED if "done" in states else HumanTaskState.CANCELLED)
        return judge(ending, passed=passed)


def _nearest_rank(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _raw_config(config: OrganisationConfig) -> dict[str, Any]:
    path = Path(config.folder) / "organisation.yaml"
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return {}
    cached = _raw_cache.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        raw = {}
    _raw_cache[path] = (stamp, raw)
    return raw


_raw_cache: dict[Path, tuple[float, dict[str, Any]]] = {}


# -- the report ----------------------------------------------------------------------------------


def _type_key(value: str | None) -> str:
    return value or "onbekend"


def type_label(key: str) -> str:
    return TYPE_LABELS.get(key, UNKNOWN if key == "onbekend" else key.capitalize())


def _location_label(config: OrganisationConfig, value: str | None, public: bool) -> str:
    if not value:
        return UNKNOWN
    known = _known_locations(config)
    if public and known and value not in known:
        return OTHER_LOCATION  # a free-text location outside the organisation's list is not published
    return value


def _known_locations(config: OrganisationConfig) -> set[str]:
    names = set()
    for item in (config.intake or {}).get("locations") or []:
        if isinstance(item, Mapping):
            item = item.get("naam") or item.get("name") or item.get("label") or ""
        if str(item).strip():
            names.add(str(item).strip())
    return names


def build_report(runtime, slug: str, period: Period, public: bool = False) -> Report:
    """The figures of one organisation for the complaints received in `period`.
    `public`: the anonymised version for publication (no free-text locations outside the
    organisation's list, no table of every recorded choice)."""
    config: OrganisationConfig = runtime.organisation(slug)
    complaints, versions = _load(runtime.sessions, slug, period)
    forms = FormFields(getattr(runtime, "forms", None))
    models = {vid: diagram_model(v, config) for vid, v in versions.items()}
    kinds_by_version = {vid: deadline_kinds(config, m) for vid, m in models.items()}
    kind_order = list((config.deadlines or {}).keys())
    figures: dict[str, DeadlineFigure] = {}
    for vid in sorted(kinds_by_version, reverse=True):  # the newest version names the kind
        for kind in kinds_by_version[vid]:
            figures.setdefault(kind.key, DeadlineFigure(kind))
    if not figures:  # no complaints in the period: the kinds as the current diagram measures them
        current = _current_version(runtime, slug)
        for kind in deadline_kinds(config, diagram_model(current, config)) if current else []:
            figures[kind.key] = DeadlineFigure(kind)
    for key, spec in (config.deadlines or {}).items():
        if key not in figures:
            spec = spec if isinstance(spec, Mapping) else {}
            figures[key] = DeadlineFigure(DeadlineKind(key, str(spec.get("label") or key), frozenset(),
                                                       frozenset(), (), False))

    types: Counter[str] = Counter()
    locations: dict[str, Counter[str]] = defaultdict(Counter)
    outcomes: Counter[str] = Counter()
    handling: dict[str, Counter[str]] = defaultdict(Counter)
    durations: dict[str, list[float]] = defaultdict(list)
    open_by_type: Counter[str] = Counter()
    levels: dict[str, dict[str, set[int]]] = {key: defaultdict(set) for key, _, _ in
                                             [(TIMER_LEVEL[0], "", None), *ESCALATION_LEVELS]}
    level_complaints: dict[str, set[int]] = defaultdict(set)
    committees: dict[str, dict[str, Any]] = {}
    choices: dict[str, dict[str, Any]] = {}
    measures: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    purged = 0

    for complaint in complaints:
        model = models[complaint.version_id]
        trace = _Trace(complaint, model)
        type_key = _type_key(complaint.type)
        types[type_key] += 1
        locations[_location_label(config, complaint.location, public)][type_key] += 1
        purged += complaint.purged
        if complaint.closed_at is not None:
            durations[type_key].append((complaint.closed_at - complaint.created_at).total_seconds() / 86400)
        else:
            open_by_type[type_key] += 1

        # deadlines
        states = []
        for kind in kinds_by_version[complaint.version_id]:
            state = trace.deadline(kind)
            if state is not None:
                setattr(figures[kind.key], state, getattr(figures[kind.key], state) + 1)
                if not kind.lapse:
                    states.append(state)
        verdict = ("exceeded" if "gemist" in states else "running" if "open" in states
                   else "within" if "gehaald" in states else "no_deadline")

        # outcome and route
        routes = [model.name(e) for e in trace.ends if model.is_outcome(e)]
        if not routes:
            routes = ["Nog in behandeling" if trace.running else "Afgesloten zonder eindpunt"]
        verdicts[verdict] += 1
        for route in dict.fromkeys(routes):
            outcomes[route] += 1
            handling[route][verdict] += 1

        # escalations
        for tid in trace.fired:
            timer = model.element(tid)
            if timer is not None and timer.timer is not None and model.escalates(timer):
                label = f"{timer.name} ({model.name(timer.attached_to or '')})"
                levels[TIMER_LEVEL[0]][label].add(complaint.id)
                level_complaints[TIMER_LEVEL[0]].add(complaint.id)
        for eid, key in model.escalation_steps():
            if trace.state_of(eid) is not None:
                levels[key][model.name(eid)].add(complaint.id)
                level_complaints[key].add(complaint.id)

        # recorded choices: the last value per field of this complaint
        last: dict[str, tuple[Any, FieldInfo, str, str | None]] = {}
        filled: set[str] = set()
        for event in complaint.events:
            if event.event_type != EventType.TASK_COMPLETED:
                continue
            element = model.element(event.bpmn_id or "")
            form = element.form if element else None
            step = clean(event.bpmn_name) or (element.name if element else "")
            for name, value in (event.data.get("decisions") or {}).items():
                last[name] = (value, forms.info(form, name, value), step, form)
            filled.update(event.data.get("fields") or [])
        for name, (value, info, step, form) in last.items():
            entry = choices.setdefault(name, {"info": info, "step": step, "form": form, "counts": Counter()})
            entry["counts"][info.show(value)] += 1
        if any(MEASURE_TEXT_FIELD.search(f) for f in filled):
            measures["Maatregelen met een termijn vastgelegd"] += 1
        for name, (value, info, _step, _form) in last.items():
            if not MEASURE_FIELD.search(name):
                continue
            if info.kind == "bool" and value is True:
                measures[f"{info.title.rstrip('?').strip()}: ja"] += 1
            elif info.kind == "choice":
                measures[f"{info.title}: {info.show(value)}"] += 1
        for task in complaint.tasks:
            if task.state == HumanTaskState.COMPLETED and MEASURE_TASK.search(task.name):
                measures[f"Uitgevoerd: {clean(task.name)}"] += 1

        # external bodies: a step of the body whose form records a judgement
        counted: set[tuple[str, str]] = set()
        for task in complaint.tasks:
            element = model.element(task.bpmn_id)
            lane = element.lane if element else ""
            text = f"{task.name} {lane or ''} {task.form or ''}"
            if not EXTERNAL.search(text):
                continue
            judgement_fields = [f for f in forms.of(task.form).values() if f.judgement]
            if not judgement_fields:
                continue
            body = next((label for pattern, label in BODIES if pattern.search(text)), "Externe instantie")
            entry = committees.setdefault(body, {"steps": set(), "cases": set(), "decided": set(),
                                                 "verdicts": Counter()})
            entry["steps"].add(clean(task.name))
            entry["cases"].add(complaint.id)
            if task.state == HumanTaskState.COMPLETED and (body, task.bpmn_id) not in counted:
                entry["decided"].add(complaint.id)
                counted.add((body, task.bpmn_id))
                value = next((last[f.name] for f in judgement_fields if f.name in last), None)
                if value is not None:
                    entry["verdicts"][value[1].show(value[0])] += 1

    # -- assemble ----------------------------------------------------------------------------
    type_keys = sorted(types, key=lambda k: (TYPE_ORDER.index(k) if k in TYPE_ORDER else 99, k))
    by_type = [Count(type_label(k), types[k]) for k in type_keys]
    by_location = sorted((LocationRow(loc, sum(c.values()), {k: c.get(k, 0) for k in type_keys})
                          for loc, c in locations.items()), key=lambda r: (-r.total, r.location))
    by_status = [Count("Afgesloten", sum(1 for c in complaints if c.closed_at is not None)),
                 Count("In behandeling", sum(1 for c in complaints if c.closed_at is None))]
    by_outcome = [Count(k, v) for k, v in sorted(outcomes.items(), key=lambda kv: (-kv[1], kv[0]))]
    handling_rows = [HandlingRow(route, outcomes[route], c["within"], c["exceeded"], c["running"], c["no_deadline"])
                     for route, c in sorted(handling.items(), key=lambda kv: (-outcomes[kv[0]], kv[0]))]
    ordered = sorted(figures.values(), key=lambda f: kind_order.index(f.kind.key) if f.kind.key in kind_order else 99)
    throughput = []
    for key in type_keys:
        values = durations.get(key, [])
        throughput.append(_throughput(type_label(key), values, open_by_type[key]))
    if len(type_keys) > 1:
        throughput.append(_throughput("Alle soorten", [v for vs in durations.values() for v in vs],
                                      sum(open_by_type.values())))
    escalations = []
    for key, label in [TIMER_LEVEL, *((k, lbl) for k, lbl, _ in ESCALATION_LEVELS)]:
        steps = [EscalationStep(name, len(ids)) for name, ids in sorted(levels[key].items(),
                                                                        key=lambda kv: (-len(kv[1]), kv[0]))]
        escalations.append(EscalationLevel(key, label, len(level_complaints[key]), steps))
    committee_rows = [CommitteeCases(body, sorted(e["steps"]), len(e["cases"]), len(e["decided"]),
                                     len(e["cases"] - e["decided"]),
                                     [Count(k, v) for k, v in sorted(e["verdicts"].items(), key=lambda kv: -kv[1])])
                      for body, e in sorted(committees.items())]
    judgements, nature, decisions = [], [], []
    for name, entry in sorted(choices.items(), key=lambda kv: kv[1]["info"].title):
        info: FieldInfo = entry["info"]
        counts = [Count(k, v) for k, v in sorted(entry["counts"].items(), key=lambda kv: (-kv[1], kv[0]))]
        breakdown = Breakdown(info.title, name, entry["step"], counts)
        text = f"{name} {entry['form'] or ''} {entry['step']}"
        if info.judgement and not EXTERNAL.search(text):
            judgements.append(breakdown)
        if info.kind == "choice" and NATURE_FIELD.search(name) and not MEASURE_FIELD.search(name):
            nature.append(breakdown)
        if info.kind in ("choice", "bool"):
            decisions.append(breakdown)
    return Report(
        slug=slug, organisation=config.name, period=period, generated_at=clock.now(), public=public,
        total=len(complaints), closed=by_status[0].count, running=by_status[1].count, types=type_keys,
        by_type=by_type, by_location=by_location, by_status=by_status, by_outcome=by_outcome,
        handling=handling_rows, deadlines=[f for f in ordered if not f.kind.lapse],
        lapse_terms=[f for f in ordered if f.kind.lapse], throughput=throughput, escalations=escalations,
        committees=committee_rows, judgements=judgements, nature=nature,
        measures=[Count(k, v) for k, v in sorted(measures.items(), key=lambda kv: (-kv[1], kv[0]))],
        decisions=[] if public else decisions, purged=purged,
        deadline_verdicts={k: verdicts.get(k, 0) for k in ("within", "exceeded", "running", "no_deadline")},
        escalated_complaints=len(set().union(*level_complaints.values())))


def _throughput(label: str, values: list[float], still_open: int) -> Throughput:
    if not values:
        return Throughput(label, 0, still_open, None, None, None)
    return Throughput(label, len(values), still_open, round(statistics.median(values), 1),
                      round(_nearest_rank(values, 0.9), 1), round(max(values), 1))


def annual_report(runtime, slug: str, year: int) -> Report:
    """The data of the public annual complaints report (openbaar klachtenjaarverslag):
    anonymised, computed from the complaints received in the calendar year."""
    report = build_report(runtime, slug, Period(date(year, 1, 1), date(year, 12, 31), f"jaarverslag {year}"),
                          public=True)
    report.quarters = quarter_summaries(runtime, slug, year)
    return report


def quarterly_report(runtime, slug: str, year: int, quarter: int) -> Report:
    """Kwartier's quarterly analysis for the OR and the management team (anonymised), with the
    quarters of the year side by side."""
    report = build_report(runtime, slug, Period.quarter(year, quarter), public=True)
    report.quarters = quarter_summaries(runtime, slug, year)
    return report


def quarter_summaries(runtime, slug: str, year: int) -> list[QuarterSummary]:
    rows = []
    for quarter in (1, 2, 3, 4):
        period = Period.quarter(year, quarter)
        report = build_report(runtime, slug, period, public=True)
        within = report.deadline_verdicts["within"]
        exceeded = report.deadline_verdicts["exceeded"]
        rows.append(QuarterSummary(quarter, f"K{quarter}", report.total, report.closed, within, exceeded,
                                   report.escalated, sum(c.cases for c in report.committees)))
    return rows


# -- who reads reports ---------------------------------------------------------------------------


def reporting_settings(config: OrganisationConfig) -> dict[str, Any]:
    """The optional `reporting:` section of organisation.yaml (by, reports, recipients, ...)."""
    raw = _raw_config(config).get("reporting")
    return raw if isinstance(raw, Mapping) else {}


def wants_quarterly(config: OrganisationConfig) -> bool:
    settings = reporting_settings(config)
    text = " ".join(str(x) for x in [settings.get("analysis", ""), *(settings.get("reports") or [])])
    return "kwartaal" in text.lower()


def report_roles(runtime, slug: str) -> frozenset[str]:
    """auditor, procesbeheerder and the organisation's quality officers: the roles named under
    `reporting.by` in organisation.yaml; else the roles the diagram registers complaints with
    (`register_complaint`), roles whose id or label names quality (kwaliteit, klachtenfunctionaris,
    stafbureau) and roles whose description speaks of the annual report or analysis."""
    config = runtime.organisation(slug)
    roles = {"auditor", "procesbeheerder"}
    by = reporting_settings(config).get("by")
    if by:
        roles.update([by] if isinstance(by, str) else [str(r) for r in by])
        return frozenset(roles)
    raw_roles = _raw_config(config).get("roles") or {}
    for role, label in config.roles.items():
        spec = raw_roles.get(role) if isinstance(raw_roles, Mapping) else None
        description = spec.get("description", "") if isinstance(spec, Mapping) else ""
        if QUALITY_ROLE.search(f"{role} {label}") or QUALITY_TASK.search(str(description)):
            roles.add(role)
    roles.update(_register_roles(runtime, slug, config))
    return frozenset(roles)


def _register_roles(runtime, slug: str, config: OrganisationConfig) -> frozenset[str]:
    version = _current_version(runtime, slug)
    if version is None:
        return frozenset()
    return frozenset(diagram_model(version, config).register_roles() & set(config.roles))


def years_with_data(runtime, slug: str) -> list[int]:
    """The calendar years (Amsterdam) in which complaints were received, newest first."""
    with runtime.sessions() as session:
        org_id = _organisation_id(session, slug)
        if org_id is None:
            return []
        first = session.scalar(select(Instance.created_at).where(Instance.organisation_id == org_id)
                               .order_by(Instance.created_at).limit(1))
        last = session.scalar(select(Instance.created_at).where(Instance.organisation_id == org_id)
                              .order_by(Instance.created_at.desc()).limit(1))
    if first is None:
        return []
    return list(range(clock.to_local(last).year, clock.to_local(first).year - 1, -1))


__all__ = [
    "Period", "Report", "DeadlineKind", "DeadlineFigure", "DiagramModel", "build_report", "annual_report",
    "quarterly_report", "quarter_summaries", "deadline_kinds", "diagram_model", "report_roles",
    "reporting_settings", "wants_quarterly", "years_with_data",
]

"""The complaints of a period as the reports read them (their rows, inbox tasks and history), and
what one complaint went through, element by element, on its diagram version."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, select

from webapp.db.models import AuditEvent, DiagramVersion, HumanTask, Instance, Organisation
from webapp.deadlines import judge
from webapp.vocabulary import EventType, HumanTaskState, InstanceStatus

from .kinds import DeadlineKind
from .labels import RELEVANT_EVENTS
from .model import GATEWAY_TAGS, HUMAN_TAGS, DiagramModel
from .periods import Period


@dataclass(frozen=True, slots=True)
class Completion:
    """A completed form in the audit trail: its step and the choices it recorded (no free text)."""

    bpmn_id: str | None
    bpmn_name: str | None
    decisions: dict[str, Any]
    fields: list[str]


@dataclass
class Complaint:
    """A complaint's row, inbox tasks and what its audit trail says (the elements it names, once)."""

    id: int
    version_id: int
    type: str | None
    location: str | None
    status: str
    created_at: datetime
    closed_at: datetime | None
    purged: bool
    tasks: list[Any] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # the elements named by its audit events
    fired: set[str] = field(default_factory=set)  # the timers that fired
    to: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # gateway -> targets taken
    ends: set[str] = field(default_factory=set)  # the end events reached
    completions: list[Completion] = field(default_factory=list)  # in the order they were completed


def current_version(runtime, slug: str) -> DiagramVersion | None:
    try:
        version_id = runtime.current_version_id(slug)
    except Exception:  # no diagram deployed (yet)
        return None
    with runtime.sessions() as session:
        return session.get(DiagramVersion, version_id)


def organisation_id(session, slug: str) -> int | None:
    return session.scalar(select(Organisation.id).where(Organisation.slug == slug))


def load_complaints(sessions, slug: str, period: Period) -> tuple[list[Complaint], dict[int, DiagramVersion]]:
    begin, finish = period.bounds
    with sessions() as session:
        org_id = organisation_id(session, slug)
        if org_id is None:
            return [], {}
        in_period = (Instance.organisation_id == org_id, Instance.created_at >= begin, Instance.created_at < finish)
        complaints = {row.id: Complaint(row.id, row.diagram_version_id, row.complaint_type, row.location,
                                         row.status, row.created_at, row.closed_at, bool(row.purged))
                      for row in session.execute(
                          select(Instance.id, Instance.diagram_version_id, Instance.complaint_type, Instance.location,
                                 Instance.status, Instance.created_at, Instance.closed_at,
                                 Instance.purged_at.is_not(None).label("purged"))
                          .where(*in_period).order_by(Instance.created_at, Instance.id))}
        if not complaints:
            return [], {}
        for row in session.execute(
                select(HumanTask.instance_id, HumanTask.bpmn_id, HumanTask.name, HumanTask.state, HumanTask.form)
                .join(Instance, Instance.id == HumanTask.instance_id).where(*in_period).order_by(HumanTask.id)):
            complaints[row.instance_id].tasks.append(row)
        _read_trail(session, in_period, complaints)
        version_ids = {c.version_id for c in complaints.values()}
        versions = {v.id: v for v in session.scalars(select(DiagramVersion).where(DiagramVersion.id.in_(version_ids)))}
    return list(complaints.values()), versions


# The audit events that say which elements a complaint went through; completed forms are read apart.
TRAIL_EVENTS = tuple(t for t in RELEVANT_EVENTS if t != EventType.TASK_COMPLETED)


def _read_trail(session, in_period: tuple, complaints: dict[int, Complaint]) -> None:
    """What the audit trail of the complaints says, aggregated by the database: each element once
    per complaint and kind of event (with a gateway's targets), and the choices of completed
    forms; no other event's data is read. Order does not matter but for the forms (the last
    choice counts)."""
    to = case((AuditEvent.event_type == EventType.GATEWAY_PASSED, AuditEvent.data["to"].as_string()))
    targets_of: dict[str, list[str]] = {}  # a gateway's few outcomes, each decoded once
    for instance_id, event_type, bpmn_id, targets in session.execute(
            select(AuditEvent.instance_id, AuditEvent.event_type, AuditEvent.bpmn_id, to).distinct()
            .join(Instance, Instance.id == AuditEvent.instance_id)
            .where(*in_period, AuditEvent.event_type.in_(TRAIL_EVENTS), AuditEvent.bpmn_id.is_not(None))):
        complaint = complaints[instance_id]
        complaint.seen.add(bpmn_id)
        if event_type == EventType.TIMER_FIRED:
            complaint.fired.add(bpmn_id)
        elif event_type == EventType.GATEWAY_PASSED:
            if targets and targets not in targets_of:
                targets_of[targets] = json.loads(targets)
            complaint.to[bpmn_id].update(targets_of[targets] if targets else ())
        elif event_type == EventType.END_EVENT:
            complaint.ends.add(bpmn_id)
    data = AuditEvent.data
    for row in session.execute(
            select(AuditEvent.instance_id, AuditEvent.bpmn_id, AuditEvent.bpmn_name, data["decisions"],
                   data["fields"])
            .join(Instance, Instance.id == AuditEvent.instance_id)
            .where(*in_period, AuditEvent.event_type == EventType.TASK_COMPLETED)
            # Steps write several rows with one timestamp: the id keeps the order they were written in.
            .order_by(AuditEvent.instance_id, AuditEvent.occurred_at, AuditEvent.id)):
        complaint = complaints[row[0]]
        if row.bpmn_id:
            complaint.seen.add(row.bpmn_id)
        complaint.completions.append(Completion(row.bpmn_id, row.bpmn_name, row[3] or {}, row[4] or []))


# -- per complaint -------------------------------------------------------------------------------


class ComplaintTrace:
    """What one complaint went through, read off its rows."""

    def __init__(self, complaint: Complaint, model: DiagramModel) -> None:
        self.c = complaint
        self.model = model
        self.seen: set[str] = set(complaint.seen)
        self.to = complaint.to
        self.fired = complaint.fired
        self.ends = complaint.ends
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

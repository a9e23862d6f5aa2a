"""The complaints of a period as the reports read them (their rows, inbox tasks and history), and
what one complaint went through, element by element, on its diagram version."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from webapp.db.models import DiagramVersion, HumanTask, Instance, Organisation
from webapp.deadlines import judge
from webapp.history import HistoryEvent, load_histories
from webapp.vocabulary import EventType, HumanTaskState, InstanceStatus

from .kinds import DeadlineKind
from .labels import RELEVANT_EVENTS
from .model import GATEWAY_TAGS, HUMAN_TAGS, DiagramModel
from .periods import Period


@dataclass
class Complaint:
    id: int
    version_id: int
    type: str | None
    location: str | None
    status: str
    created_at: datetime
    closed_at: datetime | None
    purged: bool
    tasks: list[Any] = field(default_factory=list)
    events: list[HistoryEvent] = field(default_factory=list)


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


class ComplaintTrace:
    """What one complaint went through, read off its rows."""

    def __init__(self, complaint: Complaint, model: DiagramModel) -> None:
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

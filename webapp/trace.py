"""The trace of one complaint, for auditors and staff: which elements of its diagram
version ran, which are active, which were cut off, which sequence flows were taken,
and the list of steps with who, when, the time since the step before and whether the
deadline was met. No Flask: the trace page, exports and the CLI can all use it.

Element states come from the workflow's task tree, which retention leaves intact;
who and when come from the audit trail and the human-task rows, which hold no personal
data. So the trace of a purged complaint is the same as before the purge."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from webapp.db.models import AuditEvent, DiagramVersion, HumanTask, Instance
from webapp.deadlines import deadline_state
from webapp.history import HistoryEvent, load_histories
from webapp.runtime.bpmn import bpmn_tag
from webapp.runtime.errors import NotFound
from webapp.runtime.steps import SYSTEM
from webapp.vocabulary import EventType, HumanTaskState

# A task whose (immediate) parent completed and that is in one of these states was reached:
# the token arrived there, even if it was cut off later (CANCELLED).
_REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.CANCELLED \
    | TaskState.ERROR
_ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING

STEP_LABELS = {
    "ontvangen": "Klacht ontvangen",
    "taak": "Taak afgerond",
    "taak_afgebroken": "Taak afgebroken",
    "termijn": "Termijn verstreken",
    "bericht": "Bericht ontvangen",
    "brief": "Brief verstuurd",
    "afgesloten": "Klacht afgesloten",
}


def dutch_duration(delta: timedelta) -> str:
    """A readable Dutch duration with at most two units: '2 dagen 3 uur', '1 dag', '3 uur 15 minuten'."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "minder dan een minuut"
    days, rest = divmod(seconds // 60, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} {'dag' if days == 1 else 'dagen'}")
    if hours:
        parts.append(f"{hours} uur")
    if minutes and not days:
        parts.append(f"{minutes} {'minuut' if minutes == 1 else 'minuten'}")
    return " ".join(parts)


@dataclass(frozen=True)
class DiagramInfo:
    version_id: int
    version: int
    process_id: str
    deployed_at: datetime
    deployed_by: str
    note: str
    bpmn_xml: str


@dataclass
class Step:
    kind: str  # one of STEP_LABELS
    at: datetime
    name: str
    actor: str  # a user's email, or "system"
    bpmn_id: str | None = None
    after: timedelta | None = None  # since the step before; None for the first
    due_at: datetime | None = None  # human tasks with a deadline
    deadline: str | None = None  # gehaald, gemist, vervallen (cut off before it was due)
    open_for: timedelta | None = None  # human tasks: from ready to done
    detail: str = ""

    @property
    def label(self) -> str:
        return STEP_LABELS[self.kind]

    @property
    def by_system(self) -> bool:
        return self.actor == SYSTEM

    @property
    def after_text(self) -> str:
        return dutch_duration(self.after) if self.after is not None else ""

    @property
    def open_for_text(self) -> str:
        return dutch_duration(self.open_for) if self.open_for is not None else ""


@dataclass
class Trace:
    instance_id: int
    reference: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    purged_at: datetime | None
    diagram: DiagramInfo
    completed: frozenset[str]  # elements with a completed task
    active: frozenset[str]  # READY/STARTED tasks and WAITING events, receive tasks, event-based gateways
    waiting: frozenset[str]  # the WAITING part of `active`
    cancelled: frozenset[str]  # activities reached and cut off (interrupted, withdrawn), never completed
    flows_taken: frozenset[str]  # sequenceFlow ids
    steps: list[Step] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # bpmn id -> name, for the elements above

    def name(self, bpmn_id: str) -> str:
        return self.names.get(bpmn_id) or bpmn_id

    def markers(self) -> dict[str, list[str]]:
        """What the diagram marks, by CSS class (without the spoor- prefix), for the page's JSON."""
        return {
            "voltooid": sorted(self.completed),
            "actief": sorted(self.active - self.waiting),
            "wachtend": sorted(self.waiting),
            "geannuleerd": sorted(self.cancelled),
            "genomen": sorted(self.flows_taken),
        }


# -- the task tree ---------------------------------------------------------------------


def _all_tasks(workflow) -> list[Any]:
    """Every task of the workflow and of its subprocesses, whatever its state."""
    roots = [workflow.task_tree] + [sub.task_tree for sub in workflow.subprocesses.values()]
    tasks, todo = [], list(roots)
    while todo:
        task = todo.pop()
        tasks.append(task)
        todo.extend(task.children)
    return tasks


def _reached(task) -> bool:
    return task.parent is not None and task.parent.state == TaskState.COMPLETED and bool(task.state & _REACHED)


def _bpmn_ancestor(task) -> str | None:
    """The nearest ancestor that stands for a BPMN element, looking through SpiffWorkflow's
    own specs (BoundaryEventSplit/Join, the start task) that carry no bpmn_id."""
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else None


def _is_event(spec) -> bool:
    return "Event" in (getattr(spec, "description", "") or "")


@dataclass
class ElementStates:
    completed: set[str]
    active: set[str]
    waiting: set[str]
    cancelled: set[str]
    transitions: set[tuple[str, str]]  # (source bpmn id, target bpmn id)
    names: dict[str, str]


def element_states(workflow) -> ElementStates:
    """The elements' states from the task tree, and the transitions: for each reached task,
    (its nearest BPMN ancestor, itself)."""
    names: dict[str, str] = {}
    completed: set[str] = set()
    active: set[str] = set()
    waiting: set[str] = set()
    cut_off: set[str] = set()
    transitions: set[tuple[str, str]] = set()
    for task in _all_tasks(workflow):
        spec = task.task_spec
        bpmn_id = spec.bpmn_id
        if bpmn_id is None:
            continue
        names.setdefault(bpmn_id, spec.bpmn_name or bpmn_id)
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state & _ACTIVE and not isinstance(spec, Join):
            # A parallel or inclusive join that waits for its other branches holds no work.
            active.add(bpmn_id)
            if task.state == TaskState.WAITING:
                waiting.add(bpmn_id)
        elif task.state == TaskState.CANCELLED and _reached(task) and not _is_event(spec) \
                and "Gateway" not in (spec.description or ""):
            # Boundary events that never fired and join instances of other branches are
            # cancelled too; only activities that were ready or running were cut off.
            cut_off.add(bpmn_id)
        if _reached(task):
            source = _bpmn_ancestor(task)
            if source is not None:
                transitions.add((source, bpmn_id))
    return ElementStates(completed, active, waiting, cut_off - completed - active, transitions, names)


def sequence_flows(documents) -> dict[tuple[str, str], list[str]]:
    """(sourceRef, targetRef) -> sequenceFlow ids, over the diagram's XML documents."""
    flows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for root in documents:
        for flow in root.iter(bpmn_tag("sequenceFlow")):
            flows[(flow.get("sourceRef"), flow.get("targetRef"))].append(flow.get("id"))
    return flows


# -- the steps -------------------------------------------------------------------------


def _message_name(name: str) -> str:
    return name.replace("_", " ").capitalize() if name else "Bericht"


def _attach(step: Step, event: HistoryEvent) -> None:
    """The element that caught a message someone recorded: named in the detail."""
    step.bpmn_id = event.bpmn_id
    step.detail = event.bpmn_name or event.bpmn_id or ""


def _task_step(e: HistoryEvent, queues: dict[tuple[str, str], deque[HumanTask]]) -> Step:
    """A user task completed or cut off, with its inbox row's deadline and how long it was open."""
    done = e.event_type == EventType.TASK_COMPLETED
    queue = queues.get((e.bpmn_id, HumanTaskState.COMPLETED if done else HumanTaskState.CANCELLED))
    row = queue.popleft() if queue else None
    step = Step("taak" if done else "taak_afgebroken", e.occurred_at, e.bpmn_name or e.bpmn_id or "",
                e.actor, e.bpmn_id)
    if row is not None:
        step.due_at = row.due_at
        step.open_for = e.occurred_at - row.created_at
        if done and row.completed_at:
            step.at = row.completed_at
    if step.due_at is not None:
        step.deadline = deadline_state(step.due_at, completed_at=step.at if done else None,
                                       cancelled_at=None if done else step.at, now=step.at)
    return step


def build_steps(events: list[HistoryEvent], rows: list[HumanTask]) -> list[Step]:
    """The steps from the complaint's history (`webapp.history`) and the human-task rows."""
    queues: dict[tuple[str, str], deque[HumanTask]] = defaultdict(deque)
    for row in sorted(rows, key=lambda r: r.id):
        queues[(row.bpmn_id, row.state)].append(row)

    steps: list[Step] = []
    pending_message: Step | None = None  # recorded by a person; the element follows in the same step

    def add(step: Step) -> None:
        nonlocal pending_message
        steps.append(step)
        pending_message = step if step.kind == "bericht" and step.bpmn_id is None else None

    for e in events:
        kind, data = e.event_type, e.data
        if kind == EventType.COMPLAINT_RECEIVED:
            add(Step("ontvangen", e.occurred_at, STEP_LABELS["ontvangen"], e.actor))
        elif kind in (EventType.TASK_COMPLETED, EventType.TASK_CANCELLED):
            add(_task_step(e, queues))
        elif kind == EventType.TIMER_FIRED:
            # Boundary timers say whether they interrupt; a timer behind an event-based gateway does not.
            interrupting = data.get("interrupting")
            add(Step("termijn", e.occurred_at, e.bpmn_name or e.bpmn_id or "", e.actor, e.bpmn_id,
                     detail={True: "onderbreekt de taak", False: "herinnering"}.get(interrupting, "")))
        elif kind == EventType.MESSAGE_RECEIVED:
            if e.is_delivery:
                add(Step("bericht", e.occurred_at, _message_name(e.message or ""), e.actor))
            elif e.delivered:  # delivered by someone and caught by an element in one step
                step = Step("bericht", e.occurred_at, _message_name(e.message or ""), e.actor)
                _attach(step, e)
                add(step)
            elif pending_message is not None:
                _attach(pending_message, e)
                pending_message = None
            else:
                add(Step("bericht", e.occurred_at, e.bpmn_name or e.bpmn_id, e.actor, e.bpmn_id,
                         detail=e.bpmn_name or ""))
        elif kind == EventType.ELEMENT_COMPLETED and pending_message is not None \
                and "Receive Task" in str(data.get("type", "")):
            _attach(pending_message, e)
            pending_message = None
        elif kind == EventType.MESSAGE_SENT and data.get("kind") == "letter":
            to = data.get("to") or ""
            add(Step("brief", e.occurred_at, e.bpmn_name or data.get("template") or "Brief", e.actor, e.bpmn_id,
                     detail=("aan de klager" if to == "klager" else f"aan {to.replace('role:', 'rol ')}")
                     + (f" ({data['template']})" if data.get("template") else "")))
        elif kind == EventType.PROCESS_COMPLETED:
            add(Step("afgesloten", e.occurred_at, STEP_LABELS["afgesloten"], e.actor))

    for before, step in zip(steps, steps[1:], strict=False):
        step.after = step.at - before.at
    return steps


# -- together --------------------------------------------------------------------------


def build_trace(runtime, instance_id: int) -> Trace:
    """The trace of complaint `instance_id` (raises NotFound when there is none)."""
    with runtime.sessions() as session:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound(f"complaint {instance_id} does not exist")
        version = session.get(DiagramVersion, instance.diagram_version_id)
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)))
        events = load_histories(session, AuditEvent.instance_id == instance_id).get(instance_id, [])
        session.expunge_all()
    if instance.state:
        loaded = runtime.load(instance_id)
        states, diagram = element_states(loaded.workflow), loaded.diagram
    else:  # stored at a failed intake: nothing of its procedure ran yet
        states = ElementStates(set(), set(), set(), set(), set(), {})
        diagram = runtime.diagram(version.id)
    flows = sequence_flows(diagram.documents.values())  # the diagram and the processes it calls
    taken = {flow_id for pair in states.transitions for flow_id in flows.get(pair, ())}
    return Trace(
        instance_id=instance.id, reference=instance.reference, status=instance.status,
        created_at=instance.created_at, closed_at=instance.closed_at, purged_at=instance.purged_at,
        diagram=DiagramInfo(version.id, version.version, version.process_id, version.deployed_at,
                            version.deployed_by, version.note or "", version.bpmn_xml),
        completed=frozenset(states.completed), active=frozenset(states.active), waiting=frozenset(states.waiting),
        cancelled=frozenset(states.cancelled), flows_taken=frozenset(taken), steps=build_steps(events, rows),
        names=states.names)

"""One step of a complaint's workflow, in memory: run the engine, record what
happened (audit events, outgoing messages), read off ready user tasks, their
deadlines and the next timer. Nothing here touches the database."""

from __future__ import annotations

import contextvars
import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from handlers.operators import OPERATORS
from handlers.working_days import diagram_functions
from webapp import clock
from webapp.vocabulary import EventType

from .diagrams import ParsedDiagram
from .errors import ConflictError, InvalidWorkflowState, KlachtrouteError
from .organisations import OrganisationConfig
from .portal_links import PLACEHOLDER
from .sandbox import SandboxedScriptEngine
from .sandbox_errors import StepBudgetExceeded
from .targets import is_target, task_due

SYSTEM = "system"
MAX_ENGINE_TASKS = 500  # engine tasks one step may run (a complaint's diagram has tens)
STEP_SECONDS = 10.0  # wall-clock time of one step's engine run


@dataclass
class AuditRecord:
    event_type: str
    actor: str
    occurred_at: datetime
    bpmn_id: str | None = None
    bpmn_name: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class QueuedMessage:
    kind: str
    recipient: str
    subject: str
    body: str
    template: str | None = None


class StepRecorder:
    """Collects what one step did, so it is written in the step's own transaction."""

    def __init__(self, organisation: OrganisationConfig, reference: str, actor: str) -> None:
        self.organisation = organisation
        self.organisation_slug = organisation.slug
        self.organisation_name = organisation.name
        self.letters = organisation.letters
        self.reference = reference
        self.actor = actor
        self.audit: list[AuditRecord] = []
        self.outbox: list[QueuedMessage] = []
        self._current_element: tuple[str | None, str | None] = (None, None)
        self.fired_timers: set[Any] = set()  # task ids already recorded as timer_fired
        self.staff_notices: list[dict[str, Any]] = []  # outbox rows that are not steps of the procedure
        self.measures: list[dict[str, Any]] = []  # measures agreed in this step (written like the outbox)

    def record(self, event_type: str, data: dict[str, Any] | None = None, *, bpmn_id: str | None = None,
               bpmn_name: str | None = None, actor: str | None = None) -> None:
        if bpmn_id is None:
            bpmn_id, bpmn_name = self._current_element
        self.audit.append(AuditRecord(event_type, actor or self.actor, clock.now(), bpmn_id, bpmn_name, data or {}))

    def queue_message(self, *, kind: str, recipient: str, subject: str, body: str,
                      template: str | None = None) -> None:
        self.outbox.append(QueuedMessage(kind, recipient, subject, body, template))
        # The audit names who received it (a role, the complainant), never an address.
        to = recipient if recipient.startswith("role:") or recipient == "post" else "klager"
        self.record(EventType.MESSAGE_SENT, {"kind": kind, "to": to, "template": template}, actor=SYSTEM)

    def portal_link(self) -> str:
        """Where a letter to the complainant puts their personal link: the runtime gives each
        such letter a new one when it writes the step (webapp.runtime.portal_links)."""
        return PLACEHOLDER

    def record_measure(self, measure: dict[str, Any]) -> None:
        """A measure agreed in this step (the record_measure operator): written with the step."""
        self.measures.append({**measure, "source": self._current_element[0]})
        self.record(EventType.MEASURE_RECORDED, {"due_on": str(measure.get("due_on")),
                                                 "role": measure.get("responsible_role"),
                                                 "scope": measure.get("scope")}, actor=SYSTEM)


_current_step: contextvars.ContextVar[StepRecorder] = contextvars.ContextVar("klachtroute_step")


def _call_operator(task, operation_name: str, params: dict[str, Any]) -> Any:
    step = _current_step.get(None)
    if step is None:
        raise RuntimeError("a service task ran outside a runtime step")
    operator = OPERATORS.get(operation_name)
    if operator is None:
        raise InvalidWorkflowState(f"unknown operator '{operation_name}'", task.task_spec.bpmn_id)
    step._current_element = (task.task_spec.bpmn_id, task.task_spec.bpmn_name)
    try:
        return operator(step, task.data, **params)
    finally:
        step._current_element = (None, None)


_engines: dict[str, SandboxedScriptEngine] = {}


def script_engine_for(organisation: OrganisationConfig) -> SandboxedScriptEngine:
    """One sandboxed engine per organisation: its calendar functions, our operators."""
    engine = _engines.get(organisation.slug)
    if engine is None or engine._klachtroute_calendar is not organisation.calendar:  # type: ignore[attr-defined]
        engine = SandboxedScriptEngine(functions=diagram_functions(organisation.calendar),
                                       service_handler=_call_operator)
        engine._klachtroute_calendar = organisation.calendar  # type: ignore[attr-defined]
        _engines[organisation.slug] = engine
    return engine


@dataclass(frozen=True)
class ReadyTask:
    task_id: str
    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    due_at: datetime | None
    reminder_at: datetime | None


def parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = TimerEventDefinition.get_datetime(value) if "T" in value or ":" in value else None
    return moment.astimezone(UTC) if moment else None


def _timer_children(task) -> Iterator[tuple[Any, bool]]:
    """Boundary timers attached to a task, waiting or already fired: (timer task, interrupting).
    A fired reminder still says when the task was due."""
    if task.parent is None:
        return
    for sibling in task.parent.children:
        spec = sibling.task_spec
        if sibling is task or not isinstance(spec, CatchingEvent):
            continue
        if isinstance(spec.event_definition, TimerEventDefinition) and sibling.state in (
                TaskState.WAITING, TaskState.READY, TaskState.COMPLETED):
            yield sibling, getattr(spec, "cancel_activity", True)


def _has_timer(definition) -> bool:
    if isinstance(definition, TimerEventDefinition):
        return True
    return isinstance(definition, MultipleEventDefinition) and any(
        isinstance(d, TimerEventDefinition) for d in definition.event_definitions)


def _element_id(task) -> str | None:
    """The BPMN element a task stands for, looking through SpiffWorkflow's own wrappers
    (the split that holds a task with boundary events)."""
    while task.task_spec.bpmn_id is None and task.children:
        task = task.children[0]
    return task.task_spec.bpmn_id


class LoadedWorkflow:
    """A restored (or new) workflow with its diagram and organisation, ready to step."""

    def __init__(self, workflow: BpmnWorkflow, diagram: ParsedDiagram, organisation: OrganisationConfig) -> None:
        self.workflow = workflow
        self.diagram = diagram
        self.organisation = organisation
        workflow.script_engine = script_engine_for(organisation)

    @classmethod
    def new(cls, diagram: ParsedDiagram, organisation: OrganisationConfig, data: dict[str, Any]) -> LoadedWorkflow:
        workflow = BpmnWorkflow(*diagram.specs_for_instance())
        loaded = cls(workflow, diagram, organisation)
        workflow.data.update(data)
        workflow.task_tree.data.update(data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return loaded

    @contextmanager
    def _step(self, recorder: StepRecorder) -> Iterator[None]:
        token = _current_step.set(recorder)
        try:
            yield
        except KlachtrouteError:
            raise
        except SpiffWorkflowException as exc:
            element = getattr(getattr(exc, "task_spec", None), "bpmn_id", None) or getattr(
                getattr(getattr(exc, "task", None), "task_spec", None), "bpmn_id", None)
            raise InvalidWorkflowState(str(exc), element) from exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # The library lets plain errors through, e.g. a timer moment that is no ISO date.
            raise InvalidWorkflowState(f"{type(exc).__name__}: {exc}") from exc
        finally:
            _current_step.reset(token)

    def _on_engine_task(self, recorder: StepRecorder):
        # A cycle of script tasks and gateways can run forever with every expression quick:
        # one step may pass a bounded number of engine tasks, in bounded time.
        counted = itertools.count(1)
        deadline = time.monotonic() + STEP_SECONDS

        def did_complete(task) -> None:
            if next(counted) > MAX_ENGINE_TASKS:
                raise StepBudgetExceeded("engine_steps", limit=MAX_ENGINE_TASKS)
            if time.monotonic() > deadline:
                raise StepBudgetExceeded("budget", seconds=STEP_SECONDS)
            spec = task.task_spec
            if spec.bpmn_id is None or task.id in recorder.fired_timers:
                return
            description = getattr(spec, "description", "") or ""
            if "Timer" in description:
                event_type = EventType.TIMER_FIRED
            elif "Gateway" in description:
                event_type = EventType.GATEWAY_PASSED
            elif "Message" in description and isinstance(spec, CatchingEvent):
                event_type = EventType.MESSAGE_RECEIVED
            elif "End Event" in description:
                event_type = EventType.END_EVENT
            else:
                event_type = EventType.ELEMENT_COMPLETED
            data: dict[str, Any] = {"type": description}
            if event_type == EventType.GATEWAY_PASSED:
                data["to"] = [_element_id(c) for c in task.children
                              if c.has_state(TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK)
                              and c.state != TaskState.CANCELLED]
            recorder.record(event_type, data, bpmn_id=spec.bpmn_id, bpmn_name=spec.bpmn_name, actor=SYSTEM)
        return did_complete

    def run(self, recorder: StepRecorder) -> None:
        with self._step(recorder):
            self.workflow.do_engine_steps(did_complete_task=self._on_engine_task(recorder))

    def fire_timers(self, recorder: StepRecorder) -> int:
        """Fire every timer whose moment has passed; returns how many fired."""
        waiting = {t.id: t for t in self._waiting_timers()}
        with self._step(recorder):
            self.workflow.refresh_timers()
            fired = [t for tid, t in waiting.items() if t.state != TaskState.WAITING]
            # An event-based gateway's timer is recorded when its catch event completes, below.
            for task in [t for t in fired if isinstance(t.task_spec.event_definition, TimerEventDefinition)]:
                recorder.fired_timers.add(task.id)
                recorder.record(EventType.TIMER_FIRED, {"due": task._get_internal_data("event_value"),
                                                "interrupting": getattr(task.task_spec, "cancel_activity", True)},
                                bpmn_id=task.task_spec.bpmn_id, bpmn_name=task.task_spec.bpmn_name, actor=SYSTEM)
            self.workflow.do_engine_steps(did_complete_task=self._on_engine_task(recorder))
        return len(fired)

    def _waiting_timers(self) -> list[Any]:
        # The event manager already holds every waiting catch event: no walk of the task tree.
        return [t for t in self.workflow.event_manager.tasks.values()
                if t.state == TaskState.WAITING and _has_timer(t.task_spec.event_definition)]

    def task(self, task_id: str):
        try:
            return self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException):
            return None

    def complete(self, task_id: str, data: dict[str, Any], recorder: StepRecorder) -> None:
        task = self.task(task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise ConflictError("deze taak is niet meer open: een collega of een termijn was u voor")
        with self._step(recorder):
            task.data.update(data)
            task.run()
            self.workflow.do_engine_steps(did_complete_task=self._on_engine_task(recorder))

    def send_message(self, name: str, payload: dict[str, Any], recorder: StepRecorder) -> None:
        event = BpmnEvent(MessageEventDefinition(name), payload)
        with self._step(recorder):
            try:
                self.workflow.send_event(event)
            except WorkflowException as exc:
                raise ConflictError(f"deze klacht wacht nu niet op het bericht '{name}'") from exc
            self.workflow.do_engine_steps(did_complete_task=self._on_engine_task(recorder))

    def ready_tasks(self) -> list[ReadyTask]:
        ready = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            props = (getattr(spec, "extensions", None) or {}).get("properties", {})
            timers = self._deadlines_of(task)
            reminders = [m for m, interrupting, _ in timers if not interrupting]
            ready.append(ReadyTask(
                task_id=str(task.id),
                bpmn_id=spec.bpmn_id,
                name=spec.bpmn_name or spec.bpmn_id,
                lane=getattr(spec, "lane", None),
                form=props.get("formJsonSchemaFilename"),
                due_at=task_due(timers),
                reminder_at=min(reminders) if reminders else None,
            ))
        return ready

    def _deadlines_of(self, task) -> list[tuple[datetime, bool, bool]]:
        """The boundary timers guarding a task as (moment, interrupting, one of the organisation's
        deadline targets); for a task inside a called process or subprocess with no timers of
        its own, those of the activity around it."""
        deadlines = self.organisation.deadlines
        while True:
            timers = []
            for timer, interrupting in _timer_children(task):
                moment = parse_moment(timer._get_internal_data("event_value"))
                if moment is not None:
                    spec = timer.task_spec
                    expression = getattr(spec.event_definition, "expression", None)
                    timers.append((moment, interrupting, is_target(deadlines, spec.bpmn_id, expression)))
            parent_id = getattr(task.workflow, "parent_task_id", None)
            if timers or parent_id is None:
                return timers
            task = self.workflow.get_task_from_id(parent_id)

    def next_wakeup(self) -> datetime | None:
        moments = []
        for task in self._waiting_timers():
            definition = task.task_spec.event_definition
            if isinstance(definition, TimerEventDefinition):
                value = definition.details(task).value
            else:  # an event-based gateway keeps its timer's moment in its own internal data
                value = task._get_internal_data("event_value")
            moment = parse_moment(value)
            if moment is not None:
                moments.append(moment)
        return min(moments) if moments else None

    @property
    def completed(self) -> bool:
        return self.workflow.is_completed()

    @property
    def data(self) -> dict[str, Any]:
        return self.workflow.data

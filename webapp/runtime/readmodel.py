"""What a complaint's workflow says to readers outside the runtime (the complainant's page,
staff pages), without handing them SpiffWorkflow objects: its data and the messages it
waits for now, each with the element that waits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from webapp.db.models import Instance

from .errors import NotFound
from .steps import LoadedWorkflow

if TYPE_CHECKING:
    from .service import Runtime


@dataclass(frozen=True)
class WaitingMessage:
    name: str  # the bpmn:message name, e.g. klacht_ingetrokken
    element_id: str  # the catching element (boundary event, receive task, catch event)
    element_name: str
    attached_to: str | None = None  # a boundary event's activity


@dataclass(frozen=True)
class ComplaintSnapshot:
    data: dict[str, Any]
    waiting: tuple[WaitingMessage, ...]

    def waits_for(self, name: str) -> bool:
        return any(w.name == name for w in self.waiting)


def snapshot(runtime: Runtime, instance_id: int) -> ComplaintSnapshot:
    """The complaint's data and the messages it waits for (none for a closed complaint or one
    stored at a failed intake)."""
    with runtime.sessions() as session:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound(f"complaint {instance_id} does not exist")
        if not instance.state:
            return ComplaintSnapshot(dict(instance.start_data or {}), ())
        running = instance.status == "running"
    workflow = runtime.load(instance_id).workflow
    data = dict(workflow.last_task.data) if workflow.last_task else dict(workflow.data)
    if not running:
        return ComplaintSnapshot(data, ())
    waiting = []
    for task in workflow.event_manager.tasks.values():
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if task.state != TaskState.WAITING or not isinstance(definition, MessageEventDefinition):
            continue
        if not definition.name:
            continue
        waiting.append(WaitingMessage(definition.name, spec.bpmn_id or spec.name, spec.bpmn_name or "",
                                      _attached_to(task)))
    waiting.sort(key=lambda w: (w.name, w.element_id))
    return ComplaintSnapshot(data, tuple(waiting))


@dataclass(frozen=True)
class TaskSnapshot:
    """What a task page shows of the workflow: the task's data (the complaint's latest data
    when the task is no longer in the workflow) and its instruction template, unrendered."""

    data: dict[str, Any]
    instructions: str


def task_snapshot(runtime: Runtime, instance_id: int, task_id: str) -> TaskSnapshot:
    return _task_snapshot(runtime.load(instance_id), task_id)


def task_snapshot_in(runtime: Runtime, session: Session, instance: Instance, task_id: str) -> TaskSnapshot:
    """As task_snapshot, with the workflow restored in the caller's session (a page's one read)."""
    return _task_snapshot(runtime.work.restore(session, instance), task_id)


def _task_snapshot(loaded: LoadedWorkflow, task_id: str) -> TaskSnapshot:
    task = loaded.task(task_id)
    if task is None:
        last = loaded.workflow.last_task
        return TaskSnapshot(dict(last.data) if last else dict(loaded.workflow.data), "")
    template = (getattr(task.task_spec, "extensions", None) or {}).get("instructionsForEndUser") or ""
    return TaskSnapshot(dict(task.data), str(template))


def _attached_to(task) -> str | None:
    """A boundary event's activity: its sibling under SpiffWorkflow's split that is no boundary event."""
    if not isinstance(task.task_spec, BoundaryEvent) or task.parent is None:
        return None
    for sibling in task.parent.children:
        if not isinstance(sibling.task_spec, BoundaryEvent):
            return sibling.task_spec.bpmn_id
    return None

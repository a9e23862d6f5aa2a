"""Moving running complaints to a newer version of their organisation's diagram.

A new version applies to new complaints; a running complaint stays on the version it
started on until a process owner moves it. `preview` says for every running complaint
on an older version whether it can move and, if not, why; `migrate` moves the chosen
ones, each in its own transaction, and records a `migrated` audit event.

SpiffWorkflow's `diff_workflow` aligns the complaint's tasks with the new spec (by BPMN
id, then by structure). A complaint cannot move when a task it has already run or is
running was changed or removed:

- completed tasks (COMPLETED): any change counts, except to their incoming connections
  (who led to a task that already ran no longer matters); a changed outgoing
  connection means the complaint took a path that no longer exists;
- started tasks (STARTED, ERROR): as completed;
- open tasks (READY: the inbox's open tasks; WAITING: timers, messages, joins): any change
  counts except to their outgoing connections, because `migrate_workflow` resets these
  tasks and predicts what follows them from the new version. A change to their incoming
  connections counts only when the step the complaint came from no longer leads to them
  (a reminder moved to another task); for a join (parallel or inclusive gateway) it always
  counts: it would wait for a branch the complaint never started;
- a task's boundary events are SpiffWorkflow's wrapper around the task: adding, removing
  or moving one while the task is open or done counts as a change of that task.

Deadlines already running are kept: resetting a waiting timer would compute its moment
again from the current time (`days_after(2, now_iso())`, `"P2D"`), so the stored moment
of every task that was open before the move is put back afterwards. Finally the moved
state must survive a store-and-restore on the new version; otherwise the complaint stays.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.db.models import DiagramVersion, Instance, Organisation
from webapp.vocabulary import EventType, InstanceStatus

from . import packages
from .diagrams import ParsedDiagram
from .errors import KlachtrouteError, NotFound
from .serialization import dump_state, load_state
from .steps import LoadedWorkflow, StepRecorder, script_engine_for

if TYPE_CHECKING:
    from .organisations import OrganisationConfig
    from .service import Runtime

__all__ = ["Candidate", "Result", "migrate", "preview"]

# Converts task specs to dictionaries for comparison, as diff_workflow expects.
REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)

RAN = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR
OPEN = TaskState.READY | TaskState.WAITING

# What a changed key of a task spec means, in the process owner's words.
ASPECTS = {
    "bpmn_name": "naam", "bpmn_id": "id", "typename": "soort element", "manual": "soort element",
    "description": "soort element", "lane": "lane", "extensions": "eigenschappen",
    "operation_name": "eigenschappen", "operation_params": "eigenschappen", "result_variable": "eigenschappen",
    "prescript": "script", "postscript": "script", "script": "script", "outputs": "vervolgstappen",
    "inputs": "voorgaande stappen", "event_definition": "gebeurtenis", "cancel_activity": "onderbrekend",
    "cond_task_specs": "voorwaarden", "default_task_spec": "voorwaarden", "choice": "voorwaarden",
    "condition": "voorwaarden", "documentation": "documentatie", "data_input_associations": "gegevens",
    "data_output_associations": "gegevens", "io_specification": "gegevens", "spec": "aangeroepen proces",
}


@dataclass(frozen=True)
class Candidate:
    instance_id: int
    reference: str
    from_version: int
    can_move: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    instance_id: int
    reference: str | None
    moved: bool
    from_version: int | None
    to_version: int
    reasons: list[str] = field(default_factory=list)


class _CannotMove(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# -- what blocks a move ----------------------------------------------------------------------


def _noun(spec) -> str:
    description = getattr(spec, "description", "") or ""
    if "Timer" in description:
        return "termijn"
    if "Event" in description:
        return "gebeurtenis"
    if "Gateway" in description:
        return "gateway"
    if "Call Activity" in description or "Subprocess" in description or "Sub-Process" in description:
        return "deelproces"
    if "Task" in description:
        return "taak"
    return "element"


def _host(spec, owner_spec) -> Any | None:
    """The BPMN task behind SpiffWorkflow's own wrapper around a task with boundary events."""
    base, _, kind = spec.name.rpartition(".")
    if kind in ("BoundaryEventSplit", "BoundaryEventJoin"):
        return owner_spec.task_specs.get(base)
    return None


def _describe(spec, owner_spec) -> str:
    if spec.bpmn_id is None:
        host = _host(spec, owner_spec)
        if host is not None and host.bpmn_id:
            return _describe(host, owner_spec)
        return f"onderdeel '{spec.name}'"
    noun = _noun(spec)
    return f"{noun} '{spec.bpmn_name}' ({spec.bpmn_id})" if spec.bpmn_name else f"{noun} {spec.bpmn_id}"


def _state_phrase(task) -> str:
    if task.state == TaskState.COMPLETED:
        return "is al afgerond"
    if task.state == TaskState.WAITING:
        return "loopt al" if _noun(task.task_spec) == "termijn" else "wacht al"
    return "is al gestart"


def _changed_keys(task, new_spec, alignment: dict) -> list[str]:
    old = REGISTRY.convert(task.task_spec)
    new = REGISTRY.convert(new_spec)
    if old.get("typename") != new.get("typename"):
        return ["typename"]
    keys = [k for k in sorted(set(old) | set(new)) if k != "name" and old.get(k) != new.get(k)]
    if task.state & RAN:
        ignored = {"inputs"}
    elif isinstance(task.task_spec, Join):
        ignored = {"outputs"}
    else:
        # An open task is predicted again from the new version, but stays where it is in the
        # tree: that is only right while the step it came from still leads to it.
        came_from = alignment.get(task.parent) if task.parent is not None else None
        ignored = {"outputs", "inputs"} if came_from is not None and came_from in new_spec.inputs else {"outputs"}
    return [k for k in keys if k not in ignored]


def _reasons_for(workflow_diff, workflow, reasons: list[str]) -> None:
    owner = workflow.spec
    for task in workflow_diff.removed:
        if task.state & (RAN | OPEN):
            reasons.append(f"{_describe(task.task_spec, owner)} {_state_phrase(task)} en is verwijderd")
    for task in workflow_diff.changed:
        if not task.state & (RAN | OPEN) or task in workflow_diff.removed:
            continue
        new_spec = workflow_diff.alignment.get(task)
        keys = _changed_keys(task, new_spec, workflow_diff.alignment) if new_spec is not None else ["typename"]
        if not keys:
            continue
        host = _host(task.task_spec, owner) if task.task_spec.bpmn_id is None else None
        if host is not None:  # the wrapper of a task with boundary events: speak of the task
            labels = ["grensgebeurtenissen"]
            host_task = next((t for t in [*task.children, task.parent] if t is not None and t.task_spec is host),
                             None)
            phrase = _state_phrase(host_task) if host_task is not None else "is al gestart"
        else:
            labels = list(dict.fromkeys(ASPECTS.get(k, k) for k in keys))
            phrase = _state_phrase(task)
        reasons.append(f"{_describe(task.task_spec, owner)} {phrase} en is gewijzigd ({', '.join(labels)})")


def _move(workflow, new: ParsedDiagram, config) -> Any:
    """Move a restored workflow to `new` in memory and return it restored from its stored
    form on the new version; raise _CannotMove with the reasons when it cannot move."""
    workflow.script_engine = script_engine_for(config)
    try:
        top_diff, sub_diffs = diff_workflow(REGISTRY, workflow, new.spec, new.subprocess_specs)
    except (KeyError, AttributeError, TypeError) as exc:
        raise _CannotMove([f"de klacht en de nieuwe versie konden niet worden vergeleken: {exc}"]) from exc
    reasons: list[str] = []
    _reasons_for(top_diff, workflow, reasons)
    for sp_id, sub_diff in sub_diffs.items():
        subworkflow = workflow.subprocesses[sp_id]
        if sub_diff is None:
            if not subworkflow.is_completed():
                reasons.append(f"deelproces '{subworkflow.spec.name}' loopt al en bestaat niet in de nieuwe versie")
            continue
        _reasons_for(sub_diff, subworkflow, reasons)
    if reasons:
        raise _CannotMove(list(dict.fromkeys(reasons)))

    # Resetting an open task clears what it stored (a timer's moment) and copies its data
    # from its parent: keep both as they were.
    kept = {task.id: (copy.deepcopy(task.internal_data), copy.deepcopy(task.data))
            for task in workflow.get_tasks(state=OPEN)}
    try:
        migrate_workflow(top_diff, workflow, new.spec)
        for sp_id, sub_diff in sub_diffs.items():
            subworkflow = workflow.subprocesses[sp_id]
            if sub_diff is not None:
                migrate_workflow(sub_diff, subworkflow, new.subprocess_specs[subworkflow.spec.name])
        workflow.subprocess_specs = new.subprocess_specs
    except Exception as exc:  # the library failed halfway: this in-memory copy is discarded
        raise _CannotMove([f"de klacht kon niet naar de nieuwe versie worden omgezet: {exc}"]) from exc
    for task in workflow.get_tasks(state=OPEN):
        if task.id in kept:
            task.internal_data, task.data = kept[task.id]

    stale = [task.task_spec.name for task in workflow.get_tasks()
             if task.task_spec is not task.workflow.spec.task_specs.get(task.task_spec.name)]
    if stale:
        raise _CannotMove([f"de klacht zou nog verwijzen naar onderdelen die niet in de nieuwe versie staan: "
                           f"{', '.join(sorted(set(stale)))}"])
    try:
        return load_state(dump_state(workflow), new)
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
        raise _CannotMove([f"de toestand van de klacht past niet op de nieuwe versie: {exc}"]) from exc


# -- preview and migrate -----------------------------------------------------------------------


def _target(session: Session, to_version_id: int, slug: str | None = None) -> tuple[DiagramVersion, str]:
    target = session.get(DiagramVersion, to_version_id)
    org_slug = None
    if target is not None:
        org_slug = session.scalar(select(Organisation.slug).where(Organisation.id == target.organisation_id))
    if target is None or (slug is not None and org_slug != slug):
        raise NotFound(f"diagramversie {to_version_id} bestaat niet" + (f" voor '{slug}'" if slug else ""))
    return target, org_slug


def preview(runtime: Runtime, slug: str, to_version_id: int) -> list[Candidate]:
    """The organisation's running complaints on versions older than `to_version_id`,
    each with whether it can move there and, if not, why (in Dutch, for the page)."""
    with runtime.sessions() as session:
        target, _ = _target(session, to_version_id, slug)
        config = runtime.config_for_version(target.id, session)
        new = runtime.diagram(target.id, session)
        rows = session.execute(
            select(Instance.id, Instance.reference, Instance.state, Instance.diagram_version_id,
                   DiagramVersion.version)
            .join(DiagramVersion, Instance.diagram_version_id == DiagramVersion.id)
            .where(Instance.organisation_id == target.organisation_id, Instance.status == InstanceStatus.RUNNING,
                   DiagramVersion.version < target.version)
            .order_by(Instance.id).execution_options(yield_per=200))
        candidates = []
        for instance_id, reference, state, version_id, version in rows:
            try:
                _move(load_state(state, runtime.diagram(version_id, session)), new, config)
            except _CannotMove as exc:
                candidates.append(Candidate(instance_id, reference, version, False, exc.reasons))
                continue
            except (KlachtrouteError, KeyError, ValueError, TypeError) as exc:
                candidates.append(Candidate(instance_id, reference, version, False,
                                            [f"de klacht kon niet worden geladen: {exc}"]))
                continue
            candidates.append(Candidate(instance_id, reference, version, True, []))
    return candidates


def migrate(runtime: Runtime, instance_ids: list[int], to_version_id: int, actor_email: str) -> list[Result]:
    """Move the given complaints to `to_version_id`, each in its own transaction: its state
    on the new version, the engine and any timers that are due run on, the inbox in step,
    and an audit event `migrated` {from_version, to_version, files: what else of the package differs}. A complaint that cannot move
    is refused with its reasons and left exactly as it was."""
    with runtime.sessions() as session:
        target, slug = _target(session, to_version_id)
    config = runtime.config_for_version(target.id)  # the complaint moves to the whole package
    new = runtime.diagram(target.id)
    return [_migrate_one(runtime, config, target, new, instance_id, actor_email) for instance_id in instance_ids]


def _migrate_one(runtime: Runtime, config: OrganisationConfig, target: DiagramVersion, new: ParsedDiagram, instance_id: int,
                 actor_email: str) -> Result:
    reference = from_version = None

    def refused(reasons: list[str]) -> Result:
        return Result(instance_id, reference, False, from_version, target.version, reasons)

    try:
        with runtime.write_sessions.begin() as session:
            instance = runtime.db.locked(session, Instance, instance_id)
            if instance is None or instance.organisation_id != target.organisation_id:
                return refused(["deze klacht bestaat niet bij deze organisatie"])
            reference = instance.reference
            current = session.get(DiagramVersion, instance.diagram_version_id)
            from_version = current.version
            if instance.status != InstanceStatus.RUNNING:
                return refused(["deze klacht is afgesloten"])
            if current.version >= target.version:
                return refused([f"deze klacht staat al op versie {current.version}"])
            workflow = _move(load_state(instance.state, runtime.diagram(current.id, session)), new, config)
            loaded = LoadedWorkflow(workflow, new, config)
            recorder = StepRecorder(config, instance.reference, actor_email)
            # The whole package moves: which forms, letters, settings and scenarios differ is audited.
            before = runtime.config_for_version(current.id, session)
            files = packages.file_changes(packages.split(before.files)[1], packages.split(config.files)[1])
            recorder.record(EventType.MIGRATED, {"from_version": current.version, "to_version": target.version,
                                                 "files": [f"{c['change']}: {c['file']}" for c in files]})
            loaded.run(recorder)
            loaded.fire_timers(recorder)
            instance.diagram_version_id = target.id
            runtime.work.persist(session, instance, loaded, recorder)
    except _CannotMove as exc:
        return refused(exc.reasons)
    except StaleDataError:
        return refused(["deze klacht is tegelijk door iemand anders gewijzigd; er is niets verplaatst"])
    except KlachtrouteError as exc:  # the engine failed on the new version: rolled back
        return refused([f"de klacht liep vast op de nieuwe versie: {exc}"])
    return Result(instance_id, reference, True, from_version, target.version, [])

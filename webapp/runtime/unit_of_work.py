"""The unit of work every step shares: lock and restore a complaint's workflow, then write its
instance row, its inbox rows, its audit events, its outgoing messages and its measures in the
step's one transaction, or nothing.

The use cases (starting.py, acting.py, timers.py, interventions.py, migration.py) decide what
a step does; this module is how any step is loaded and stored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.db.models import HumanTask, Instance, OutboxMessage
from webapp.vocabulary import EventType, HumanTaskState, InstanceStatus

from . import audit, clock, incidents, measures, notifications, portal_links
from .database import Database
from .errors import ConflictError, FormValidationError, InvalidWorkflowState, NotFound, PermissionDenied
from .registry import Registry
from .serialization import dump_state, load_state
from .steps import SYSTEM, LoadedWorkflow, ReadyTask, StepRecorder

# Errors a caller acts on (the task was taken, the complaint is closed, the form is wrong):
# they are answers, not failures of the diagram, and open no incident.
_ANSWERS = (ConflictError, NotFound, PermissionDenied, FormValidationError)

# What rolls back one complaint's step: the diagram failed, or what it produced does not fit
# the tables (a name too long for its column). A lost connection is not among them.
STEP_FAILURES = (InvalidWorkflowState, DataError, IntegrityError)

CHANGED_CONCURRENTLY = "deze klacht is tegelijk door iemand anders gewijzigd; er is niets opgeslagen"

# (task id, who completed it): the inbox row that closes as completed rather than cancelled.
Completed = tuple[str, str]


@contextmanager
def contained() -> Iterator[None]:
    """Run diagram-driven work: whatever it raises, whatever the class (`SystemExit`,
    `KeyboardInterrupt`, `MemoryError`, `RecursionError`, a bare `Exception`), the caller
    gets an `InvalidWorkflowState` naming the element, and can roll back just that step."""
    try:
        yield
    except _ANSWERS:
        raise
    except InvalidWorkflowState:
        raise
    except BaseException as exc:  # noqa: BLE001 - diagram code must never take the process down
        element, message = incidents.describe(exc)
        raise InvalidWorkflowState(message, element) from exc


class UnitOfWork:
    def __init__(self, db: Database, registry: Registry, portal: portal_links.PortalSettings) -> None:
        self.db = db
        self.registry = registry
        self.portal = portal

    # -- the transaction and the complaint in it -----------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One step's write transaction. A row changed under it (its lock_version moved) is a
        conflict the user is told about; nothing is stored."""
        try:
            with self.db.write_sessions.begin() as session:
                yield session
        except StaleDataError as exc:
            raise ConflictError(CHANGED_CONCURRENTLY) from exc

    def lock_instance(self, session: Session, instance_id: int) -> Instance:
        instance = self.db.locked(session, Instance, instance_id)
        if instance is None:
            raise NotFound(f"complaint {instance_id} does not exist")
        return instance

    def restore(self, session: Session, instance: Instance) -> LoadedWorkflow:
        """The complaint's workflow as stored, on its own diagram version."""
        config = self.registry.config_for_version(instance.diagram_version_id, session)
        diagram = self.registry.diagram(instance.diagram_version_id, session)
        return LoadedWorkflow(load_state(instance.state, diagram), diagram, config)

    def load_for_update(self, session: Session, instance_id: int) -> tuple[Instance, LoadedWorkflow]:
        instance = self.lock_instance(session, instance_id)
        return instance, self.restore(session, instance)

    def read(self, instance_id: int) -> LoadedWorkflow:
        """A read-only view of a complaint's workflow (changes to it are not saved)."""
        with self.db.sessions() as session:
            instance = session.get(Instance, instance_id)
            if instance is None:
                raise NotFound(f"complaint {instance_id} does not exist")
            return self.restore(session, instance)

    def open_tasks(self, session: Session, instance_ids: list[int]) -> dict[int, dict[str, HumanTask]]:
        """The ready inbox rows of these complaints, by complaint and task id (one query)."""
        rows: dict[int, dict[str, HumanTask]] = {i: {} for i in instance_ids}
        for row in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids),
                                                           HumanTask.state == HumanTaskState.READY)):
            rows[row.instance_id][row.task_id] = row
        return rows

    def record_failure(self, instance_id: int, kind: str, exc: BaseException, actor: str) -> None:
        """After a rolled-back step: the complaint is in incident, in a transaction of its own."""
        with self.db.write_sessions.begin() as session:
            instance = self.db.locked(session, Instance, instance_id)
            if instance is not None:
                incidents.open_or_repeat(session, instance, kind, exc, clock.now(), actor)

    # -- storing a step ------------------------------------------------------------------------

    def persist(self, session: Session, instance: Instance, loaded: LoadedWorkflow, recorder: StepRecorder,
                completed: Completed | None = None) -> None:
        """Store one complaint's step: its state, inbox, audit events, messages and measures."""
        open_rows = self.open_tasks(session, [instance.id]).get(instance.id, {})
        self.apply(session, instance, loaded, recorder, open_rows, completed)
        self.write_records(session, [(instance, recorder)], clock.now())
        session.flush()

    def apply(self, session: Session, instance: Instance, loaded: LoadedWorkflow, recorder: StepRecorder,
              open_rows: dict[str, HumanTask], completed: Completed | None = None) -> None:
        """Bring the instance row and its human tasks in line with the workflow. Everything that
        can fail is computed before any row changes, so a failure leaves the rows as they were."""
        now = clock.now()
        state = dump_state(loaded.workflow)
        wakeup = None if loaded.completed else loaded.next_wakeup()
        ready = loaded.ready_tasks()
        instance.state = state
        instance.next_wakeup_at = wakeup
        if instance.incident_since is not None:
            recorder.record(EventType.INCIDENT_RESOLVED, {"kind": instance.incident_kind,
                                                          "attempts": instance.incident_attempts},
                            bpmn_id=instance.incident_element)
        incidents.clear(instance)
        self._sync_human_tasks(session, instance, ready, open_rows, recorder, completed, now)
        if loaded.completed and instance.status == InstanceStatus.RUNNING:
            # After the task sync, so a trace ends with its closing, not with a cancelled task.
            instance.status = InstanceStatus.COMPLETED
            instance.closed_at = now
            recorder.record(EventType.PROCESS_COMPLETED, {}, actor=SYSTEM)

    def _sync_human_tasks(self, session: Session, instance: Instance, ready: Iterable[ReadyTask],
                          open_rows: dict[str, HumanTask], recorder: StepRecorder,
                          completed: Completed | None, now: datetime) -> None:
        ready_by_id = {t.task_id: t for t in ready}
        for task_id, row in open_rows.items():
            if task_id in ready_by_id:
                continue
            if completed and completed[0] == task_id:
                row.state, row.completed_by, row.completed_at = HumanTaskState.COMPLETED, completed[1], now
            else:
                row.state = HumanTaskState.CANCELLED
                recorder.record(EventType.TASK_CANCELLED, {}, bpmn_id=row.bpmn_id, bpmn_name=row.name,
                                actor=SYSTEM)
        for task_id, task in ready_by_id.items():
            if task_id in open_rows:
                if open_rows[task_id].due_at != task.due_at:
                    open_rows[task_id].due_at = task.due_at
                continue
            self._add_human_task(session, instance, task, recorder, now)

    def _add_human_task(self, session: Session, instance: Instance, task: ReadyTask, recorder: StepRecorder,
                        now: datetime) -> None:
        role = recorder.organisation.role_for_lane(task.lane)
        session.add(HumanTask(  # names cut to their columns: a diagram may hold longer ones
            instance_id=instance.id, organisation_id=instance.organisation_id, task_id=task.task_id,
            bpmn_id=task.bpmn_id[:200], name=task.name[:300], lane=task.lane and task.lane[:200],
            role=role and role[:64], form=task.form and task.form[:200],
            due_at=task.due_at, state=HumanTaskState.READY, created_at=now))
        if role:
            recorder.staff_notices.append(notifications.task_arrived(
                instance.organisation_id, instance.id, instance.reference, role, task.name, task.due_at, now,
                task_id=task.task_id))
        recorder.record(EventType.TASK_READY, {"role": role, "due_at": task.due_at.isoformat() if task.due_at else None},
                        bpmn_id=task.bpmn_id, bpmn_name=task.name, actor=SYSTEM)

    def write_records(self, session: Session, steps: list[tuple[Instance, StepRecorder]], now: datetime) -> None:
        """The audit events, outgoing messages and measures the steps recorded (one insert
        each for a whole batch), then the recorders are emptied."""
        events = [{"organisation_id": inst.organisation_id, "instance_id": inst.id, "occurred_at": a.occurred_at,
                  "actor": a.actor, "event_type": a.event_type, "bpmn_id": a.bpmn_id, "bpmn_name": a.bpmn_name,
                  "data": a.data} for inst, rec in steps for a in rec.audit]
        outbox = [{"organisation_id": inst.organisation_id, "instance_id": inst.id, "kind": m.kind,
                   "template": m.template, "recipient": m.recipient, "subject": m.subject, "body": m.body,
                   "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
                  for inst, rec in steps for m in rec.outbox]
        if events:
            audit.append(session, events)
        # A letter to the complainant gets its personal link here, in the step's transaction.
        portal_links.mint_for_outbox(session, self.portal, outbox, now)
        outbox += [notice for _, rec in steps for notice in rec.staff_notices]
        if outbox:
            session.connection().execute(OutboxMessage.__table__.insert(), outbox)
        measures.write(session, [(inst, m) for inst, rec in steps for m in rec.measures], now)
        for _, rec in steps:
            rec.measures.clear()
            rec.audit.clear()
            rec.outbox.clear()
            rec.staff_notices.clear()


__all__ = ["CHANGED_CONCURRENTLY", "STEP_FAILURES", "UnitOfWork", "contained"]

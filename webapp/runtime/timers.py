"""Use case: fire the timers that are due, a batch of complaints per transaction, and run
a complaint's waiting step again (shared with staff's "retry now")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.db.models import HumanTask, Instance

from . import clock, incidents
from .registry import Registry
from .steps import SYSTEM, LoadedWorkflow, StepRecorder
from .unit_of_work import STEP_FAILURES, UnitOfWork, contained


@dataclass(frozen=True)
class SweepResult:
    instances: int = 0
    timers: int = 0
    errors: int = 0


class Timers:
    def __init__(self, registry: Registry, work: UnitOfWork) -> None:
        self.registry = registry
        self.work = work

    def fire_due(self, limit: int = 100) -> SweepResult:
        """Fire the timers of up to `limit` instances that are due, in one transaction.
        On PostgreSQL the rows are locked with SKIP LOCKED, so workers share the work.

        Each complaint runs in a savepoint of its own: whatever one complaint's diagram
        raises rolls back that complaint's step only, puts it in incident (retried with
        backoff), and the others of the batch are written as usual."""
        now = clock.now()
        fired = errors = 0
        with self.work.db.write_sessions.begin() as session:
            # Strictly before now, as SpiffWorkflow fires a timer only once its moment has passed.
            query = (select(Instance).where(Instance.next_wakeup_at < now)
                     .order_by(Instance.next_wakeup_at).limit(limit))
            if self.work.db.row_locks:
                query = query.with_for_update(skip_locked=True)
            instances = session.scalars(query).all()
            if not instances:
                return SweepResult()
            # One query and one insert per batch, not per complaint.
            open_rows = self.work.open_tasks(session, [i.id for i in instances])
            done: list[tuple[Instance, StepRecorder]] = []
            for instance in instances:
                try:
                    with session.begin_nested(), contained():
                        recorder, count = self.step_again(session, instance, SYSTEM, open_rows.get(instance.id, {}))
                    fired += count
                except STEP_FAILURES as exc:
                    errors += 1
                    incidents.open_or_repeat(session, instance, instance.incident_kind or "timer", exc, now, SYSTEM)
                    continue
                done.append((instance, recorder))
            self.work.write_records(session, done, now)
        return SweepResult(len(instances), fired, errors)

    def step_again(self, session: Session, instance: Instance, actor: str,
                   open_rows: dict[str, HumanTask]) -> tuple[StepRecorder, int]:
        """Fire a complaint's due timers and run its engine on; for a complaint stored at a
        failed intake, start its procedure from the stored data. (recorder, timers fired).
        The caller writes the recorder's records (a batch writes them together)."""
        if instance.state:
            loaded = self.work.restore(session, instance)
            recorder = StepRecorder(loaded.organisation, instance.reference, actor)
            fired = loaded.fire_timers(recorder)
        else:
            config = self.registry.config_for_version(instance.diagram_version_id, session)
            diagram = self.registry.diagram(instance.diagram_version_id, session)
            recorder = StepRecorder(config, instance.reference, actor)
            loaded = LoadedWorkflow.new(diagram, config, dict(instance.start_data or {}))
            loaded.run(recorder)
            fired = 0
        self.work.apply(session, instance, loaded, recorder, open_rows)
        return recorder, fired

    def next_wakeup_at(self) -> datetime | None:
        """The earliest moment any timer is due (an index-only look-up)."""
        with self.work.db.sessions() as session:
            return session.scalar(select(func.min(Instance.next_wakeup_at)))


__all__ = ["SweepResult", "Timers"]

"""Use case: register a complaint and run its procedure to its first waiting point."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from handlers.dutch import long_date
from webapp.db.models import Instance, ReferenceCounter
from webapp.vocabulary import EventType, InstanceStatus

from . import clock, incidents
from .actors import Actor, RowsHook
from .diagrams import ParsedDiagram
from .errors import ConflictError, InvalidWorkflowState
from .organisations import OrganisationConfig
from .registry import Registry
from .steps import LoadedWorkflow, StepRecorder
from .unit_of_work import STEP_FAILURES, UnitOfWork, contained


@dataclass(frozen=True)
class Started:
    instance_id: int
    reference: str
    incident: bool = False  # the procedure failed at intake: stored, and open for staff as an incident


class StartComplaint:
    def __init__(self, registry: Registry, work: UnitOfWork) -> None:
        self.registry = registry
        self.work = work

    def __call__(self, slug: str, data: dict[str, Any], actor: Actor | None = None,
                 complaint_type: str | None = None, location: str | None = None,
                 received_at: datetime | None = None, with_rows: RowsHook | None = None) -> Started:
        """See `Runtime.start`."""
        actor = actor or Actor.system()
        org_id = self.registry.organisation_id(slug)
        version_id = self.registry.current_version_id(slug)
        config = self.registry.config_for_version(version_id)
        diagram = self.registry.diagram(version_id)
        now = clock.now()
        received_at = received_at or now
        if received_at > now:
            raise ConflictError("het moment van ontvangst kan niet in de toekomst liggen")
        with self.work.transaction() as session:
            reference = self._next_reference(session, config, org_id, now)
            data = {**data, "referentie": reference, "ontvangen_op": received_at.isoformat(),
                    "ontvangen_op_datum": long_date(received_at)}
            kanaal = data.get("kanaal")
            instance = Instance(
                organisation_id=org_id, diagram_version_id=version_id, reference=reference,
                status=InstanceStatus.RUNNING, state="", next_wakeup_at=None, complaint_type=complaint_type,
                location=location, created_at=now, received_at=received_at,
                channel=kanaal[:20] if isinstance(kanaal, str) and kanaal else None)
            session.add(instance)
            session.flush()
            received = StepRecorder(config, reference, actor.identity)
            received.record(EventType.COMPLAINT_RECEIVED, {"type": complaint_type, "location": location,
                                                           "diagram_version_id": version_id})
            self.work.write_records(session, [(instance, received)], now)
            if with_rows is not None:
                with_rows(session, instance)
            failure = self._run(session, instance, diagram, config, data, actor.identity)
            if failure is not None:
                instance.start_data = data
                incidents.open_or_repeat(session, instance, "intake", failure, now, actor.identity)
            return Started(instance.id, reference, incident=failure is not None)

    def _run(self, session: Session, instance: Instance, diagram: ParsedDiagram,
             config: OrganisationConfig, data: dict[str, Any], actor: str) -> InvalidWorkflowState | None:
        """Start the workflow of a stored complaint in a savepoint; the failure, if any."""
        try:
            with session.begin_nested():
                recorder = StepRecorder(config, instance.reference, actor)
                with contained():
                    loaded = LoadedWorkflow.new(diagram, config, data)
                    loaded.run(recorder)
                    self.work.persist(session, instance, loaded, recorder)
        except STEP_FAILURES as exc:
            return exc
        return None

    def _next_reference(self, session: Session, config: OrganisationConfig, org_id: int, now: datetime) -> str:
        year = clock.to_local(now).year
        insert_fn = pg_insert if self.work.db.dialect == "postgresql" else sqlite_insert
        session.execute(insert_fn(ReferenceCounter).values(organisation_id=org_id, year=year, last_value=0)
                        .on_conflict_do_nothing())
        value = session.execute(
            update(ReferenceCounter)
            .where(ReferenceCounter.organisation_id == org_id, ReferenceCounter.year == year)
            .values(last_value=ReferenceCounter.last_value + 1)
            .returning(ReferenceCounter.last_value)).scalar_one()
        return f"{config.reference_prefix}-{year}-{value:04d}"


__all__ = ["StartComplaint", "Started"]

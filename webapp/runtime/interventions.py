"""Use cases for staff stepping in on one complaint: retry a failed step, start a failed
intake afresh on a fixed diagram version, or cancel the complaint with a reason."""

from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.db.models import DiagramVersion, Instance
from webapp.vocabulary import EventType, HumanTaskState, InstanceStatus

from . import audit, clock, incidents
from .actors import Actor
from .errors import ConflictError, NotFound
from .registry import Registry
from .timers import Timers
from .unit_of_work import STEP_FAILURES, UnitOfWork, contained


class Interventions:
    def __init__(self, registry: Registry, work: UnitOfWork, timers: Timers) -> None:
        self.registry = registry
        self.work = work
        self.timers = timers

    def _locked_instance(self, session: Session, instance_id: int, actor: Actor) -> Instance:
        """The complaint, locked for this step, if the actor's organisation holds it; else NotFound."""
        instance = self.work.db.locked(session, Instance, instance_id)
        if instance is None or (not actor.is_system
                                and self.registry.slug_for(session, instance.organisation_id) != actor.organisation):
            raise NotFound("deze klacht bestaat niet")
        return instance

    def retry_incident(self, instance_id: int, actor: Actor) -> bool:
        """Staff's "retry now": run the complaint's failed step again (its intake, or its due
        timers and waiting engine steps). True when it went through; otherwise the incident
        stays, with one more attempt counted."""
        now = clock.now()
        with self.work.transaction() as session:
            instance = self._locked_instance(session, instance_id, actor)
            if instance.incident_since is None:
                raise ConflictError("deze klacht heeft geen storing (meer)")
            try:
                with session.begin_nested(), contained():
                    open_rows = self.work.open_tasks(session, [instance.id])[instance.id]
                    recorder, _ = self.timers.step_again(session, instance, actor.identity, open_rows)
            except STEP_FAILURES as exc:
                incidents.open_or_repeat(session, instance, instance.incident_kind or "timer", exc, now,
                                         actor.identity)
                return False
            self.work.write_records(session, [(instance, recorder)], now)
            return True

    def move_intake_incident(self, instance_id: int, version_id: int, actor: Actor) -> bool:
        """A complaint stored at a failed intake starts afresh on another diagram version of
        its organisation (a fixed one). True when its procedure now runs."""
        with self.work.transaction() as session:
            instance = self._locked_instance(session, instance_id, actor)
            version = session.get(DiagramVersion, version_id)
            if version is None or version.organisation_id != instance.organisation_id:
                raise NotFound("deze versie van het procesontwerp bestaat niet")
            if instance.state or instance.incident_since is None:
                raise ConflictError("alleen een klacht waarvan de registratie mislukte kan zo opnieuw beginnen")
            from_version = session.get(DiagramVersion, instance.diagram_version_id).version
            audit.append(session, [{"organisation_id": instance.organisation_id, "instance_id": instance.id,
                                    "occurred_at": clock.now(), "actor": actor.identity,
                                    "event_type": EventType.MIGRATED,
                                    "data": {"from_version": from_version, "to_version": version.version}}])
            instance.diagram_version_id = version_id
        return self.retry_incident(instance_id, actor)

    def cancel_complaint(self, instance_id: int, actor: Actor, reason: str) -> None:
        """Close a complaint that cannot go on (staff, with a reason; audited). Its open tasks
        are cancelled and its timers stop."""
        reason = (reason or "").strip()
        if not reason:
            raise ConflictError("geef een reden op voor het afbreken van deze klacht")
        now = clock.now()
        with self.work.transaction() as session:
            instance = self._locked_instance(session, instance_id, actor)
            if instance.status != InstanceStatus.RUNNING:
                raise ConflictError("deze klacht is al afgesloten")
            for row in self.work.open_tasks(session, [instance.id])[instance.id].values():
                row.state = HumanTaskState.CANCELLED
            events = []
            if instance.incident_since is not None:
                events.append(incidents.resolved_event(instance, now, actor.identity))
            events.append({"organisation_id": instance.organisation_id, "instance_id": instance.id,
                           "occurred_at": now, "actor": actor.identity,
                           "event_type": EventType.COMPLAINT_CANCELLED, "data": {"reason": reason[:500]}})
            audit.append(session, events)
            incidents.clear(instance)
            instance.status, instance.closed_at, instance.next_wakeup_at = InstanceStatus.CANCELLED, now, None


__all__ = ["Interventions"]

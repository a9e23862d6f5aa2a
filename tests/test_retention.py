"""Retention removes a closed complaint's personal data after the organisation's period;
counts and the audit skeleton stay, and the audit chain still verifies."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select

from webapp.db.models import AuditEvent, HumanTask, Instance, OutboxMessage
from webapp.runtime import audit
from webapp.runtime.retention import PURGED, run_retention
from webapp.runtime.service import Actor, Runtime

from .conftest import AMS

ELS = Actor("els@test.nl", "testorg", frozenset({"behandelaar"}))
PERSONAL = {"naam": "Johanna de Wit", "email": "johanna.dewit@example.nl", "telefoon": "06-12345678", "relatie": "ouder"}


def close(runtime: Runtime, **extra) -> int:
    started = runtime.start("testorg", {"klager": PERSONAL, "omschrijving": "Mijn zoon Pim werd gebeten.",
                                        "locatie": "De Boomhut", "soort": "klacht", **extra},
                            complaint_type="klacht", location="De Boomhut")
    with runtime.sessions() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id))
    runtime.save_draft(task.id, ELS, {"toelichting": "gesprek met Johanna gevoerd"})
    runtime.complete_task(started.instance_id, task.task_id, ELS,
                          {"opgelost": True, "uitkomst": "gegrond", "toelichting": "Johanna is tevreden"})
    return started.instance_id


def test_retention_purges_old_closed_complaints_only_and_keeps_the_chain(runtime: Runtime, vclock, publish_settings):
    publish_settings("testorg", retention={"months_after_closing": 12})
    old = close(runtime)
    vclock.set(datetime(2026, 9, 1, 9, 0, tzinfo=AMS))
    recent = close(runtime)
    running = runtime.start("testorg", {"klager": PERSONAL}).instance_id
    with runtime.sessions() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEvent))

    vclock.set(datetime(2027, 3, 10, 9, 0, tzinfo=AMS))  # 12 months after the first closing
    [result] = run_retention(runtime)
    assert result.purged == 1

    with runtime.sessions() as s:
        purged = s.get(Instance, old)
        state = purged.state
        assert purged.purged_at is not None and purged.status == "completed"
        assert (purged.complaint_type, purged.location) == ("klacht", "De Boomhut")  # reports keep counting
        for needle in ("Johanna", "johanna.dewit", "06-12345678", "Pim", "gebeten"):
            assert needle not in state
        assert "Johanna" in s.get(Instance, recent).state and "Pim" in s.get(Instance, recent).state
        assert "Johanna" in s.get(Instance, running).state
        assert all(t.draft is None for t in s.scalars(select(HumanTask).where(HumanTask.instance_id == old)))
        letters = s.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == old)).all()
        assert letters and all(m.body == PURGED and "johanna" not in m.recipient for m in letters)
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == audit_before
        checked, problems = audit.verify(s, purged.organisation_id)
    assert problems == [] and checked == audit_before

    data = runtime.load(old).workflow.last_task.data
    assert data["opgelost"] is True and data["klager"] == {"relatie": "ouder"} and data["locatie"] == "De Boomhut"
    assert "omschrijving" not in data and "toelichting" not in data
    json.dumps(data)
    assert run_retention(runtime)[0].purged == 0  # idempotent


def test_retention_clears_settled_measures_and_pending_portal_codes_of_a_purged_complaint(runtime: Runtime, vclock):
    from datetime import date, timedelta

    from webapp.db.models import Measure, PortalCode

    old = close(runtime)
    with runtime.write_sessions.begin() as s:
        org_id = s.get(Instance, old).organisation_id
        common = {"organisation_id": org_id, "instance_id": old, "scope": "klacht", "due_on": date(2026, 4, 1),
                  "created_at": vclock.now(), "created_by": "els@test.nl"}
        s.add(Measure(description="Gesprek met Johanna over de bijtincidenten", status="gerealiseerd",
                      outcome="Johanna gebeld op 1 april", responsible_person="Els", **common))
        s.add(Measure(description="Nog lopend: speelplaats herinrichten", status="open", **common))
        s.add(PortalCode(instance_id=old, message="klacht_ingetrokken", payload={"reden": "Johanna verhuist"},
                         code_hash="x" * 64, created_at=vclock.now(), expires_at=vclock.now() + timedelta(minutes=15)))
    vclock.set(datetime(2028, 6, 1, 9, 0, tzinfo=AMS))  # past the test organisation's retention

    assert run_retention(runtime)[0].purged == 1

    with runtime.sessions() as s:
        settled, running = sorted(s.scalars(select(Measure).where(Measure.instance_id == old)), key=lambda m: m.status)
        assert (settled.description, settled.outcome, settled.responsible_person) == (PURGED, PURGED, None)
        assert settled.status == "gerealiseerd" and settled.due_on == date(2026, 4, 1)  # the register still counts it
        assert running.description == "Nog lopend: speelplaats herinrichten"  # still being worked on
        assert s.scalar(select(func.count()).select_from(PortalCode)) == 0

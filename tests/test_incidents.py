"""A failure belongs to one complaint: whatever a step raises, that complaint's step rolls
back and it becomes an incident (element, message, since, attempts) that is retried with
backoff, while every other complaint's timers fire and its letters are mailed."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from handlers import operators
from webapp.db.models import AuditEvent, HumanTask, Instance, OutboxMessage
from webapp.mail import OutboxSender, SmtpSettings
from webapp.runtime import clock, incidents
from webapp.runtime.errors import ConflictError, InvalidWorkflowState
from webapp.runtime.service import Actor, Runtime
from webapp.worker import Worker

from .conftest import FIXTURES

HEALTHY = {"klager": {"naam": "A. de Vries", "email": "a.devries@example.nl"}, "wachttijd": "P1D"}
ORG = "poisonorg"


@pytest.fixture
def poison(runtime: Runtime, add_organisation):
    add_organisation(FIXTURES / "poison")
    return runtime


def _sender(runtime: Runtime, port: int) -> OutboxSender:
    return OutboxSender(runtime.sessions, SmtpSettings("127.0.0.1", port, None, None, False, False,
                                                       "klachten@storing.nl"))


def _instance(runtime: Runtime, instance_id: int) -> Instance:
    with runtime.sessions() as s:
        return s.get(Instance, instance_id)


def _events(runtime: Runtime, instance_id: int, event_type: str) -> list[AuditEvent]:
    with runtime.sessions() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                       AuditEvent.event_type == event_type)))


def _fault(exc: BaseException):
    """A letter operator that fails for the poisoned complaint only (fault injection at the
    operator seam; the engine, the database and the worker are the real ones)."""
    real = operators.OPERATORS["send_letter"]

    def faulty(step, data, **params):
        if data.get("gif"):
            raise exc
        return real(step, data, **params)
    return faulty


@pytest.mark.parametrize("wachttijd, error", [("P3X", "Invalid duration"), ("P99999999999D", "OverflowError")])
def test_a_timer_that_breaks_stays_with_its_complaint_and_the_others_are_mailed(
        poison: Runtime, vclock, smtp_server, wachttijd: str, error: str):
    inbox, port = smtp_server
    healthy = [poison.start(ORG, {**HEALTHY, "klager": {"naam": f"K{i}", "email": f"k{i}@example.nl"}})
               for i in range(3)]
    bad = poison.start(ORG, {**HEALTHY, "wachttijd": wachttijd})
    vclock.advance(timedelta(hours=2))
    worker = Worker(poison, _sender(poison, port))

    stats = worker.sweep()

    assert stats.errors == 1 and stats.timers >= 3
    assert sorted(e.rcpt_tos[0] for e in inbox.messages if "Ontvangstbevestiging" in e.content.decode()) == [
        "k0@example.nl", "k1@example.nl", "k2@example.nl"]
    broken = _instance(poison, bad.instance_id)
    assert broken.status == "running" and broken.incident_since == vclock.now()
    assert broken.incident_attempts == 1 and error in broken.last_error
    assert broken.incident_element in ("Timer_wachttijd", "Service_brief")
    assert broken.next_wakeup_at == vclock.now() + incidents.backoff(1)
    # Rolled back: the broken complaint sent no letter and still waits for its first timer.
    assert not [e for e in inbox.messages if "a.devries" in e.rcpt_tos[0]]
    assert poison.load(bad.instance_id).next_wakeup() < vclock.now()
    for started in healthy:
        assert _instance(poison, started.instance_id).incident_since is None
    [event] = _events(poison, bad.instance_id, "error")
    assert event.data["attempts"] == 1 and event.data["kind"] == "timer"

    # The next sweep does not spin on it; after the backoff it is tried again and counted.
    assert worker.sweep().errors == 0
    vclock.advance(incidents.backoff(1) + timedelta(seconds=1))
    assert worker.sweep().errors == 1
    again = _instance(poison, bad.instance_id)
    assert again.incident_attempts == 2 and again.incident_since < vclock.now()
    assert again.next_wakeup_at == vclock.now() + incidents.backoff(2)


@pytest.mark.parametrize("exc", [SystemExit(3), KeyboardInterrupt(), MemoryError(), RecursionError("te diep"),
                                 OverflowError("date value out of range"), Exception("kapot")],
                         ids=lambda e: type(e).__name__)
def test_every_exception_class_rolls_back_one_complaint(poison: Runtime, vclock, monkeypatch, exc):
    monkeypatch.setitem(operators.OPERATORS, "send_letter", _fault(exc))
    good = poison.start(ORG, HEALTHY)
    bad = poison.start(ORG, {**HEALTHY, "gif": True})
    vclock.advance(timedelta(hours=2))

    result = poison.fire_due_timers()

    assert (result.instances, result.errors) == (2, 1)
    broken = _instance(poison, bad.instance_id)
    assert broken.incident_element == "Service_brief" and type(exc).__name__ in broken.last_error
    with poison.sessions() as s:
        letters = s.scalars(select(OutboxMessage.instance_id).where(OutboxMessage.kind == "letter")).all()
    assert letters == [good.instance_id]


def test_a_fixed_incident_is_retried_by_staff_and_resolved(poison: Runtime, vclock, monkeypatch):
    monkeypatch.setitem(operators.OPERATORS, "send_letter", _fault(RuntimeError("server weg")))
    bad = poison.start(ORG, {**HEALTHY, "gif": True})
    vclock.advance(timedelta(hours=2))
    poison.fire_due_timers()
    staff = Actor("kwaliteit@storing.nl", ORG, frozenset({"procesbeheerder"}))
    assert poison.retry_incident(bad.instance_id, staff) is False
    assert _instance(poison, bad.instance_id).incident_attempts == 2

    monkeypatch.undo()
    assert poison.retry_incident(bad.instance_id, staff) is True

    fixed = _instance(poison, bad.instance_id)
    assert fixed.incident_since is None and fixed.last_error is None and fixed.incident_attempts == 0
    [resolved] = _events(poison, bad.instance_id, "incident_resolved")
    assert resolved.actor == "kwaliteit@storing.nl" and resolved.bpmn_id == "Service_brief"
    with poison.sessions() as s:
        assert s.scalar(select(OutboxMessage.template).where(OutboxMessage.instance_id == bad.instance_id,
                                                             OutboxMessage.kind == "letter"))
    with pytest.raises(ConflictError):
        poison.retry_incident(bad.instance_id, staff)
    other = Actor("iemand@elders.nl", "testorg", frozenset({"procesbeheerder"}))
    with pytest.raises(Exception, match="bestaat niet"):
        poison.retry_incident(bad.instance_id, other)


def test_an_intake_whose_procedure_fails_is_stored_with_its_reference(poison: Runtime, vclock, monkeypatch):
    def broken(step, data, **params):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setitem(operators.OPERATORS, "notify_role", broken)

    started = poison.start(ORG, {**HEALTHY, "omschrijving": "De deur klemt."})

    assert started.incident and started.reference.startswith("POISON-2026-")
    stored = _instance(poison, started.instance_id)
    assert stored.status == "running" and stored.incident_kind == "intake"
    assert stored.incident_element == "Service_intake" and "ZeroDivisionError" in stored.last_error
    assert stored.start_data["omschrijving"] == "De deur klemt." and stored.state == ""
    assert [e.event_type for e in _events(poison, started.instance_id, "complaint_received")] == [
        "complaint_received"]

    # Fixed; the worker starts the procedure from the stored data after the backoff.
    monkeypatch.undo()
    vclock.advance(incidents.backoff(1) + timedelta(seconds=1))
    assert poison.fire_due_timers().errors == 0
    running = _instance(poison, started.instance_id)
    assert running.incident_since is None and running.start_data is None and running.state
    assert poison.load(started.instance_id).data["omschrijving"] == "De deur klemt."
    assert poison.load(started.instance_id).data["referentie"] == started.reference


def test_a_task_that_fails_is_rolled_back_and_marks_an_incident(poison: Runtime, vclock, monkeypatch):
    started = poison.start(ORG, HEALTHY)
    for wait in (timedelta(hours=2), timedelta(days=2)):  # the hour, then the day of `wachttijd`
        vclock.advance(wait)
        poison.fire_due_timers()
    with poison.sessions() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                 HumanTask.state == "ready")).one()
    before = _instance(poison, started.instance_id)
    real = operators.OPERATORS["notify_role"]

    def exits(step, data, **params):
        if data.get("gif"):
            raise SystemExit(1)
        return real(step, data, **params)
    monkeypatch.setitem(operators.OPERATORS, "notify_role", exits)
    actor = Actor("behandelaar@storing.nl", ORG, frozenset({"behandelaar"}))

    with pytest.raises(InvalidWorkflowState, match="SystemExit"):
        poison.complete_task(started.instance_id, task.task_id, actor, {"gif": True})

    after = _instance(poison, started.instance_id)
    assert after.state == before.state and after.status == "running"
    assert (after.incident_kind, after.incident_element) == ("task", "Service_afgerond")
    with poison.sessions() as s:
        assert s.get(HumanTask, task.id).state == "ready"
    # The colleague tries again once it is fixed: the task goes through and the incident ends.
    poison.complete_task(started.instance_id, task.task_id, actor, {"gif": False})
    done = _instance(poison, started.instance_id)
    assert done.status == "completed" and done.incident_since is None


def test_the_worker_thread_survives_diagram_code_that_exits(poison: Runtime, vclock, monkeypatch, smtp_server):
    _, port = smtp_server
    monkeypatch.setitem(operators.OPERATORS, "send_letter", _fault(SystemExit(2)))
    bad = poison.start(ORG, {**HEALTHY, "gif": True})
    good = poison.start(ORG, HEALTHY)
    vclock.advance(timedelta(hours=2))
    worker = Worker(poison, _sender(poison, port), poll_interval=0.05)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    try:
        deadline = datetime.now().timestamp() + 15
        while _instance(poison, good.instance_id).next_wakeup_at < vclock.now() \
                and datetime.now().timestamp() < deadline:
            thread.join(0.05)
        assert thread.is_alive()
    finally:
        worker.stop_event.set()
        thread.join(timeout=10)
    assert _instance(poison, bad.instance_id).incident_attempts >= 1
    assert _instance(poison, good.instance_id).next_wakeup_at > vclock.now()


def test_cancelling_a_complaint_needs_a_reason_and_is_audited(poison: Runtime, vclock, monkeypatch):
    monkeypatch.setitem(operators.OPERATORS, "send_letter", _fault(ValueError("kapot")))
    bad = poison.start(ORG, {**HEALTHY, "gif": True})
    vclock.advance(timedelta(hours=2))
    poison.fire_due_timers()
    staff = Actor("kwaliteit@storing.nl", ORG, frozenset({"procesbeheerder"}))
    with pytest.raises(ConflictError, match="reden"):
        poison.cancel_complaint(bad.instance_id, staff, "  ")

    poison.cancel_complaint(bad.instance_id, staff, "Dubbel ingediend; klager gebeld.")

    closed = _instance(poison, bad.instance_id)
    assert closed.status == "cancelled" and closed.closed_at == vclock.now()
    assert closed.next_wakeup_at is None and closed.incident_since is None
    [event] = _events(poison, bad.instance_id, "complaint_cancelled")
    assert event.actor == "kwaliteit@storing.nl" and event.data["reason"] == "Dubbel ingediend; klager gebeld."
    with poison.sessions() as s:
        assert not incidents.list_incidents(s, ORG)
    with pytest.raises(ConflictError):
        poison.cancel_complaint(bad.instance_id, staff, "nogmaals")


def test_incidents_are_listed_per_organisation(poison: Runtime, vclock, monkeypatch):
    monkeypatch.setitem(operators.OPERATORS, "send_letter", _fault(ValueError("kapot")))
    bad = poison.start(ORG, {**HEALTHY, "gif": True})
    poison.start(ORG, HEALTHY)
    vclock.advance(timedelta(hours=2))
    poison.fire_due_timers()
    with poison.sessions() as s:
        [view] = incidents.list_incidents(s, ORG)
        assert incidents.list_incidents(s, "testorg") == []
    assert (view.instance_id, view.element_id, view.attempts, view.kind) == (bad.instance_id, "Service_brief", 1,
                                                                             "timer")
    assert "kapot" in view.message and view.since == clock.now()


def test_backoff_grows_and_is_capped():
    waits = [incidents.backoff(n) for n in range(1, 9)]
    assert waits == sorted(waits) and waits[0] == timedelta(minutes=1) and waits[-1] == incidents.MAX_BACKOFF


def test_the_cli_lists_and_cancels_incidents(poison: Runtime, vclock, monkeypatch, database_url):
    from click.testing import CliRunner

    from webapp.cli import main

    monkeypatch.setitem(operators.OPERATORS, "send_letter", _fault(ValueError("sjabloon kapot")))
    bad = poison.start(ORG, {**HEALTHY, "gif": True})
    vclock.advance(timedelta(hours=2))
    poison.fire_due_timers()
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    listed = runner.invoke(main, ["incidents", "--organisation", ORG])
    assert listed.exit_code == 0, listed.output
    assert bad.reference in listed.output and "Service_brief" in listed.output and "sjabloon kapot" in listed.output
    assert "1 klacht(en) in storing." in listed.output

    refused = runner.invoke(main, ["incidents", "cancel", "BESTAAT-NIET"])
    assert refused.exit_code != 0
    cancelled = runner.invoke(main, ["incidents", "cancel", bad.reference, "--reason", "Dubbel ingediend"])
    assert cancelled.exit_code == 0, cancelled.output
    assert _instance(poison, bad.instance_id).status == "cancelled"
    assert "Geen klachten in storing." in runner.invoke(main, ["incidents"]).output


def test_a_diagram_that_loops_forever_is_stopped_and_its_intake_kept(runtime: Runtime, add_organisation):
    add_organisation(FIXTURES / "loop")

    started = runtime.start("looporg", {"omschrijving": "Rondje"})

    stored = _instance(runtime, started.instance_id)
    assert started.incident and stored.incident_kind == "intake"
    assert "lus zonder uitgang" in stored.last_error and stored.start_data["omschrijving"] == "Rondje"
    assert stored.incident_element in ("Script_tellen", "Gateway_samen")

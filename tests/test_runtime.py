"""The runtime on a real database and the real engine: start, complete, timers
driven across weeks with the virtual clock, messages, conflicts, restore, crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from webapp.db.models import AuditEvent, HumanTask, Instance, OutboxMessage
from webapp.runtime import clock
from webapp.runtime.errors import ConflictError, FormValidationError, NotFound, PermissionDenied
from webapp.runtime.service import Actor, Runtime

from .conftest import AMS

STAFF_NOTICES = ("taak_klaar", "termijn_nadert")
BEHANDELAAR = Actor("els@test.nl", "testorg", frozenset({"behandelaar"}))
DIRECTEUR = Actor("dirk@test.nl", "testorg", frozenset({"directeur"}))


def ready_tasks(runtime: Runtime, instance_id: int) -> list[HumanTask]:
    with runtime.sessions() as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.state == "ready")))


def events(runtime: Runtime, instance_id: int) -> list[str]:
    with runtime.sessions() as s:
        return list(s.scalars(select(AuditEvent.event_type).where(AuditEvent.instance_id == instance_id)
                              .order_by(AuditEvent.id)))


def outbox(runtime: Runtime, instance_id: int) -> list[OutboxMessage]:
    """What the diagram sent (letters, its own notifications), not the runtime's staff notices."""
    with runtime.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == instance_id,
                                                          OutboxMessage.template.not_in(STAFF_NOTICES)
                                                          | OutboxMessage.template.is_(None))
                              .order_by(OutboxMessage.id)))


def instance(runtime: Runtime, instance_id: int) -> Instance:
    with runtime.sessions() as s:
        return s.get(Instance, instance_id)


def table_counts(runtime: Runtime) -> tuple:
    with runtime.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (AuditEvent, HumanTask, OutboxMessage))


def test_start_gives_a_reference_a_ready_task_and_its_deadline(runtime: Runtime):
    started = runtime.start("testorg", {"klager": {"naam": "A. de Vries", "email": "a@example.nl"}})
    assert started.reference == "TEST-2026-0001"
    assert runtime.start("testorg", {}).reference == "TEST-2026-0002"
    [task] = ready_tasks(runtime, started.instance_id)
    assert (task.name, task.role, task.form) == ("Klacht behandelen", "behandelaar", "test-behandelen-schema.json")
    # Received Monday 2 March 2026: 5 working days is Monday 9 March, end of day in Amsterdam.
    assert task.due_at == datetime(2026, 3, 9, 23, 59, 59, tzinfo=AMS)
    # The earliest timer is the reminder after 3 working days: Thursday 5 March.
    assert instance(runtime, started.instance_id).next_wakeup_at == datetime(2026, 3, 5, 23, 59, 59, tzinfo=AMS)
    assert events(runtime, started.instance_id)[:1] == ["complaint_received"]
    assert "task_ready" in events(runtime, started.instance_id)


def test_reminder_then_escalation_across_the_weeks(runtime: Runtime, vclock):
    started = runtime.start("testorg", {})
    vclock.set(datetime(2026, 3, 5, 23, 0, tzinfo=AMS))
    assert runtime.fire_due_timers().timers == 0  # not yet due

    vclock.set(datetime(2026, 3, 6, 0, 0, 1, tzinfo=AMS))
    assert runtime.fire_due_timers().timers == 1
    [reminder] = outbox(runtime, started.instance_id)
    assert (reminder.kind, reminder.recipient) == ("notification", "role:behandelaar")
    assert reminder.subject == "Herinnering: klacht TEST-2026-0001"
    [task] = ready_tasks(runtime, started.instance_id)
    assert task.name == "Klacht behandelen"  # the reminder does not interrupt

    vclock.advance(timedelta(weeks=3))
    assert runtime.fire_due_timers().timers == 1
    [task] = ready_tasks(runtime, started.instance_id)
    assert (task.name, task.role) == ("Escalatie behandelen", "directeur")
    trail = events(runtime, started.instance_id)
    assert trail.count("timer_fired") == 2
    assert "task_cancelled" in trail
    assert runtime.fire_due_timers().timers == 0
    assert instance(runtime, started.instance_id).next_wakeup_at is None

    runtime.complete_task(started.instance_id, task.task_id, DIRECTEUR, {"opgelost": False})
    done = instance(runtime, started.instance_id)
    assert done.status == "completed" and done.closed_at == vclock.now()
    assert events(runtime, started.instance_id)[-1] == "process_completed"


def test_complete_with_form_data_runs_on_to_the_letter(runtime: Runtime):
    started = runtime.start("testorg", {"klager": {"naam": "A. de Vries", "email": "a@example.nl"}})
    [task] = ready_tasks(runtime, started.instance_id)
    runtime.complete_task(started.instance_id, task.task_id, BEHANDELAAR,
                          {"opgelost": True, "uitkomst": "gegrond", "toelichting": "persoonlijk verhaal"})
    [letter] = outbox(runtime, started.instance_id)
    assert (letter.kind, letter.recipient) == ("letter", "a@example.nl")
    assert "TEST-2026-0001" in letter.subject and "Beste A. de Vries" in letter.body
    assert instance(runtime, started.instance_id).status == "completed"
    with runtime.sessions() as s:
        row = s.scalar(select(HumanTask).where(HumanTask.task_id == task.task_id))
        audit = s.scalar(select(AuditEvent).where(AuditEvent.event_type == "task_completed"))
    assert (row.state, row.completed_by) == ("completed", "els@test.nl")
    # The audit keeps decisions, not free text.
    assert audit.data["decisions"] == {"opgelost": True, "uitkomst": "gegrond"}
    assert "persoonlijk verhaal" not in str(audit.data)


def test_invalid_form_data_wrong_role_and_other_organisation_change_nothing(runtime: Runtime):
    started = runtime.start("testorg", {})
    [task] = ready_tasks(runtime, started.instance_id)
    before = (instance(runtime, started.instance_id).state, table_counts(runtime))

    with pytest.raises(FormValidationError) as exc:
        runtime.complete_task(started.instance_id, task.task_id, BEHANDELAAR, {"uitkomst": "misschien"})
    assert {(e.path, e.message) for e in exc.value.errors} == {
        ("opgelost", "Dit veld is verplicht."), ("uitkomst", "Kies een van de mogelijkheden.")}
    with pytest.raises(PermissionDenied):
        runtime.complete_task(started.instance_id, task.task_id, DIRECTEUR, {"opgelost": True})
    with pytest.raises(NotFound):
        runtime.complete_task(started.instance_id, task.task_id,
                              Actor("x@elders.nl", "elders", frozenset({"behandelaar"})), {"opgelost": True})
    assert (instance(runtime, started.instance_id).state, table_counts(runtime)) == before


def test_a_completed_task_cannot_be_completed_again_and_a_stale_version_conflicts(runtime: Runtime):
    started = runtime.start("testorg", {})
    [task] = ready_tasks(runtime, started.instance_id)
    seen_version = instance(runtime, started.instance_id).lock_version
    runtime.complete_task(started.instance_id, task.task_id, BEHANDELAAR, {"opgelost": False})
    with pytest.raises(ConflictError, match="niet meer open"):
        runtime.complete_task(started.instance_id, task.task_id, BEHANDELAAR, {"opgelost": True})
    [escalation] = ready_tasks(runtime, started.instance_id)
    with pytest.raises(ConflictError, match="intussen gewijzigd"):
        runtime.complete_task(started.instance_id, escalation.task_id, DIRECTEUR, {"opgelost": True},
                              expected_lock_version=seen_version)


def test_message_from_outside_withdraws_the_complaint(runtime: Runtime):
    started = runtime.start("testorg", {})
    runtime.send_message(started.instance_id, "klacht_ingetrokken", {"reden": "opgelost met leidster"},
                         BEHANDELAAR)
    assert ready_tasks(runtime, started.instance_id) == []
    assert instance(runtime, started.instance_id).status == "completed"
    assert runtime.load(started.instance_id).workflow.last_task.data["intrekking"] == {
        "reden": "opgelost met leidster"}
    with pytest.raises(ConflictError, match="afgesloten"):
        runtime.send_message(started.instance_id, "klacht_ingetrokken", {}, BEHANDELAAR)
    # A running complaint that waits for no such message says so.
    other = runtime.start("testorg", {})
    with pytest.raises(ConflictError, match="wacht nu niet op het bericht 'klager_reageert'"):
        runtime.send_message(other.instance_id, "klager_reageert", {}, BEHANDELAAR)


def test_restore_from_the_database_resumes_exactly(runtime: Runtime, db_engine, test_org, vclock):
    started = runtime.start("testorg", {"klager": {"naam": "B"}})
    vclock.set(datetime(2026, 3, 6, 8, 0, tzinfo=AMS))
    runtime.fire_due_timers()  # the reminder has fired, the escalation still waits
    before = runtime.load(started.instance_id)

    # A fresh runtime (new process: empty spec cache) reads the same state back.
    fresh = Runtime(runtime.sessions, {test_org.slug: test_org})
    after = fresh.load(started.instance_id)
    assert after.ready_tasks() == before.ready_tasks()
    assert after.next_wakeup() == before.next_wakeup() == datetime(2026, 3, 9, 23, 59, 59, tzinfo=AMS)
    assert after.workflow.last_task.data == before.workflow.last_task.data
    states = lambda lw: sorted((t.task_spec.name, t.state) for t in lw.workflow.get_tasks())  # noqa: E731
    assert states(after) == states(before)

    vclock.set(datetime(2026, 3, 10, 0, 0, 1, tzinfo=AMS))
    assert fresh.fire_due_timers().timers == 1
    assert [t.name for t in ready_tasks(fresh, started.instance_id)] == ["Escalatie behandelen"]


def test_a_crash_between_engine_step_and_commit_leaves_the_previous_state(runtime: Runtime):
    started = runtime.start("testorg", {"klager": {"email": "a@example.nl"}})
    [task] = ready_tasks(runtime, started.instance_id)
    before_row = instance(runtime, started.instance_id)
    before_counts = table_counts(runtime)

    def crash(session):
        raise RuntimeError("power cut")

    event.listen(Session, "before_commit", crash)
    try:
        with pytest.raises(RuntimeError, match="power cut"):
            runtime.complete_task(started.instance_id, task.task_id, BEHANDELAAR, {"opgelost": True})
    finally:
        event.remove(Session, "before_commit", crash)

    after_row = instance(runtime, started.instance_id)
    assert (after_row.state, after_row.lock_version, after_row.status) == (
        before_row.state, before_row.lock_version, "running")
    assert table_counts(runtime) == before_counts
    # And the task can still be completed afterwards.
    runtime.complete_task(started.instance_id, task.task_id, BEHANDELAAR, {"opgelost": True})
    assert instance(runtime, started.instance_id).status == "completed"


def test_clock_seam_reaches_spiffworkflow(vclock):

    from SpiffWorkflow.bpmn.specs.event_definitions import timer
    assert timer.datetime.now(UTC) == clock.now() == vclock.now()


def test_a_closed_complaint_takes_no_messages(runtime: Runtime):
    started = runtime.start("testorg", {})
    [task] = ready_tasks(runtime, started.instance_id)
    runtime.complete_task(started.instance_id, task.task_id, BEHANDELAAR, {"opgelost": False})
    [escalation] = ready_tasks(runtime, started.instance_id)
    runtime.complete_task(started.instance_id, escalation.task_id, DIRECTEUR, {"opgelost": True})
    before = table_counts(runtime)
    with pytest.raises(ConflictError, match="afgesloten"):
        runtime.send_message(started.instance_id, "klacht_ingetrokken", {}, BEHANDELAAR)
    assert table_counts(runtime) == before


def test_staff_hear_of_a_new_task_and_of_a_nearing_deadline(runtime: Runtime, vclock):
    from webapp.runtime.notifications import warn_due_soon

    started = runtime.start("testorg", {})
    with runtime.sessions() as s:
        notices = s.scalars(select(OutboxMessage).where(OutboxMessage.template.in_(STAFF_NOTICES))).all()
    [arrived] = notices
    assert (arrived.recipient, arrived.subject) == ("role:behandelaar", "Nieuwe taak: Klacht behandelen (TEST-2026-0001)")
    assert "09-03-2026 23:59" in arrived.body

    vclock.set(datetime(2026, 3, 8, 9, 0, tzinfo=AMS))  # more than a day before the deadline
    assert warn_due_soon(runtime) == 0
    vclock.set(datetime(2026, 3, 9, 9, 0, tzinfo=AMS))  # within a day
    assert warn_due_soon(runtime) == 1
    assert warn_due_soon(runtime) == 0  # once per task
    with runtime.sessions() as s:
        warning = s.scalar(select(OutboxMessage).where(OutboxMessage.template == "termijn_nadert"))
    assert (warning.recipient, warning.instance_id) == ("role:behandelaar", started.instance_id)
    assert warning.subject == "Termijn nadert: Klacht behandelen (TEST-2026-0001)"

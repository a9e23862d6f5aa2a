"""The audit trail is a hash chain per organisation: `klachtroute audit verify` names
every event edited, removed or inserted directly in the database."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select, text

from webapp.db.models import AuditEvent, HumanTask, Organisation
from webapp.runtime import audit
from webapp.runtime.service import Actor, Runtime

ELS = Actor("els@test.nl", "testorg", frozenset({"behandelaar"}))


def verify_cli(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "webapp.cli", "audit", "verify"], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": database_url}, timeout=60)


def some_history(runtime: Runtime) -> list[int]:
    ids = []
    for _ in range(3):
        started = runtime.start("testorg", {"klager": {"email": "k@example.nl"}})
        with runtime.sessions() as s:
            task = s.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id))
        runtime.complete_task(started.instance_id, task.task_id, ELS, {"opgelost": True})
        ids.append(started.instance_id)
    return ids


def test_an_untouched_chain_verifies(runtime: Runtime, database_url):
    some_history(runtime)
    with runtime.sessions() as s:
        org_id = s.scalar(select(Organisation.id).where(Organisation.slug == "testorg"))
        checked, problems = audit.verify(s, org_id)
        seqs = list(s.scalars(select(AuditEvent.seq).where(AuditEvent.organisation_id == org_id)
                              .order_by(AuditEvent.seq)))
    assert problems == [] and checked > 10
    assert seqs == list(range(1, checked + 1))
    result = verify_cli(database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"testorg: {checked} event(s), chain intact" in result.stdout


def test_edit_delete_and_insert_are_each_named(runtime: Runtime, db_engine, database_url):
    some_history(runtime)
    with runtime.sessions() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    edited, removed, template = events[3], events[7], events[10]
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'iemand@anders.nl' WHERE id = :id"), {"id": edited.id})
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": removed.id})
        conn.execute(text(
            "INSERT INTO audit_events (organisation_id, instance_id, occurred_at, actor, event_type, data) "
            "SELECT organisation_id, instance_id, occurred_at, 'vervalser@x.nl', 'task_completed', data "
            "FROM audit_events WHERE id = :id"), {"id": template.id})
    result = verify_cli(database_url)
    assert result.returncode == 1
    out = result.stdout
    assert f"edited: event {edited.id} (seq {edited.seq})" in out
    assert f"removed: events (seq {removed.seq}): event(s) {removed.seq}..{removed.seq} are missing" in out
    assert "inserted: event" in out and "not part of the chain" in out


def test_removing_the_newest_events_is_noticed(runtime: Runtime, db_engine):
    some_history(runtime)
    with runtime.sessions() as s:
        last = s.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    with db_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last.id})
    with runtime.sessions() as s:
        _, problems = audit.verify(s, last.organisation_id)
    assert [(p.kind, p.seq) for p in problems] == [("removed", last.seq)]


def test_a_forged_event_with_a_recomputed_hash_is_named_by_the_link_after_it(runtime: Runtime, db_engine):
    some_history(runtime)
    with runtime.sessions() as s:
        victim = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()[5]
    row = {c: getattr(victim, c) for c in ("organisation_id", "seq", "instance_id", "occurred_at", "actor",
                                           "event_type", "bpmn_id", "bpmn_name", "data", "prev_hash")}
    row["actor"] = "vervalser@x.nl"
    forged = audit.event_hash(row)
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'vervalser@x.nl', hash = :h WHERE id = :id"),
                     {"h": forged, "id": victim.id})
    with runtime.sessions() as s:
        _, problems = audit.verify(s, victim.organisation_id)
    assert [(p.kind, p.event_id, p.seq) for p in problems] == [("edited", victim.id, victim.seq)]


def test_audit_rows_hold_no_complainant_address(runtime: Runtime):
    some_history(runtime)
    with runtime.sessions() as s:
        sent = s.scalars(select(AuditEvent.data).where(AuditEvent.event_type == "message_sent")).all()
    assert sent and all("k@example.nl" not in str(d) for d in sent)
    assert {d["to"] for d in sent} == {"klager"}


def test_the_auditor_page_shows_an_intact_or_broken_chain(browser, make_user, runtime: Runtime, db_engine):
    from lxml import html

    make_user("aud@test.nl", "testorg:auditor")
    some_history(runtime)
    browser.login("aud@test.nl")
    intact = " ".join(html.fromstring(browser.get("/testorg/audit").get_data(as_text=True)).text_content().split())
    assert "De keten is intact." in intact
    with runtime.sessions() as s:
        victim = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()[2]
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET event_type = 'task_cancelled' WHERE id = :id"), {"id": victim.id})
    broken = " ".join(html.fromstring(browser.get("/testorg/audit").get_data(as_text=True)).text_content().split())
    assert "De keten is niet intact: 1 probleem" in broken
    assert f"Gewijzigd: gebeurtenis {victim.id} (positie {victim.seq})" in broken

"""Notifications to staff that the procedure itself does not name: a task has arrived for
your role, a task's deadline is near, and (to the overseer) a deadline passed unmet. They go
through the outbox like every message; they are plumbing, not steps of the procedure, so they
leave no audit event."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from webapp import clock
from webapp.db.models import HumanTask, Instance, OutboxMessage
from webapp.vocabulary import HumanTaskState

if TYPE_CHECKING:
    from .service import Runtime

DUE_SOON = timedelta(hours=24)
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def task_url(task_id: str) -> str:
    """The link in a notification: /taak/<engine task id> opens the task (after a login) whatever
    its inbox row's id; the host comes from BASE_URL (where staff reach the web application)."""
    base = (os.environ.get("BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    return f"{base}/taak/{task_id}"


def _when(moment: datetime | None) -> str:
    return clock.to_local(moment).strftime("%d-%m-%Y %H:%M") if moment else "geen termijn"


def task_arrived(organisation_id: int, instance_id: int, reference: str, role: str, name: str,
                 due_at: datetime | None, now: datetime, task_id: str | None = None) -> dict[str, Any]:
    """An outbox row announcing a new task to the holders of its role."""
    subject = f"Nieuwe taak: {name} ({reference})"
    # "bij {reference}", not "bij klacht": the task may be about a compliment, suggestion or signal.
    body = (f"Er staat een nieuwe taak klaar voor uw rol: {name}, bij {reference}.\n"
            f"Termijn: {_when(due_at)}.\n\n"
            + (f"Open de taak: {task_url(task_id)}\n" if task_id else "U vindt de taak in uw inbox in Klachtroute.\n"))
    return {"organisation_id": organisation_id, "instance_id": instance_id, "kind": "notification",
            "template": "taak_klaar", "recipient": f"role:{role}", "subject": subject, "body": body,
            "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}


def warn_due_soon(runtime: Runtime, limit: int = 200) -> int:
    """Warn the holders of the role of every open task due within a day, once per task."""
    now = clock.now()
    with runtime.write_sessions.begin() as session:
        query = (select(HumanTask, Instance.reference).join(Instance, Instance.id == HumanTask.instance_id)
                 .where(HumanTask.state == HumanTaskState.READY, HumanTask.due_at.is_not(None),
                        HumanTask.due_at > now, HumanTask.due_at <= now + DUE_SOON,
                        HumanTask.due_soon_notified_at.is_(None), HumanTask.role.is_not(None))
                 .order_by(HumanTask.due_at).limit(limit))
        if runtime.dialect == "postgresql":
            query = query.with_for_update(of=HumanTask, skip_locked=True)
        rows = session.execute(query).all()
        for task, reference in rows:
            subject = f"Termijn nadert: {task.name} ({reference})"
            body = (f"De taak {task.name} bij {reference} moet af zijn op {_when(task.due_at)}.\n"
                    f"Open de taak: {task_url(task.task_id)}\n")
            session.execute(OutboxMessage.__table__.insert(), [{
                "organisation_id": task.organisation_id, "instance_id": task.instance_id, "kind": "notification",
                "template": "termijn_nadert", "recipient": f"role:{task.role}", "subject": subject, "body": body,
                "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}])
        if rows:
            session.execute(update(HumanTask).where(HumanTask.id.in_([t.id for t, _ in rows]))
                            .values(due_soon_notified_at=now))
        return len(rows)


def warn_overdue(runtime: Runtime, limit: int = 200) -> int:
    """Tell the organisation's overseer (webapp.oversight) of every open task whose deadline
    has passed unmet, once per task, in the sweep after it passed: an acknowledgement that
    did not go out is known the same day, not when the complaint's final term runs out."""
    from webapp.oversight import overseer_roles  # the organisation's settings, not the runtime's

    now = clock.now()
    told = 0
    with runtime.write_sessions.begin() as session:
        query = (select(HumanTask, Instance.reference).join(Instance, Instance.id == HumanTask.instance_id)
                 .where(HumanTask.state == "ready", HumanTask.due_at.is_not(None), HumanTask.due_at < now,
                        HumanTask.overdue_notified_at.is_(None))
                 .order_by(HumanTask.due_at).limit(limit))
        if runtime.dialect == "postgresql":
            query = query.with_for_update(of=HumanTask, skip_locked=True)
        rows = session.execute(query).all()
        for task, reference in rows:
            config = runtime.organisations.get(runtime.slug_for(session, task.organisation_id))
            roles = sorted(overseer_roles(config)) if config is not None else []
            holder = config.roles.get(task.role or "", task.role) if config is not None else task.role
            subject = f"Termijn verstreken: {task.name} ({reference})"
            body = (f"De termijn van de taak {task.name} bij klacht {reference} is verstreken op "
                    f"{_when(task.due_at)}, en de taak is nog niet afgerond (rol: {holder}).\n"
                    "U ziet alle open termijnen op de pagina Toezicht in Klachtroute.")
            if roles:
                session.execute(OutboxMessage.__table__.insert(), [{
                    "organisation_id": task.organisation_id, "instance_id": task.instance_id,
                    "kind": "notification", "template": "termijn_verstreken", "recipient": f"role:{role}",
                    "subject": subject, "body": body, "status": "pending", "attempts": 0, "created_at": now,
                    "next_attempt_at": now} for role in roles])
                told += 1
        if rows:
            session.execute(update(HumanTask).where(HumanTask.id.in_([t.id for t, _ in rows]))
                            .values(overdue_notified_at=now))
        return told

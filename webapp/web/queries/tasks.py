"""A task as the task page and the API show it: found through the one need-to-know rule
(visibility.open_task), then its data, instructions, history and colleagues, read in one
session together with the workflow (restored once, read-only)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db.models import AuditEvent, HumanTask, Instance, Organisation, User, UserRole
from webapp.runtime import readmodel
from webapp.vocabulary import HumanTaskState

from .visibility import Viewer, may_open_complaint, open_task, org_id, organisation_of_task

if TYPE_CHECKING:
    from webapp.runtime.service import Runtime

Person = tuple[int, str, str]  # (user id, name, email)


@dataclass(frozen=True)
class TaskView:
    """What a task page shows besides the task row: no SpiffWorkflow objects."""

    data: dict[str, Any]  # the task's data (the complaint's latest when the task is done)
    instructions: str  # the instruction template, unrendered
    events: list[AuditEvent]
    colleagues: list[Person]  # who holds the task's role (to hand it over)
    can_open_complaint: bool  # a medewerker sees the task, not the complaint page
    claimer: Person | None
    completed_by_name: str | None  # the name of who completed it (their email when not a user)


@dataclass(frozen=True)
class OpenedTask:
    row: HumanTask
    instance: Instance
    slug: str
    viewer: Viewer
    view: TaskView | None = field(default=None)  # None when the caller asked for the row only


def colleagues_in(session: Session, organisation_id: int, role: str) -> list[Person]:
    """The active users holding `role` in the organisation, by name."""
    return [tuple(r) for r in session.execute(
        select(User.id, User.name, User.email).join(UserRole)
        .where(UserRole.organisation_id == organisation_id, UserRole.role == role, User.active.is_(True))
        .order_by(User.name)).all()]


def colleagues(session: Session, slug: str, role: str) -> list[Person]:
    return colleagues_in(session, org_id(session, slug), role)


def history(session: Session, instance_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.occurred_at, AuditEvent.id)))


def names_by_email(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """Email -> name for the users among `emails`."""
    wanted = sorted({e for e in emails if e and "@" in e})
    if not wanted:
        return {}
    return {email: name for email, name in session.execute(
        select(User.email, User.name).where(User.email.in_(wanted))) if name}


def person(session: Session, user_id: int | None) -> Person | None:
    user = session.get(User, user_id) if user_id else None
    return (user.id, user.name, user.email) if user else None


def _view(runtime: Runtime, session: Session, viewer: Viewer, row: HumanTask, instance: Instance) -> TaskView:
    snapshot = readmodel.task_snapshot_in(runtime, session, instance, row.task_id)
    people = colleagues_in(session, row.organisation_id, row.role) if row.role else []
    claimer = next((p for p in people if p[0] == row.claimed_by), None) if row.claimed_by else None
    if row.claimed_by and claimer is None:
        claimer = person(session, row.claimed_by)
    completed_by = row.completed_by or ""
    completed_by_name = names_by_email(session, [completed_by]).get(completed_by, row.completed_by)
    return TaskView(snapshot.data, snapshot.instructions, history(session, instance.id), people,
                    may_open_complaint(session, viewer, instance.id), claimer, completed_by_name)


def _opened(runtime: Runtime, session: Session, viewer: Viewer, slug: str, task_id: int,
            with_view: bool) -> OpenedTask | None:
    found = open_task(session, viewer, task_id)
    if found is None:
        return None
    row, instance = found
    view = _view(runtime, session, viewer, row, instance) if with_view else None
    return OpenedTask(row, instance, slug, viewer, view)


def task_for_viewer(runtime: Runtime, viewer: Viewer, slug: str, task_id: int, *,
                    with_view: bool = True) -> OpenedTask | None:
    """The task, if the viewer may open it (else None: a 404), with its view unless the caller
    needs the row only (completing a task needs no history). One read session."""
    with runtime.sessions() as session:
        return _opened(runtime, session, viewer, slug, task_id, with_view)


def task_view(runtime: Runtime, opened: OpenedTask) -> TaskView:
    """The view of a task opened without one (a refused submission shows the page again)."""
    with runtime.sessions() as session:
        return _view(runtime, session, opened.viewer, opened.row, opened.instance)


def task_for_member(runtime: Runtime, member: Any, task_id: int, *, with_view: bool = True) -> OpenedTask | None:
    """As task_for_viewer, for an API caller (webapp.accounts.Membership) of any organisation:
    the task's organisation must be configured and the member must hold a role there."""
    with runtime.sessions() as session:
        slug = organisation_of_task(session, task_id)
        if slug is None or slug not in runtime.organisations or not member.roles_in(slug):
            return None
        viewer = Viewer(runtime.organisation_id(slug), member.user_id, member.email, member.grants_in(slug))
        return _opened(runtime, session, viewer, slug, task_id, with_view)


def task_by_engine_id(session: Session, engine_task_id: str) -> tuple[int, str] | None:
    """(inbox task id, organisation slug) of a workflow task (a notification's link)."""
    found = session.execute(select(HumanTask.id, Organisation.slug)
                            .join(Organisation, Organisation.id == HumanTask.organisation_id)
                            .where(HumanTask.task_id == engine_task_id)).first()
    return (found.id, found.slug) if found is not None else None


@dataclass(frozen=True)
class AfterCompletion:
    task: HumanTask
    instance: Instance
    next_tasks: list[tuple[HumanTask, Person | None]]


def after_completion(session: Session, instance_id: int, task_id: int) -> AfterCompletion:
    """The completed task, its complaint and the complaint's open tasks (by deadline), as stored now."""
    instance = session.get(Instance, instance_id)
    done = session.get(HumanTask, task_id)
    rows = session.execute(
        select(HumanTask, User.id, User.name, User.email)
        .outerjoin(User, User.id == HumanTask.claimed_by)
        .where(HumanTask.instance_id == instance_id, HumanTask.state == HumanTaskState.READY)
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)).all()
    return AfterCompletion(done, instance, [(t, (uid, name, email) if uid is not None else None)
                                            for t, uid, name, email in rows])


__all__ = ["AfterCompletion", "OpenedTask", "Person", "TaskView", "after_completion", "colleagues",
           "colleagues_in", "history", "names_by_email", "person", "task_by_engine_id", "task_for_member", "task_for_viewer",
           "task_view"]

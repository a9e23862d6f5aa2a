"""Need-to-know: who sees which complaint and task. The one rule of every staff page and the
API; `open_task` is the one way a page or the API opens a task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from webapp.db.models import AuditEvent, HumanTask, Instance, Organisation
from webapp.vocabulary import EventType, HumanTaskState


def org_id(session: Session, slug: str) -> int:
    return session.scalar(select(Organisation.id).where(Organisation.slug == slug))


# -- need-to-know: who sees which complaint and task (the one rule of every page and the API) --
#
# A role assignment may be limited to locations: it then covers only complaints whose location
# is one of them. Per role:
# - auditor: reads every complaint and task its locations cover;
# - functioneel_beheerder: manages accounts and opens no complaint;
# - medewerker: opens no complaint page, trace or API complaint (the employee a complaint is
#   about is typically a medewerker: they see only what their task shows them), and sees only the
#   medewerker tasks they are involved in: open for the role and not yet taken by a colleague
#   (how work reaches them), claimed by or handed to them now or before (the audit trail's
#   task_claimed / task_handed_over), or completed by them;
# - every other role (the lanes' roles, procesbeheerder): every complaint its locations cover,
#   and the tasks of that role there.
# Anyone sees a task claimed by or handed to them, and one they completed.

MEDEWERKER = "medewerker"
NO_COMPLAINT_ROLES = frozenset({MEDEWERKER, "functioneel_beheerder"})


@dataclass(frozen=True)
class Viewer:
    """Who looks, in one organisation: the roles they hold there and the locations each covers."""

    organisation_id: int
    user_id: int
    email: str
    grants: dict[str, tuple[str, ...]]  # role -> locations it covers; () covers every location

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.grants)


def viewer_for(session: Session, member: Any, slug: str) -> Viewer:
    """The Viewer of a webapp.accounts.Membership in the organisation `slug`."""
    return Viewer(org_id(session, slug), member.user_id, member.email, member.grants_in(slug))


def _covers(locations: tuple[str, ...]):
    return true() if not locations else Instance.location.in_(locations)


def visible_complaints(viewer: Viewer):
    """A condition on Instance: the complaints whose pages (personal data) the viewer may open."""
    covered = [_covers(locs) for role, locs in viewer.grants.items() if role not in NO_COMPLAINT_ROLES]
    return and_(Instance.organisation_id == viewer.organisation_id, or_(false(), *covered))


def _involved(viewer: Viewer):
    """A task the viewer holds, held or completed (claimed, handed over, in the audit trail)."""
    held_before = exists().where(
        AuditEvent.instance_id == HumanTask.instance_id, AuditEvent.bpmn_id == HumanTask.bpmn_id,
        or_(and_(AuditEvent.event_type == EventType.TASK_CLAIMED, AuditEvent.actor == viewer.email),
            and_(AuditEvent.event_type == EventType.TASK_HANDED_OVER, AuditEvent.data["to"].as_string() == viewer.email)))
    return or_(HumanTask.claimed_by == viewer.user_id, HumanTask.completed_by == viewer.email, held_before)


def visible_tasks(viewer: Viewer):
    """A condition on HumanTask joined with its Instance: the tasks the viewer sees (inbox,
    task page, API). The one rule of the inbox and the API."""
    parts = [HumanTask.claimed_by == viewer.user_id, HumanTask.completed_by == viewer.email]
    for role, locations in viewer.grants.items():
        if role == "auditor":
            parts.append(_covers(locations))
        elif role == MEDEWERKER:
            offered = and_(HumanTask.state == HumanTaskState.READY, HumanTask.claimed_by.is_(None))
            parts.append(and_(HumanTask.role == role, _covers(locations), or_(offered, _involved(viewer))))
        elif role != "functioneel_beheerder":
            parts.append(and_(HumanTask.role == role, _covers(locations)))
    return and_(HumanTask.organisation_id == viewer.organisation_id, or_(*parts))


def may_open_complaint(session: Session, viewer: Viewer, instance_id: int) -> bool:
    return session.scalar(select(Instance.id).where(Instance.id == instance_id, visible_complaints(viewer))) is not None


def may_open_task(session: Session, viewer: Viewer, task_id: int) -> bool:
    return open_task(session, viewer, task_id) is not None


def open_task(session: Session, viewer: Viewer, task_id: int) -> tuple[HumanTask, Instance] | None:
    """The task and its complaint, if the viewer may open it (visible_tasks, which also keeps
    it in the viewer's organisation); None otherwise, so the caller answers 404."""
    found = session.execute(select(HumanTask, Instance).join(Instance, Instance.id == HumanTask.instance_id)
                            .where(HumanTask.id == task_id, visible_tasks(viewer))).first()
    return (found[0], found[1]) if found is not None else None


def organisation_of_task(session: Session, task_id: int) -> str | None:
    """The slug of the organisation that holds a task (the API serves several organisations)."""
    return session.scalar(select(Organisation.slug).join(HumanTask, HumanTask.organisation_id == Organisation.id)
                          .where(HumanTask.id == task_id))


def organisation_ids(session: Session, slugs: list[str]) -> dict[str, int]:
    rows = session.execute(select(Organisation.slug, Organisation.id).where(Organisation.slug.in_(slugs)))
    return {slug: oid for slug, oid in rows}


def viewers_of(member: Any, org_ids: dict[str, int]) -> list[Viewer]:
    """The member as a Viewer in each of these organisations (slug -> id)."""
    return [Viewer(oid, member.user_id, member.email, member.grants_in(slug)) for slug, oid in org_ids.items()]


def visible_tasks_of(viewers: list[Viewer]):
    """visible_tasks over several organisations (the API's task list)."""
    return or_(*(visible_tasks(v) for v in viewers)) if viewers else false()


__all__ = ["MEDEWERKER", "NO_COMPLAINT_ROLES", "Viewer", "may_open_complaint", "may_open_task", "open_task",
           "org_id", "organisation_ids", "organisation_of_task", "viewer_for", "viewers_of",
           "visible_complaints", "visible_tasks", "visible_tasks_of"]

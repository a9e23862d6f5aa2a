"""Read models for the staff pages: the inbox and a complaint's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from webapp.db.models import AuditEvent, HumanTask, Instance, Organisation, User, UserRole
from webapp.runtime import clock

DUE_SOON = timedelta(days=2)
# The inbox's sortable columns (the `sorteer` query parameter) and what they sort on.
SORTABLE = {"taak": HumanTask.name, "klacht": Instance.reference, "soort": Instance.complaint_type,
            "locatie": Instance.location, "leeftijd": Instance.created_at, "termijn": HumanTask.due_at,
            "opgepakt": User.name}


@dataclass
class InboxFilter:
    role: str = ""
    status: str = "open"  # open, mine, unclaimed
    location: str = ""
    overdue: bool = False
    reference: str = ""
    page: int = 1
    sort: str = "termijn"  # a key of SORTABLE; "-termijn" sorts descending

    @property
    def sort_key(self) -> tuple[str, bool]:
        """(column, descending) of `sort`; an unknown column sorts by deadline."""
        descending = self.sort.startswith("-")
        column = self.sort.lstrip("-")
        return (column, descending) if column in SORTABLE else ("termijn", False)


@dataclass
class InboxRow:
    task: HumanTask
    reference: str
    complaint_type: str | None
    location: str | None
    created_at: datetime
    claimed_by_name: str | None
    incident: bool = False  # the complaint is in incident (a step failed; see Storingen)

    @property
    def overdue(self) -> bool:
        return bool(self.task.due_at and self.task.due_at < clock.now())

    @property
    def due_soon(self) -> bool:
        return bool(self.task.due_at and not self.overdue and self.task.due_at - clock.now() < DUE_SOON)


@dataclass
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)
    locations: list[str] = field(default_factory=list)


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


def viewer_for(session: Session, member, slug: str) -> Viewer:
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
        or_(and_(AuditEvent.event_type == "task_claimed", AuditEvent.actor == viewer.email),
            and_(AuditEvent.event_type == "task_handed_over", AuditEvent.data["to"].as_string() == viewer.email)))
    return or_(HumanTask.claimed_by == viewer.user_id, HumanTask.completed_by == viewer.email, held_before)


def visible_tasks(viewer: Viewer):
    """A condition on HumanTask joined with its Instance: the tasks the viewer sees (inbox,
    task page, API). The one rule of the inbox and the API."""
    parts = [HumanTask.claimed_by == viewer.user_id, HumanTask.completed_by == viewer.email]
    for role, locations in viewer.grants.items():
        if role == "auditor":
            parts.append(_covers(locations))
        elif role == MEDEWERKER:
            offered = and_(HumanTask.state == "ready", HumanTask.claimed_by.is_(None))
            parts.append(and_(HumanTask.role == role, _covers(locations), or_(offered, _involved(viewer))))
        elif role != "functioneel_beheerder":
            parts.append(and_(HumanTask.role == role, _covers(locations)))
    return and_(HumanTask.organisation_id == viewer.organisation_id, or_(*parts))


def may_open_complaint(session: Session, viewer: Viewer, instance_id: int) -> bool:
    return session.scalar(select(Instance.id).where(Instance.id == instance_id, visible_complaints(viewer))) is not None


def may_open_task(session: Session, viewer: Viewer, task_id: int) -> bool:
    return session.scalar(select(HumanTask.id).join(Instance, Instance.id == HumanTask.instance_id)
                          .where(HumanTask.id == task_id, visible_tasks(viewer))) is not None


def inbox(session: Session, viewer: Viewer, flt: InboxFilter, page_size: int = 25) -> InboxPage:
    oid, user_id, roles = viewer.organisation_id, viewer.user_id, viewer.roles
    base: Select = (select(HumanTask, Instance.reference, Instance.complaint_type, Instance.location,
                           Instance.created_at, User.name, Instance.incident_since)
                    .join(Instance, Instance.id == HumanTask.instance_id)
                    .outerjoin(User, User.id == HumanTask.claimed_by)
                    .where(HumanTask.state == "ready", visible_tasks(viewer)))
    if flt.role:
        base = base.where(HumanTask.role == flt.role)
    if flt.status == "mine":
        base = base.where(HumanTask.claimed_by == user_id)
    elif flt.status == "unclaimed":
        base = base.where(HumanTask.claimed_by.is_(None))
    if flt.location:
        base = base.where(Instance.location == flt.location)
    if flt.overdue:
        base = base.where(HumanTask.due_at < clock.now())
    if flt.reference:
        base = base.where(Instance.reference.ilike(f"%{flt.reference.strip()}%"))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    pages = max(1, -(-total // page_size))
    page = min(max(1, flt.page), pages)
    result = session.execute(base.order_by(*_order(flt)).limit(page_size).offset((page - 1) * page_size)).all()
    rows = [InboxRow(t, ref, kind, loc, created, claimed, incident is not None)
            for t, ref, kind, loc, created, claimed, incident in result]
    counts = dict(session.execute(select(HumanTask.role, func.count())
                                  .join(Instance, Instance.id == HumanTask.instance_id).where(
        HumanTask.organisation_id == oid, HumanTask.state == "ready", HumanTask.role.in_(sorted(roles)),
        visible_tasks(viewer)).group_by(HumanTask.role)).all())
    locations = sorted(x for x in session.scalars(
        select(Instance.location).distinct().join(HumanTask, HumanTask.instance_id == Instance.id)
        .where(HumanTask.state == "ready", visible_tasks(viewer), Instance.location.is_not(None))) if x)
    return InboxPage(rows, total, page, pages, counts, locations)


def _order(flt: InboxFilter) -> list:
    """Empty values last whichever the direction (a task without deadline is never the most urgent);
    the task id keeps pages stable."""
    column, descending = flt.sort_key
    expression = SORTABLE[column]
    # "Leeftijd" reads as age: the oldest complaint has the largest age.
    descending = not descending if column == "leeftijd" else descending
    return [expression.is_(None), expression.desc() if descending else expression.asc(), HumanTask.id]


def colleagues(session: Session, slug: str, role: str) -> list[tuple[int, str, str]]:
    oid = org_id(session, slug)
    return list(session.execute(select(User.id, User.name, User.email).join(UserRole)
                                .where(UserRole.organisation_id == oid, UserRole.role == role, User.active.is_(True))
                                .order_by(User.name)).all())


def history(session: Session, instance_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.occurred_at, AuditEvent.id)))

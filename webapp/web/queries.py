"""Read models for the staff pages: the inbox and a complaint's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
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


def visible_tasks(organisation_id: int, roles: frozenset[str], user_id: int):
    """Which tasks of an organisation a user sees: those of the roles they work, or claimed by
    them; an auditor sees them all. The one rule of the inbox and the API."""
    condition = HumanTask.organisation_id == organisation_id
    if "auditor" in roles:
        return condition
    working = sorted(roles - {"auditor", "procesbeheerder"}) or sorted(roles)
    return and_(condition, or_(HumanTask.role.in_(working), HumanTask.claimed_by == user_id))


def inbox(session: Session, slug: str, user_id: int, roles: frozenset[str], flt: InboxFilter,
          page_size: int = 25) -> InboxPage:
    oid = org_id(session, slug)
    base: Select = (select(HumanTask, Instance.reference, Instance.complaint_type, Instance.location,
                           Instance.created_at, User.name, Instance.incident_since)
                    .join(Instance, Instance.id == HumanTask.instance_id)
                    .outerjoin(User, User.id == HumanTask.claimed_by)
                    .where(HumanTask.state == "ready", visible_tasks(oid, roles, user_id)))
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
    counts = dict(session.execute(select(HumanTask.role, func.count()).where(
        HumanTask.organisation_id == oid, HumanTask.state == "ready", HumanTask.role.in_(sorted(roles)))
        .group_by(HumanTask.role)).all())
    locations = sorted(x for x in session.scalars(select(Instance.location).distinct().where(
        Instance.organisation_id == oid, Instance.location.is_not(None))) if x)
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

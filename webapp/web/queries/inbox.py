"""The inbox: the open tasks a viewer sees, filtered, sorted and paged; and the API's task list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from webapp.db.models import HumanTask, Instance, User
from webapp.runtime import clock
from webapp.vocabulary import HumanTaskState

from .visibility import Viewer, visible_tasks, visible_tasks_of

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


def inbox(session: Session, viewer: Viewer, flt: InboxFilter, page_size: int = 25) -> InboxPage:
    oid, user_id, roles = viewer.organisation_id, viewer.user_id, viewer.roles
    base: Select = (select(HumanTask, Instance.reference, Instance.complaint_type, Instance.location,
                           Instance.created_at, User.name, Instance.incident_since)
                    .join(Instance, Instance.id == HumanTask.instance_id)
                    .outerjoin(User, User.id == HumanTask.claimed_by)
                    .where(HumanTask.state == HumanTaskState.READY, visible_tasks(viewer)))
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
        HumanTask.organisation_id == oid, HumanTask.state == HumanTaskState.READY, HumanTask.role.in_(sorted(roles)),
        visible_tasks(viewer)).group_by(HumanTask.role)).all())
    locations = sorted(x for x in session.scalars(
        select(Instance.location).distinct().join(HumanTask, HumanTask.instance_id == Instance.id)
        .where(HumanTask.state == HumanTaskState.READY, visible_tasks(viewer), Instance.location.is_not(None))) if x)
    return InboxPage(rows, total, page, pages, counts, locations)


def _order(flt: InboxFilter) -> list:
    """Empty values last whichever the direction (a task without deadline is never the most urgent);
    the task id keeps pages stable."""
    column, descending = flt.sort_key
    expression = SORTABLE[column]
    # "Leeftijd" reads as age: the oldest complaint has the largest age.
    descending = not descending if column == "leeftijd" else descending
    return [expression.is_(None), expression.desc() if descending else expression.asc(), HumanTask.id]


@dataclass(frozen=True)
class OpenTask:
    """A row of the API's task list."""

    task: HumanTask
    slug: str
    reference: str
    complaint_type: str | None
    claimer: tuple[int, str, str] | None  # (id, name, email)


def open_tasks(session: Session, viewers: list[Viewer], slug_of: dict[int, str], *, role: str = "",
               overdue: bool | None = None, page: int = 1, page_size: int = 25) -> tuple[list[OpenTask], int]:
    """The open tasks the viewers see (the inbox's rule), by deadline; (one page, total)."""
    base = (select(HumanTask, Instance.reference, Instance.complaint_type, User.id, User.name, User.email)
            .join(Instance, Instance.id == HumanTask.instance_id)
            .outerjoin(User, User.id == HumanTask.claimed_by)
            .where(HumanTask.state == HumanTaskState.READY, visible_tasks_of(viewers)))
    if role:
        base = base.where(HumanTask.role == role)
    if overdue is True:
        base = base.where(HumanTask.due_at < clock.now())
    elif overdue is False:
        base = base.where(or_(HumanTask.due_at.is_(None), HumanTask.due_at >= clock.now()))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(base.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
                           .limit(page_size).offset((page - 1) * page_size)).all()
    return [OpenTask(row, slug_of[row.organisation_id], reference, kind,
                     (uid, name, email) if uid is not None else None)
            for row, reference, kind, uid, name, email in rows], total


__all__ = ["DUE_SOON", "SORTABLE", "InboxFilter", "InboxPage", "InboxRow", "OpenTask", "inbox", "open_tasks"]

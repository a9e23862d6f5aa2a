"""Complaints as the staff pages and the API read them: the list, one complaint with its
tasks, history, letters and documents, the Berichten page, the audit chain's check, the
diagram versions a complaint in incident can move to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from webapp.db.models import (
    AuditChainHead,
    AuditEvent,
    DiagramVersion,
    Document,
    HumanTask,
    Instance,
    Organisation,
    OutboxMessage,
)
from webapp.runtime import audit
from webapp.vocabulary import InstanceStatus

from .tasks import history
from .visibility import Viewer, visible_complaints

MESSAGE_STATES = ("pending", "held", "sent", "failed")
MESSAGE_KINDS = ("letter", "notification")


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int


def paged(session: Session, query: Select, order: tuple, page: int, size: int, *, scalars: bool = False) -> Page:
    """One page of `query`; a page past the end shows the last one."""
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    ordered = query.order_by(*order).limit(size).offset((page - 1) * size)
    rows = list(session.scalars(ordered)) if scalars else list(session.execute(ordered).all())
    return Page(rows, total, page, pages)


def open_complaint(session: Session, viewer: Viewer, reference: str) -> Instance | None:
    """The complaint with this reference in the viewer's organisation, if they may open it."""
    return session.scalar(select(Instance).where(Instance.reference == reference, visible_complaints(viewer)))


def complaint_by_reference(session: Session, reference: str) -> tuple[Instance, str, str] | None:
    """(complaint, organisation slug, organisation name) by reference, in any organisation
    (the API: the caller's right to see it is checked next, in the complaint's organisation)."""
    found = session.execute(select(Instance, Organisation.slug, Organisation.name)
                            .join(Organisation, Organisation.id == Instance.organisation_id)
                            .where(Instance.reference == reference)).first()
    return (found[0], found[1], found[2]) if found is not None else None


def complaint_list(session: Session, viewer: Viewer, search: str, status: str, page: int, size: int) -> Page:
    query = select(Instance).where(visible_complaints(viewer))
    if search:
        query = query.where(Instance.reference.ilike(f"%{search}%"))
    if status in (InstanceStatus.RUNNING, InstanceStatus.COMPLETED):
        query = query.where(Instance.status == status)
    return paged(session, query, (Instance.created_at.desc(), Instance.id.desc()), page, size, scalars=True)


@dataclass(frozen=True)
class ComplaintRecords:
    tasks: list[HumanTask]
    events: list[AuditEvent]
    messages: list[OutboxMessage]


def complaint_records(session: Session, instance_id: int, *, chronological: bool = False) -> ComplaintRecords:
    """A complaint's inbox tasks, audit events and outgoing messages; in the order they were
    stored (the page), or by creation time (the API)."""
    task_order = (HumanTask.created_at, HumanTask.id) if chronological else (HumanTask.id,)
    message_order = (OutboxMessage.created_at, OutboxMessage.id) if chronological else (OutboxMessage.id,)
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                 .order_by(*task_order)))
    messages = list(session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == instance_id)
                                    .order_by(*message_order)))
    return ComplaintRecords(tasks, history(session, instance_id), messages)


def outbox_page(session: Session, viewer: Viewer, status: str, kind: str, page: int, size: int) -> Page:
    """The letters and notifications of the complaints the viewer may open (account mail,
    one-time links, never), newest first: rows of (message, reference)."""
    query = (select(OutboxMessage, Instance.reference).join(Instance, Instance.id == OutboxMessage.instance_id)
             .where(OutboxMessage.organisation_id == viewer.organisation_id, visible_complaints(viewer)))
    if status in MESSAGE_STATES:
        query = query.where(OutboxMessage.status == status)
    if kind in MESSAGE_KINDS:
        query = query.where(OutboxMessage.kind == kind)
    return paged(session, query, (OutboxMessage.id.desc(),), page, size)


def chain_check(session: Session, organisation_id: int) -> tuple[int, list[audit.ChainProblem], AuditChainHead | None]:
    """The audit hash chain checked: (events checked, problems, the chain's head)."""
    checked, problems = audit.verify(session, organisation_id)
    return checked, problems, session.get(AuditChainHead, organisation_id)


def instance(session: Session, instance_id: int) -> Instance | None:
    return session.get(Instance, instance_id)


def document_of(session: Session, instance_id: int, document_id: int) -> Document | None:
    """A document of this complaint (an id of another complaint's document finds nothing)."""
    return session.scalar(select(Document).where(Document.id == document_id, Document.instance_id == instance_id))


def known_locations(session: Session, organisation_id: int, limit: int = 200) -> list[str]:
    """The locations of earlier complaints, sorted (suggestions where none are configured)."""
    return sorted(x for x in session.scalars(select(Instance.location).distinct().where(
        Instance.organisation_id == organisation_id, Instance.location.is_not(None)).limit(limit)) if x)


def diagram_versions(session: Session, organisation_id: int) -> list[Any]:
    """Rows of (id, version, deployed_at) of the organisation's diagram versions, newest first."""
    return list(session.execute(select(DiagramVersion.id, DiagramVersion.version, DiagramVersion.deployed_at)
                                .where(DiagramVersion.organisation_id == organisation_id)
                                .order_by(DiagramVersion.version.desc())))


def diagram_version_of(session: Session, instance_id: int) -> int | None:
    return session.scalar(select(Instance.diagram_version_id).where(Instance.id == instance_id))


__all__ = ["ComplaintRecords", "Page", "chain_check", "complaint_by_reference", "complaint_list",
           "complaint_records", "diagram_version_of", "diagram_versions", "document_of", "instance",
           "known_locations", "open_complaint", "outbox_page", "paged"]

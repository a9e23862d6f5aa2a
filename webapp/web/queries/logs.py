"""The two logs the auditors read: the access log (Inzage: who opened which complaint's
personal data) and the audit log (Logboek: every audit event), filtered and paged."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from webapp.clock import AMSTERDAM
from webapp.db.models import AccessLogEntry, AuditEvent, Instance, User

from .complaints import Page, paged
from .visibility import Viewer, visible_complaints


def access_log_page(session: Session, viewer: Viewer, reference: str, person: str, page: int, size: int) -> Page:
    """Rows of (entry, complaint reference, user name), newest first; only the complaints the
    viewer may open (an auditor's locations hold here too)."""
    query = (select(AccessLogEntry, Instance.reference, User.name)
             .join(Instance, Instance.id == AccessLogEntry.instance_id)
             .outerjoin(User, User.id == AccessLogEntry.user_id)
             .where(AccessLogEntry.organisation_id == viewer.organisation_id, visible_complaints(viewer)))
    if reference:
        query = query.where(Instance.reference.ilike(f"%{reference}%"))
    if person:
        pattern = f"%{person.lower()}%"
        query = query.where(func.lower(AccessLogEntry.actor).like(pattern) | func.lower(User.name).like(pattern))
    return paged(session, query, (AccessLogEntry.occurred_at.desc(), AccessLogEntry.id.desc()), page, size)


def _audit_query(organisation_id: int, start: date | None, end: date | None, reference: str, event_type: str,
                 actor: str) -> Select:
    query = (select(AuditEvent, Instance.reference).outerjoin(Instance, Instance.id == AuditEvent.instance_id)
             .where(AuditEvent.organisation_id == organisation_id))
    if start:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(start, time(), AMSTERDAM))
    if end:
        query = query.where(AuditEvent.occurred_at < datetime.combine(end + timedelta(days=1), time(), AMSTERDAM))
    if reference:
        query = query.where(Instance.reference.ilike(f"%{reference}%"))
    if event_type:
        query = query.where(AuditEvent.event_type == event_type)
    if actor:
        # By name or address; "systeem" finds what the engine did.
        wanted = "system" if actor.lower() == "systeem" else actor
        emails = select(User.email).where(or_(User.name.ilike(f"%{wanted}%"), User.email.ilike(f"%{wanted}%")))
        query = query.where(or_(AuditEvent.actor.in_(emails), AuditEvent.actor.ilike(f"%{wanted}%")))
    return query


def audit_log_page(session: Session, organisation_id: int, *, start: date | None = None, end: date | None = None,
                   reference: str = "", event_type: str = "", actor: str = "", page: int = 1,
                   size: int = 50) -> Page:
    """Rows of (audit event, complaint reference), newest first. Period days are Amsterdam days."""
    query = _audit_query(organisation_id, start, end, reference, event_type, actor)
    return paged(session, query, (AuditEvent.occurred_at.desc(), AuditEvent.id.desc()), page, size)


__all__ = ["access_log_page", "audit_log_page"]

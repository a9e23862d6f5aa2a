"""The auditor's log: every audit event of the organisation, browsed and filtered by period,
complaint reference, kind of event and who did it, a page at a time. /<org>/audit checks the
hash chain; this page reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, g, render_template, request
from sqlalchemy import func, or_, select

from webapp.clock import AMSTERDAM
from webapp.db.models import AuditEvent, Instance, User

from . import queries, timeline
from .auth import organisation_page, runtime

bp = Blueprint("logbook", __name__)
PAGE_SIZE = 50
READERS = frozenset({"auditor", "procesbeheerder"})  # as the chain check (complaints.AUDIT_READERS)


@dataclass
class LogFilter:
    start: date | None = None
    end: date | None = None
    reference: str = ""
    event_type: str = ""
    actor: str = ""
    page: int = 1

    def args(self) -> dict[str, str]:
        """The filter as query parameters (for the pages' links)."""
        found = {"van": self.start.isoformat() if self.start else "", "tot": self.end.isoformat() if self.end else "",
                 "kenmerk": self.reference, "soort": self.event_type, "wie": self.actor}
        return {k: v for k, v in found.items() if v}


def _date(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"De datum '{raw[:20]}' bestaat niet. Gebruik de vorm jjjj-mm-dd, "
                               "bijvoorbeeld 2026-01-31.")
    if not 1990 <= day.year <= 2200:
        abort(400, description="Kies een datum tussen 1990 en 2200.")
    return day


def _filter() -> LogFilter:
    event_type = request.args.get("soort", "")
    return LogFilter(start=_date("van"), end=_date("tot"), reference=request.args.get("kenmerk", "").strip()[:40],
                     event_type=event_type if event_type in timeline.LABELS else "",
                     actor=request.args.get("wie", "").strip()[:100],
                     page=max(1, request.args.get("pagina", 1, type=int) or 1))


def _query(org_id: int, flt: LogFilter):
    query = (select(AuditEvent, Instance.reference).outerjoin(Instance, Instance.id == AuditEvent.instance_id)
             .where(AuditEvent.organisation_id == org_id))
    if flt.start:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(flt.start, time(), AMSTERDAM))
    if flt.end:
        query = query.where(AuditEvent.occurred_at < datetime.combine(flt.end + timedelta(days=1), time(), AMSTERDAM))
    if flt.reference:
        query = query.where(Instance.reference.ilike(f"%{flt.reference}%"))
    if flt.event_type:
        query = query.where(AuditEvent.event_type == flt.event_type)
    if flt.actor:
        # By name or address; "systeem" finds what the engine did.
        wanted = "system" if flt.actor.lower() == "systeem" else flt.actor
        emails = select(User.email).where(or_(User.name.ilike(f"%{wanted}%"), User.email.ilike(f"%{wanted}%")))
        query = query.where(or_(AuditEvent.actor.in_(emails), AuditEvent.actor.ilike(f"%{wanted}%")))
    return query


@bp.route("/<org>/logboek")
@organisation_page
def index(org: str):
    if not g.roles & READERS:
        abort(403, description="Het logboek is voor auditors en procesbeheerders.")
    flt = _filter()
    with runtime().sessions() as session:
        query = _query(queries.org_id(session, org), flt)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        pages = max(1, -(-total // PAGE_SIZE))
        flt.page = min(flt.page, pages)
        rows = session.execute(query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
                               .limit(PAGE_SIZE).offset((flt.page - 1) * PAGE_SIZE)).all()
    entries = timeline.build([event for event, _ in rows], hidden=set())
    return render_template("logboek.html", rows=list(zip(rows, entries, strict=True)), total=total, pages=pages,
                           flt=flt, event_types=sorted(timeline.LABELS.items(), key=lambda item: item[1]))

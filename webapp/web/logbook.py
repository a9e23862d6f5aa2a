"""The auditor's log: every audit event of the organisation, browsed and filtered by period,
complaint reference, kind of event and who did it, a page at a time. /<org>/audit checks the
hash chain; this page reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, g, render_template, request

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


@bp.route("/<org>/logboek")
@organisation_page
def index(org: str):
    if not g.roles & READERS:
        abort(403, description="Het logboek is voor auditors en procesbeheerders.")
    flt = _filter()
    with runtime().sessions() as session:
        found = queries.audit_log_page(session, runtime().organisation_id(org), start=flt.start, end=flt.end,
                                       reference=flt.reference, event_type=flt.event_type, actor=flt.actor,
                                       page=flt.page, size=PAGE_SIZE)
    flt.page, rows, total, pages = found.page, found.rows, found.total, found.pages
    entries = timeline.build([event for event, _ in rows], hidden=set())
    return render_template("logboek.html", rows=list(zip(rows, entries, strict=True)), total=total, pages=pages,
                           flt=flt, event_types=sorted(timeline.LABELS.items(), key=lambda item: item[1]))

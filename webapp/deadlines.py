"""Whether a step met its deadline: one rule for the complaint page, the trace and reports."""

from __future__ import annotations

from datetime import datetime

MET, MISSED, OPEN, LAPSED = "gehaald", "gemist", "open", "vervallen"


def deadline_state(due_at: datetime, *, completed_at: datetime | None = None, cancelled_at: datetime | None = None,
                   now: datetime) -> str:
    """gehaald: done by its deadline; gemist: done late, or cut off at or after its deadline (an
    escalation took it over), or still open past it; vervallen: cut off before it was due (the
    complaint was withdrawn or ended otherwise); open: still open, not yet due."""
    if completed_at is not None:
        return MET if completed_at <= due_at else MISSED
    if cancelled_at is not None:
        return MISSED if cancelled_at >= due_at else LAPSED
    return MISSED if now > due_at else OPEN

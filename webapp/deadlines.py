"""Whether a step met its deadline: one rule for the complaint page, the trace and reports;
and the terms of the whole complaint (the statutory term, the Geschillencommissie's window),
known from intake on, whatever step the complaint is in.

The rule (`judge`): a step that ended (completed, or cut off by an escalation, a withdrawal, the
end of the complaint) or is still open, and whether its deadline had passed by then:
- gehaald: completed before the deadline passed;
- gemist: completed late, cut off at or after the deadline, or still open past it;
- vervallen: cut off before it was due (the complaint was withdrawn or ended otherwise);
- open: still open, not yet due.
The complaint page and the trace know the moments (`deadline_state`); reports know the events
(the deadline's timer fired or not) and ask `judge` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.working_days import WorkingDayCalendar
from webapp.vocabulary import HumanTaskState

MET, MISSED, OPEN, LAPSED, PASSED = "gehaald", "gemist", "open", "vervallen", "verstreken"
STATES = (MET, MISSED, OPEN, LAPSED)


def judge(ending: HumanTaskState, *, passed: bool) -> str:
    """The state of a deadline, from how its step ended (READY: not yet) and whether the deadline
    had passed when it ended (or, for an open step, now)."""
    if ending == HumanTaskState.COMPLETED:
        return MISSED if passed else MET
    if ending == HumanTaskState.CANCELLED:
        return MISSED if passed else LAPSED
    return MISSED if passed else OPEN


def deadline_state(due_at: datetime, *, completed_at: datetime | None = None, cancelled_at: datetime | None = None,
                   now: datetime) -> str:
    """`judge` on moments: done by `due_at` is in time; cut off at or after it, or open past it, is late."""
    if completed_at is not None:
        return judge(HumanTaskState.COMPLETED, passed=completed_at > due_at)
    if cancelled_at is not None:
        return judge(HumanTaskState.CANCELLED, passed=cancelled_at >= due_at)
    return judge(HumanTaskState.READY, passed=now > due_at)


@dataclass
class ComplaintTerm:
    """A term of the whole complaint, shaped like the complaint page's step deadlines."""

    what: str
    due_at: datetime
    done_at: datetime | None
    state: str  # gehaald, open, gemist; a window for the complainant: open or verstreken

    @property
    def label(self) -> str:
        return self.state


def _term_moment(calendar: WorkingDayCalendar, spec: Mapping[str, Any], data: Mapping[str, Any],
                 received: datetime) -> datetime | None:
    statutory = bool(spec.get("statutory"))
    extension = data.get(str(spec.get("extension_variable") or ""), 0)
    extension = extension if isinstance(extension, int) and not isinstance(extension, bool) else 0
    if isinstance(spec.get("weeks"), int):
        moment = calendar.weeks_after(spec["weeks"] + max(0, extension), received, statutory)
    elif isinstance(spec.get("months"), int):
        moment = calendar.months_after(spec["months"], received, statutory)
    elif isinstance(spec.get("working_days"), int):
        moment = calendar.working_days_after(spec["working_days"], received)
    else:
        return None
    return datetime.fromisoformat(moment)


def _applies(spec: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    types = spec.get("types") or ["klacht"]
    if data.get("soort", "klacht") not in types:
        return False
    relations = spec.get("relations")
    if not relations:
        return True
    klager = data.get("klager")
    return isinstance(klager, Mapping) and klager.get("relatie") in relations


def complaint_terms(config, data: Mapping[str, Any], received: datetime, closed: datetime | None,
                    now: datetime) -> list[ComplaintTerm]:
    """The terms in the organisation's `deadlines` marked `complaint_page: "<label>"`, from the
    moment of receipt: a target (the statutory term, with the weeks of any extension named by
    `extension_variable`) is met when the complaint closed by then; a `window` of the
    complainant's (the Geschillencommissie's twelve months) is open until it passes.
    `types` (default: klacht) and `relations` (klager.relatie) say to whom a term applies."""
    terms = []
    for spec in (config.deadlines or {}).values():
        if not isinstance(spec, Mapping) or not spec.get("complaint_page") or not _applies(spec, data):
            continue
        try:
            due = _term_moment(config.calendar, spec, data, received)
        except (TypeError, ValueError):
            due = None
        if due is None:
            continue
        if spec.get("window"):
            state = PASSED if now > due else OPEN
            done = None
        else:
            state = deadline_state(due, completed_at=closed, now=now)
            done = closed
        terms.append(ComplaintTerm(str(spec["complaint_page"]), due, done, state))
    return terms


__all__ = ["LAPSED", "MET", "MISSED", "OPEN", "PASSED", "STATES", "ComplaintTerm", "complaint_terms",
           "deadline_state", "judge"]

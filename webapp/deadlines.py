"""Whether a step met its deadline: one rule for the complaint page, the trace and reports.

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

from datetime import datetime

from webapp.vocabulary import HumanTaskState

MET, MISSED, OPEN, LAPSED = "gehaald", "gemist", "open", "vervallen"
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


__all__ = ["LAPSED", "MET", "MISSED", "OPEN", "STATES", "deadline_state", "judge"]

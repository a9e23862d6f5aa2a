"""Which boundary timers of a task are its own targets, for the deadline the inbox shows.

A task can carry several timers: its own target (five working days to contact the complainant)
and a term of the whole complaint that merely passes over it (two months unreachable, the six
weeks of the Wet kinderopvang). The organisation's `deadlines` say which timers are targets,
the same way the reports read them: the ids listed under `timer:`, else every timer whose
expression calls the same calendar function with the same number (`weeks: 3` is
`weeks_after(3, ...)`, `weeks: 6, statutory: true` is `weeks_after(6, ..., statutory=True)`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

CALENDAR_CALL = re.compile(
    r"\b(working_days_after|weeks_after|months_after|days_after)\(\s*(\d+)(?:\s*\+[^,]*)?\s*,(.*)\)")
UNIT_FUNCTIONS = {"working_days": "working_days_after", "weeks": "weeks_after", "months": "months_after",
                  "days": "days_after"}
STATUTORY = re.compile(r"statutory\s*=\s*True")


def _listed(spec: Mapping[str, Any]) -> list[str]:
    listed = spec.get("timer") or spec.get("timers") or []
    return [listed] if isinstance(listed, str) else [str(t) for t in listed]


def _call_of(spec: Mapping[str, Any]) -> tuple[str, int, bool] | None:
    for unit, function in UNIT_FUNCTIONS.items():
        value = spec.get(unit)
        if isinstance(value, int) and not isinstance(value, bool):
            return function, value, bool(spec.get("statutory", False))
    return None


def _call_in(expression: str) -> tuple[str, int, bool] | None:
    match = CALENDAR_CALL.search(expression or "")
    if not match:
        return None
    return match.group(1), int(match.group(2)), bool(STATUTORY.search(match.group(3)))


def is_target(deadlines: Mapping[str, Any] | None, timer_id: str | None, expression: str | None) -> bool:
    """Whether the timer `timer_id` (with its timeDate `expression`) implements one of the
    organisation's deadline targets."""
    call = _call_in(expression or "")
    for spec in (deadlines or {}).values():
        if not isinstance(spec, Mapping):
            continue
        listed = _listed(spec)
        if listed:
            if timer_id in listed:
                return True
        elif call is not None and call == _call_of(spec):
            return True
    return False


def task_due(timers: Iterable[tuple[datetime, bool, bool]]) -> datetime | None:
    """The deadline of a task from its timers (moment, interrupting, is a target): the earliest
    target; without targets the earliest interrupting timer, else the earliest reminder."""
    timers = list(timers)
    for chosen in ([m for m, _, target in timers if target], [m for m, interrupting, _ in timers if interrupting],
                   [m for m, _, _ in timers]):
        if chosen:
            return min(chosen)
    return None

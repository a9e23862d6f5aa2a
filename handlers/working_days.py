"""Working days and deadlines for the complaint procedures.

A "werkdag" is Monday to Friday, except the holidays of the Algemene termijnenwet
(ATW) art. 3 and the organisation's own closing days. Deadlines are the end of a day
(23:59:59) in Europe/Amsterdam, returned as ISO 8601 strings with their UTC offset,
because SpiffWorkflow's timeDate timers and the RestrictedPython sandbox both deal
in plain strings. See shared/procedures/README.md, "Deadline conventions".

"Now" is read only through `webapp.clock`, so virtual clocks work here too.
"""

from __future__ import annotations

import calendar
import threading
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta

import holidays
from dateutil.easter import easter

from webapp import clock

AMSTERDAM = clock.AMSTERDAM
END_OF_DAY = time(23, 59, 59)

# The package's Dutch ("nl") names mapped to ours. It doubles as a whitelist: a day
# the package lists under another name is not an ATW holiday and is dropped.
# Koninginnedag is kept for years before 2014: ATW art. 3 names "the day on which the
# monarch's birthday is celebrated", whatever that day was called then.
_ATW_NAMES = {
    "nieuwjaarsdag": "Nieuwjaarsdag",
    "goede vrijdag": "Goede Vrijdag",
    "eerste paasdag": "Eerste Paasdag",
    "tweede paasdag": "Tweede Paasdag",
    "koningsdag": "Koningsdag",
    "koninginnedag": "Koninginnedag",
    "bevrijdingsdag": "Bevrijdingsdag",
    "hemelvaartsdag": "Hemelvaartsdag",
    "eerste pinksterdag": "Eerste Pinksterdag",
    "tweede pinksterdag": "Tweede Pinksterdag",
    "eerste kerstdag": "Eerste Kerstdag",
    "tweede kerstdag": "Tweede Kerstdag",
}
# The package joins the names of coinciding holidays with this (e.g. 5 May 2016).
_NAME_SEPARATOR = "; "


def _atw_holidays(year: int) -> dict[date, str]:
    """The ATW art. 3 holidays of one year, with Dutch names."""
    result: dict[date, list[str]] = {}

    def add(day: date, name: str) -> None:
        names = result.setdefault(day, [])
        if name not in names:
            names.append(name)

    base = holidays.country_holidays("NL", years=year, language="nl")
    for day, joined in base.items():
        for name in joined.split(_NAME_SEPARATOR):
            ours = _ATW_NAMES.get(name.strip().lower())
            if ours is not None:
                add(day, ours)
    # The package lists Bevrijdingsdag only every fifth year (as a public holiday; the
    # other years sit in its "optional" category), but ATW art. 3 names 5 May yearly.
    add(date(year, 5, 5), "Bevrijdingsdag")
    # Goede Vrijdag is in the package today; add it from Easter in case it ever isn't.
    add(easter(year) - timedelta(days=2), "Goede Vrijdag")
    return {day: _NAME_SEPARATOR.join(names) for day, names in result.items()}


def _local(moment: datetime | str) -> datetime:
    """An aware moment (or ISO 8601 string with offset) as Europe/Amsterdam time.

    Naive values are refused: guessing their zone would shift deadlines by a day
    around midnight."""
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 date-time: {moment!r}") from exc
    elif isinstance(moment, datetime):
        parsed = moment
    else:
        raise TypeError(f"expected an ISO 8601 string or a datetime, got {type(moment).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            f"moment {moment!r} has no UTC offset; give an offset-aware value such as "
            "'2026-05-01T10:00:00+02:00' (naive times are ambiguous)"
        )
    return parsed.astimezone(AMSTERDAM)


def _end_of_day(day: date) -> str:
    return datetime.combine(day, END_OF_DAY, tzinfo=AMSTERDAM).isoformat()


def _count(n: int, minimum: int) -> int:
    # bool is an int subclass; True as "1 week" is almost certainly a diagram bug.
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected a whole number, got {n!r}")
    if n < minimum:
        raise ValueError(f"expected a number >= {minimum}, got {n}")
    return n


def add_months(day: date, n: int) -> date:
    """The same day n months later (the month's last day when that day does not exist)."""
    month_index = day.month - 1 + n
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class WorkingDayCalendar:
    """ATW holidays plus an organisation's own closing days."""

    def __init__(self, closing_days: Iterable[date] = ()) -> None:
        self.closing_days: frozenset[date] = frozenset(closing_days)
        self._years: dict[int, dict[date, str]] = {}
        self._lock = threading.Lock()

    def _holidays(self, year: int) -> dict[date, str]:
        # Cached per year: the package rebuilds a whole year on every lookup otherwise.
        cached = self._years.get(year)
        if cached is None:
            with self._lock:
                cached = self._years.setdefault(year, _atw_holidays(year))
        return cached

    # -- days ----------------------------------------------------------------------

    def holiday_name(self, d: date) -> str | None:
        """The Dutch name of the ATW holiday on `d`, or None."""
        return self._holidays(d.year).get(d)

    def is_statutory_non_working(self, d: date) -> bool:
        """Weekend or ATW holiday: the days that move a statutory term (ATW art. 1).
        Closing days do not count: the law knows nothing of them."""
        return d.weekday() >= 5 or d in self._holidays(d.year)

    def is_working_day(self, d: date) -> bool:
        return not self.is_statutory_non_working(d) and d not in self.closing_days

    def _statutory_move(self, day: date) -> date:
        while self.is_statutory_non_working(day):
            day += timedelta(days=1)
        return day

    # -- deadlines (ISO strings, end of day, Europe/Amsterdam) -----------------------

    def working_days_after(self, n: int, moment: datetime | str) -> str:
        """End of the n-th working day after the day of `moment` (that day itself
        does not count, so received on a Saturday makes Monday working day 1)."""
        remaining = _count(n, 1)
        day = _local(moment).date()
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return _end_of_day(day)

    def days_after(self, n: int, moment: datetime | str) -> str:
        """End of the day n calendar days after the day of `moment`."""
        return _end_of_day(_local(moment).date() + timedelta(days=_count(n, 0)))

    def weeks_after(self, n: int, moment: datetime | str, statutory: bool = False) -> str:
        """End of the day n*7 calendar days after the day of `moment`; with
        `statutory`, a term ending on a weekend or ATW holiday moves past it."""
        day = _local(moment).date() + timedelta(weeks=_count(n, 0))
        return _end_of_day(self._statutory_move(day) if statutory else day)

    def months_after(self, n: int, moment: datetime | str, statutory: bool = False) -> str:
        """End of the same day n months later (the month's last day when that day
        does not exist); `statutory` as in `weeks_after`."""
        day = add_months(_local(moment).date(), _count(n, 0))
        return _end_of_day(self._statutory_move(day) if statutory else day)

    def next_working_day(self, moment: datetime | str) -> str:
        """End of the day of `moment` when that is a working day, else of the first working day
        after it: a date promised to the complainant never falls on a weekend, an ATW holiday or
        a closing day (shared/procedures/README.md, "Deadline conventions")."""
        day = _local(moment).date()
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return _end_of_day(day)

    def working_days_between(self, start: datetime | str, end: datetime | str) -> int:
        """Working days strictly after start's day up to and including end's day;
        negative when `end` lies before `start` (e.g. "days to go" in reports)."""
        first, last = _local(start).date(), _local(end).date()
        if last < first:
            return -self.working_days_between(end, start)
        return sum(
            self.is_working_day(first + timedelta(days=offset))
            for offset in range(1, (last - first).days + 1)
        )


def diagram_functions(calendar: WorkingDayCalendar) -> dict[str, Callable[..., str | bool]]:
    """Functions for BPMN timer and gateway expressions, bound to `calendar`.

    They run in the RestrictedPython sandbox, so they take and return only plain
    str/int/bool values (moments as ISO 8601 strings with offset), never datetimes.
    Plain functions rather than bound methods: the sandbox gets exactly these entry
    points, with `statutory` passed through and datetimes converted at the edge."""

    def working_days_after(n: int, moment: str) -> str:
        return calendar.working_days_after(n, moment)

    def weeks_after(n: int, moment: str, statutory: bool = False) -> str:
        return calendar.weeks_after(n, moment, statutory)

    def months_after(n: int, moment: str, statutory: bool = False) -> str:
        return calendar.months_after(n, moment, statutory)

    def days_after(n: int, moment: str) -> str:
        return calendar.days_after(n, moment)

    def next_working_day(moment: str) -> str:
        return calendar.next_working_day(moment)

    def now_iso() -> str:
        return clock.now().astimezone(AMSTERDAM).isoformat()

    def is_past(moment: str) -> bool:
        return clock.now() > _local(moment)

    return {
        "working_days_after": working_days_after,
        "weeks_after": weeks_after,
        "months_after": months_after,
        "days_after": days_after,
        "next_working_day": next_working_day,
        "now_iso": now_iso,
        "is_past": is_past,
    }

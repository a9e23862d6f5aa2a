"""Report periods: calendar dates in Europe/Amsterdam."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from webapp import clock


@dataclass(frozen=True)
class Period:
    """Calendar dates in Europe/Amsterdam, both inclusive."""

    start: date
    end: date
    label: str = ""

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), str(year))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError("een kwartaal is 1, 2, 3 of 4")
        first = date(year, 3 * quarter - 2, 1)
        last = (date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)) - timedelta(days=1)
        return cls(first, last, f"{quarter}e kwartaal {year}")

    @classmethod
    def between(cls, start: date, end: date) -> Period:
        if end < start:
            start, end = end, start
        return cls(start, end, f"{start:%d-%m-%Y} t/m {end:%d-%m-%Y}")

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as UTC moments: midnight in Amsterdam."""
        begin = datetime.combine(self.start, time(0), clock.AMSTERDAM)
        finish = datetime.combine(self.end + timedelta(days=1), time(0), clock.AMSTERDAM)
        return begin.astimezone(UTC), finish.astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        begin, finish = self.bounds
        return begin <= moment < finish

"""The one clock seam of Klachtroute.

Everything that needs "now" (the runtime, the worker, the calendar functions that
diagrams call, SpiffWorkflow's own timer code) reads it through `now()`. A test or
a scenario swaps in a `VirtualClock` and travels weeks ahead without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to. Thread-safe."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an offset-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("VirtualClock needs offset-aware times")
        with self._lock:
            self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now = self._now + delta


_clock: SystemClock | VirtualClock = SystemClock()


def now() -> datetime:
    """The current moment, offset-aware, in UTC."""
    return _clock.now()


def get_clock() -> SystemClock | VirtualClock:
    return _clock


def set_clock(clock: SystemClock | VirtualClock) -> None:
    global _clock
    _clock = clock


@contextmanager
def use_clock(clock: SystemClock | VirtualClock) -> Iterator[SystemClock | VirtualClock]:
    previous = _clock
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def to_local(moment: datetime) -> datetime:
    """A UTC moment as shown on screen: Europe/Amsterdam."""
    return moment.astimezone(AMSTERDAM)


class _SeamDatetime(datetime):
    """Stands in for `datetime` inside SpiffWorkflow's timer module, so the library's
    own `datetime.now(timezone.utc)` reads our clock too."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        moment = _clock.now()
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


def install_into_spiffworkflow() -> None:
    """Route SpiffWorkflow's timer clock through this seam (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _SeamDatetime


install_into_spiffworkflow()

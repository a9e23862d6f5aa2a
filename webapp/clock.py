"""The one clock seam of Klachtroute.

Everything that needs "now" (the runtime, the worker, the calendar functions that
diagrams call, SpiffWorkflow's own timer code) reads it through `now()`. A test or
a scenario swaps in a `VirtualClock` and travels weeks ahead without sleeping.

Two ways to swap it:
- `set_clock` / `use_clock` replace the process-wide clock (tests, the benchmark): every
  thread sees it.
- `using_clock` sets a clock for the current context only (a contextvars value: this thread,
  or this asyncio task), so a scenario can run on a virtual clock beside live requests and
  a worker that keep reading the real one. A context-local clock wins over the process-wide one.

This module sits below the runtime and the handlers (both read it); `webapp.runtime.clock`
re-exports it.
"""

from __future__ import annotations

import contextvars
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


Clock = SystemClock | VirtualClock

_clock: Clock = SystemClock()  # the process-wide clock
# A new thread starts with an empty context, so it reads the process-wide clock until it sets its own.
_context_clock: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("klachtroute_clock", default=None)


def get_clock() -> Clock:
    """The clock this context reads: its own (`using_clock`), else the process-wide one."""
    local = _context_clock.get()
    return _clock if local is None else local


def now() -> datetime:
    """The current moment, offset-aware, in UTC."""
    return get_clock().now()


def set_clock(clock: Clock) -> None:
    """Replace the process-wide clock (contexts with a clock of their own keep theirs)."""
    global _clock
    _clock = clock


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """The process-wide clock is `clock` for the block: every thread sees it."""
    previous = _clock
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


@contextmanager
def using_clock(clock: Clock) -> Iterator[Clock]:
    """`clock` for the current context only (this thread or task) for the block."""
    token = _context_clock.set(clock)
    try:
        yield clock
    finally:
        _context_clock.reset(token)


def to_local(moment: datetime) -> datetime:
    """A UTC moment as shown on screen: Europe/Amsterdam."""
    return moment.astimezone(AMSTERDAM)


class _SeamDatetime(datetime):
    """Stands in for `datetime` inside SpiffWorkflow's timer module, so the library's
    own `datetime.now(timezone.utc)` reads our clock too."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        moment = get_clock().now()
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


def install_into_spiffworkflow() -> None:
    """Route SpiffWorkflow's timer clock through this seam (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _SeamDatetime


install_into_spiffworkflow()

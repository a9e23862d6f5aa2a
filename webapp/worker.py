"""The worker: fires due timers and sends the outbox.

It sleeps until the next due moment, but never longer than the poll interval, so work
committed by the web app meanwhile (a new complaint, a new message) is seen within
about a second. Several workers may run side by side on PostgreSQL.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from webapp.mail import OutboxSender
from webapp.runtime import clock
from webapp.runtime.measures import raise_follow_ups
from webapp.runtime.notifications import warn_due_soon, warn_overdue
from webapp.runtime.retention import run_retention
from webapp.runtime.service import Runtime

log = logging.getLogger("klachtroute.worker")


@dataclass
class SweepStats:
    instances: int = 0
    timers: int = 0
    errors: int = 0
    messages: int = 0
    warnings: int = 0  # tasks whose deadline nears, announced to their role
    follow_ups: int = 0  # measures whose promised date came: "Maatregel gerealiseerd?"

    def __bool__(self) -> bool:
        return bool(self.instances or self.messages or self.warnings or self.follow_ups)


class Worker:
    def __init__(self, runtime: Runtime, sender: OutboxSender, poll_interval: float = 1.0,
                 batch_size: int = 100) -> None:
        self.runtime = runtime
        self.sender = sender
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.stop_event = threading.Event()
        self.retention_interval = 24 * 3600.0  # seconds; retention runs daily (and at start)
        self._next_retention = 0.0
        self._reminded_on = None  # the local day the yearly report reminder was last checked

    def sweep(self) -> SweepStats:
        """Fire every due timer and send every due message, batch by batch."""
        stats = SweepStats()
        while not self.stop_event.is_set():
            result = self.runtime.fire_due_timers(limit=self.batch_size)
            stats.instances += result.instances
            stats.timers += result.timers
            stats.errors += result.errors
            if result.instances < self.batch_size:
                break
        if not self.stop_event.is_set():
            stats.warnings = warn_due_soon(self.runtime) + warn_overdue(self.runtime)
            stats.follow_ups = raise_follow_ups(self.runtime)
            self._maybe_remind()
        while not self.stop_event.is_set():
            handled = self.sender.send_due(limit=self.batch_size)
            stats.messages += handled
            if handled < self.batch_size:
                break
        return stats

    def seconds_until_next(self) -> float:
        moments: list[datetime] = [m for m in (self.runtime.next_wakeup_at(), self.sender.next_due()) if m]
        if not moments:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, (min(moments) - clock.now()).total_seconds()))

    def run_forever(self) -> int:
        """Sweep until stopped. Returns the exit status: 0 when stopped on request, 1 when
        something outside any complaint's step forced the worker to stop (logged first).
        Diagram code never gets here: the runtime contains it per complaint."""
        log.info("worker started; polling every %.1fs", self.poll_interval)
        while not self.stop_event.is_set():
            try:
                stats = self.sweep()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                log.exception("sweep failed; retrying after the poll interval")
                self.stop_event.wait(self.poll_interval)
                continue
            except BaseException as exc:  # noqa: BLE001 - log why before the process goes
                log.critical("worker stopping after %s: %s", type(exc).__name__, exc, exc_info=True)
                return 1
            if stats:
                log.info("fired %d timer(s) on %d complaint(s), %d incident(s); %d message(s)",
                         stats.timers, stats.instances, stats.errors, stats.messages)
            self._maybe_run_retention()
            self.stop_event.wait(self.seconds_until_next())
        log.info("worker stopped")
        return 0

    def _maybe_remind(self) -> None:
        """Once a day: the reminder of last year's report before 1 June (sent once per year)."""
        day = clock.to_local(clock.now()).date()
        if self._reminded_on == day:
            return
        self._reminded_on = day
        from webapp.reports.public import remind_annual_reports  # the reports package only when needed

        for reminder in remind_annual_reports(self.runtime):
            log.info("reminded %s of the annual report %d", reminder.organisation, reminder.year)

    def _maybe_run_retention(self) -> None:
        if time.monotonic() < self._next_retention:
            return
        self._next_retention = time.monotonic() + self.retention_interval
        try:
            for result in run_retention(self.runtime):
                if result.purged:
                    log.info("retention: %d complaint(s) of %s purged", result.purged, result.organisation)
        except Exception:  # noqa: BLE001 - retried at the next interval
            log.exception("retention failed")

    def install_signal_handlers(self) -> None:
        def stop(signum, _frame):
            log.info("signal %s: stopping after the current transaction", signum)
            self.stop_event.set()
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

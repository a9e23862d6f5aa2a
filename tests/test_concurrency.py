"""Several writers at once, on a real database: web requests racing for one task,
and workers sharing due timers (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from sqlalchemy import select

from webapp.db.models import AuditEvent, HumanTask
from webapp.runtime import clock
from webapp.runtime.errors import ConflictError
from webapp.runtime.service import Actor, Runtime

from .conftest import AMS

BEHANDELAAR = Actor("els@test.nl", "testorg", frozenset({"behandelaar"}))


def run_together(functions) -> list:
    """Start the functions at the same moment in threads; return their outcomes."""
    barrier = threading.Barrier(len(functions))
    outcomes: list = [None] * len(functions)
    current = clock.get_clock()

    def runner(i, fn):
        with clock.use_clock(current):
            barrier.wait()
            try:
                outcomes[i] = fn()
            except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
                outcomes[i] = exc

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_people_complete_the_same_task_exactly_one_wins(runtime: Runtime):
    for _ in range(5):  # a few rounds, so the race is really run
        started = runtime.start("testorg", {})
        with runtime.sessions() as s:
            task_id = s.scalar(select(HumanTask.task_id).where(HumanTask.instance_id == started.instance_id))
        outcomes = run_together([
            lambda v=v, i=started.instance_id, t=task_id: runtime.complete_task(i, t, BEHANDELAAR, {"opgelost": v})
            for v in (True, False)])
        assert sorted(type(o).__name__ for o in outcomes) == ["ConflictError", "NoneType"], [str(o) for o in outcomes]
        assert all(isinstance(o, ConflictError | type(None)) for o in outcomes)
        with runtime.sessions() as s:
            completions = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == started.instance_id,
                                                             AuditEvent.event_type == "task_completed")).all()
        assert len(completions) == 1


def test_two_workers_over_the_same_due_timers_fire_each_once(runtime: Runtime, vclock):
    ids = [runtime.start("testorg", {}).instance_id for _ in range(40)]
    vclock.set(datetime(2026, 3, 6, 8, 0, tzinfo=AMS))  # every reminder is due
    per_worker: list[int] = [0, 0]

    def worker(n: int):
        def loop():
            while (result := runtime.fire_due_timers(limit=4)).instances:
                per_worker[n] += result.timers
        return loop

    outcomes = run_together([worker(0), worker(1)])
    assert outcomes == [None, None]
    with runtime.sessions() as s:
        fired = Counter(s.scalars(select(AuditEvent.instance_id).where(AuditEvent.event_type == "timer_fired")))
    assert fired == Counter({i: 1 for i in ids})
    assert sum(per_worker) == 40

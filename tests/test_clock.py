"""The clock seam as a context-local value: a thread (or task) with a clock of its own reads
it, every other one keeps reading the process-wide clock, and SpiffWorkflow's timers follow."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions import timer

from webapp import clock
from webapp.runtime import clock as runtime_clock
from webapp.runtime.forms import FORMS_ROOT, FormCatalog
from webapp.scenarios.runner import verify_organisation

from .conftest import FIXTURES

PROCESS = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)
OWN = datetime(2020, 6, 1, 8, 0, tzinfo=UTC)


def test_two_threads_one_with_its_own_clock_read_different_moments():
    seen: dict[str, list[datetime]] = {"own": [], "other": []}
    started = threading.Barrier(2)
    moved = threading.Event()

    def with_own_clock() -> None:
        virtual = clock.VirtualClock(OWN)
        with clock.using_clock(virtual):
            started.wait()
            seen["own"].append(clock.now())
            virtual.advance(timedelta(days=30))
            seen["own"].append(clock.now())
            # SpiffWorkflow's timer module reads the same context-local value.
            seen["own"].append(timer.datetime.now(UTC))
            moved.set()
        seen["own"].append(clock.now())  # after the block: the process-wide clock again

    def without() -> None:
        started.wait()
        moved.wait()  # the other thread's clock has moved by now
        seen["other"].append(clock.now())
        seen["other"].append(timer.datetime.now(UTC))

    with clock.use_clock(clock.VirtualClock(PROCESS)):
        threads = [threading.Thread(target=with_own_clock), threading.Thread(target=without)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert clock.now() == PROCESS
    assert seen["own"] == [OWN, OWN + timedelta(days=30), OWN + timedelta(days=30), PROCESS]
    assert seen["other"] == [PROCESS, PROCESS]


def test_a_context_clock_wins_over_the_process_clock_and_set_clock_still_works():
    virtual = clock.VirtualClock(PROCESS)
    previous = clock.get_clock()
    clock.set_clock(virtual)
    try:
        assert clock.now() == PROCESS and runtime_clock.now() == PROCESS
        with clock.using_clock(clock.VirtualClock(OWN)):
            assert clock.now() == runtime_clock.now() == OWN
            virtual.advance(timedelta(hours=1))  # the process clock moves; this context keeps its own
            assert clock.now() == OWN
        assert clock.now() == PROCESS + timedelta(hours=1)
    finally:
        clock.set_clock(previous)
    # The old name re-exports the same seam.
    assert runtime_clock.using_clock is clock.using_clock and runtime_clock.set_clock is clock.set_clock


def test_a_scenario_run_in_a_thread_does_not_move_another_threads_clock():
    """The scenario runner travels weeks ahead on its own virtual clock (`using_clock`); a
    request or a worker in another thread keeps reading the process-wide clock throughout."""
    done = threading.Event()
    results = []
    readings: list[datetime] = []

    def scenarios() -> None:
        try:
            results.extend(verify_organisation(FIXTURES / "timers", FormCatalog(FIXTURES / "forms", FORMS_ROOT)))
        finally:
            done.set()

    def request() -> None:
        while not done.is_set():
            readings.append(clock.now())
        readings.append(clock.now())

    with clock.use_clock(clock.VirtualClock(PROCESS)):
        threads = [threading.Thread(target=scenarios), threading.Thread(target=request)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert clock.now() == PROCESS
    # The scenarios ran (their timers fired weeks after their start in March 2026) and passed.
    assert len(results) >= 2 and all(r.passed for r in results), [r.failure for r in results]
    assert readings and set(readings) == {PROCESS}

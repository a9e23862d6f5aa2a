"""Runtime benchmark on SQLite (`make bench`): prints figures, asserts nothing.

1. Complete one user task through the runtime with 10,000 complaints in the database
   (median, p95), beside the floor: the same step with SpiffWorkflow alone (restore,
   run, serialize with its own serializer) plus one empty commit; and their ratio.
2. Timers fired per second when 10,000 are due at once (worker sweeps).
3. One idle worker sweep with 100,000 waiting complaints and none due.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from webapp.db import migrate  # noqa: E402
from webapp.db.models import HumanTask, Instance  # noqa: E402
from webapp.db.session import make_engine, make_session_factory  # noqa: E402
from webapp.mail import OutboxSender  # noqa: E402
from webapp.runtime import clock  # noqa: E402
from webapp.runtime.organisations import load_config  # noqa: E402
from webapp.runtime.service import Actor, Runtime  # noqa: E402
from webapp.worker import Worker  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
ACTOR = Actor("bench@test.nl", "testorg", frozenset({"behandelaar"}))
START = datetime(2026, 3, 2, 9, 0, tzinfo=clock.AMSTERDAM)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def setup(path: Path):
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    config = load_config(FIXTURES / "timers")
    runtime = Runtime(make_session_factory(engine), {config.slug: config})
    runtime.ensure_organisations()
    runtime.deploy(config.slug)
    return engine, runtime


def clone(engine, runtime: Runtime, template_id: int, count: int, offset: int, wakeup: datetime | None = None) -> None:
    """Copy a started complaint `count` times (bulk insert: real states, fast setup)."""
    with runtime.sessions() as s:
        inst = s.get(Instance, template_id)
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == template_id))
        base = {c.name: getattr(inst, c.name) for c in Instance.__table__.columns if c.name != "id"}
        task_base = {c.name: getattr(task, c.name) for c in HumanTask.__table__.columns if c.name != "id"}
    if wakeup is not None:
        base["next_wakeup_at"] = wakeup
    with engine.begin() as conn:
        for chunk in range(0, count, 5000):
            n = min(5000, count - chunk)
            rows = [{**base, "reference": f"BENCH-{offset + chunk + i:07d}"} for i in range(n)]
            conn.execute(insert(Instance), rows)
        ids = conn.execute(select(Instance.id).where(Instance.reference.like("BENCH-%"))
                           .order_by(Instance.id.desc()).limit(count)).scalars().all()
        for chunk in range(0, len(ids), 5000):
            conn.execute(insert(HumanTask), [{**task_base, "instance_id": i} for i in ids[chunk:chunk + 5000]])


def bench_complete(engine, runtime: Runtime, template_id: int, samples: int = 300) -> dict:
    with runtime.sessions() as s:
        tasks = s.execute(select(HumanTask.instance_id, HumanTask.task_id)
                          .where(HumanTask.state == "ready", HumanTask.instance_id != template_id)
                          .order_by(HumanTask.instance_id).limit(samples + 20)).all()
    for instance_id, task_id in tasks[:20]:  # warm caches
        runtime.complete_task(instance_id, task_id, ACTOR, {"opgelost": False})
    timings = []
    for instance_id, task_id in tasks[20:]:
        began = time.perf_counter()
        runtime.complete_task(instance_id, task_id, ACTOR, {"opgelost": False, "uitkomst": "gegrond"})
        timings.append((time.perf_counter() - began) * 1000)
    return {"median_ms": statistics.median(timings), "p95_ms": percentile(timings, 0.95), "n": len(timings)}


def bench_floor(engine, runtime: Runtime, samples: int = 300) -> dict:
    """SpiffWorkflow alone: its own serializer (spec included), restore, run the task, run the
    engine, serialize; plus one empty commit on the same database."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    from webapp.runtime.steps import script_engine_for

    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    config = runtime.organisations["testorg"]
    diagram = runtime.diagram(runtime.current_version_id("testorg"))
    workflow = BpmnWorkflow(diagram.spec, diagram.subprocess_specs, script_engine=script_engine_for(config))
    workflow.data.update({"ontvangen_op": clock.now().isoformat(), "referentie": "X"})
    workflow.task_tree.data.update(workflow.data)
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)
    timings = []
    for i in range(samples + 20):
        began = time.perf_counter()
        restored = serializer.deserialize_json(state)
        restored.script_engine = script_engine_for(config)
        [task] = restored.get_tasks(state=TaskState.READY, manual=True)
        task.data.update({"opgelost": False})
        task.run()
        restored.do_engine_steps()
        serializer.serialize_json(restored)
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        if i >= 20:
            timings.append((time.perf_counter() - began) * 1000)
    return {"median_ms": statistics.median(timings), "p95_ms": percentile(timings, 0.95),
            "state_bytes_spiff": len(state)}


def count(runtime: Runtime, condition) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(text("count(*)")).select_from(Instance).where(condition))


def bench_timers(engine, runtime: Runtime, virtual: clock.VirtualClock, template_id: int) -> dict:
    worker = Worker(runtime, OutboxSender(runtime.sessions, None), batch_size=200)
    virtual.set(START + timedelta(days=3, hours=16))  # every reminder (3 working days) is due
    # Top up to exactly 10,000 due (the completion benchmark used some complaints).
    clone(engine, runtime, template_id, 10_000 - count(runtime, Instance.next_wakeup_at < virtual.now()), 10_000)
    due = count(runtime, Instance.next_wakeup_at < virtual.now())
    began = time.perf_counter()
    stats = worker.sweep()
    seconds = time.perf_counter() - began
    return {"due": due, "fired": stats.timers, "seconds": seconds, "per_second": stats.timers / seconds,
            "messages_handled": stats.messages}


def bench_idle(engine, runtime: Runtime, virtual: clock.VirtualClock, samples: int = 200) -> dict:
    worker = Worker(runtime, OutboxSender(runtime.sessions, None))
    worker.sweep()  # leave nothing due
    waiting = count(runtime, Instance.next_wakeup_at.is_not(None))
    timings = []
    for _ in range(samples):
        began = time.perf_counter()
        stats = worker.sweep()
        timings.append((time.perf_counter() - began) * 1000)
        assert not stats
    return {"waiting": waiting, "median_ms": statistics.median(timings), "p95_ms": percentile(timings, 0.95)}


def main() -> None:
    import logging
    logging.getLogger("spiff").setLevel(logging.WARNING)
    virtual = clock.VirtualClock(START)
    with tempfile.TemporaryDirectory() as tmp, clock.use_clock(virtual):
        engine, runtime = setup(Path(tmp) / "bench.db")
        template = runtime.start("testorg", {"klager": {"naam": "Bench", "email": "b@example.nl"}})
        with runtime.sessions() as s:
            size = len(s.get(Instance, template.instance_id).state)
        clone(engine, runtime, template.instance_id, 10_000, 0)
        print("Klachtroute runtime benchmark (SQLite, one process)")
        complete = bench_complete(engine, runtime, template.instance_id)
        floor = bench_floor(engine, runtime)
        ratio = complete["median_ms"] / floor["median_ms"]
        print(f"complete one user task, 10,000 complaints in the database (n={complete['n']}):")
        print(f"  runtime  median {complete['median_ms']:.2f} ms  p95 {complete['p95_ms']:.2f} ms   (target p95 <= 25 ms)")
        print(f"  floor    median {floor['median_ms']:.2f} ms  p95 {floor['p95_ms']:.2f} ms   "
              f"(SpiffWorkflow restore+run+serialize, one empty commit)")
        print(f"  ratio    {ratio:.2f}   (target <= 3)")
        print(f"  state size of a new complaint: ours {size:,} bytes (spec kept out), SpiffWorkflow's own {floor['state_bytes_spiff']:,} bytes")

        timers = bench_timers(engine, runtime, virtual, template.instance_id)
        print(f"timers due at once: {timers['due']:,}; fired {timers['fired']:,} in {timers['seconds']:.2f} s = "
              f"{timers['per_second']:.0f} timers/s   (target >= 300/s)")

        virtual.set(START)
        waiting = count(runtime, Instance.next_wakeup_at.is_not(None))
        clone(engine, runtime, template.instance_id, 100_000 - waiting, 20_000, wakeup=START + timedelta(days=365))
        idle = bench_idle(engine, runtime, virtual)
        print(f"idle sweep, {idle['waiting']:,} waiting complaints, none due: median {idle['median_ms']:.2f} ms  "
              f"p95 {idle['p95_ms']:.2f} ms   (target <= 5 ms)")
        print(json.dumps({"complete": complete, "floor": floor, "ratio": ratio, "timers": timers, "idle": idle}))


if __name__ == "__main__":
    main()

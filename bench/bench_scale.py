"""PostgreSQL at scale (`make bench`, second part): prints figures beside their targets, asserts nothing.

On the population of bench/scale_population.py (1,000 organisations, 1,000,000 complaints, built
once into the schema `klachtroute_bench` of the test server and kept):
1. complete a task through the runtime (median, p95) and SpiffWorkflow alone on the same diagram;
2. timers fired per second with one worker process and with two;
3. timer lag of the real `klachtroute worker` process for 200 timers falling due over a minute;
4. web pages through the WSGI app with a logged-in user (p95);
5. the annual report of an organisation with 3,000 complaints in the year, its PDF, the XES export;
6. memory of one web process and one worker.
Scratch complaints made by a measurement are removed afterwards, so runs can be repeated.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import scale_population as population  # noqa: E402
from sqlalchemy import Engine, select, text  # noqa: E402

from webapp.db.models import HumanTask, Instance  # noqa: E402
from webapp.runtime import clock  # noqa: E402
from webapp.runtime.errors import FormValidationError  # noqa: E402
from webapp.runtime.organisations import load_config  # noqa: E402
from webapp.runtime.service import Actor, Runtime  # noqa: E402

SCRATCH = "BENCHX-"  # references of scratch complaints
FAR_AHEAD = datetime(2029, 6, 1, 12, 0, tzinfo=UTC)  # every timer of a 2025/2026 complaint is due
LAG_ORG = ROOT / "bench" / "fixtures" / "lag"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def rss_mb(pid: int | None = None) -> float:
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kb / 1024


# -- scratch complaints ------------------------------------------------------------------------


def open_template(engine: Engine, slug: str = "kwartier", with_timer: bool = False) -> int:
    """A real open complaint of `slug` with a ready task (the generated year leaves some open);
    `with_timer`: one that also waits for a timer (a deadline or a reminder)."""
    with engine.connect() as conn:
        return conn.scalar(text(f"""
            SELECT i.id FROM instances i JOIN organisations o ON o.id = i.organisation_id
            WHERE o.slug = :slug AND i.status = 'running' AND i.reference NOT LIKE :scratch
              {"AND i.next_wakeup_at IS NOT NULL" if with_timer else ""}
              AND EXISTS (SELECT 1 FROM human_tasks h WHERE h.instance_id = i.id AND h.state = 'ready'
                          AND h.form IS NOT NULL)
            ORDER BY i.id LIMIT 1"""), {"slug": slug, "scratch": SCRATCH + "%"})


def make_scratch(engine: Engine, template_id: int, count: int, tag: str, due: bool) -> list[int]:
    """`count` copies of a complaint (state and ready tasks), due now or parked."""
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO instances (organisation_id, diagram_version_id, reference, status, state, lock_version,
                                   next_wakeup_at, complaint_type, location, created_at, incident_attempts)
            SELECT i.organisation_id, i.diagram_version_id, :prefix || lpad(s.n::text, 6, '0'), 'running', i.state,
                   1, CASE WHEN :due THEN TIMESTAMPTZ '2020-01-01 00:00+00' ELSE NULL END, i.complaint_type,
                   i.location, i.created_at, 0
            FROM instances i CROSS JOIN generate_series(1, :count) s(n) WHERE i.id = :template"""),
                     {"prefix": f"{SCRATCH}{tag}-", "due": due, "count": count, "template": template_id})
        ids = conn.scalars(text("SELECT id FROM instances WHERE reference LIKE :p ORDER BY id"),
                           {"p": f"{SCRATCH}{tag}-%"}).all()
        conn.execute(text("""
            INSERT INTO human_tasks (instance_id, organisation_id, task_id, bpmn_id, name, lane, role, form, due_at,
                                     state, created_at)
            SELECT n.id, h.organisation_id, h.task_id, h.bpmn_id, h.name, h.lane, h.role, h.form, h.due_at, h.state,
                   h.created_at
            FROM instances n JOIN human_tasks h ON h.instance_id = :template AND h.state = 'ready'
            WHERE n.reference LIKE :p"""), {"template": template_id, "p": f"{SCRATCH}{tag}-%"})
    return list(ids)


def drop_scratch(engine: Engine) -> None:
    with engine.begin() as conn:
        scratch = "SELECT id FROM instances WHERE reference LIKE :p"
        for table in ("human_tasks", "audit_events", "outbox"):
            conn.execute(text(f"DELETE FROM {table} WHERE instance_id IN ({scratch})"), {"p": SCRATCH + "%"})
        conn.execute(text("DELETE FROM instances WHERE reference LIKE :p"), {"p": SCRATCH + "%"})


# -- 1. completing a task ------------------------------------------------------------------------


def fill(schema: dict[str, Any]) -> Any:
    """A value that satisfies a JSON Schema's required fields (enough for a benchmark step)."""
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if "oneOf" in schema and schema["oneOf"] and "const" in schema["oneOf"][0]:
        return schema["oneOf"][0]["const"]
    if kind == "object":
        props = schema.get("properties", {})
        value = {k: fill(props.get(k, {})) for k in schema.get("required", [])}
        for rule in schema.get("allOf", []):  # "if this answer, then also that field"
            condition = rule.get("if", {}).get("properties", {})
            if all(value.get(k) == c["const"] for k, c in condition.items() if "const" in c):
                for k in rule.get("then", {}).get("required", []):
                    value.setdefault(k, fill(props.get(k, {})))
        return value
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "array":
        return []
    if schema.get("format") == "date":
        return date(2025, 6, 2).isoformat()
    return "Benchmark"


def bench_complete(engine: Engine, runtime: Runtime, samples: int = 150) -> dict[str, Any]:
    template = open_template(engine)
    ids = make_scratch(engine, template, samples + 20, "c", due=False)
    with runtime.sessions() as s:
        row = s.scalars(select(HumanTask).where(HumanTask.instance_id == ids[0], HumanTask.state == "ready",
                                                HumanTask.form.is_not(None))).first()
        tasks = dict(s.execute(select(HumanTask.instance_id, HumanTask.task_id).where(
            HumanTask.instance_id.in_(ids), HumanTask.bpmn_id == row.bpmn_id)).all())
    data = fill(runtime.organisation("kwartier").forms.validator(row.form).schema)
    actor = Actor("bench@kwartier.bench", "kwartier", frozenset({row.role}))
    timings = []
    try:
        for n, instance_id in enumerate(ids):
            began = time.perf_counter()
            runtime.complete_task(instance_id, tasks[instance_id], actor, data)
            if n >= 20:
                timings.append((time.perf_counter() - began) * 1000)
    except FormValidationError as exc:
        return {"error": f"{row.form}: {exc}"}
    floor = spiff_alone(runtime, template, row.task_id, data)
    return {"task": row.name, "n": len(timings), "median_ms": statistics.median(timings),
            "p95_ms": percentile(timings, 0.95), "spiff_median_ms": floor, "ratio": statistics.median(timings) / floor}


def spiff_alone(runtime: Runtime, template_id: int, task_id: str, data: dict[str, Any], samples: int = 150) -> float:
    """SpiffWorkflow with its own serializer (spec included): restore, run the task, run the
    engine, serialize. No database."""
    from uuid import UUID

    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    from webapp.runtime.steps import StepRecorder, _current_step, script_engine_for

    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    loaded = runtime.load(template_id)
    # Operators (letters, notifications) queue in memory as in a real step; nothing is written.
    _current_step.set(StepRecorder(loaded.organisation, "BENCH", "bench"))
    state = serializer.serialize_json(loaded.workflow)
    engine = script_engine_for(loaded.organisation)
    timings = []
    for n in range(samples + 20):
        began = time.perf_counter()
        workflow = serializer.deserialize_json(state)
        workflow.script_engine = engine
        task = workflow.get_task_from_id(UUID(task_id))
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        serializer.serialize_json(workflow)
        if n >= 20:
            timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


# -- 2. timers per second ---------------------------------------------------------------------------


def _timer_worker(url: str, start, done, result) -> None:
    from webapp.db.session import make_engine as engine_for

    clock.set_clock(clock.VirtualClock(FAR_AHEAD))
    runtime = population.build_runtime(engine_for(url))
    runtime.diagram(runtime.current_version_id("kwartier"))  # parsed before the clock starts
    start.wait()
    fired = instances = 0
    while True:
        sweep = runtime.fire_due_timers(limit=50)
        fired, instances = fired + sweep.timers, instances + sweep.instances
        if sweep.instances == 0:
            break
    result.put((instances, fired))
    done.set()


def timer_template(engine: Engine) -> int:
    """A new Kwartier complaint, waiting for its deadlines (a scratch one, removed afterwards)."""
    runtime = population.build_runtime(engine)
    started = runtime.start("kwartier", {
        "klager": {"naam": "B. Enchmark", "email": "b@example.nl", "relatie": "client"}, "soort": "klacht",
        "locatie": "Wijkteam Centrum", "omschrijving": "Benchmark", "anoniem": False, "kanaal": "website"})
    with engine.begin() as conn:
        conn.execute(text("UPDATE instances SET reference = :r WHERE id = :i"),
                     {"r": f"{SCRATCH}tpl-{started.instance_id}", "i": started.instance_id})
    return started.instance_id


def bench_timers(engine: Engine, workers: int, due: int = 1200) -> dict[str, Any]:
    template = timer_template(engine)
    make_scratch(engine, template, due, f"t{workers}", due=True)
    ctx = multiprocessing.get_context("spawn")
    start, result = ctx.Event(), ctx.Queue()
    procs, dones = [], []
    for _ in range(workers):
        done = ctx.Event()
        proc = ctx.Process(target=_timer_worker, args=(population.schema_url(), start, done, result))
        proc.start()
        procs.append(proc)
        dones.append(done)
    time.sleep(8)  # imports, configs and the parsed diagram, before the clock starts
    began = time.perf_counter()
    start.set()
    for done in dones:
        done.wait()
    seconds = time.perf_counter() - began
    totals = [result.get() for _ in procs]
    for proc in procs:
        proc.join()
    complaints = sum(t[0] for t in totals)
    return {"workers": workers, "complaints": complaints, "timers": sum(t[1] for t in totals),
            "seconds": seconds, "complaints_per_second": complaints / seconds}


# -- 3. timer lag with the real worker -------------------------------------------------------------


def bench_lag(engine: Engine, count: int = 200, spread: float = 60.0) -> dict[str, Any]:
    config = load_config(LAG_ORG)
    runtime = population.build_runtime(engine)
    runtime.organisations[config.slug] = config
    runtime.ensure_organisations()
    runtime.deploy(config.slug)
    env = {**os.environ, "DATABASE_URL": population.schema_url(), "KLACHTROUTE_ORGANISATION_DIRS": str(LAG_ORG)}
    command = Path(sys.executable).parent / "klachtroute"
    worker = subprocess.Popen([str(command), "worker", "--poll-interval", "1"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(6)  # the worker is up and idle
        now = datetime.now(UTC)
        ids = []
        for n in range(count):
            moment = now + timedelta(seconds=5 + spread * n / count)
            ids.append(runtime.start(config.slug, {"moment": moment.isoformat()}).instance_id)
        deadline = time.monotonic() + spread + 60
        lags: list[float] = []
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                rows = conn.execute(text("""
                    SELECT occurred_at, data->>'due' FROM audit_events
                    WHERE event_type = 'timer_fired' AND instance_id = ANY(:ids)"""), {"ids": ids}).all()
            if len(rows) >= count:
                lags = [(at - datetime.fromisoformat(due)).total_seconds() for at, due in rows]
                break
            time.sleep(1)
        memory = rss_mb(worker.pid)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE instance_id = ANY(:ids)"), {"ids": ids})
        conn.execute(text("DELETE FROM outbox WHERE instance_id = ANY(:ids)"), {"ids": ids})
        conn.execute(text("DELETE FROM human_tasks WHERE instance_id = ANY(:ids)"), {"ids": ids})
        conn.execute(text("DELETE FROM instances WHERE id = ANY(:ids)"), {"ids": ids})
    if not lags:
        return {"fired": 0, "worker_rss_mb": memory}
    return {"fired": len(lags), "median_s": statistics.median(lags), "p95_s": percentile(lags, 0.95),
            "max_s": max(lags), "worker_rss_mb": memory}


# -- 4. pages, 5. reports, 6. memory of a web process ------------------------------------------------


def _pages(url: str, result) -> None:
    from webapp.accounts import add_user
    from webapp.db.session import make_engine as engine_for
    from webapp.web import create_app

    engine = engine_for(url)
    runtime = population.build_runtime(engine)
    roles = [f"{slug}:{r}" for slug in ("mos", "kwartier")
             for r in sorted(set(runtime.organisations[slug].lanes.values()) | {"procesbeheerder"})]
    with runtime.write_sessions.begin() as session:
        from webapp.db.models import User
        if session.scalar(select(User.id).where(User.email == "bench@scale.bench")) is None:
            add_user(session, runtime.organisations, "bench@scale.bench", "Bench", "bench-wachtwoord-123", roles)
    app = create_app(runtime, SECRET_KEY="bench", TESTING=False, WTF_CSRF_ENABLED=False,
                     LOGIN_LIMIT_PER_ACCOUNT="100000/minute", LOGIN_LIMIT_PER_ADDRESS="100000/minute")
    client = app.test_client()
    response = client.post("/login", data={"email": "bench@scale.bench", "wachtwoord": "bench-wachtwoord-123"})
    assert response.status_code in (302, 303), response.status_code
    with runtime.sessions() as s:
        org_id = s.scalar(text("SELECT id FROM organisations WHERE slug = 'mos'"))
        reference = s.scalar(select(Instance.reference).where(Instance.organisation_id == org_id)
                             .order_by(Instance.id.desc()).limit(1))
        # M.O.S.'s year is closed: the open task is Kwartier's (the user works both).
        task_id = s.scalar(select(HumanTask.id).join(Instance, Instance.id == HumanTask.instance_id)
                           .where(HumanTask.state == "ready", Instance.reference.like("KWARTIER-%"))
                           .order_by(HumanTask.id).limit(1))
    pages = {
        "inbox with filters": "/mos/inbox?rol=leidinggevende&status=open&te_laat=1",
        "complaint page": f"/mos/klachten/{reference}",
        "complaints list": "/mos/klachten?status=running",
        "task page": f"/kwartier/taken/{task_id}",
        "oversight page": "/mos/toezicht",
    }
    figures: dict[str, Any] = {}
    for name, path in pages.items():
        status = client.get(path).status_code
        if status != 200:
            figures[name] = {"status": status}
            continue
        timings = []
        for n in range(70):
            began = time.perf_counter()
            client.get(path)
            if n >= 10:
                timings.append((time.perf_counter() - began) * 1000)
        figures[name] = {"median_ms": statistics.median(timings), "p95_ms": percentile(timings, 0.95)}
    figures["reports"] = _reports(runtime)
    figures["web_rss_mb"] = rss_mb()
    result.put(figures)


def _reports(runtime: Runtime) -> dict[str, Any]:
    from webapp import reports
    from webapp.exports import event_log, to_xes
    from webapp.reports.pdf import annual_report_pdf

    with runtime.sessions() as s:
        complaints = s.scalar(text("SELECT count(*) FROM instances i JOIN organisations o ON o.id = i.organisation_id "
                                   "WHERE o.slug = 'mos' AND i.reference NOT LIKE 'BENCHX-%'"))
    timings: dict[str, list[float]] = {"report": [], "pdf": [], "xes": []}
    for _ in range(3):
        began = time.perf_counter()
        report = reports.annual_report(runtime, "mos", population.REPORT_YEAR)
        timings["report"].append(time.perf_counter() - began)
        began = time.perf_counter()
        annual_report_pdf(report, title=f"Klachtenjaarverslag {population.REPORT_YEAR}")
        timings["pdf"].append(time.perf_counter() - began)
        began = time.perf_counter()
        with runtime.sessions() as s:
            events = event_log(s, "mos", date(population.REPORT_YEAR, 1, 1), date(population.REPORT_YEAR, 12, 31))
        to_xes(events, "M.O.S.")
        timings["xes"].append(time.perf_counter() - began)
    return {"complaints": complaints, "events": len(events)} | {k: statistics.median(v) for k, v in timings.items()}


def bench_pages() -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    result = ctx.Queue()
    proc = ctx.Process(target=_pages, args=(population.schema_url(), result))
    proc.start()
    figures = result.get(timeout=1800)
    proc.join()
    return figures


# -- together ---------------------------------------------------------------------------------------


def main() -> None:
    import logging
    logging.getLogger("spiff").setLevel(logging.WARNING)
    print("Klachtroute at scale (PostgreSQL, the real M.O.S. and Kwartier procedures)")
    engine = population.ensure()
    drop_scratch(engine)
    sizes = population.counts(engine)
    print(f"population: {sizes['organisations']:,} organisations, {sizes['instances']:,} complaints "
          f"({sizes['open']:,} open), {sizes['human_tasks']:,} inbox rows, {sizes['audit_events']:,} audit events")
    runtime = population.build_runtime(engine)
    complete = bench_complete(engine, runtime)
    drop_scratch(engine)
    if "error" in complete:
        print(f"complete a task: not measured ({complete['error']})")
    else:
        print(f"complete a task ({complete['task']}, n={complete['n']}): median {complete['median_ms']:.1f} ms, "
              f"p95 {complete['p95_ms']:.1f} ms; SpiffWorkflow alone median {complete['spiff_median_ms']:.1f} ms; "
              f"ratio {complete['ratio']:.2f}   (target ratio <= 2)")
    one = bench_timers(engine, 1)
    drop_scratch(engine)
    two = bench_timers(engine, 2)
    drop_scratch(engine)
    print(f"timers: one worker {one['complaints_per_second']:.0f} complaints/s ({one['timers']} timers), "
          f"two workers {two['complaints_per_second']:.0f} complaints/s; "
          f"x{two['complaints_per_second'] / one['complaints_per_second']:.2f}   (target >= 1.6)")
    lag = bench_lag(engine)
    if lag.get("fired"):
        print(f"timer lag, real `klachtroute worker`, {lag['fired']} timers over a minute: median {lag['median_s']:.2f} s, "
              f"p95 {lag['p95_s']:.2f} s, max {lag['max_s']:.2f} s   (target p95 <= 1 s)")
    else:
        print("timer lag: no timer fired")
    figures = bench_pages()
    for name in ("inbox with filters", "complaint page", "complaints list", "task page", "oversight page"):
        f = figures.get(name, {})
        if "p95_ms" in f:
            print(f"page {name}: median {f['median_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms   (target p95 <= 50 ms)")
        else:
            print(f"page {name}: not measured (HTTP {f.get('status')})")
    r = figures["reports"]
    print(f"annual report of {r['complaints']:,} complaints: {r['report']:.2f} s, PDF {r['pdf']:.2f} s   (target <= 1 s); "
          f"XES export of the year ({r['events']:,} events): {r['xes']:.2f} s   (target <= 2 s)")
    print(f"memory after the run: web process {figures['web_rss_mb']:.0f} MB, worker {lag['worker_rss_mb']:.0f} MB")
    print(json.dumps({"population": sizes, "complete": complete, "timers": [one, two], "lag": lag,
                      "pages": figures}, default=str))


if __name__ == "__main__":
    main()

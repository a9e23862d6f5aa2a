"""The report benchmark alone, on a small database of its own: `mos`'s year, its annual report, PDF
and XES export, without the 40-minute population of bench_scale.py (for working on those figures).

    python bench/bench_reports.py [--complaints 3000] [--real 300] [--sqlite PATH] [--profile report|xes]

The year is `--real` complaints driven through the M.O.S. procedure by the year generator, cloned
in SQL (with their inbox rows and audit trail) up to `--complaints`, so the tables hold the
same rows per complaint as the population's year. PostgreSQL (BENCH_DATABASE_URL or PG_TEST_URL)
in the schema `klachtroute_bench_reports`, or a SQLite file; kept between runs.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import scale_population as population  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from webapp.db import migrate  # noqa: E402
from webapp.db.session import make_engine, make_session_factory  # noqa: E402
from webapp.runtime import clock  # noqa: E402
from webapp.runtime.organisations import load_config  # noqa: E402
from webapp.runtime.service import Runtime  # noqa: E402

SCHEMA = "klachtroute_bench_reports"
YEAR = population.REPORT_YEAR


def runtime_for(engine: Engine) -> Runtime:
    return Runtime(make_session_factory(engine), {"mos": load_config(ROOT / "bpmn" / "mos")})


def _engine(sqlite: str | None) -> Engine:
    if sqlite:
        return make_engine(f"sqlite:///{Path(sqlite).resolve()}")
    admin = make_engine(population.admin_url())
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    admin.dispose()
    url = population.admin_url()
    return make_engine(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}")


def ensure(engine: Engine, complaints: int, real: int) -> None:
    version = f"{complaints}-{real}"
    with engine.connect() as conn:
        try:
            if conn.scalar(text("SELECT version FROM bench_reports")) == version:
                migrate.upgrade(engine)
                return
        except Exception:  # noqa: BLE001 - no marker table yet
            conn.rollback()
    began = time.perf_counter()
    with engine.begin() as conn:
        for table in ("bench_reports", "audit_events", "human_tasks", "outbox", "instances"):
            conn.execute(text(f"DELETE FROM {table}")) if _exists(conn, table) else None
    migrate.upgrade(engine)
    runtime = runtime_for(engine)
    runtime.ensure_organisations()
    runtime.deploy("mos")
    from webapp.generate import generate_year

    generate_year(runtime, YEAR, real, seed=1, organisations=["mos"],
                  until=datetime(YEAR + 1, 3, 1, tzinfo=clock.AMSTERDAM))
    print(f"  {real} complaints generated ({time.perf_counter() - began:.0f} s); cloning ...", flush=True)
    _clone(engine, complaints - real)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_reports (version varchar(40))"))
        conn.execute(text("DELETE FROM bench_reports"))
        conn.execute(text("INSERT INTO bench_reports VALUES (:v)"), {"v": version})
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def _exists(conn, table: str) -> bool:
    from sqlalchemy import inspect

    return inspect(conn).has_table(table)


def _clone(engine: Engine, extra: int) -> None:
    """`extra` copies of the real complaints (round robin), each with its rows; audit rows of a copy
    continue the organisation's chain numbers so that every row has its own."""
    with engine.begin() as conn:
        real = conn.execute(text("SELECT id FROM instances ORDER BY id")).scalars().all()
        step = conn.scalar(text("SELECT max(seq) FROM audit_events")) or 0
        for n in range(extra):
            src = real[n % len(real)]
            new = conn.execute(text("""
                INSERT INTO instances (organisation_id, diagram_version_id, reference, status, state, lock_version,
                                       next_wakeup_at, complaint_type, location, created_at, closed_at,
                                       received_at, channel, purged_at, incident_attempts)
                SELECT organisation_id, diagram_version_id, :ref, status, state, 1, NULL, complaint_type, location,
                       created_at, closed_at, received_at, channel, purged_at, 0 FROM instances WHERE id = :src RETURNING id"""),
                               {"ref": f"MOSX-{n:06d}", "src": src}).scalar_one()
            conn.execute(text("""
                INSERT INTO human_tasks (instance_id, organisation_id, task_id, bpmn_id, name, lane, role, form,
                                         due_at, state, created_at, completed_at)
                SELECT :new, organisation_id, task_id, bpmn_id, name, lane, role, form, due_at, state, created_at,
                       completed_at FROM human_tasks WHERE instance_id = :src"""), {"new": new, "src": src})
            conn.execute(text("""
                INSERT INTO audit_events (organisation_id, instance_id, occurred_at, actor, event_type, bpmn_id,
                                          bpmn_name, data, seq)
                SELECT organisation_id, :new, occurred_at, actor, event_type, bpmn_id, bpmn_name, data, seq + :top
                FROM audit_events WHERE instance_id = :src"""), {"new": new, "src": src, "top": step * (n + 1)})


def measure(runtime: Runtime, rounds: int = 3, profile: str | None = None) -> dict[str, float]:
    from webapp import reports
    from webapp.exports import event_log, to_xes
    from webapp.reports.pdf import annual_report_pdf

    def report():
        return reports.annual_report(runtime, "mos", YEAR)

    def xes():
        with runtime.sessions() as s:
            events = event_log(s, "mos", date(YEAR, 1, 1), date(YEAR, 12, 31))
        return to_xes(events, "M.O.S."), len(events)

    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(report if profile == "report" else xes)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    # Wall time, and this process's CPU time (steadier on a busy machine; leaves out the database's).
    timings: dict[str, list[float]] = {k: [] for k in ("report", "pdf", "xes", "report_cpu", "pdf_cpu", "xes_cpu")}
    made: dict[str, Any] = {}
    for _ in range(rounds):
        for key, call in (("report", report),
                          ("pdf", lambda: annual_report_pdf(made["report"], title=f"Klachtenjaarverslag {YEAR}")),
                          ("xes", xes)):
            began, cpu = time.perf_counter(), time.process_time()
            made[key] = call()
            timings[key].append(time.perf_counter() - began)
            timings[f"{key}_cpu"].append(time.process_time() - cpu)
    result, events = made["report"], made["xes"][1]
    return {"complaints": result.total, "events": events} | {k: statistics.median(v) for k, v in timings.items()}


def main() -> None:
    import logging

    logging.getLogger("spiff").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--complaints", type=int, default=population.REPORT_COMPLAINTS)
    parser.add_argument("--real", type=int, default=300)
    parser.add_argument("--sqlite", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--profile", choices=("report", "xes"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine = _engine(args.sqlite)
    ensure(engine, args.complaints, min(args.real, args.complaints))
    r = measure(runtime_for(engine), args.rounds, args.profile)
    print(f"{engine.dialect.name}: annual report of {r['complaints']:,} complaints: {r['report']:.2f} s, "
          f"PDF {r['pdf']:.2f} s   (target <= 1 s); XES export ({r['events']:,} events): {r['xes']:.2f} s   "
          f"(target <= 2 s)\n  CPU of this process: report {r['report_cpu']:.2f} s, PDF {r['pdf_cpu']:.2f} s, "
          f"XES {r['xes_cpu']:.2f} s")


if __name__ == "__main__":
    main()

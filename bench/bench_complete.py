"""Completing a task alone, on a small PostgreSQL schema of its own (`klachtroute_bench_complete`):
the first measurement of bench_scale.py without its population, for working on the runtime's
overhead. Tables are small here, so the ratio is a floor of the one at scale.

    python bench/bench_complete.py [--samples 150] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench_scale  # noqa: E402
import scale_population as population  # noqa: E402
from sqlalchemy import text  # noqa: E402

from webapp.db import migrate  # noqa: E402
from webapp.db.session import make_engine, make_session_factory  # noqa: E402
from webapp.runtime.organisations import load_config  # noqa: E402
from webapp.runtime.service import Runtime  # noqa: E402

SCHEMA = "klachtroute_bench_complete"


def main() -> None:
    import logging

    logging.getLogger("spiff").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=150)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--population", action="store_true",
                        help="on bench_scale.py's population (built when missing), as `make bench` measures")
    args = parser.parse_args()
    if args.population:
        engine = population.ensure()
        run(engine, population.build_runtime(engine), args)
        return
    admin = make_engine(population.admin_url())
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    admin.dispose()
    url = population.admin_url()
    engine = make_engine(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}")
    migrate.upgrade(engine)
    runtime = Runtime(make_session_factory(engine), {"kwartier": load_config(ROOT / "bpmn" / "kwartier")})
    runtime.ensure_organisations()
    with engine.connect() as conn:
        deployed = conn.scalar(text("SELECT count(*) FROM diagram_versions"))
    if not deployed:
        runtime.deploy("kwartier")
    bench_scale.drop_scratch(engine)
    if bench_scale.open_template(engine) is None:
        bench_scale.timer_template(engine)  # an open complaint (its reference marks it scratch: renamed)
        with engine.begin() as conn:
            conn.execute(text("UPDATE instances SET reference = 'KWARTIER-TEMPLATE' WHERE reference LIKE 'BENCHX-%'"))
    run(engine, runtime, args)


def run(engine, runtime: Runtime, args: argparse.Namespace) -> None:
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        original = runtime.complete_task

        def profiled(*a, **k):
            return profiler.runcall(original, *a, **k)

        runtime.complete_task = profiled  # type: ignore[method-assign]
    result = bench_scale.bench_complete(engine, runtime, args.samples)
    bench_scale.drop_scratch(engine)
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative"))
        stats.print_callers(os.environ["CALLERS"]) if os.environ.get("CALLERS") else stats.print_stats(45)
    if "error" in result:
        print(result["error"])
        return
    print(f"complete a task ({result['task']}, n={result['n']}): median {result['median_ms']:.1f} ms, "
          f"p95 {result['p95_ms']:.1f} ms; SpiffWorkflow alone median {result['spiff_median_ms']:.1f} ms; "
          f"ratio {result['ratio']:.2f}   (target ratio <= 2)")


if __name__ == "__main__":
    main()

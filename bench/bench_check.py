"""Benchmark of the diagram gate (`make bench`, after bench_runtime.py): prints figures,
asserts nothing.

Checking the largest procedure, M.O.S. (bpmn/mos), with all its scenarios, exactly as the
modeller's Controleren runs it (`publish.gate`: screening here, then the static checks,
bpmnlint and the scenarios in a limited child forked from the warm forkserver). Also the
parts, timed one by one in this process, to show where the time goes.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webapp.runtime import check_runner  # noqa: E402
from webapp.runtime.checks import check_organisation, run_bpmnlint  # noqa: E402
from webapp.runtime.organisations import BPMN_ROOT, load_config  # noqa: E402
from webapp.scenarios import gate  # noqa: E402
from webapp.scenarios.publish import gate as run_gate  # noqa: E402
from webapp.scenarios.runner import run_scenarios  # noqa: E402

RUNS = 15


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(action) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def _gate_cpu(request) -> float:
    """In the check's child: the gate, then the CPU seconds it took in the child, its forked
    helper and bpmnlint's node (both reaped, so in RUSAGE_CHILDREN)."""
    gate._gate(request)
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    config = load_config(BPMN_ROOT / "mos")
    xml, dependencies = config.read_diagram_files()
    forms = config.forms
    scenarios = gate._scenarios(config.scenario_texts)
    started = timed(check_runner.warm_up)
    problems = run_gate(config, xml, dependencies)
    if problems:
        raise SystemExit(f"M.O.S. does not pass its own gate: {problems}")
    seconds = [timed(lambda: run_gate(config, xml, dependencies)) for _ in range(RUNS)]

    parts = {
        "static checks": lambda: check_organisation(config, xml, dependencies, forms=forms, lint=False),
        "bpmnlint": lambda: run_bpmnlint(config.process_file, xml),
        "scenarios one after another": lambda: run_scenarios(config, scenarios, None, xml, dependencies),
    }
    request = gate._Request(config, xml, dependencies, scenarios)
    cpu = statistics.median(check_runner.run_limited(_gate_cpu, (request,)).value for _ in range(5))
    measured = {name: statistics.median(timed(action) for _ in range(3)) for name, action in parts.items()}
    print(f"\n== check (largest procedure: M.O.S., {len(scenarios)} scenarios, {RUNS} runs) ==")
    print("  parts, each alone in this process: " + ", ".join(f"{k} {v:.2f} s" for k, v in measured.items()))
    print(f"  CPU time of one check (child, its helper and bpmnlint together): {cpu:.2f} s, "
          f"on {os.cpu_count()} cores; load average during the runs {os.getloadavg()[0]:.1f}")
    print(f"  forkserver start (once per process, imports and one warm-up scenario): {started:.2f} s")
    print(f"check M.O.S. (with scenarios): median {statistics.median(seconds):.2f} s, "
          f"p95 {percentile(seconds, 0.95):.2f} s (target median <= 1 s)")


if __name__ == "__main__":
    main()

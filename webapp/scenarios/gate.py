"""The gate a draft passes before it may be deployed, run in a limited child process
(`check_runner`): the static checks (`checks.check_organisation`), bpmnlint, and, when
those pass, the organisation's scenarios against the draft.

In the child, bpmnlint (a node process) runs beside the Python checks and the scenarios;
its problems still come first, and the scenarios count only when everything static passed,
as before. The package's checks (forms, letters and their placeholders) run with the static
checks. The scenarios come with the package: they are parsed once per content, here in the
parent, and handed to the child.

The child has its own process so that a diagram's scenarios can never starve the web
process: CPU, memory and wall clock are limited there, and a runaway child is killed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import pickle
import re
import threading
from dataclasses import dataclass

from webapp.runtime import check_runner
from webapp.runtime.check_runner import Limits, Outcome
from webapp.runtime.checks import check_organisation, run_bpmnlint
from webapp.runtime.diagrams import parse_xml
from webapp.runtime.errors import DiagramError, DiagramProblem, KlachtrouteError
from webapp.runtime.forms import FormCatalog
from webapp.runtime.organisations import OrganisationConfig
from webapp.runtime.package_checks import check_package

__all__ = ["check_in_child", "limit_problem"]


@dataclass(frozen=True)
class _Request:
    config: OrganisationConfig  # the package: its forms, letters and settings
    xml: str
    dependencies: dict[str, str]
    scenarios: list  # webapp.scenarios.model.Scenario


def check_in_child(config: OrganisationConfig, xml: str, dependencies: dict[str, str]) -> list[DiagramProblem]:
    """Every check of a screened draft (text, not bytes) and the rest of its package in the
    limited child; waits for a turn in the shared queue or raises check_runner.ChecksBusy at once."""
    try:
        scenarios = _scenarios(config.scenario_texts)
    except KlachtrouteError as exc:  # a scenario file that cannot be read
        scenarios = exc
    limits, queue = check_runner.settings()
    # A fresh copy: what the configuration cached (its calendar) need not be picklable.
    request = _Request(dataclasses.replace(config), xml, dependencies,
                       [] if isinstance(scenarios, Exception) else scenarios)
    with queue.slot():
        outcome = check_runner.run_limited(_gate, (request,), limits)
    if not outcome.ok:
        return [limit_problem(outcome, limits, config)]
    problems, scenarios_ran = outcome.value
    if scenarios_ran and isinstance(scenarios, Exception):
        return [DiagramProblem(f"de scenario's konden niet draaien: {scenarios}", file=f"{config.slug}/scenarios")]
    return problems


def limit_problem(outcome: Outcome, limits: Limits, config: OrganisationConfig) -> DiagramProblem:
    """The Dutch problem for a child that went over a limit or failed."""
    hint = ("kijk of een timer, lus of herhaling het proces eindeloos laat doorlopen, "
            "of probeer het opnieuw als het systeem het erg druk had")
    seconds = f"{limits.wall_seconds:g}".replace(".", ",")
    messages = {
        "wall": f"De scenario's van dit ontwerp duurden langer dan {seconds} seconden en zijn afgebroken: {hint}.",
        "cpu": f"De scenario's van dit ontwerp gebruikten meer dan {limits.cpu_seconds} seconden rekentijd "
               f"en zijn afgebroken: {hint}.",
        "memory": f"De scenario's van dit ontwerp gebruikten meer dan {limits.memory_mb} MB geheugen en zijn "
                  f"afgebroken: kijk of een uitdrukking of script een enorme tekst, lijst of getal maakt.",
    }
    message = messages.get(outcome.exceeded or "", f"De controle van dit ontwerp liep vast: {outcome.error}")
    return DiagramProblem(message, file=f"{config.slug}/scenarios")


# -- in the parent: the package's scenarios, parsed once per content --------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, list] = {}


def _scenarios(texts: dict[str, str]) -> list:
    from webapp.scenarios.runner import load_package_scenarios

    digest = hashlib.sha256(repr(sorted(texts.items())).encode("utf-8")).hexdigest()
    with _cache_lock:
        cached = _cache.get(digest)
    if cached is not None:
        return cached
    scenarios = load_package_scenarios(texts)
    with _cache_lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[digest] = scenarios
    return scenarios


# -- in the child ---------------------------------------------------------------------------------


class _Lint(threading.Thread):
    """bpmnlint of every document, in a thread: it waits on node, which runs on another core."""

    def __init__(self, documents: dict[str, str]) -> None:
        super().__init__(name="bpmnlint", daemon=True)
        self.documents, self.problems = documents, []

    def run(self) -> None:
        try:
            for name, text in self.documents.items():
                self.problems += run_bpmnlint(name, text)
        except Exception as exc:  # noqa: BLE001 - reported as a problem, like any check that broke
            self.problems.append(DiagramProblem(f"bpmnlint liep vast: {type(exc).__name__}: {exc}"))


def _gate(request: _Request) -> tuple[list[DiagramProblem], bool]:
    """The whole gate; returns (problems, whether the scenarios ran). The static checks
    first; then half of the scenarios in a forked helper (before any thread exists), the
    other half here while bpmnlint runs in a thread: three processes for two cores."""
    config, xml, dependencies = request.config, request.xml, request.dependencies
    forms = config.forms
    documents = {config.process_file: xml, **dependencies}
    try:
        for name, text in documents.items():
            parse_xml(text, name)
    except DiagramError:  # not well-formed: check_organisation says where, and bpmnlint has nothing to add
        return check_organisation(config, xml, dependencies, forms=forms, lint=False), False
    try:
        problems = check_organisation(config, xml, dependencies, forms=forms, lint=False)
        problems += check_package(config, documents.values())
    except Exception as exc:  # the parser or a check crashed on a strange diagram: report, do not raise
        problems = [DiagramProblem(f"de controle van het diagram liep vast: {type(exc).__name__}: {exc}",
                                   file=config.process_file)]
    scenarios = [] if problems else request.scenarios
    helper = _Helper(request, forms, scenarios[1::2]) if len(scenarios) >= 4 and (os.cpu_count() or 1) > 1 else None
    lint = _Lint(documents)
    lint.start()
    mine = scenarios[0::2] if helper else scenarios
    results = _run(request, forms, mine)
    if helper:
        results = [r for pair in itertools.zip_longest(results, helper.results()) for r in pair if r is not None]
    lint.join()
    if problems or lint.problems:
        return problems + lint.problems, False
    return _scenario_problems(config, results), True


class _Helper:
    """Some of the scenarios in a forked copy of this child (same process group, same limits)."""

    def __init__(self, request: _Request, forms: FormCatalog, scenarios: list) -> None:
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the helper: never returns
            check_runner.forked_helper()
            os.close(read)
            try:
                message = ("ok", _run(request, forms, scenarios))
            except MemoryError:
                message = ("memory", None)
            except BaseException as exc:  # noqa: BLE001 - reported by the child that forked us
                message = ("error", f"{type(exc).__name__}: {exc}"[:500])
            with os.fdopen(write, "wb") as out:
                pickle.dump(message, out)
            os._exit(0)
        os.close(write)
        self.read = read

    def results(self) -> list:
        with os.fdopen(self.read, "rb") as source:
            data = source.read()
        _, status = os.waitpid(self.pid, 0)
        if not data:  # killed: over its CPU limit (SIGXCPU) or killed by the kernel
            raise check_runner.LimitExceeded("cpu" if os.WIFSIGNALED(status) else "error")
        kind, payload = pickle.loads(data)
        if kind == "ok":
            return payload
        if kind == "memory":
            raise MemoryError
        raise RuntimeError(payload)


def _run(request: _Request, forms: FormCatalog, scenarios: list) -> list:
    from webapp.scenarios.runner import run_scenarios

    if not scenarios:
        return []
    return run_scenarios(request.config, scenarios, forms, request.xml, request.dependencies)


def _scenario_problems(config: OrganisationConfig, results: list) -> list[DiagramProblem]:
    problems = []
    for result in results:
        if result.passed:
            continue
        line = re.search(r"\(line (\d+)\)", result.failure)
        problems.append(DiagramProblem(f"scenario '{result.scenario.name}' faalt: {result.failure}",
                                       file=f"scenarios/{result.scenario.path.name}",
                                       line=int(line.group(1)) if line else None))
    return problems

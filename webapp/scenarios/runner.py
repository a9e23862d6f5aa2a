"""Runs scenarios against the real runtime, on a scratch in-memory database with a
virtual clock: timers fire at their own moments as the clock moves ahead."""

from __future__ import annotations

import dataclasses
import time
from calendar import monthrange
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.pool import StaticPool
from sqlalchemy.util import LRUCache

from webapp.db.models import AuditEvent, Base, HumanTask, Instance, OutboxMessage
from webapp.db.session import make_engine, make_session_factory
from webapp.runtime import clock
from webapp.runtime.diagrams import ParsedDiagram, parse_diagram
from webapp.runtime.errors import KlachtrouteError
from webapp.runtime.forms import FormCatalog
from webapp.runtime.organisations import OrganisationConfig, load_config
from webapp.runtime.service import Actor, Runtime
from webapp.vocabulary import EventType, HumanTaskState

from . import measure_steps
from .model import Scenario, load_scenarios, parse_scenarios

SCENARIO_DIR = "scenarios"
NOT_PASSED = {EventType.TASK_READY, EventType.TASK_CANCELLED, EventType.TASK_CLAIMED, EventType.TASK_RELEASED,
              EventType.TASK_HANDED_OVER}


class ScenarioFailure(AssertionError):
    pass


@dataclass
class ScenarioResult:
    scenario: Scenario
    failure: str | None = None
    seconds: float = 0.0
    letters: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failure is None


def parse_deadline(value: str) -> datetime:
    """'2026-03-05' means the end of that day in Amsterdam; otherwise an ISO moment with offset."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), dtime(23, 59, 59), clock.AMSTERDAM)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ScenarioFailure(f"moment '{value}' needs a UTC offset, such as +01:00")
    return moment


class _Run:
    def __init__(self, runtime: Runtime, config: OrganisationConfig, scenario: Scenario,
                 virtual: clock.VirtualClock) -> None:
        self.runtime, self.config, self.scenario, self.clock = runtime, config, scenario, virtual
        self.instance_id = 0
        self.actor_email = lambda role: f"{role}@scenario"  # the demo acts as its demo users

    # -- steps ---------------------------------------------------------------------------

    def start(self) -> None:
        data = self.scenario.data
        self.instance_id = self.runtime.start(self.config.slug, data, complaint_type=data.get("soort"),
                                              location=data.get("locatie")).instance_id

    def step(self, step: dict[str, Any]) -> None:
        if "complete" in step:
            self._complete(step)
        elif "message" in step:
            self._message(step)
        elif "follow_up" in step:
            self._follow_up(step)
        elif "advance" in step:
            self._advance_to(self._after(step["advance"]))
        elif "advance_to" in step:
            self._advance_to(parse_deadline(step["advance_to"]))
        elif "expect" in step:
            self.expect(step["expect"])

    def _ready(self) -> list[HumanTask]:
        with self.runtime.sessions() as s:
            return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == self.instance_id,
                                                          HumanTask.state == HumanTaskState.READY).order_by(HumanTask.id)))

    def _find_task(self, name: str) -> HumanTask:
        matches = [t for t in self._ready() if name in (t.name, t.bpmn_id)]
        if not matches:
            raise ScenarioFailure(f"task '{name}' is not ready; ready: {self._ready_names() or 'none'}")
        return matches[0]

    def _ready_names(self) -> str:
        return ", ".join(f"'{t.name}'" for t in self._ready())

    def _expect_error(self, step: dict[str, Any], action) -> None:
        expected = step.get("expect_error")
        try:
            action()
        except KlachtrouteError as exc:
            if expected is None:
                raise ScenarioFailure(f"{type(exc).__name__}: {exc}") from exc
            if expected.lower() not in str(exc).lower():
                raise ScenarioFailure(f"expected an error with '{expected}', got: {exc}") from exc
            return
        if expected is not None:
            raise ScenarioFailure(f"expected an error with '{expected}', but the step succeeded")

    def _complete(self, step: dict[str, Any]) -> None:
        task = self._find_task(step["complete"])
        role = step.get("as") or task.role
        if role is None:
            raise ScenarioFailure(f"task '{task.name}' is in lane '{task.lane}', which maps to no role")
        actor = Actor(self.actor_email(role), self.config.slug, frozenset({role}))
        self._expect_error(step, lambda: self.runtime.complete_task(
            self.instance_id, task.task_id, actor, step.get("data", {})))

    def _message(self, step: dict[str, Any]) -> None:
        role = step.get("as", next(iter(self.config.roles)))
        actor = Actor(self.actor_email(role), self.config.slug, frozenset({role}))
        self._expect_error(step, lambda: self.runtime.send_message(
            self.instance_id, step["message"], step.get("payload", {}), actor))

    def _follow_up(self, step: dict[str, Any]) -> None:
        try:
            self._expect_error(step, lambda: measure_steps.answer(self.runtime, self.config.slug,
                                                                  self.instance_id, step, self.actor_email))
        except measure_steps.MeasureStepError as exc:
            raise ScenarioFailure(str(exc)) from exc

    def _after(self, spec: dict[str, int]) -> datetime:
        moment = self.clock.now()
        local = clock.to_local(moment)
        if spec.get("working_days"):
            day, left = local.date(), spec["working_days"]
            while left:
                day += timedelta(days=1)
                left -= self.config.calendar.is_working_day(day)
            local = datetime.combine(day, local.timetz())
        if spec.get("months"):
            total = local.month - 1 + spec["months"]
            year, month = local.year + total // 12, total % 12 + 1
            # The same day N months later, or that month's last day.
            local = local.replace(year=year, month=month, day=min(local.day, monthrange(year, month)[1]))
        local = local + timedelta(days=spec.get("days", 0) + 7 * spec.get("weeks", 0),
                                  hours=spec.get("hours", 0), minutes=spec.get("minutes", 0))
        # Wall-clock arithmetic in Amsterdam, so "one week" stays 09:00 across a DST switch.
        return local.replace(tzinfo=None).replace(tzinfo=clock.AMSTERDAM)

    def _advance_to(self, target: datetime) -> None:
        if target < self.clock.now():
            raise ScenarioFailure(f"cannot move the clock back to {target.isoformat()}")
        # Fire each timer at its own moment, and raise each measure's follow-up task at the start
        # of its promised date, as the worker would, so order is kept.
        while (due := self._next_wakeup()) is not None and due < target:
            self.clock.set(max(due + timedelta(seconds=1), self.clock.now()))
            if not self._worker_round():
                break
        self.clock.set(target)
        while self._worker_round():
            pass

    def _next_wakeup(self) -> datetime | None:
        moments = [m for m in (self.runtime.next_wakeup_at(), measure_steps.next_follow_up_at(self.runtime)) if m]
        return min(moments, default=None)

    def _worker_round(self) -> bool:
        fired = bool(self.runtime.fire_due_timers().timers)
        return measure_steps.raise_follow_ups(self.runtime) > 0 or fired

    # -- expectations --------------------------------------------------------------------

    def _audit(self) -> list[AuditEvent]:
        with self.runtime.sessions() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.instance_id == self.instance_id)
                                  .order_by(AuditEvent.id)))

    def _outbox(self) -> list[OutboxMessage]:
        with self.runtime.sessions() as s:
            return list(s.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == self.instance_id)
                                  .order_by(OutboxMessage.id)))

    def letters(self) -> list[str]:
        return [m.template or m.subject for m in self._outbox() if m.kind == "letter"]

    def expect(self, expect: dict[str, Any]) -> None:
        problems: list[str] = []
        if "tasks" in expect:
            problems += self._expect_tasks(expect["tasks"])
        if "letters" in expect and self.letters() != expect["letters"]:
            problems.append(f"letters sent: {self.letters()}, expected {expect['letters']}")
        if "notified_roles" in expect:
            notified = {m.recipient.removeprefix("role:") for m in self._outbox() if m.kind == "notification"}
            missing = sorted(set(expect["notified_roles"]) - notified)
            if missing:
                problems.append(f"no notification to role(s) {missing}; notified: {sorted(notified)}")
        audit = self._audit()
        # Passed means run: a task made ready and then cancelled was never passed.
        passed = {a.bpmn_id for a in audit if a.bpmn_id and a.event_type not in NOT_PASSED}
        with self.runtime.sessions() as s:
            instance = s.get(Instance, self.instance_id)
        if "status" in expect and instance.status != expect["status"]:
            problems.append(f"status is '{instance.status}', expected '{expect['status']}'")
        if "end_event" in expect:
            ends = [a.bpmn_id for a in audit if a.event_type == EventType.END_EVENT]
            if expect["end_event"] not in ends:
                problems.append(f"end event '{expect['end_event']}' not reached; reached: {ends or 'none'}")
        for element in expect.get("passed", []):
            if element not in passed:
                problems.append(f"element '{element}' was not passed")
        for element in expect.get("not_passed", []):
            if element in passed:
                problems.append(f"element '{element}' was passed, expected not")
        if "timers_fired" in expect:
            fired = Counter(a.bpmn_id for a in audit if a.event_type == EventType.TIMER_FIRED)
            if set(fired) != set(expect["timers_fired"]):
                problems.append(f"timers fired: {sorted(fired)}, expected {sorted(expect['timers_fired'])}")
        for gateway, target in expect.get("decisions", {}).items():
            taken = [t for a in audit if a.event_type == EventType.GATEWAY_PASSED and a.bpmn_id == gateway
                     for t in a.data.get("to", [])]
            if target not in taken:
                problems.append(f"gateway '{gateway}' went to {taken or 'nowhere yet'}, expected '{target}'")
        if "data" in expect:
            data = self.runtime.load(self.instance_id).workflow.last_task.data
            for key, value in expect["data"].items():
                if data.get(key) != value:
                    problems.append(f"data '{key}' is {data.get(key)!r}, expected {value!r}")
        if "next_deadline" in expect:
            wanted = parse_deadline(expect["next_deadline"]) if expect["next_deadline"] else None
            if instance.next_wakeup_at != wanted:
                problems.append(f"next deadline is {_show(instance.next_wakeup_at)}, expected {_show(wanted)}")
        problems += measure_steps.expect_measures(self.runtime, self.config.slug, self.instance_id, expect)
        if problems:
            raise ScenarioFailure("; ".join(problems))

    def _expect_tasks(self, expected: list[Any]) -> list[str]:
        problems = []
        ready = self._ready()
        wanted = [e if isinstance(e, dict) else {"task": e} for e in expected]
        names = sorted(t.name for t in ready)
        matched = []
        for want in wanted:
            task = next((t for t in ready if want["task"] in (t.name, t.bpmn_id) and t not in matched), None)
            if task is None:
                problems.append(f"task '{want['task']}' is not ready")
                continue
            matched.append(task)
            if "role" in want and task.role != want["role"]:
                problems.append(f"task '{task.name}' is for role '{task.role}', expected '{want['role']}'")
            if "due" in want:
                due = parse_deadline(want["due"]) if want["due"] else None
                if task.due_at != due:
                    problems.append(f"task '{task.name}' is due {_show(task.due_at)}, expected {_show(due)}")
        extra = [t.name for t in ready if t not in matched]
        if extra:
            problems.append(f"unexpected ready task(s): {extra}")
        if problems:
            problems.append(f"ready: {names}")
        return problems


def _show(moment: datetime | None) -> str:
    return clock.to_local(moment).isoformat() if moment else "none"


# Compiled SQL shared by every scratch database of this process (SQLAlchemy keeps one per
# engine otherwise, and a scenario run makes a new engine).
_COMPILED = LRUCache(2000)


class _ScratchDatabase:
    """One in-memory database for a run of scenarios, emptied between them: SQLAlchemy
    compiles each statement once per engine, not once per scenario."""

    def __init__(self) -> None:
        self.engine = make_engine("sqlite://", poolclass=StaticPool, execution_options={"compiled_cache": _COMPILED})
        Base.metadata.create_all(self.engine)
        self.used = False

    def fresh(self):
        if self.used:
            with self.engine.begin() as conn:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
        self.used = True
        return make_session_factory(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


class _ScenarioRuntime(Runtime):
    """A runtime that takes the draft parsed once for all scenarios (a spec is shared by
    complaints anyway, see ParsedDiagram.specs_for_instance)."""

    def __init__(self, *args, parsed: ParsedDiagram | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._parsed = parsed

    def validate_diagram(self, slug: str, xml: str, dependencies: dict[str, str] | None = None) -> ParsedDiagram:
        if self._parsed is not None:
            return self._parsed
        return super().validate_diagram(slug, xml, dependencies)


def run_scenario(config: OrganisationConfig, scenario: Scenario, forms: FormCatalog | None = None,
                 xml: str | None = None, dependencies: dict[str, str] | None = None, *,
                 database: _ScratchDatabase | None = None, parsed: ParsedDiagram | None = None) -> ScenarioResult:
    began = time.perf_counter()
    own = database is None
    database = database or _ScratchDatabase()
    result = ScenarioResult(scenario)
    try:
        virtual = clock.VirtualClock(parse_deadline(scenario.start))
        with clock.using_clock(virtual):
            runtime = _ScenarioRuntime(database.fresh(), {config.slug: config}, parsed=parsed)
            runtime.ensure_organisations()
            runtime.deploy(config.slug, xml, dependencies)
            run = _Run(runtime, config, scenario, virtual)
            run.start()
            for number, step in enumerate(scenario.steps, start=1):
                try:
                    run.step(step)
                except (ScenarioFailure, KlachtrouteError) as exc:
                    line = scenario.lines[number - 1] if number <= len(scenario.lines) else "?"
                    raise ScenarioFailure(f"step {number} (line {line}): {exc}") from exc
            if scenario.expect:
                try:
                    run.expect(scenario.expect)
                except ScenarioFailure as exc:
                    raise ScenarioFailure(f"final expectations: {exc}") from exc
            result.letters = run.letters()
    except (ScenarioFailure, KlachtrouteError) as exc:
        result.failure = str(exc)
    finally:
        if own:
            database.dispose()
        result.seconds = time.perf_counter() - began
    return result


def run_scenarios(config: OrganisationConfig, scenarios: list[Scenario], forms: FormCatalog | None = None,
                  xml: str | None = None, dependencies: dict[str, str] | None = None) -> list[ScenarioResult]:
    """Run scenarios against the organisation's files or a draft: the diagram is parsed once
    and the scratch database is reused (emptied) between scenarios."""
    if xml is None:
        xml, dependencies = config.read_diagram_files()
    try:
        parsed = parse_diagram(xml, config.process_file, config.process_id, dependencies)
    except KlachtrouteError:
        parsed = None  # every scenario reports the diagram's problem through its deploy
    # The package with this diagram in it, made once: every scenario's deploy then finds the same
    # configuration (and its compiled forms) instead of building its own.
    dependencies = dependencies or {}
    if config.files.get(config.process_file) != xml or any(config.files.get(n) != t for n, t in dependencies.items()):
        config = dataclasses.replace(config, files={**config.files, config.process_file: xml, **dependencies})
    database = _ScratchDatabase()
    try:
        return [run_scenario(config, scenario, forms, xml, dependencies, database=database, parsed=parsed)
                for scenario in scenarios]
    finally:
        database.dispose()


def scenario_files(folder: Path) -> list[Path]:
    return sorted((folder / SCENARIO_DIR).glob("*.yaml"))


def load_folder_scenarios(folder: Path) -> list[Scenario]:
    return [scenario for path in scenario_files(folder) for scenario in load_scenarios(path)]


def load_package_scenarios(texts: dict[str, str]) -> list[Scenario]:
    """The scenarios of a package (`scenarios/<name>.yaml` by name), in name order."""
    return [scenario for name in sorted(texts) for scenario in parse_scenarios(texts[name], Path("scenarios") / name)]


def verify_organisation(folder: Path, forms: FormCatalog | None = None, xml: str | None = None,
                        dependencies: dict[str, str] | None = None, *,
                        form_roots: tuple[Path, ...] = ()) -> list[ScenarioResult]:
    """Run every scenario of an organisation or package folder (against `xml` instead of its
    file, for a draft); `forms` or `form_roots`: where else its forms may be found."""
    roots = tuple(forms.roots) if forms is not None and forms.texts is None else form_roots
    config = load_config(folder, roots)
    return run_scenarios(config, load_package_scenarios(config.scenario_texts), None, xml, dependencies)

"""The figures of one organisation for the complaints received in a period (see the package's doc
for how each is derived): one pass over the complaints tallies everything, then the tally is
assembled into a `Report`."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from webapp import clock
from webapp.runtime.organisations import OrganisationConfig
from webapp.vocabulary import HumanTaskState

from .complaints import Complaint, ComplaintTrace, current_version, load_complaints
from .fields import FieldInfo, FormFields
from .kinds import DeadlineKind, deadline_kinds
from .labels import (
    BODIES,
    ESCALATION_LEVELS,
    EXTERNAL,
    MEASURE_FIELD,
    MEASURE_TASK,
    MEASURE_TEXT_FIELD,
    NATURE_FIELD,
    TIMER_LEVEL,
    TYPE_ORDER,
    clean,
    type_key,
    type_label,
)
from .model import DiagramModel, diagram_model
from .periods import Period
from .results import (
    Breakdown,
    CommitteeCases,
    Count,
    DeadlineFigure,
    EscalationLevel,
    EscalationStep,
    HandlingRow,
    LocationRow,
    QuarterSummary,
    Report,
    Throughput,
)
from .settings import location_label

VERDICTS = ("within", "exceeded", "running", "no_deadline")
# A choice recorded on a form: its last value, the field, the step and the form it was recorded in.
Choice = tuple[Any, FieldInfo, str, str | None]


def _by_count(counter: Mapping[str, int]) -> list[Count]:
    return [Count(k, v) for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass
class _Tally:
    """Everything counted over the complaints of the period."""

    config: OrganisationConfig
    public: bool
    forms: FormFields
    figures: dict[str, DeadlineFigure]
    types: Counter[str] = field(default_factory=Counter)
    locations: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    outcomes: Counter[str] = field(default_factory=Counter)
    handling: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    open_by_type: Counter[str] = field(default_factory=Counter)
    levels: dict[str, dict[str, set[int]]] = field(default_factory=lambda: {
        key: defaultdict(set) for key in [TIMER_LEVEL[0], *(k for k, _, _ in ESCALATION_LEVELS)]})
    level_complaints: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    committees: dict[str, dict[str, Any]] = field(default_factory=dict)
    choices: dict[str, dict[str, Any]] = field(default_factory=dict)
    measures: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    purged: int = 0
    # Per complaint what the quarter summaries count: (received, closed, verdict, escalated, external cases).
    rows: list[tuple[datetime, bool, str, bool, int]] = field(default_factory=list)

    def add(self, complaint: Complaint, model: DiagramModel, kinds: list[DeadlineKind]) -> None:
        trace = ComplaintTrace(complaint, model)
        self._basics(complaint)
        verdict = self._deadlines(trace, kinds)
        self._outcome(trace, model, verdict)
        escalated = self._escalations(complaint, trace, model)
        last = self._choices(complaint, model)
        self._measures(complaint, last)
        cases = self._committees(complaint, model, last)
        self.rows.append((complaint.created_at, complaint.closed_at is not None, verdict, escalated, cases))

    def _basics(self, complaint: Complaint) -> None:
        key = type_key(complaint.type)
        self.types[key] += 1
        self.locations[location_label(self.config, complaint.location, self.public)][key] += 1
        self.purged += complaint.purged
        if complaint.closed_at is not None:
            self.durations[key].append((complaint.closed_at - complaint.created_at).total_seconds() / 86400)
        else:
            self.open_by_type[key] += 1

    def _deadlines(self, trace: ComplaintTrace, kinds: list[DeadlineKind]) -> str:
        """Counts each kind's state; returns the complaint's verdict over its (non-lapse) deadlines."""
        states = []
        for kind in kinds:
            state = trace.deadline(kind)
            if state is not None:
                figure = self.figures[kind.key]
                setattr(figure, state, getattr(figure, state) + 1)
                if not kind.lapse:
                    states.append(state)
        return ("exceeded" if "gemist" in states else "running" if "open" in states
                else "within" if "gehaald" in states else "no_deadline")

    def _outcome(self, trace: ComplaintTrace, model: DiagramModel, verdict: str) -> None:
        routes = [model.name(e) for e in trace.ends if model.is_outcome(e)]
        if not routes:
            routes = ["Nog in behandeling" if trace.running else "Afgesloten zonder eindpunt"]
        self.verdicts[verdict] += 1
        for route in dict.fromkeys(routes):
            self.outcomes[route] += 1
            self.handling[route][verdict] += 1

    def _escalations(self, complaint: Complaint, trace: ComplaintTrace, model: DiagramModel) -> bool:
        """Counts the escalations; whether the complaint escalated."""
        escalated = False
        for tid in trace.fired:
            timer = model.element(tid)
            if timer is not None and timer.timer is not None and model.escalates(timer):
                label = f"{timer.name} ({model.name(timer.attached_to or '')})"
                self.levels[TIMER_LEVEL[0]][label].add(complaint.id)
                self.level_complaints[TIMER_LEVEL[0]].add(complaint.id)
                escalated = True
        for eid, key in model.escalation_steps():
            if trace.state_of(eid) is not None:
                self.levels[key][model.name(eid)].add(complaint.id)
                self.level_complaints[key].add(complaint.id)
                escalated = True
        return escalated

    def _choices(self, complaint: Complaint, model: DiagramModel) -> dict[str, Choice]:
        """The recorded choices: the last value per field of this complaint."""
        last: dict[str, Choice] = {}
        filled: set[str] = set()
        for event in complaint.completions:
            element = model.element(event.bpmn_id or "")
            form = element.form if element else None
            step = clean(event.bpmn_name) or (element.name if element else "")
            for name, value in event.decisions.items():
                last[name] = (value, self.forms.info(form, name, value), step, form)
            filled.update(event.fields)
        for name, (value, info, step, form) in last.items():
            entry = self.choices.setdefault(name, {"info": info, "step": step, "form": form, "counts": Counter()})
            entry["counts"][info.show(value)] += 1
        if any(MEASURE_TEXT_FIELD.search(f) for f in filled):
            self.measures["Maatregelen met een termijn vastgelegd"] += 1
        return last

    def _measures(self, complaint: Complaint, last: dict[str, Choice]) -> None:
        for name, (value, info, _step, _form) in last.items():
            if not MEASURE_FIELD.search(name):
                continue
            if info.kind == "bool" and value is True:
                self.measures[f"{info.title.rstrip('?').strip()}: ja"] += 1
            elif info.kind == "choice":
                self.measures[f"{info.title}: {info.show(value)}"] += 1
        for task in complaint.tasks:
            if task.state == HumanTaskState.COMPLETED and MEASURE_TASK.search(task.name):
                self.measures[f"Uitgevoerd: {clean(task.name)}"] += 1

    def _committees(self, complaint: Complaint, model: DiagramModel, last: dict[str, Choice]) -> int:
        """External bodies: a step of the body whose form records a judgement. Returns the number
        of bodies the complaint is a case of."""
        counted: set[tuple[str, str]] = set()
        bodies: set[str] = set()
        for task in complaint.tasks:
            element = model.element(task.bpmn_id)
            lane = element.lane if element else ""
            text = f"{task.name} {lane or ''} {task.form or ''}"
            if not EXTERNAL.search(text):
                continue
            judgement_fields = [f for f in self.forms.of(task.form).values() if f.judgement]
            if not judgement_fields:
                continue
            body = next((label for pattern, label in BODIES if pattern.search(text)), "Externe instantie")
            entry = self.committees.setdefault(body, {"steps": set(), "cases": set(), "decided": set(),
                                                      "verdicts": Counter()})
            entry["steps"].add(clean(task.name))
            entry["cases"].add(complaint.id)
            bodies.add(body)
            if task.state == HumanTaskState.COMPLETED and (body, task.bpmn_id) not in counted:
                entry["decided"].add(complaint.id)
                counted.add((body, task.bpmn_id))
                value = next((last[f.name] for f in judgement_fields if f.name in last), None)
                if value is not None:
                    entry["verdicts"][value[1].show(value[0])] += 1
        return len(bodies)


# -- assembling ----------------------------------------------------------------------------------


def _deadline_figures(runtime, slug: str, config: OrganisationConfig,
                      kinds_by_version: dict[int, list[DeadlineKind]]) -> dict[str, DeadlineFigure]:
    figures: dict[str, DeadlineFigure] = {}
    for vid in sorted(kinds_by_version, reverse=True):  # the newest version names the kind
        for kind in kinds_by_version[vid]:
            figures.setdefault(kind.key, DeadlineFigure(kind))
    if not figures:  # no complaints in the period: the kinds as the current diagram measures them
        current = current_version(runtime, slug)
        for kind in deadline_kinds(config, diagram_model(current, config)) if current else []:
            figures[kind.key] = DeadlineFigure(kind)
    for key, spec in (config.deadlines or {}).items():
        if key not in figures:
            spec = spec if isinstance(spec, Mapping) else {}
            figures[key] = DeadlineFigure(DeadlineKind(key, str(spec.get("label") or key), frozenset(),
                                                       frozenset(), (), False))
    return figures


def _nearest_rank(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _throughput(label: str, values: list[float], still_open: int) -> Throughput:
    if not values:
        return Throughput(label, 0, still_open, None, None, None)
    return Throughput(label, len(values), still_open, round(statistics.median(values), 1),
                      round(_nearest_rank(values, 0.9), 1), round(max(values), 1))


def _throughputs(tally: _Tally, type_keys: list[str]) -> list[Throughput]:
    rows = [_throughput(type_label(key), tally.durations.get(key, []), tally.open_by_type[key]) for key in type_keys]
    if len(type_keys) > 1:
        rows.append(_throughput("Alle soorten", [v for vs in tally.durations.values() for v in vs],
                                sum(tally.open_by_type.values())))
    return rows


def _escalation_levels(tally: _Tally) -> list[EscalationLevel]:
    levels = []
    for key, label in [TIMER_LEVEL, *((k, lbl) for k, lbl, _ in ESCALATION_LEVELS)]:
        steps = [EscalationStep(name, len(ids))
                 for name, ids in sorted(tally.levels[key].items(), key=lambda kv: (-len(kv[1]), kv[0]))]
        levels.append(EscalationLevel(key, label, len(tally.level_complaints[key]), steps))
    return levels


def _committee_rows(tally: _Tally) -> list[CommitteeCases]:
    return [CommitteeCases(body, sorted(e["steps"]), len(e["cases"]), len(e["decided"]),
                           len(e["cases"] - e["decided"]),
                           [Count(k, v) for k, v in sorted(e["verdicts"].items(), key=lambda kv: -kv[1])])
            for body, e in sorted(tally.committees.items())]


def _breakdowns(tally: _Tally) -> tuple[list[Breakdown], list[Breakdown], list[Breakdown]]:
    """The recorded choices as judgements, nature and every decision."""
    judgements, nature, decisions = [], [], []
    for name, entry in sorted(tally.choices.items(), key=lambda kv: kv[1]["info"].title):
        info: FieldInfo = entry["info"]
        breakdown = Breakdown(info.title, name, entry["step"], _by_count(entry["counts"]))
        text = f"{name} {entry['form'] or ''} {entry['step']}"
        if info.judgement and not EXTERNAL.search(text):
            judgements.append(breakdown)
        if info.kind == "choice" and NATURE_FIELD.search(name) and not MEASURE_FIELD.search(name):
            nature.append(breakdown)
        if info.kind in ("choice", "bool"):
            decisions.append(breakdown)
    return judgements, nature, decisions


def _assemble(tally: _Tally, slug: str, period: Period, complaints: list[Complaint]) -> Report:
    config = tally.config
    type_keys = sorted(tally.types, key=lambda k: (TYPE_ORDER.index(k) if k in TYPE_ORDER else 99, k))
    by_location = sorted((LocationRow(loc, sum(c.values()), {k: c.get(k, 0) for k in type_keys})
                          for loc, c in tally.locations.items()), key=lambda r: (-r.total, r.location))
    closed = sum(1 for c in complaints if c.closed_at is not None)
    by_status = [Count("Afgesloten", closed), Count("In behandeling", len(complaints) - closed)]
    outcomes = tally.outcomes
    handling = [HandlingRow(route, outcomes[route], c["within"], c["exceeded"], c["running"], c["no_deadline"])
                for route, c in sorted(tally.handling.items(), key=lambda kv: (-outcomes[kv[0]], kv[0]))]
    order = list((config.deadlines or {}).keys())
    figures = sorted(tally.figures.values(), key=lambda f: order.index(f.kind.key) if f.kind.key in order else 99)
    judgements, nature, decisions = _breakdowns(tally)
    return Report(
        slug=slug, organisation=config.name, period=period, generated_at=clock.now(), public=tally.public,
        total=len(complaints), closed=by_status[0].count, running=by_status[1].count, types=type_keys,
        by_type=[Count(type_label(k), tally.types[k]) for k in type_keys], by_location=by_location,
        by_status=by_status, by_outcome=_by_count(outcomes), handling=handling,
        deadlines=[f for f in figures if not f.kind.lapse], lapse_terms=[f for f in figures if f.kind.lapse],
        throughput=_throughputs(tally, type_keys), escalations=_escalation_levels(tally),
        committees=_committee_rows(tally), judgements=judgements, nature=nature,
        measures=_by_count(tally.measures), decisions=[] if tally.public else decisions, purged=tally.purged,
        deadline_verdicts={k: tally.verdicts.get(k, 0) for k in VERDICTS},
        escalated_complaints=len(set().union(*tally.level_complaints.values())))


# -- the reports ---------------------------------------------------------------------------------


def build_report(runtime, slug: str, period: Period, public: bool = False) -> Report:
    """The figures of one organisation for the complaints received in `period`.
    `public`: the anonymised version for publication (no free-text locations outside the
    organisation's list, no table of every recorded choice)."""
    complaints, versions = load_complaints(runtime.sessions, slug, period)
    return _report_of(runtime, slug, period, public, complaints, versions)


def _report_of(runtime, slug: str, period: Period, public: bool, complaints: list[Complaint],
               versions: dict) -> Report:
    return _tally_report(runtime, slug, period, public, complaints, versions)[0]


def _tally_report(runtime, slug: str, period: Period, public: bool, complaints: list[Complaint],
                  versions: dict) -> tuple[Report, _Tally]:
    config: OrganisationConfig = runtime.organisation(slug)
    models = {vid: diagram_model(v, config) for vid, v in versions.items()}
    kinds_by_version = {vid: deadline_kinds(config, m) for vid, m in models.items()}
    tally = _Tally(config, public, FormFields(config.forms),
                   _deadline_figures(runtime, slug, config, kinds_by_version))
    for complaint in complaints:
        tally.add(complaint, models[complaint.version_id], kinds_by_version[complaint.version_id])
    return _assemble(tally, slug, period, complaints), tally


def annual_report(runtime, slug: str, year: int) -> Report:
    """The data of the public annual complaints report (openbaar klachtenjaarverslag):
    anonymised, computed from the complaints received in the calendar year. The year's
    complaints are read and tallied once; the quarters are counted from that tally."""
    period = Period(date(year, 1, 1), date(year, 12, 31), f"jaarverslag {year}")
    complaints, versions = load_complaints(runtime.sessions, slug, period)
    report, tally = _tally_report(runtime, slug, period, True, complaints, versions)
    report.quarters = _quarter_rows(year, tally)
    return report


def quarterly_report(runtime, slug: str, year: int, quarter: int) -> Report:
    """Kwartier's quarterly analysis for the OR and the management team (anonymised), with the
    quarters of the year side by side."""
    report = build_report(runtime, slug, Period.quarter(year, quarter), public=True)
    report.quarters = quarter_summaries(runtime, slug, year)
    return report


def quarter_summaries(runtime, slug: str, year: int) -> list[QuarterSummary]:
    year_period = Period(date(year, 1, 1), date(year, 12, 31), f"{year}")
    complaints, versions = load_complaints(runtime.sessions, slug, year_period)
    return _quarter_rows(year, _tally_report(runtime, slug, year_period, True, complaints, versions)[1])


def _quarter_rows(year: int, tally: _Tally) -> list[QuarterSummary]:
    """Each quarter's complaints (by receipt) as the quarter's own report would count them: every
    figure of a complaint depends on that complaint alone."""
    rows = []
    for quarter in (1, 2, 3, 4):
        begin, finish = Period.quarter(year, quarter).bounds
        mine = [r for r in tally.rows if begin <= r[0] < finish]
        rows.append(QuarterSummary(
            quarter, f"K{quarter}", len(mine), sum(1 for r in mine if r[1]),
            sum(1 for r in mine if r[2] == "within"), sum(1 for r in mine if r[2] == "exceeded"),
            sum(1 for r in mine if r[3]), sum(r[4] for r in mine)))
    return rows

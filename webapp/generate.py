"""Generate a year of complaints for tests and the demo, through the REAL procedures.

For every organisation with a deployed diagram and scenarios (`bpmn/<slug>/scenarios/*.yaml`),
`generate_year` picks a scenario at random per complaint, moves it to a random day of the year
(on the same weekday, so working-day deadlines keep their meaning; holidays still make some
complaints diverge, which gives met and missed deadlines) and plays its steps against the given
runtime and database: the same `runtime.start`, `complete_task`, `send_message` and timer sweeps
as the web app and the worker. All complaints run in one simulation on a virtual clock that only
moves forward: at each moment the complaint whose next step is due acts, and every timer of every
complaint fires at its own moment, as the worker would fire it.

The complainant's name, email address and phone number are replaced by generated ones; the
scenario's descriptions and form texts are kept. Everything personal that went in is returned, so
tests can check that no report shows it. Deterministic for a seed.
"""

from __future__ import annotations

import heapq
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from webapp.runtime import clock
from webapp.runtime.errors import KlachtrouteError, NotFound
from webapp.runtime.organisations import OrganisationConfig
from webapp.scenarios.model import Scenario, ScenarioFormatError, parse_scenarios
from webapp.scenarios.runner import ScenarioFailure, _Run, parse_deadline

FIRST_NAMES = ["Anna", "Bram", "Chaima", "Daan", "Eva", "Fatima", "Gijs", "Hanna", "Ilse", "Jesse", "Kim",
               "Lotte", "Mehmet", "Noor", "Olaf", "Priya", "Quinten", "Roos", "Sem", "Tessa", "Umar", "Vera",
               "Wouter", "Yara", "Zeynep"]
LAST_NAMES = ["Aalbers", "Brouwer", "Coban", "Dijkstra", "El Khatib", "Fokkema", "Groen", "Hoekstra",
              "IJzerman", "Jansma", "Kuipers", "Lammers", "Mulder", "Nijboer", "Oosterhof", "Postma", "Rietveld",
              "Smit", "Terpstra", "Uitdehaag", "Visser", "Wijnalda", "Zijlstra"]


@dataclass(frozen=True)
class GeneratedComplaint:
    organisation: str
    reference: str
    instance_id: int
    scenario: str
    received_at: datetime
    complaint_type: str | None
    location: str | None
    steps: int  # steps played
    skipped: int  # steps that did not apply (the complaint took another turn)
    personal: tuple[str, ...] = field(default=(), repr=False)  # names, addresses, descriptions used


@dataclass
class _Script:
    config: OrganisationConfig
    scenario: Scenario
    offset: timedelta  # wall-clock shift of the scenario's absolute times
    data: dict[str, Any]
    steps: list[dict[str, Any]]
    at: datetime  # when its next step is due
    run: _Run | None = None
    received_at: datetime | None = None
    cursor: int = 0
    played: int = 0
    skipped: int = 0
    personal: set[str] = field(default_factory=set)


def _organisations(runtime, only: list[str] | None) -> list[tuple[OrganisationConfig, list[Scenario]]]:
    found = []
    for slug in sorted(only or runtime.organisations):
        config = runtime.organisations.get(slug)
        if config is None:
            continue
        try:
            runtime.current_version_id(slug)
        except NotFound:
            continue  # no diagram deployed: nothing to drive
        scenarios = []
        for name, text in sorted(config.scenario_texts.items()):  # the package's own scenarios
            try:
                scenarios.extend(parse_scenarios(text, Path("scenarios") / name))
            except ScenarioFormatError:
                continue
        if scenarios:
            found.append((config, scenarios))
    return found


def _shift(moment: datetime, days: int) -> datetime:
    """The same wall-clock time in Amsterdam, `days` later."""
    local = clock.to_local(moment)
    return (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=clock.AMSTERDAM)


def _day_in_year(rng: random.Random, year: int, weekday: int) -> date:
    first, last = date(year, 1, 1), date(year, 12, 31)
    day = first + timedelta(days=rng.randrange((last - first).days + 1))
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return day if day <= last else day - timedelta(days=7)


def _texts(value: Any, into: set[str], key: str = "") -> None:
    """The personal strings in data: names, addresses, phone numbers and free texts (descriptions,
    reports of conversations). Short values of other fields (a team, 'telefonisch') are not."""
    if isinstance(value, str):
        personal_field = any(k in key for k in ("naam", "email", "telefoon", "omschrijving"))
        if not _is_date(value) and (personal_field or "@" in value or len(value) >= 30):
            into.add(value)
    elif isinstance(value, dict):
        for name, item in value.items():
            _texts(item, into, str(name))
    elif isinstance(value, list):
        for item in value:
            _texts(item, into, key)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value[:10])
        return len(value) <= 25
    except ValueError:
        return False


def _choice_values(runtime) -> set[str]:
    """Every option of every form: not personal, reports may show them."""
    import json

    values: set[str] = set()
    texts = [config.forms.text(name) or "" for config in runtime.organisations.values()
             for name in config.forms.names() if name.endswith("-schema.json")]
    for text in texts:
        try:
            schema = json.loads(text)
        except ValueError:
            continue
        for spec in (schema.get("properties") or {}).values():
            if not isinstance(spec, dict):
                continue
            values.update(str(v) for v in spec.get("enum", []))
            for option in spec.get("oneOf", []):
                if isinstance(option, dict):
                    values.update(str(option.get(k)) for k in ("const", "title") if option.get(k))
    return values


def _prepare(rng: random.Random, config: OrganisationConfig, scenario: Scenario, year: int,
             locations: list[str], number: int, day: date | None = None) -> _Script:
    start = parse_deadline(scenario.start)
    local = clock.to_local(start)
    day = day or _day_in_year(rng, year, local.weekday())
    offset_days = (day - local.date()).days
    data = _shift_dates(dict(scenario.data), offset_days)
    klager = data.get("klager")
    if isinstance(klager, dict) and (klager.get("naam") or klager.get("email")):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        slug_name = f"{first}.{last}".lower().replace(" ", "")
        klager = {**klager, "naam": name, "email": f"{slug_name}.{number}@voorbeeld.nl"}
        if klager.get("telefoon"):
            klager["telefoon"] = f"06-{rng.randrange(10_000_000, 99_999_999)}"
        data["klager"] = klager
    if locations and data.get("locatie"):
        data["locatie"] = rng.choice(locations)
    steps = [_shift_dates(s, offset_days) for s in scenario.steps if "expect" not in s and "expect_error" not in s]
    script = _Script(config, scenario, timedelta(days=offset_days), data, steps, _shift(start, offset_days))
    personal: set[str] = set()
    for key in ("klager", "omschrijving"):
        _texts(data.get(key), personal, key)
    for step in steps:
        _texts(step.get("data"), personal)
        _texts(step.get("payload"), personal)
    # Team and location names are not personal: reports show locations.
    places = [*locations, str(data.get("locatie") or "")]
    script.personal = {p for p in personal if not any(p in place for place in places)}
    return script


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _shift_dates(value: Any, days: int, key: str = "") -> Any:
    """Every date in a scenario's data (the event, a contact date) moved as far as the complaint,
    so an event never lies after its receipt and a contact never before it. `advance_to`
    moments are shifted where they are played."""
    if isinstance(value, str) and key != "advance_to" and _ISO_DAY.match(value):
        return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
    if isinstance(value, dict):
        return {k: _shift_dates(v, days, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_dates(v, days, key) for v in value]
    return value


def _advance(runtime, virtual: clock.VirtualClock, target: datetime) -> None:
    """Move the clock to `target`, firing every timer at its own moment (as the worker does)."""
    while (due := runtime.next_wakeup_at()) is not None and due < target:
        virtual.set(max(due + timedelta(seconds=1), virtual.now()))
        if not runtime.fire_due_timers(limit=500).timers:
            break
    if target > virtual.now():
        virtual.set(target)
    while runtime.fire_due_timers(limit=500).timers:
        pass


def generate_year(runtime, year: int, count_per_org: int = 40, seed: int = 0,
                  organisations: list[str] | None = None, until: datetime | None = None
                  ) -> list[GeneratedComplaint]:
    """Drive `count_per_org` complaints per organisation (those with a deployed diagram and
    scenarios) received in `year` through their procedures, in the runtime's own database.
    `until`: move the clock on to this moment afterwards, firing what falls due until then.
    Returns the complaints in order of receipt."""
    rng = random.Random(seed)
    scripts: list[_Script] = []
    for config, scenarios in _organisations(runtime, organisations):
        pool = _location_pool(config, scenarios)
        for _ in range(count_per_org):
            scenario = rng.choice(scenarios)
            scripts.append(_prepare(rng, config, scenario, year, pool, len(scripts)))
    return _simulate(runtime, scripts, until=until)


def generate_demo(runtime, now: datetime, history_per_org: int = 30, recent_per_org: int = 12, seed: int = 0,
                  days: int = 42, organisations: list[str] | None = None,
                  actor_email: Callable[[str, str], str] | None = None) -> list[GeneratedComplaint]:
    """A living organisation, relative to `now`: `history_per_org` complaints received in the year
    before the last `days` days (mostly closed, for the reports) and `recent_per_org` received in
    the last `days` days, played as far as today and left open where today finds them: new ones
    (received today and yesterday), tasks due soon or overdue, escalations, a complainant's answer
    awaited, a case with an external committee. Every timer due before `now` has fired, as the
    worker would have fired it."""
    rng = random.Random(seed)
    scripts: list[_Script] = []
    for config, scenarios in _organisations(runtime, organisations):
        pool = _location_pool(config, scenarios)
        for index in range(history_per_org + recent_per_org):
            scenario = rng.choice(scenarios)
            weekday = clock.to_local(parse_deadline(scenario.start)).weekday()
            if index >= recent_per_org:
                back, aligned = rng.randrange(days, 365), weekday
            else:  # the first two of each organisation arrived today and yesterday: new in the inbox
                back, aligned = (index, None) if index < 2 else (rng.randrange(2, days), weekday)
            script = _prepare(rng, config, scenario, 2000, pool, len(scripts), day=_recent_day(now, back, aligned))
            if script.at >= now:  # later in the day than it is now: a day earlier
                script = _prepare(rng, config, scenario, 2000, pool, len(scripts),
                                  day=_recent_day(now, back + 1, None))
            if index < recent_per_org:
                # Recent complaints are under way: today's untouched, the others part of the way.
                script.steps = script.steps[:0 if index < 2 else rng.randrange(len(script.steps) or 1)]
            scripts.append(script)
    return _simulate(runtime, scripts, until=now, stop_at=now, actor_email=actor_email)


def _recent_day(now: datetime, back: int, weekday: int | None) -> date:
    """`back` days before today, moved back to the scenario's weekday (its deadlines keep their meaning)."""
    day = clock.to_local(now).date() - timedelta(days=back)
    return day if weekday is None else day - timedelta(days=(day.weekday() - weekday) % 7)


def _simulate(runtime, scripts: list[_Script], until: datetime | None = None, stop_at: datetime | None = None,
              actor_email: Callable[[str, str], str] | None = None) -> list[GeneratedComplaint]:
    """Play the scripts in one simulation on a virtual clock; a script whose next step falls after
    `stop_at` stops there (its complaint stays open). `actor_email(slug, role)`: who does a step."""
    if not scripts:
        return []
    choice_values = _choice_values(runtime)
    queue = [(s.at, n, s) for n, s in enumerate(scripts)]
    heapq.heapify(queue)
    virtual = clock.VirtualClock(min(s.at for s in scripts))
    with clock.using_clock(virtual):
        while queue:
            at, n, script = heapq.heappop(queue)
            _advance(runtime, virtual, at)
            if script.run is None:
                script.run = _Run(runtime, script.config, Scenario(
                    script.scenario.name, script.scenario.path, script.scenario.start, script.data,
                    script.steps), virtual)
                if actor_email is not None:
                    script.run.actor_email = lambda role, slug=script.config.slug: actor_email(slug, role)
                try:
                    script.run.start()
                except KlachtrouteError:
                    continue  # the diagram refused it (a rule changed): no complaint
                script.received_at = virtual.now()
            moment = _play(script)
            if moment is not None and (stop_at is None or moment <= stop_at):
                heapq.heappush(queue, (max(moment, virtual.now()), n, script))
        if until is not None and until > virtual.now():
            _advance(runtime, virtual, until)
    result = []
    references = _references(runtime, [s.run.instance_id for s in scripts if s.run and s.run.instance_id])
    for script in scripts:
        if script.run is None or not script.run.instance_id:
            continue
        result.append(GeneratedComplaint(
            organisation=script.config.slug, reference=references[script.run.instance_id],
            instance_id=script.run.instance_id, scenario=script.scenario.name, received_at=script.received_at,
            complaint_type=script.data.get("soort"), location=script.data.get("locatie"), steps=script.played,
            skipped=script.skipped, personal=tuple(sorted(p for p in script.personal if p not in choice_values))))
    return sorted(result, key=lambda c: (c.received_at, c.instance_id))


def _play(script: _Script) -> datetime | None:
    """Play steps until one moves time on; returns when the script acts next (None: done)."""
    run = script.run
    while script.cursor < len(script.steps):
        step = script.steps[script.cursor]
        script.cursor += 1
        if "advance" in step:
            return run._after(step["advance"])
        if "advance_to" in step:
            return _shift(parse_deadline(step["advance_to"]), script.offset.days)
        try:
            run.step(step)
            script.played += 1
        except (ScenarioFailure, KlachtrouteError):
            script.skipped += 1  # the complaint went another way (a holiday moved a deadline)
    return None


def _location_pool(config: OrganisationConfig, scenarios: list[Scenario]) -> list[str]:
    from webapp.reports import known_locations

    known = sorted(known_locations(config))
    if known:
        return known
    return sorted({str(s.data["locatie"]) for s in scenarios if s.data.get("locatie")})


def _references(runtime, ids: list[int]) -> dict[int, str]:
    from sqlalchemy import select

    from webapp.db.models import Instance

    found = {}
    with runtime.sessions() as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(dict(session.execute(select(Instance.id, Instance.reference)
                                              .where(Instance.id.in_(chunk))).all()))
    return found


__all__ = ["GeneratedComplaint", "generate_demo", "generate_year"]

"""Measures in every procedure: a scenario of the organisation agrees a measure with a term; at that
date the responsible role gets "Maatregel gerealiseerd?", an overdue measure reaches the quality
officer's overview, and the answer (realised, a new date, dropped) is kept, with the complainant's
letter where the procedure promises feedback. Real procedures, real database, a virtual clock."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from webapp.db.models import Measure, MeasureComplaint, OutboxMessage
from webapp.db.session import make_session_factory
from webapp.mail import OutboxSender
from webapp.runtime import clock, measures
from webapp.runtime.errors import ConflictError, PermissionDenied
from webapp.runtime.organisations import load_config
from webapp.runtime.service import Runtime
from webapp.scenarios.model import load_scenarios
from webapp.scenarios.runner import _Run, parse_deadline, scenario_files
from webapp.vocabulary import MeasureStatus
from webapp.worker import Worker

from .conftest import PASSWORD, Browser

BPMN = Path(__file__).resolve().parents[1] / "bpmn"
# The roles that answer the follow-up, and whether the procedure promises the complainant feedback.
ORGANISATIONS = ["samen-kinderopvang", "skar", "korein", "kwartier", "mos"]
FEEDBACK = {"samen-kinderopvang", "skar", "korein"}


def _runtime(db_engine, slug: str) -> Runtime:
    config = load_config(BPMN / slug)
    runtime = Runtime(make_session_factory(db_engine), {slug: config})
    runtime.ensure_organisations()
    runtime.deploy(slug)
    return runtime


def _play_until_a_measure(runtime: Runtime, slug: str) -> tuple[Measure, clock.VirtualClock]:
    """Play the organisation's scenarios until one agrees a measure with a term still to come."""
    config = runtime.organisation(slug)
    for path in scenario_files(BPMN / slug):
        for scenario in load_scenarios(path):
            virtual = clock.VirtualClock(parse_deadline(scenario.start))
            with clock.using_clock(virtual):
                run = _Run(runtime, config, scenario, virtual)
                run.start()
                for step in scenario.steps:
                    run.step(step)
            with runtime.sessions() as session:
                today = clock.to_local(virtual.now()).date()
                found = session.scalars(select(Measure).where(Measure.instance_id == run.instance_id,
                                                              Measure.due_on > today).order_by(Measure.id)).first()
            if found is not None:
                return found, virtual
    raise AssertionError(f"no scenario of {slug} agrees a measure with a term")


def _follow_up_messages(runtime: Runtime, measure: Measure) -> list[OutboxMessage]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == "maatregel_opvolgen",
                                                                OutboxMessage.instance_id == measure.instance_id)))


def _row(runtime: Runtime, measure_id: int) -> measures.MeasureRow:
    return next(r for r in measures.register(runtime, "skar") if r.measure.id == measure_id)


def _at(day, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), clock.AMSTERDAM)


def _quality_role(runtime: Runtime, slug: str) -> str:
    from webapp.reports.public import quality_roles

    return quality_roles(runtime, slug)[0]


def _login(runtime: Runtime, email: str, *roles: str) -> Browser:
    from webapp.accounts import add_user
    from webapp.web import create_app

    with runtime.write_sessions.begin() as session:
        add_user(session, runtime.organisations, email, email.split("@")[0].title(), PASSWORD, list(roles))
    browser = Browser(create_app(runtime, SECRET_KEY="test-secret", TESTING=True).test_client())
    assert browser.login(email).status_code == 302
    return browser


@pytest.mark.parametrize("slug", ORGANISATIONS)
def test_a_measure_is_followed_up_on_its_date_and_an_overdue_one_reaches_the_quality_officer(db_engine, slug):
    runtime = _runtime(db_engine, slug)
    measure, virtual = _play_until_a_measure(runtime, slug)
    assert measure.status == MeasureStatus.OPEN and measure.description and measure.responsible_role
    assert measure.responsible_role in runtime.organisation(slug).roles
    with runtime.sessions() as session:
        assert session.scalar(select(MeasureComplaint.instance_id).where(
            MeasureComplaint.measure_id == measure.id)) == measure.instance_id

    with clock.using_clock(virtual):
        # The day before the promised date: no task yet.
        virtual.set(max(virtual.now(), _at(measure.due_on - timedelta(days=1), 23)))
        measures.raise_follow_ups(runtime)  # other complaints' measures of the scenarios played may be due
        assert not _follow_up_messages(runtime, measure)
        # On the promised date the responsible role gets "Maatregel gerealiseerd?", once.
        virtual.set(max(virtual.now(), _at(measure.due_on, 8)))
        assert measures.raise_follow_ups(runtime) == 1
        assert measures.raise_follow_ups(runtime) == 0
        messages = _follow_up_messages(runtime, measure)
        assert [m.recipient for m in messages] == [f"role:{measure.responsible_role}"]
        assert messages[0].subject.startswith("Maatregel gerealiseerd?")
        [row] = [r for r in measures.register(runtime, slug) if r.measure.id == measure.id]
        assert row.task_open and not row.overdue

        # A day later it is overdue, first on the quality officer's overview.
        virtual.set(_at(measure.due_on + timedelta(days=1)))
        officer = _login(runtime, f"kwaliteit@{slug}.test", f"{slug}:{_quality_role(runtime, slug)}")
        page = officer.get(f"/{slug}/maatregelen").get_data(as_text=True)
        assert "te laat" in page and "maatregel" in page
        assert measure.description.split("\n")[0][:40] in page.replace("&#39;", "'").replace("&quot;", '"')
        assert "te laat</strong>" in officer.get(f"/{slug}/maatregelen?status=te_laat").get_data(as_text=True)
        # ... and in the reports: the register's overdue measures, linked to the overview.
        reports_page = officer.get(f"/{slug}/rapportages").get_data(as_text=True)
        overdue = measures.status_counts(runtime, slug)["te_laat"]
        assert overdue >= 1
        assert re.search(rf'status=te_laat">Te laat</a></th><td class="getal">{overdue}</td>', reports_page)

        # The responsible person answers: realised, with what was done.
        responsible = _login(runtime, f"verantwoordelijk@{slug}.test", f"{slug}:{measure.responsible_role}")
        task_page = f"/{slug}/maatregelen"
        inbox = responsible.get(f"/{slug}/inbox").get_data(as_text=True)
        waiting = measures.waiting_count(runtime, slug, frozenset({measure.responsible_role}))
        assert waiting >= 1 and f"Maatregel gerealiseerd? {waiting} maatregel" in inbox
        assert "Is de maatregel gerealiseerd?" in responsible.get(task_page).get_data(as_text=True)
        refused = responsible.post(f"/{slug}/maatregelen/{measure.id}/opvolgen",
                                   {"uitkomst": "gerealiseerd", "toelichting": ""}, page=task_page,
                                   follow_redirects=True)
        assert "Beschrijf wat er is gedaan." in refused.get_data(as_text=True)
        done = responsible.post(f"/{slug}/maatregelen/{measure.id}/opvolgen",
                                {"uitkomst": "gerealiseerd", "toelichting": "Nieuwe werkafspraak ingevoerd."},
                                page=task_page, follow_redirects=True)
        assert "De opvolging van de maatregel is vastgelegd." in done.get_data(as_text=True)
    with runtime.sessions() as session:
        stored = session.get(Measure, measure.id)
        assert stored.status == MeasureStatus.REALISED and stored.outcome == "Nieuwe werkafspraak ingevoerd."
        letters = list(session.scalars(select(OutboxMessage).where(OutboxMessage.template.like("%maatregel_gerealiseerd"))))
    assert bool(letters) == (slug in FEEDBACK and measure.feedback_letter)
    if letters:
        assert "Nieuwe werkafspraak ingevoerd." in letters[0].body


def test_the_follow_up_is_a_task_in_the_inbox_of_the_responsible_role(db_engine):
    runtime = _runtime(db_engine, "skar")
    measure, virtual = _play_until_a_measure(runtime, "skar")
    row = f'maatregelen#taak-{measure.id}"'
    other_role = next(r for r in runtime.organisation("skar").roles if r != measure.responsible_role)
    with clock.using_clock(virtual):
        responsible = _login(runtime, "verantwoordelijk@skar.test", f"skar:{measure.responsible_role}")
        colleague = _login(runtime, "collega@skar.test", f"skar:{other_role}")
        virtual.set(max(virtual.now(), _at(measure.due_on - timedelta(days=1))))
        measures.raise_follow_ups(runtime)
        assert row not in responsible.get("/skar/inbox").get_data(as_text=True)

        # On the promised date the task is a row of the responsible role's inbox, not of another role's.
        virtual.set(_at(measure.due_on, 8))
        measures.raise_follow_ups(runtime)
        inbox = responsible.get("/skar/inbox").get_data(as_text=True)
        assert row in inbox and measure.description[:40] in inbox
        assert row not in colleague.get("/skar/inbox").get_data(as_text=True)
        # The inbox's filters apply: not overdue yet, and it cannot be claimed.
        assert row not in responsible.get("/skar/inbox?te_laat=1").get_data(as_text=True)
        assert row not in responsible.get("/skar/inbox?status=mine").get_data(as_text=True)
        assert row not in responsible.get(f"/skar/inbox?rol={other_role}").get_data(as_text=True)

        # A day later it is overdue, and answered it leaves the inbox.
        virtual.set(_at(measure.due_on + timedelta(days=1)))
        overdue = responsible.get("/skar/inbox?te_laat=1").get_data(as_text=True)
        assert row in overdue and "te laat" in overdue
        measures.answer_follow_up(runtime, "skar", measure.id, measures.Answer("vervallen", "Niet meer nodig"),
                                  "verantwoordelijk@skar.test", frozenset({measure.responsible_role}))
        assert row not in responsible.get("/skar/inbox").get_data(as_text=True)


def test_a_new_date_needs_a_reason_and_brings_a_new_task_and_dropping_is_kept(db_engine):
    runtime = _runtime(db_engine, "skar")
    measure, virtual = _play_until_a_measure(runtime, "skar")
    with clock.using_clock(virtual):
        virtual.set(max(virtual.now(), _at(measure.due_on, 8)))
        measures.raise_follow_ups(runtime)
        later = measure.due_on + timedelta(days=30)
        with pytest.raises(measures.MeasureInputError, match="reden"):
            measures.answer_follow_up(runtime, "skar", measure.id, measures.Answer("uitgesteld", " ", later),
                                      "b@skar.test", frozenset({measure.responsible_role}))
        with pytest.raises(PermissionDenied):
            measures.answer_follow_up(runtime, "skar", measure.id, measures.Answer("uitgesteld", "Wacht op de leverancier", later),
                                      "x@skar.test", frozenset({"oudercommissie"}))
        measures.answer_follow_up(runtime, "skar", measure.id, measures.Answer("uitgesteld", "Wacht op de leverancier", later),
                                  "b@skar.test", frozenset({measure.responsible_role}))
        row = _row(runtime, measure.id)
        assert row.measure.status == MeasureStatus.POSTPONED and row.measure.due_on == later and not row.task_open
        measures.raise_follow_ups(runtime)
        assert not _row(runtime, measure.id).task_open
        # The worker raises the new task on the new date, as it does every follow-up.
        virtual.set(_at(later, 8))
        assert Worker(runtime, OutboxSender(runtime.sessions, None)).sweep().follow_ups >= 1
        assert _row(runtime, measure.id).task_open
        assert len(_follow_up_messages(runtime, measure)) == 2
        measures.answer_follow_up(runtime, "skar", measure.id, measures.Answer("vervallen", "Niet meer nodig"),
                                  "b@skar.test", frozenset({measure.responsible_role}))
        with pytest.raises(ConflictError):
            measures.answer_follow_up(runtime, "skar", measure.id, measures.Answer("gerealiseerd", "toch"),
                                      "b@skar.test", frozenset({measure.responsible_role}))
    [row] = [r for r in measures.register(runtime, "skar", status="vervallen") if r.measure.id == measure.id]
    assert [h["status"] for h in row.measure.history] == ["uitgesteld", "vervallen"]
    assert row.measure.outcome == "Niet meer nodig"


def test_an_organisation_wide_improvement_links_several_complaints(db_engine):
    runtime = _runtime(db_engine, "korein")
    virtual = clock.VirtualClock(datetime(2026, 3, 2, 9, tzinfo=clock.AMSTERDAM))
    with clock.using_clock(virtual):
        refs = [runtime.start("korein", {"soort": "klacht", "locatie": "De Boomhut", "omschrijving": "x",
                                         "klager": {"naam": "A", "email": "a@example.nl", "relatie": "ouder"}},
                              complaint_type="klacht", location="De Boomhut").reference for _ in range(2)]
        new = measures.NewMeasure("Nieuwe overdracht via de ouderapp", datetime(2026, 6, 1).date(), "clustermanager",
                                  "J. Jansen", None, (refs[0], refs[1], refs[0]))
        measure_id = measures.add_improvement(runtime, "korein", new, "directeur@korein.test")
        with pytest.raises(measures.MeasureInputError, match="bestaat niet"):
            measures.add_improvement(runtime, "korein", measures.NewMeasure("x", new.due_on, "clustermanager",
                                                                            references=("KOR-1999-0001",)), "d")
    [row] = measures.register(runtime, "korein")
    assert row.measure.id == measure_id and row.measure.scope == "organisatie"
    assert sorted(row.references) == sorted(refs)


# SAMEN's scenario follows the ruling without measures: here the bestuurder agrees one.
SAMEN_RULING = {"Uitspraak opvolgen": {"maatregelen_na_uitspraak": "Extra pedagogisch medewerker op maandag.",
                                        "termijn_uitvoering_uitspraak": "2026-12-01"}}


@pytest.mark.parametrize(("slug", "file", "source", "role", "extra"), [
    ("skar", "extern.yaml", "Service_maatregel_uitspraak", "pedagogiek_kwaliteit", {}),
    ("korein", "termijnen.yaml", "Service_maatregel_uitspraak", "behandelaar", {}),
    ("kwartier", "03-stap3-4-bemiddeling-exkocie.yaml", "Service_maatregel_exkocie", "directeur_bestuurder", {}),
    ("samen-kinderopvang", "geschillencommissie.yaml", "Service_maatregel_uitspraak", "bestuurder", SAMEN_RULING),
])
def test_the_external_committees_outcome_records_its_measures(db_engine, slug, file, source, role, extra):
    runtime = _runtime(db_engine, slug)
    config = runtime.organisation(slug)
    for scenario in load_scenarios(BPMN / slug / "scenarios" / file):
        virtual = clock.VirtualClock(parse_deadline(scenario.start))
        with clock.using_clock(virtual):
            run = _Run(runtime, config, scenario, virtual)
            run.start()
            for step in scenario.steps:
                if step.get("complete") in extra:
                    step = {**step, "data": {**step.get("data", {}), **extra[step["complete"]]}}
                run.step(step)
    with runtime.sessions() as session:
        found = list(session.scalars(select(Measure).where(Measure.source == source)))
    assert found, f"{slug}: no measure recorded by {source}"
    assert {m.responsible_role for m in found} == {role}
    assert all(m.due_on and m.description and m.status == MeasureStatus.OPEN for m in found)


def test_a_measure_scenario_that_does_not_hold_fails_and_says_why_in_dutch():
    from webapp.scenarios.runner import run_scenarios
    from webapp.web.scenario_text import explain

    config = load_config(BPMN / "skar")
    [scenario, _] = load_scenarios(BPMN / "skar" / "scenarios" / "maatregelen.yaml")
    # The same scenario with wrong expectations: a follow-up a day early, a measure never overdue.
    steps = [dict(step) for step in scenario.steps]
    for step in steps:
        for item in step.get("expect", {}).get("follow_ups", []):
            item["raised"] = "2026-03-26" if item.get("raised") == "2026-03-27" else item.get("raised")
        if step.get("expect", {}).get("overdue_measures") == ["verschonen"]:
            step["expect"] = {**step["expect"], "overdue_measures": []}
    scenario.steps = steps
    [result] = run_scenarios(config, [scenario])
    assert "follow-up for 'verschonen' arrived on 2026-03-27, expected 2026-03-26" in result.failure
    dutch = explain(f"scenario '{scenario.name}' faalt: {result.failure}")
    assert "verwacht dat de taak 'Maatregel gerealiseerd?' voor 'verschonen' op 2026-03-26 komt" in dutch
    assert "maar zij kwam op 2026-03-27" in dutch

    scenario.steps = [s for s in steps if "follow_ups" not in s.get("expect", {})]
    [result] = run_scenarios(config, [scenario])
    dutch = explain(f"scenario '{scenario.name}' faalt: {result.failure}")
    assert "te laat op het overzicht van de kwaliteitsfunctionaris: niets" in dutch
    assert "maar daar staat: 'Het team noteert verschonen" in dutch

"""Reports: a generated year of complaints through the real procedures of the organisations
whose diagrams exist, then every figure checked against the database by queries of this test's
own (never by calling the report functions twice), the pages, the PDF, and that no personal data
that went into the generation comes out.

How many complaints: PER_ORG per organisation (at least 40, and at least 200 in all), see
`generated` below; the organisations are those of bpmn/ with a diagram that deploys and scenarios.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import statistics
import subprocess
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from datetime import time as dtime

import pytest
from lxml import etree
from markupsafe import escape
from sqlalchemy import Engine, func, select, text
from sqlalchemy.pool import StaticPool

from webapp.db.models import AuditEvent, Base, DiagramVersion, HumanTask, Instance, Organisation
from webapp.db.session import make_engine, make_session_factory
from webapp.runtime import clock
from webapp.runtime.organisations import discover
from webapp.runtime.service import Runtime

from .conftest import PASSWORD, Browser

YEAR = 2025
SEED = 2025
MINIMUM_TOTAL = 200
MINIMUM_PER_ORG = 40
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

# Deadline kinds of the finished procedures and the timers that must measure them.
EXPECTED_TIMERS = {
    "korein": {"wie_behandelt": {"Timer_beoordelen_week", "Timer_aanwijzen_week"},
               "oplossing_voorgesteld": {"Timer_streeftermijn"},
               "afgehandeld": {"Timer_wettelijke_termijn"},
               "geschillencommissie": {"Timer_termijn_geschil"}},
    "skar": {"wie_behandelt": {"Timer_een_week"}, "oplossing_voorgesteld": {"Timer_drie_weken"},
             "afgehandeld": {"Timer_zes_weken_onderzoek", "Timer_zes_weken_afspraken"},
             "geschillencommissie": {"Timer_twaalf_maanden"}},
}
# Escalation timers (interrupting, leading to a further step) and reminders of the finished procedures.
ESCALATING_TIMERS = {"korein": {"Timer_wettelijke_termijn"}, "skar": {"Timer_zes_weken_onderzoek",
                                                                      "Timer_zes_weken_afspraken"}}
REMINDER_TIMERS = {"korein": {"Timer_beoordelen_week", "Timer_streeftermijn"},
                   "skar": {"Timer_een_week", "Timer_drie_weken"}}
# The step where an external body's judgement is recorded: a case before that body.
CASE_STEPS = {"korein": "Geschil afhandelen", "skar": "Geschil behandelen en uitspraak vastleggen",
              "samen-kinderopvang": "Geschil behandelen", "mos": "Hoor en wederhoor toepassen",
              "kwartier": "Uitkomst Exkocie vastleggen"}
# The fields where those bodies' judgements are recorded.
JUDGEMENT_FIELDS = {"uitspraak_geschillencommissie", "uitkomst_exkocie", "advies_strekking"}
# Steps that are escalations when reached.
ESCALATION_STEPS = {"korein": ["Afhandeling na overschrijding termijn", "Geschil afhandelen"],
                    "skar": ["Klacht met voorrang afhandelen", "Geschil behandelen en uitspraak vastleggen",
                             "Bemiddeling Klachtenloket begeleiden"],
                    "samen-kinderopvang": ["Geschil behandelen"],
                    "mos": ["Hoor en wederhoor toepassen", "Besluit nemen op advies"],
                    "kwartier": ["Uitkomst Exkocie vastleggen", "Oordeel geven na escalatie"]}


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(scope="module")
def engine(_schema_engine: Engine):
    """The migrated test database for this module only: emptied before and after."""
    _truncate(_schema_engine)
    yield _schema_engine
    _truncate(_schema_engine)


@pytest.fixture(scope="module")
def rt(engine) -> Runtime:
    runtime = Runtime(make_session_factory(engine), discover())
    runtime.ensure_organisations()
    for slug in list(runtime.organisations):
        try:
            runtime.deploy(slug)
        except Exception as exc:  # a diagram someone is still working on: leave it out, say so
            print(f"{slug}: diagram does not deploy, left out of the reports test: {exc}")
    return runtime


@pytest.fixture(scope="module")
def generated(rt):
    from webapp.generate import _organisations, generate_year

    orgs = [config.slug for config, _ in _organisations(rt, None)]
    assert len(orgs) >= 2, f"too few organisations with a diagram and scenarios: {orgs}"
    per_org = max(MINIMUM_PER_ORG, math.ceil(MINIMUM_TOTAL / len(orgs)))
    began = time.perf_counter()
    complaints = generate_year(rt, YEAR, per_org, seed=SEED, organisations=orgs)
    seconds = time.perf_counter() - began
    counts = Counter(c.organisation for c in complaints)
    print(f"generated {len(complaints)} complaints in {seconds:.1f} s: {dict(counts)} ({per_org} per organisation)")
    assert len(complaints) >= MINIMUM_TOTAL
    assert all(counts[o] == per_org for o in orgs), counts
    return {"orgs": orgs, "per_org": per_org, "complaints": complaints}


@pytest.fixture(scope="module")
def reports_of(rt, generated):
    from webapp.reports import Period, build_report

    return {slug: build_report(rt, slug, Period.year(YEAR)) for slug in generated["orgs"]}


# -- independent queries ----------------------------------------------------------------------------


def _bounds() -> tuple[datetime, datetime]:
    begin = datetime.combine(date(YEAR, 1, 1), dtime(0), clock.AMSTERDAM).astimezone(UTC)
    end = datetime.combine(date(YEAR + 1, 1, 1), dtime(0), clock.AMSTERDAM).astimezone(UTC)
    return begin, end


def _in_year(session, slug):
    begin, end = _bounds()
    org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
    return (Instance.organisation_id == org_id, Instance.created_at >= begin, Instance.created_at < end)


def _instances_with_event(session, slug, event_type, bpmn_ids) -> set[int]:
    return set(session.scalars(
        select(AuditEvent.instance_id).join(Instance, Instance.id == AuditEvent.instance_id)
        .where(*_in_year(session, slug), AuditEvent.event_type == event_type, AuditEvent.bpmn_id.in_(bpmn_ids))))


def _diagram(rt, slug) -> tuple[etree._Element, str]:
    with rt.sessions() as session:
        version = session.get(DiagramVersion, rt.current_version_id(slug))
        return etree.fromstring(version.bpmn_xml.encode()), version.process_id


def _timers(root) -> dict[str, etree._Element]:
    return {b.get("id"): b for b in root.iter(f"{BPMN}boundaryEvent")
            if b.find(f"{BPMN}timerEventDefinition") is not None}


def _tags(root) -> dict[str, str]:
    return {el.get("id"): etree.QName(el).localname for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


def _outcome_ends(root, process_id) -> dict[str, str]:
    """End events directly in the main process, minus those a reminder (non-interrupting timer)
    leads to: a forward walk from every reminder over the sequence flows."""
    flows = defaultdict(list)
    for f in root.iter(f"{BPMN}sequenceFlow"):
        flows[f.get("sourceRef")].append(f.get("targetRef"))
    reminder_reach, queue = set(), [t for t, el in _timers(root).items() if el.get("cancelActivity") == "false"]
    while queue:
        node = queue.pop()
        if node not in reminder_reach:
            reminder_reach.add(node)
            queue.extend(flows[node])
    process = next(p for p in root.iter(f"{BPMN}process") if p.get("id") == process_id)
    return {e.get("id"): re.sub(r"\s+", " ", (e.get("name") or "").replace("\xad", "")).strip()
            for e in process.findall(f"{BPMN}endEvent") if e.get("id") not in reminder_reach}


def _nearest_rank(values, fraction):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# -- the generation ----------------------------------------------------------------------------------


def test_the_year_is_generated_through_the_real_procedures(rt, generated):
    complaints = generated["complaints"]
    begin, end = _bounds()
    with rt.sessions() as session:
        for slug in generated["orgs"]:
            stored = session.scalar(select(func.count()).select_from(Instance).where(*_in_year(session, slug)))
            assert stored == generated["per_org"], slug
        # varied: several locations and scenarios per organisation, met and missed deadlines
        fired = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event_type == "timer_fired"))
        completed = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "completed"))
    for slug in generated["orgs"]:
        mine = [c for c in complaints if c.organisation == slug]
        assert len({c.location for c in mine}) >= 3, slug
        assert len({c.scenario for c in mine}) >= 3, slug
        assert all(begin <= c.received_at < end for c in mine)
    assert fired > 20 and completed > 300
    assert len({c.received_at.date() for c in complaints}) > 60  # spread over the year
    assert len({c.received_at.month for c in complaints}) == 12


def test_generation_is_deterministic_for_a_seed():
    from webapp.generate import generate_year

    def run():
        engine = make_engine("sqlite://", poolclass=StaticPool)
        Base.metadata.create_all(engine)
        configs = {k: v for k, v in discover().items() if k == "korein"}
        runtime = Runtime(make_session_factory(engine), configs)
        runtime.ensure_organisations()
        runtime.deploy("korein")
        try:
            return [(c.reference, c.scenario, c.received_at, c.location, c.complaint_type, c.personal)
                    for c in generate_year(runtime, YEAR, 6, seed=99)]
        finally:
            engine.dispose()

    first, second = run(), run()
    assert first == second and len(first) == 6


# -- the figures against the database ------------------------------------------------------------------


def test_counts_per_location_and_type(rt, generated, reports_of):
    with rt.sessions() as session:
        for slug in generated["orgs"]:
            report = reports_of[slug]
            rows = session.execute(select(Instance.location, Instance.complaint_type, func.count())
                                   .where(*_in_year(session, slug))
                                   .group_by(Instance.location, Instance.complaint_type)).all()
            expected: dict[str, Counter] = defaultdict(Counter)
            for location, kind, n in rows:
                expected[location or "Onbekend"][kind or "onbekend"] += n
            got = {r.location: {k: v for k, v in r.per_type.items() if v} for r in report.by_location}
            assert got == {loc: dict(c) for loc, c in expected.items()}, slug
            by_type = Counter()
            for c in expected.values():
                by_type.update(c)
            assert dict(zip(report.types, [c.count for c in report.by_type], strict=True)) == dict(by_type)
            assert report.total == generated["per_org"]
            closed = session.scalar(select(func.count()).select_from(Instance)
                                    .where(*_in_year(session, slug), Instance.closed_at.is_not(None)))
            assert report.closed == closed and report.running == report.total - closed


def test_outcomes_are_the_end_events_reached(rt, generated, reports_of):
    with rt.sessions() as session:
        for slug in generated["orgs"]:
            root, process_id = _diagram(rt, slug)
            ends = _outcome_ends(root, process_id)
            rows = session.execute(select(AuditEvent.instance_id, AuditEvent.bpmn_id)
                                   .join(Instance, Instance.id == AuditEvent.instance_id)
                                   .where(*_in_year(session, slug), AuditEvent.event_type == "end_event")).all()
            reached: dict[int, set[str]] = defaultdict(set)
            for instance_id, bpmn_id in rows:
                if bpmn_id in ends:
                    reached[instance_id].add(ends[bpmn_id])
            expected = Counter(name for names in reached.values() for name in names)
            statuses = dict(session.execute(select(Instance.id, Instance.status).where(*_in_year(session, slug))).all())
            for instance_id, status in statuses.items():
                if not reached.get(instance_id):
                    expected["Nog in behandeling" if status == "running" else "Afgesloten zonder eindpunt"] += 1
            assert {c.label: c.count for c in reports_of[slug].by_outcome} == dict(expected), slug


def test_deadline_kinds_are_measured_on_the_right_timers(rt, generated, reports_of):
    for slug in generated["orgs"]:
        report = reports_of[slug]
        kinds = {f.kind.key: set(f.kind.timers) for f in report.deadlines + report.lapse_terms}
        config = rt.organisation(slug)
        assert set(kinds) == set(config.deadlines), slug
        if slug in EXPECTED_TIMERS:
            assert kinds == EXPECTED_TIMERS[slug]
        # explicit timer lists in organisation.yaml are taken as they are
        for key, spec in config.deadlines.items():
            listed = spec.get("timer") if isinstance(spec, dict) else None
            if listed:
                assert kinds[key] == ({listed} if isinstance(listed, str) else set(listed)), (slug, key)
        timers = _timers(_diagram(rt, slug)[0])
        assert all(t in timers for ids in kinds.values() for t in ids)
    korein = reports_of.get("korein")
    if korein:  # the complainant's twelve months are a lapse term, not a target that can be missed
        assert [f.kind.key for f in korein.lapse_terms] == ["geschillencommissie"]


def test_met_and_missed_per_deadline_kind(rt, generated, reports_of):
    checked_full = 0
    with rt.sessions() as session:
        for slug in generated["orgs"]:
            root, _ = _diagram(rt, slug)
            timers, tags = _timers(root), _tags(root)
            statuses = dict(session.execute(select(Instance.id, Instance.status).where(*_in_year(session, slug))).all())
            tasks = session.execute(select(HumanTask.instance_id, HumanTask.bpmn_id, HumanTask.state)
                                    .join(Instance, Instance.id == HumanTask.instance_id)
                                    .where(*_in_year(session, slug))).all()
            for figure in reports_of[slug].deadlines + reports_of[slug].lapse_terms:
                ids = set(figure.kind.timers)
                if not ids:
                    continue
                missed = _instances_with_event(session, slug, "timer_fired", ids)
                assert figure.gemist == len(missed), (slug, figure.kind.key)
                guarded = {timers[t].get("attachedToRef") for t in ids}
                if not all(tags.get(g) == "userTask" for g in guarded):
                    assert figure.gehaald + figure.gemist + figure.open + figure.vervallen <= len(statuses)
                    continue
                states: dict[int, set[str]] = defaultdict(set)
                for instance_id, bpmn_id, state in tasks:
                    if bpmn_id in guarded:
                        states[instance_id].add(state)
                open_ = {i for i, s in states.items() if "ready" in s and statuses[i] == "running"} - missed
                met = {i for i, s in states.items() if "completed" in s} - missed - open_
                lapsed = set(states) - missed - open_ - met
                assert (figure.gehaald, figure.open, figure.vervallen) == (len(met), len(open_), len(lapsed)), \
                    (slug, figure.kind.key)
                checked_full += 1
    assert checked_full >= 5
    with rt.sessions() as session:  # per complaint: a deadline exceeded when any target's timer fired
        for slug in generated["orgs"]:
            report = reports_of[slug]
            targets = {t for f in report.deadlines for t in f.kind.timers}
            exceeded = _instances_with_event(session, slug, "timer_fired", targets) if targets else set()
            assert report.deadline_verdicts["exceeded"] == len(exceeded), slug
            assert sum(report.deadline_verdicts.values()) == report.total
    total_missed = sum(f.gemist for r in reports_of.values() for f in r.deadlines)
    total_met = sum(f.gehaald for r in reports_of.values() for f in r.deadlines)
    assert total_missed > 0 and total_met > total_missed


def test_throughput_per_type(rt, generated, reports_of):
    with rt.sessions() as session:
        for slug in generated["orgs"]:
            rows = session.execute(select(Instance.complaint_type, Instance.created_at, Instance.closed_at)
                                   .where(*_in_year(session, slug))).all()
            days: dict[str, list[float]] = defaultdict(list)
            for kind, created, closed in rows:
                if closed is not None:
                    days[kind].append((closed - created).total_seconds() / 86400)
            by_label = {t.label: t for t in reports_of[slug].throughput}
            for kind, values in days.items():
                row = by_label[kind.capitalize()]
                assert row.closed == len(values)
                assert row.median == round(statistics.median(values), 1)
                assert row.p90 == round(_nearest_rank(values, 0.9), 1)
                assert row.maximum == round(max(values), 1)


def test_escalations(rt, generated, reports_of):
    seen_any = 0
    with rt.sessions() as session:
        for slug in generated["orgs"]:
            levels = {lvl.key: lvl for lvl in reports_of[slug].escalations}
            steps = {s.name: s.count for lvl in levels.values() for s in lvl.steps}
            for name in ESCALATION_STEPS.get(slug, []):
                reached = session.scalar(select(func.count(func.distinct(HumanTask.instance_id)))
                                         .join(Instance, Instance.id == HumanTask.instance_id)
                                         .where(*_in_year(session, slug), HumanTask.name == name))
                assert steps.get(name, 0) == reached, (slug, name)
                seen_any += reached
            root, _ = _diagram(rt, slug)
            timers = _timers(root)
            element_names = {el.get("id"): el.get("name") for el in root.iter() if isinstance(el.tag, str)}
            labels = {t: f"{el.get('name')} ({element_names[el.get('attachedToRef')]})" for t, el in timers.items()}
            timer_rows = {s.name: s.count for s in levels["termijn"].steps}
            for timer in ESCALATING_TIMERS.get(slug, set()):
                fired = _instances_with_event(session, slug, "timer_fired", {timer})
                assert timer_rows.get(labels[timer], 0) == len(fired), (slug, timer)
            for timer in REMINDER_TIMERS.get(slug, set()):  # a reminder to the same role is no escalation
                assert labels[timer] not in timer_rows, (slug, timer)
            # a level counts each complaint once
            for lvl in levels.values():
                assert lvl.complaints <= reports_of[slug].total
                assert lvl.complaints >= max((s.count for s in lvl.steps), default=0)
            assert max(lvl.complaints for lvl in levels.values()) <= reports_of[slug].escalated <= sum(
                lvl.complaints for lvl in levels.values())
    assert seen_any > 0


def test_geschillencommissie_and_other_external_cases(rt, generated, reports_of):
    total_cases = 0
    with rt.sessions() as session:
        for slug in generated["orgs"]:
            step = CASE_STEPS.get(slug)
            if step is None:
                continue
            rows = session.execute(select(HumanTask.instance_id, HumanTask.state)
                                   .join(Instance, Instance.id == HumanTask.instance_id)
                                   .where(*_in_year(session, slug), HumanTask.name == step)).all()
            cases = {i for i, _ in rows}
            decided = {i for i, s in rows if s == "completed"}
            report_cases = [c for c in reports_of[slug].committees if step in c.steps]
            if not cases:
                assert not report_cases
                continue
            (case,) = report_cases
            assert (case.cases, case.decided, case.pending) == (len(cases), len(decided), len(cases - decided))
            verdicts = session.execute(select(AuditEvent.instance_id, AuditEvent.data)
                                       .join(Instance, Instance.id == AuditEvent.instance_id)
                                       .where(*_in_year(session, slug), AuditEvent.event_type == "task_completed",
                                              AuditEvent.bpmn_name == step)).all()
            judged = {i for i, data in verdicts if JUDGEMENT_FIELDS & set(data.get("decisions") or {})}
            assert sum(v.count for v in case.verdicts) == len(judged), slug
            total_cases += len(cases)
    assert total_cases > 0


def test_judgements_and_nature_come_from_the_forms(rt, generated, reports_of):
    with rt.sessions() as session:
        for slug, field in [("skar", "oordeel_klacht"), ("samen-kinderopvang", "uitkomst_klacht"),
                            ("skar", "categorie"), ("samen-kinderopvang", "aard_klacht")]:
            if slug not in reports_of:
                continue
            events = session.execute(select(AuditEvent.instance_id, AuditEvent.data)
                                     .join(Instance, Instance.id == AuditEvent.instance_id)
                                     .where(*_in_year(session, slug), AuditEvent.event_type == "task_completed")
                                     .order_by(AuditEvent.id)).all()
            last = {}
            for instance_id, data in events:
                if field in (data.get("decisions") or {}):
                    last[instance_id] = data["decisions"][field]
            report = reports_of[slug]
            found = [b for b in report.judgements + report.nature if b.field == field]
            if not last:
                continue
            assert {c.label: c.count for c in found[0].counts} == dict(Counter(last.values())), (slug, field)


# -- pages ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(rt, generated):
    from webapp.accounts import add_user
    from webapp.web import create_app

    orgs = generated["orgs"]
    with rt.write_sessions.begin() as session:
        add_user(session, rt.organisations, "auditor@rapport.test", "Auditor", PASSWORD,
                 [f"{o}:auditor" for o in orgs[:-1]])
        add_user(session, rt.organisations, "ander@rapport.test", "Ander", PASSWORD, [f"{orgs[-1]}:auditor"])
        first = rt.organisation(orgs[0])
        lane_role = next(r for r in first.roles if r not in _report_roles(rt, orgs[0]))
        add_user(session, rt.organisations, "medewerker@rapport.test", "Medewerker", PASSWORD,
                 [f"{orgs[0]}:{lane_role}"])
    return create_app(rt, SECRET_KEY="test-secret", TESTING=True)


def _report_roles(rt, slug):
    from webapp.reports import report_roles

    return report_roles(rt, slug)


def _login(app, email) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    return browser


def _pages(slug):
    return [f"/{slug}/rapportages", f"/{slug}/rapportages?jaar={YEAR}", f"/{slug}/rapportages?jaar={YEAR}&kwartaal=2",
            f"/{slug}/rapportages?van={YEAR}-03-01&tot={YEAR}-06-30", f"/{slug}/rapportages/jaarverslag/{YEAR}",
            f"/{slug}/rapportages/kwartaal/{YEAR}/3"]


def test_pages_for_an_auditor_and_not_for_others(app, generated):
    orgs = generated["orgs"]
    auditor = _login(app, "auditor@rapport.test")
    for slug in orgs[:-1]:
        for url in _pages(slug) + [f"/{slug}/rapportages/jaarverslag/{YEAR}.pdf"]:
            assert auditor.get(url).status_code == 200, url
        page = auditor.get(f"/{slug}/rapportages?jaar={YEAR}").get_data(as_text=True)
        assert "Rapportages</a>" in page and "<svg" in page and "<desc" in page
    other = _login(app, "ander@rapport.test")
    for url in _pages(orgs[0]) + [f"/{orgs[0]}/rapportages/jaarverslag/{YEAR}.pdf"]:
        assert other.get(url).status_code == 404, url
    worker = _login(app, "medewerker@rapport.test")
    assert worker.get(f"/{orgs[0]}/rapportages").status_code == 403
    assert "Rapportages</a>" not in worker.get(f"/{orgs[0]}/klachten").get_data(as_text=True)
    assert auditor.get(f"/{orgs[0]}/rapportages/kwartaal/{YEAR}/5").status_code == 404


def test_every_chart_is_accessible_and_has_its_numbers_in_a_table(app, generated, reports_of):
    slug = generated["orgs"][0]
    page = _login(app, "auditor@rapport.test").get(f"/{slug}/rapportages?jaar={YEAR}").get_data(as_text=True)
    charts = re.findall(r"<svg[^>]*>", page)
    assert len(charts) >= 5
    for svg in charts:
        assert 'role="img"' in svg and "aria-labelledby" in svg
    assert page.count("<title id=") == len(charts) and page.count("<desc id=") == len(charts)
    assert "<script" not in page
    report = reports_of[slug]
    for row in report.by_location:  # the table beside the chart carries the numbers
        assert re.search(rf">{re.escape(str(escape(row.location)))}</th>.*?<td class=\"getal\">{row.total}</td></tr>",
                         page, re.S)


def test_the_pdf_is_a_real_pdf(app, generated, tmp_path):
    from pypdf import PdfReader

    slug = generated["orgs"][0]
    response = _login(app, "auditor@rapport.test").get(f"/{slug}/rapportages/jaarverslag/{YEAR}.pdf")
    assert response.mimetype == "application/pdf"
    data = response.data
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    first = reader.pages[0].extract_text()
    assert f"Klachtenjaarverslag {YEAR}" in first and "Klachten per locatie" in first
    if shutil.which("pdftoppm"):
        pdf = tmp_path / "jaarverslag.pdf"
        pdf.write_bytes(data)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                       check=True, timeout=60)
        png = next(tmp_path.glob("p*.png"))
        assert png.read_bytes().startswith(b"\x89PNG")


def test_no_personal_data_in_the_reports(app, rt, generated):
    from pypdf import PdfReader

    auditor, other = _login(app, "auditor@rapport.test"), _login(app, "ander@rapport.test")
    references = set()
    with rt.sessions() as session:
        references.update(session.scalars(select(Instance.reference)))
    for slug in generated["orgs"]:
        browser = other if slug == generated["orgs"][-1] else auditor
        personal = {p for c in generated["complaints"] if c.organisation == slug for p in c.personal}
        assert any("@" in p for p in personal) and len(personal) > 20
        texts = [browser.get(url).get_data(as_text=True) for url in _pages(slug)]
        pdf = browser.get(f"/{slug}/rapportages/jaarverslag/{YEAR}.pdf").data
        texts.append("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
        squashed = [re.sub(r"\s+", "", t) for t in texts]
        for value in personal:
            needle = re.sub(r"\s+", "", value)
            for t in squashed:
                assert needle not in t, f"{slug}: personal data in a report: {value!r}"
        for t in texts:
            assert not any(r in t for r in references)
            assert "@voorbeeld.nl" not in t


def test_reports_stay_the_same_after_retention_purged_the_complaints(rt, generated, reports_of):
    from dataclasses import asdict

    from webapp.reports import Period, build_report
    from webapp.runtime.retention import run_retention

    with clock.use_clock(clock.VirtualClock(datetime(YEAR + 5, 1, 1, tzinfo=UTC))):
        purged = sum(r.purged for r in run_retention(rt))
    assert purged > 0
    for slug in generated["orgs"]:
        again = build_report(rt, slug, Period.year(YEAR))
        assert again.purged > 0 or again.closed == 0
        before, after = asdict(reports_of[slug]), asdict(again)
        for key in ("generated_at", "purged"):
            before.pop(key), after.pop(key)
        assert before == after, slug


def test_quarterly_report_splits_the_year(rt, generated):
    from webapp.reports import quarterly_report

    slug = "kwartier" if "kwartier" in generated["orgs"] else generated["orgs"][0]
    report = quarterly_report(rt, slug, YEAR, 2)
    assert [q.quarter for q in report.quarters] == [1, 2, 3, 4]
    assert sum(q.received for q in report.quarters) == generated["per_org"]
    assert all(q.within + q.exceeded <= q.received and q.closed <= q.received for q in report.quarters)
    assert report.total == report.quarters[1].received
    assert report.period.start == date(YEAR, 4, 1) and report.period.end == date(YEAR, 6, 30)
    with rt.sessions() as session:
        begin = datetime.combine(date(YEAR, 4, 1), dtime(0), clock.AMSTERDAM)
        end = datetime.combine(date(YEAR, 7, 1), dtime(0), clock.AMSTERDAM)
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
        assert report.total == session.scalar(select(func.count()).select_from(Instance).where(
            Instance.organisation_id == org_id, Instance.created_at >= begin, Instance.created_at < end))


def test_the_annual_reports_quarters_say_what_each_quarters_own_report_says(rt, generated):
    """The quarter table of the annual report is counted from the year's tally: it must agree with
    the report a quality officer makes for that quarter alone."""
    from webapp.reports import Period, annual_report, build_report

    for slug in generated["orgs"]:
        annual = annual_report(rt, slug, YEAR)
        for row in annual.quarters:
            own = build_report(rt, slug, Period.quarter(YEAR, row.quarter), public=True)
            assert (row.received, row.closed, row.within, row.exceeded, row.escalated, row.committee_cases) == (
                own.total, own.closed, own.deadline_verdicts["within"], own.deadline_verdicts["exceeded"],
                own.escalated, sum(c.cases for c in own.committees)), (slug, row.quarter)


def test_a_period_without_complaints_reports_zeroes(rt):
    from webapp.reports import Period, build_report

    slug = sorted(rt.organisations)[0]
    report = build_report(rt, slug, Period.year(1999))
    assert report.total == 0 and report.by_location == [] and report.committees == []
    assert {f.kind.key for f in report.deadlines + report.lapse_terms} == set(rt.organisation(slug).deadlines)

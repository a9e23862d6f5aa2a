"""The published annual complaints report: prepared from a generated year of complaints through the
real procedures, reviewed and published by the quality officer, then public without login (page and
PDF) as a stored snapshot. Checked against the database per location by this test's own queries,
for personal data and for counts below three; the GGD sending, the reminder before 1 June and
Kwartier's release to the OR."""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from webapp.db.models import Instance, Measure, Organisation, OutboxMessage, PublishedReport
from webapp.db.session import make_session_factory
from webapp.reports.public import (
    FEW,
    MERGED,
    ORGANISATION_WIDE,
    THRESHOLD,
    quality_roles,
    remind_annual_reports,
)
from webapp.reports.settings import location_label
from webapp.runtime import clock
from webapp.runtime.organisations import discover
from webapp.runtime.service import Runtime

from .conftest import PASSWORD, Browser
from .test_reports import _truncate

YEAR = 2025
SEED = 16
PER_ORG = 30


@pytest.fixture(scope="module")
def engine(_schema_engine: Engine):
    _truncate(_schema_engine)
    yield _schema_engine
    _truncate(_schema_engine)


@pytest.fixture(scope="module")
def rt(engine) -> Runtime:
    runtime = Runtime(make_session_factory(engine), discover())
    runtime.ensure_organisations()
    for slug in list(runtime.organisations):
        runtime.deploy(slug)
    return runtime


@pytest.fixture(scope="module")
def generated(rt):
    from webapp.generate import _organisations, generate_year

    orgs = [config.slug for config, _ in _organisations(rt, None)]
    complaints = generate_year(rt, YEAR, PER_ORG, seed=SEED, organisations=orgs,
                               until=datetime(YEAR + 1, 3, 1, tzinfo=UTC))
    return {"orgs": orgs, "complaints": complaints}


@pytest.fixture(scope="module")
def app(rt, generated):
    from webapp.accounts import add_user
    from webapp.web import create_app

    with rt.write_sessions.begin() as session:
        for slug in generated["orgs"]:
            add_user(session, rt.organisations, f"kwaliteit@{slug}.test", "Kwaliteit", PASSWORD,
                     [f"{slug}:{quality_roles(rt, slug)[0]}"])
            plain = next(r for r in rt.organisation(slug).roles if r not in quality_roles(rt, slug))
            add_user(session, rt.organisations, f"medewerker@{slug}.test", "Medewerker", PASSWORD, [f"{slug}:{plain}"])
    return create_app(rt, SECRET_KEY="test-secret", TESTING=True)


def _login(app, email: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    return browser


def _counts(value, path=""):
    """Every published count in a snapshot, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("count", "received", "cases", "decided"):
                if item is not None:  # the organisation-wide measures have no complaints of their own
                    yield f"{path}.{key}", item
            else:
                yield from _counts(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _counts(item, f"{path}[{n}]")


def _expected(x: int):
    return "geen" if x == 0 else FEW if x < THRESHOLD else x


def _groups_in_db(rt, slug: str) -> tuple[dict[str, Counter], dict[str, Counter]]:
    """This test's own count: complaints received in the year per published location and type,
    and measures agreed in the year per location group and status."""
    config = rt.organisation(slug)
    begin = datetime(YEAR, 1, 1, tzinfo=clock.AMSTERDAM)
    end = datetime(YEAR + 1, 1, 1, tzinfo=clock.AMSTERDAM)
    with rt.sessions() as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
        rows = session.execute(select(Instance.location, Instance.complaint_type).where(
            Instance.organisation_id == org_id, Instance.created_at >= begin, Instance.created_at < end)).all()
        measure_rows = session.execute(select(Measure.location, Measure.scope, Measure.status, Measure.due_on).where(
            Measure.organisation_id == org_id, Measure.created_at >= begin, Measure.created_at < end)).all()
    by_location: dict[str, Counter] = defaultdict(Counter)
    for location, kind in rows:
        by_location[location_label(config, location, True)][kind or "klacht"] += 1
    groups: dict[str, Counter] = defaultdict(Counter)
    for location, counter in by_location.items():
        key = location if sum(counter.values()) >= THRESHOLD and location != MERGED else MERGED
        groups[key].update(counter)
    measures: dict[str, Counter] = defaultdict(Counter)
    today = clock.to_local(clock.now()).date()
    for location, scope, status, due_on in measure_rows:
        label = location_label(config, location, True) if location else None
        key = ORGANISATION_WIDE if scope == "organisatie" or not location else label if label in groups else MERGED
        measures[key][status] += 1
        if status in ("open", "uitgesteld") and due_on < today:
            measures[key]["na de beloofde datum nog niet gerealiseerd"] += 1
    return groups, measures


def test_the_annual_report_is_public_only_after_publication_and_matches_the_database(app, rt, generated):
    from pypdf import PdfReader

    anonymous = Browser(app.test_client())
    with rt.sessions() as session:
        assert session.scalar(select(func.count(Measure.id))) >= 10  # the procedures recorded measures
    for slug in generated["orgs"]:
        public_url = f"/{slug}/klachtenjaarverslag/{YEAR}"
        assert anonymous.get(public_url).status_code == 404
        officer = _login(app, f"kwaliteit@{slug}.test")
        prepared = officer.post(f"/{slug}/verslagen/voorbereiden", {"soort": "jaarverslag", "periode": str(YEAR)},
                                page=f"/{slug}/verslagen", follow_redirects=True)
        assert "Concept" in prepared.get_data(as_text=True)
        # Prepared, not yet published: still not public, and the other staff cannot read the draft.
        assert anonymous.get(public_url).status_code == 404
        assert anonymous.get(f"{public_url}.pdf").status_code == 404
        staff = _login(app, f"medewerker@{slug}.test")
        assert staff.get(f"/{slug}/verslagen/jaarverslag/{YEAR}").status_code == 403
        done = officer.post(f"/{slug}/verslagen/jaarverslag/{YEAR}/publiceren", page=f"/{slug}/verslagen/jaarverslag/{YEAR}",
                            follow_redirects=True)
        assert "Het verslag is gepubliceerd." in done.get_data(as_text=True)

        page = anonymous.get(public_url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        pdf = anonymous.get(f"{public_url}.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        with rt.sessions() as session:
            content = session.scalar(select(PublishedReport.content).join(Organisation).where(
                Organisation.slug == slug, PublishedReport.kind == "jaarverslag"))

        # Per location, as this test counts it.
        groups, measures = _groups_in_db(rt, slug)
        sections = {s["location"]: s for s in content["locations"]}
        assert set(sections) - {ORGANISATION_WIDE} == set(groups)
        for location, counter in groups.items():
            section = sections[location]
            assert section["received"] == _expected(sum(counter.values())), location
            types = {r["label"].lower(): r["count"] for r in section["types"]}
            assert types == {k: _expected(n) for k, n in counter.items()}, location
            got = {r["label"].lower(): r["count"] for r in section["measures"]}
            assert got == {k: _expected(n) for k, n in measures.get(location, Counter()).items()}, location
            assert location in html
        assert content["total"]["received"] == _expected(sum(sum(c.values()) for c in groups.values()))

        # No count below three anywhere, and no personal data.
        for where, value in _counts(content):
            assert value in (FEW, "geen") or (isinstance(value, int) and value >= THRESHOLD), (where, value)
        personal = {p for c in generated["complaints"] if c.organisation == slug for p in c.personal}
        assert any("@" in p for p in personal)
        with rt.sessions() as session:
            references = set(session.scalars(select(Instance.reference)))
            descriptions = set(session.scalars(select(Measure.description)))
        squashed = [re.sub(r"\s+", "", t) for t in (html, pdf_text)]
        for value in personal | descriptions:
            needle = re.sub(r"\s+", "", value)
            assert all(needle not in t for t in squashed), f"{slug}: personal data published: {value!r}"
        assert not any(r in html or r in pdf_text for r in references)


def test_a_published_report_is_a_snapshot_and_its_sending_to_the_ggd_is_recorded(app, rt, generated):
    slug = generated["orgs"][0]
    officer = _login(app, f"kwaliteit@{slug}.test")
    show = f"/{slug}/verslagen/jaarverslag/{YEAR}"
    if "Publiceren</button>" in officer.get(show).get_data(as_text=True) or officer.get(show).status_code == 404:
        officer.post(f"/{slug}/verslagen/voorbereiden", {"soort": "jaarverslag", "periode": str(YEAR)},
                     page=f"/{slug}/verslagen")
        officer.post(f"{show}/publiceren", page=show)
    before = Browser(app.test_client()).get(f"/{slug}/klachtenjaarverslag/{YEAR}").get_data(as_text=True)
    again = officer.post(f"/{slug}/verslagen/voorbereiden", {"soort": "jaarverslag", "periode": str(YEAR)},
                         page=f"/{slug}/verslagen", follow_redirects=True)
    assert "al gepubliceerd" in again.get_data(as_text=True)
    assert Browser(app.test_client()).get(f"/{slug}/klachtenjaarverslag/{YEAR}").get_data(as_text=True) == before
    sent = officer.post(f"/{slug}/verslagen/jaarverslag/{YEAR}/ggd", {"datum": f"{YEAR + 1}-02-27"}, page=show,
                        follow_redirects=True)
    assert "Verzonden aan de GGD op 27-02-" in sent.get_data(as_text=True)
    # The public complaint form links to the published report.
    form = Browser(app.test_client()).get(f"/{slug}/klacht-indienen")
    assert form.status_code == 200
    assert f'href="/{slug}/klachtenjaarverslag/{YEAR}"' in form.get_data(as_text=True)


def test_the_quality_officer_is_reminded_once_before_1_june(rt, generated):
    virtual = clock.VirtualClock(datetime(YEAR + 1, 4, 30, 12, tzinfo=clock.AMSTERDAM))
    with clock.using_clock(virtual):
        assert remind_annual_reports(rt) == []
        virtual.set(datetime(YEAR + 1, 5, 4, 9, tzinfo=clock.AMSTERDAM))
        reminded = remind_annual_reports(rt)
        assert {r.organisation for r in reminded} == set(rt.organisations) and {r.year for r in reminded} == {YEAR}
        virtual.set(datetime(YEAR + 1, 5, 20, 9, tzinfo=clock.AMSTERDAM))
        assert remind_annual_reports(rt) == []
    with rt.sessions() as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == "jaarverslag_herinnering")))
    for slug in rt.organisations:
        roles = {m.recipient for m in rows if m.organisation_id == rt.organisation_id(slug)}
        assert roles == {f"role:{r}" for r in quality_roles(rt, slug)}
    skar = next(m for m in rows if m.organisation_id == rt.organisation_id("skar"))
    assert "GGD" in skar.body and str(YEAR) in skar.subject


def test_kwartier_releases_its_quarterly_report_to_the_or(app, rt, generated):
    if "kwartier" not in generated["orgs"]:
        pytest.skip("Kwartier has no generated complaints")
    officer = _login(app, "kwaliteit@kwartier.test")
    staff = _login(app, "medewerker@kwartier.test")
    period = f"{YEAR}-K2"
    officer.post("/kwartier/verslagen/voorbereiden", {"soort": "or", "periode": period}, page="/kwartier/verslagen")
    assert staff.get(f"/kwartier/verslagen/or/{period}").status_code == 403
    officer.post(f"/kwartier/verslagen/or/{period}/publiceren", page=f"/kwartier/verslagen/or/{period}")
    page = staff.get(f"/kwartier/verslagen/or/{period}")
    assert page.status_code == 200 and "Kwartier" in page.get_data(as_text=True)
    assert Browser(app.test_client()).get(f"/kwartier/klachtenjaarverslag/{YEAR}").status_code in (200, 404)

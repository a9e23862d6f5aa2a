"""The procedure details of issue 13, against the real organisations: the M.O.S. lapse counted
forward from the event, the terms of the whole complaint on the complaint page from intake on,
promised dates that never fall on a weekend or holiday, and compliments never called a klacht."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from lxml import html
from sqlalchemy import select

from webapp.db.models import HumanTask, Instance, OutboxMessage
from webapp.intake import IntakeRefused, check_intake, confirmation, lapsed, submit_complaint
from webapp.runtime.organisations import BPMN_ROOT, load_config
from webapp.runtime.service import Actor

from .conftest import AMS

MOS = load_config(BPMN_ROOT / "mos")
COMPLAINT = {
    "naam": "Anna de Vries", "email": "anna@example.nl", "telefoon": "", "relatie": "ouder",
    "soort": "klacht", "toestemming": "ja",  # no location: four organisations choose from their own list
    "omschrijving": "Mijn zoon kwam met natte kleren thuis.",
}


def page_text(response) -> str:
    return " ".join(html.fromstring(response.get_data(as_text=True)).text_content().split())


def deadline_rows(response) -> list[list[str]]:
    doc = html.fromstring(response.get_data(as_text=True))
    table = doc.xpath("//h2[.='Termijnen']/following-sibling::table[1]")[0]
    return [[" ".join(td.text_content().split()) for td in tr.xpath("td")] for tr in table.xpath("tbody/tr")]


# -- M.O.S.: the six-month lapse, counted forward from the event to the day of submission ----------


@pytest.mark.parametrize(("since", "submitted", "too_late"), [
    (date(2026, 2, 28), date(2026, 8, 31), True),    # 28 Feb + 6 months = 28 Aug, before 31 Aug
    (date(2026, 2, 28), date(2026, 8, 28), False),   # the last day of the term
    (date(2026, 2, 28), date(2026, 8, 29), True),
    (date(2026, 8, 31), date(2027, 2, 28), False),   # no 31 February: the term ends on 28 February
    (date(2026, 8, 31), date(2027, 3, 1), True),
    (date(2027, 8, 31), date(2028, 2, 29), False),   # a leap year: 29 February
    (date(2026, 1, 15), date(2026, 7, 15), False),
    (date(2026, 1, 15), date(2026, 7, 16), True),
])
def test_the_lapse_runs_six_months_forward_from_the_event(since, submitted, too_late):
    assert lapsed(since, submitted, 6) is too_late


def mos_intake(event: str, today: date, **more):
    return check_intake(MOS, {**COMPLAINT, "relatie": "client", "datum_gebeurtenis": event, **more}, today)


def test_mos_refuses_an_event_of_28_february_submitted_on_31_august():
    with pytest.raises(IntakeRefused) as refused:
        mos_intake("2026-02-28", date(2026, 8, 31))
    assert refused.value.rule == "lapse"
    assert refused.value.errors["datum_gebeurtenis"].startswith("Het recht om een klacht in te dienen vervalt")


def test_mos_accepts_an_event_up_to_and_including_the_last_day_of_the_term():
    assert mos_intake("2026-02-28", date(2026, 8, 28)).complaint_type == "klacht"
    assert mos_intake("2026-08-31", date(2027, 2, 28)).complaint_type == "klacht"


def test_mos_counts_from_the_day_the_complainant_knew_of_the_event():
    accepted = mos_intake("2026-01-10", date(2026, 8, 31), datum_kennisname="2026-03-01")
    assert accepted.data["datum_kennisname"] == "2026-03-01"
    with pytest.raises(IntakeRefused) as refused:
        mos_intake("2026-01-10", date(2026, 8, 31), datum_kennisname="2026-02-28")
    assert refused.value.rule == "lapse" and "datum_kennisname" in refused.value.errors
    with pytest.raises(IntakeRefused) as refused:
        mos_intake("2026-03-10", date(2026, 8, 31), datum_kennisname="2026-03-01")
    assert refused.value.errors == {
        "datum_kennisname": "U kunt niet eerder van de gebeurtenis geweten hebben dan zij plaatsvond."}


# -- the terms of the whole complaint, on the complaint page from intake on ------------------------


@pytest.mark.parametrize(("slug", "role", "relatie", "rows"), [
    ("samen-kinderopvang", "manager_ve", "ouder", [
        ["Wettelijke termijn: schriftelijk oordeel binnen zes weken na indiening (Wet kinderopvang)",
         "13-04-2026 23:59", "", "open"],
        ["Geschil voorleggen aan De Geschillencommissie Kinderopvang: tot twaalf maanden na indiening",
         "02-03-2027 23:59", "", "open"]]),
    ("kwartier", "leidinggevende", "client", [
        ["Wettelijke termijn: schriftelijk oordeel binnen zes weken na ontvangst (Wkkgz)",
         "13-04-2026 23:59", "", "open"]]),
])
def test_the_statutory_term_is_on_the_complaint_page_right_after_intake(
        browser, make_user, runtime, add_organisation, slug, role, relatie, rows):
    add_organisation(BPMN_ROOT / slug)
    make_user("staf@test.nl", f"{slug}:{role}")
    started = submit_complaint(runtime, slug, {**COMPLAINT, "relatie": relatie, "datum_gebeurtenis": "2026-02-26"},
                               date(2026, 3, 2))
    browser.login("staf@test.nl")
    shown = browser.get(f"/{slug}/klachten/{started.reference}")
    assert shown.status_code == 200
    terms = [row for row in deadline_rows(shown) if "termijn" in row[0].lower() or "Geschil" in row[0]]
    assert terms == rows


def test_the_geschillencommissie_window_applies_to_parents_only(browser, make_user, runtime, add_organisation):
    add_organisation(BPMN_ROOT / "samen-kinderopvang")
    make_user("staf@test.nl", "samen-kinderopvang:manager_ve")
    started = submit_complaint(runtime, "samen-kinderopvang",
                               {**COMPLAINT, "relatie": "stagiair", "datum_gebeurtenis": "2026-02-26"},
                               date(2026, 3, 2))
    browser.login("staf@test.nl")
    text = page_text(browser.get(f"/samen-kinderopvang/klachten/{started.reference}"))
    assert "Wettelijke termijn: schriftelijk oordeel" in text and "Geschillencommissie" not in text


def test_a_kwartier_extension_moves_the_statutory_term_on_the_page(browser, make_user, runtime, add_organisation):
    from webapp.deadlines import complaint_terms

    config = load_config(BPMN_ROOT / "kwartier")
    received = datetime(2026, 3, 2, 9, 0, tzinfo=AMS)
    data = {"soort": "klacht", "klager": {"relatie": "client"}, "wkkgz_verlenging_weken": 4}
    [term] = complaint_terms(config, data, received, None, received)
    assert term.due_at.date() == date(2026, 5, 11)  # 6 + 4 weeks
    assert complaint_terms(config, {**data, "soort": "signaal"}, received, None, received) == []


# -- dates promised to the complainant --------------------------------------------------------------


def test_the_confirmation_page_never_promises_a_christmas_day():
    skar = load_config(BPMN_ROOT / "skar")
    # Received Friday 18 December 2026: one week later is Friday 25 December (Eerste Kerstdag), then
    # Tweede Kerstdag on Saturday and a Sunday: the promise is Monday 28 December.
    steps = confirmation(skar, "klacht", datetime(2026, 12, 18, 10, 0, tzinfo=AMS)).steps
    dues = {s.label: s.due for s in steps}
    assert dues["Binnen één week schriftelijk bericht over wie de klantreactie afhandelt"] == date(2026, 12, 28)
    assert dues["Streven: binnen drie weken na binnenkomst een passende oplossing voorgesteld"] == date(2027, 1, 8)
    # The complainant's own window is shown as it is: twelve months, ending on Saturday 18 December 2027.
    window = "Geschil voor te leggen aan De Geschillencommissie Kinderopvang tot twaalf maanden na indiening"
    assert dues.pop(window) == date(2027, 12, 18)
    assert all(d is None or d.weekday() < 5 for d in dues.values())


def test_the_skar_letter_promises_the_next_working_day_after_christmas(runtime, add_organisation, vclock):
    add_organisation(BPMN_ROOT / "skar")
    vclock.set(datetime(2026, 12, 4, 10, 0, tzinfo=AMS))
    started = submit_complaint(runtime, "skar", {**COMPLAINT, "datum_gebeurtenis": "2026-12-02"}, date(2026, 12, 4))
    with runtime.sessions() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                      HumanTask.state == "ready"))
    runtime.complete_task(started.instance_id, task.task_id,
                          Actor("pk@test.nl", "skar", frozenset({"pedagogiek_kwaliteit"})),
                          {"behandelaar_naam": "Sanne de Wit", "behandelaar_functie": "leidinggevende van de vestiging",
                           "eerst_besproken": True, "ongewenst_gedrag": False})
    with runtime.sessions() as session:
        letter = session.scalar(select(OutboxMessage).where(OutboxMessage.instance_id == started.instance_id,
                                                            OutboxMessage.template == "skar/wie_behandelt"))
    assert "Op 4 december 2026 hebben wij je klacht ontvangen" in letter.body
    assert "uiterlijk 28 december 2026 een passende oplossing" in letter.body  # not Eerste Kerstdag
    assert "uiterlijk 15 januari 2027 afgehandeld" in letter.body


# -- compliments, suggestions and signals are never called a klacht --------------------------------


@pytest.mark.parametrize(("slug", "role", "submitted", "noun"), [
    ("skar", "pedagogiek_kwaliteit", {"soort": "compliment"}, "Compliment"),
    ("korein", "betrokken_manager", {"soort": "suggestie"}, "Suggestie"),
    ("mos", "secretaris_klachten", {"anoniem": "ja", "relatie": "client", "datum_gebeurtenis": "2026-02-26"},
     "Signaal"),
])
def test_no_klacht_in_what_a_compliment_suggestion_or_signal_sends_or_shows(
        browser, make_user, runtime, add_organisation, slug, role, submitted, noun):
    add_organisation(BPMN_ROOT / slug)
    make_user("staf@test.nl", f"{slug}:{role}")
    started = submit_complaint(runtime, slug, {**COMPLAINT, **submitted}, date(2026, 3, 2))
    if slug == "korein":  # the short route: the manager answers the suggestion
        with runtime.sessions() as session:
            task = session.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                          HumanTask.state == "ready"))
        runtime.complete_task(started.instance_id, task.task_id,
                              Actor("staf@test.nl", slug, frozenset({role})),
                              {"gedeeld_met_betrokkenen": True, "opvolging_suggestie": "Suggestie wordt onderzocht",
                               "reactie_aan_ouder": "Dank u, wij bekijken het.", "verbetering_uit_suggestie": False})
    with runtime.sessions() as session:
        messages = session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == started.instance_id)).all()
    assert messages
    for message in messages:  # "niet behandeld als klacht" may be said; calling it "klacht <ref>" may not
        for text in (message.subject, message.body):
            assert f"klacht {started.reference.lower()}" not in text.lower(), text
            assert not text.lower().startswith("klacht"), text
    assert f"{noun} {started.reference} geregistreerd" in [m.subject.split(":")[0] for m in messages]
    browser.login("staf@test.nl")
    shown = browser.get(f"/{slug}/klachten/{started.reference}")
    heading = html.fromstring(shown.get_data(as_text=True)).xpath("//h1")[0].text_content()
    assert heading.startswith(f"{noun} {started.reference}")


# -- the annual report's "Aard van de klachten" is the subject, for every organisation -------------

SUBJECT_FIELDS = {"samen-kinderopvang": "aard_klacht", "skar": "categorie", "korein": "aard_klacht",
                  "kwartier": "aard_klacht", "mos": "aard_klacht"}


@pytest.mark.parametrize("slug", sorted(SUBJECT_FIELDS))
def test_every_organisation_records_the_subject_of_a_complaint_in_a_required_choice(slug):
    import json

    from webapp.runtime.forms import FORMS_ROOT

    config = load_config(BPMN_ROOT / slug)
    main, called = config.read_diagram_files()
    diagram = " ".join([main, *called.values()])
    field = SUBJECT_FIELDS[slug]
    found = []
    for path in FORMS_ROOT.glob(f"{slug}-*-schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        spec = schema.get("properties", {}).get(field)
        if spec and path.name in diagram:
            found.append((path.name, field in schema.get("required", []), len(spec.get("enum", []))))
    assert found and all(required and options > 2 for _, required, options in found), found


def test_koreins_annual_report_gives_the_subject_not_only_klacht_suggestie_compliment(
        runtime, add_organisation, vclock):
    from webapp.reports import annual_report

    add_organisation(BPMN_ROOT / "korein")
    started = submit_complaint(runtime, "korein", {**COMPLAINT, "datum_gebeurtenis": "2026-02-26"}, date(2026, 3, 2))
    with runtime.sessions() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                      HumanTask.state == "ready"))
    runtime.complete_task(started.instance_id, task.task_id,
                          Actor("m@test.nl", "korein", frozenset({"betrokken_manager"})),
                          {"besproken_met_betrokkene": True, "aard_klacht": "veiligheid en gezondheid",
                           "ernstig": False, "toelichting_ernst": "Geen groot risico.",
                           "behandelaar_naam": "Marieke Janssen",
                           "behandelaar_functie": "Leidinggevende van de locatie"})
    report = annual_report(runtime, "korein", 2026)
    [subject] = report.nature
    assert subject.field == "aard_klacht"
    assert [(c.label, c.count) for c in subject.counts] == [("veiligheid en gezondheid", 1)]


def test_the_kind_of_an_mos_melding_is_not_its_subject(runtime, add_organisation, vclock):
    from webapp.reports import annual_report

    add_organisation(BPMN_ROOT / "mos")
    started = submit_complaint(runtime, "mos", {**COMPLAINT, "relatie": "client", "datum_gebeurtenis": "2026-02-26"},
                               date(2026, 3, 2))
    with runtime.sessions() as session:
        task = session.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                      HumanTask.state == "ready"))
    runtime.complete_task(started.instance_id, task.task_id,
                          Actor("t@test.nl", "mos", frozenset({"algemene_toegang"})),
                          {"soort_melding": "onvrede", "aard_klacht": "afspraken en bereikbaarheid",
                           "betrokken_medewerker": "Fenna Dijkstra", "rechtstreeks_bij_leidinggevende": False,
                           "medewerker_afwezig": False, "urgent": False})
    report = annual_report(runtime, "mos", 2026)
    assert [b.field for b in report.nature] == ["aard_klacht"]


def test_the_mos_public_form_takes_the_day_the_complainant_learned_of_the_event(browser, runtime, add_organisation):
    add_organisation(BPMN_ROOT / "mos")
    url = "/mos/klacht-indienen"
    form = html.fromstring(browser.get(url).get_data(as_text=True))
    assert form.xpath("//input[@name='datum_kennisname']")
    submitted = {**COMPLAINT, "relatie": "client", "datum_gebeurtenis": "2025-08-01"}
    refused = browser.post(url, submitted)
    assert refused.status_code == 422 and "Het recht om een klacht in te dienen vervalt" in page_text(refused)
    accepted = browser.post(url, {**submitted, "datum_kennisname": "2026-01-10"})
    assert accepted.status_code == 303
    with runtime.sessions() as session:
        [instance] = session.scalars(select(Instance)).all()
    assert runtime.load(instance.id).workflow.data["datum_kennisname"] == "2026-01-10"

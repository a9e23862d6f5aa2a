"""The public complaint form through Flask's test client, on a real database and the real
engine: what a complainant sees, and that a complaint really starts (or, refused, does not)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import html
from sqlalchemy import func, select

from webapp.db.models import AuditEvent, HumanTask, Instance
from webapp.intake import IntakeRefused, IntakeRules, submit_complaint
from webapp.runtime.organisations import discover, load_config
from webapp.runtime.service import Runtime

from .conftest import FIXTURES

REAL = sorted(discover())  # the organisations in bpmn/, deployable or not
TODAY = "2026-03-02"  # the vclock fixture's day
VALID = {
    "naam": "Anna de Vries", "email": "anna@example.nl", "telefoon": "06-12345678", "relatie": "ouder",
    "locatie": "De Boomhut", "datum_gebeurtenis": "2026-02-26", "soort": "klacht",
    "omschrijving": "Mijn zoon kwam twee keer met natte kleren thuis.", "toestemming": "ja",
}
REFUSING = "Wij nemen geen anonieme klachten in behandeling: wij willen met u praten."


@pytest.fixture
def orgs(runtime: Runtime) -> dict:
    """Every real organisation whose diagram deploys today, the intake test organisation
    (signal, lapse, three types, a list of locations) and a variant of it that refuses anonymity."""
    proef = load_config(FIXTURES / "intake_org")
    weiger = replace(proef, slug="weigerorg", name="Kinderopvang De Weiger", reference_prefix="WEIGER",
                     intake={"anonymous": "refuse", "anonymous_explanation": REFUSING, "types": ["klacht"]})
    configs = {**discover(), proef.slug: proef, weiger.slug: weiger}
    runtime.organisations.update(configs)
    runtime.ensure_organisations()
    ready = {}
    for slug, config in configs.items():
        try:
            runtime.deploy(slug)
        except Exception:  # noqa: BLE001 - a diagram still being written: leave that organisation out
            del runtime.organisations[slug]
        else:
            ready[slug] = config
    return ready


def real_org(orgs: dict, slug: str):
    if slug not in orgs:
        pytest.skip(f"{slug}: diagram not deployable yet")
    return orgs[slug]


def page(response):
    return html.fromstring(response.get_data(as_text=True))


def text(response) -> str:
    return " ".join(page(response).text_content().split())


def field_error(response, name: str) -> str:
    found = page(response).xpath(f"//*[@id='veld-{name}-fout']")
    return " ".join(found[0].text_content().split()) if found else ""


def textarea(doc, name: str) -> str:
    value = doc.xpath(f"//textarea[@name='{name}']")[0].text or ""
    return value[1:] if value.startswith("\n") else value


def valid_for(config) -> dict:
    data = dict(VALID)
    rules = IntakeRules.of(config)
    if rules.locations:
        data["locatie"] = rules.locations[0]
    if "klacht" not in rules.types:
        data["soort"] = rules.types[0]
    return data


def instances(runtime: Runtime) -> list[Instance]:
    with runtime.sessions() as s:
        return list(s.scalars(select(Instance).order_by(Instance.id)))


def url(slug: str) -> str:
    return f"/{slug}/klacht-indienen"


# -- the form ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", [*REAL, "intakeorg", "weigerorg"])
def test_the_form_labels_every_field_in_dutch(browser, orgs, slug):
    config = real_org(orgs, slug)
    rules = IntakeRules.of(config)
    response = browser.get(url(slug))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    doc = page(response)
    assert doc.xpath("//form[@method='post']/input[@name='csrf_token']/@value")
    labels = {label.get("for"): " ".join(label.text_content().split()) for label in doc.xpath("//label")}
    for control in doc.xpath("//form//input[@type!='hidden'] | //form//select | //form//textarea"):
        assert control.get("id") in labels, f"{control.get('name')} has no label"
    by_name = {c.get("name"): labels[c.get("id")] for c in doc.xpath("//form//*[@id and @name]") if c.get("id") in labels}
    assert by_name["naam"].startswith("Uw naam") and by_name["email"] == "E-mailadres"
    assert by_name["telefoon"] == "Telefoonnummer"
    assert by_name["relatie"] == f"Wat is uw relatie tot {config.name}? (verplicht)"
    assert by_name["locatie"] == "Over welke locatie gaat het?"
    assert by_name["datum_gebeurtenis"].startswith("Wanneer gebeurde het?")
    assert by_name["omschrijving"] == "Wat is er gebeurd? (verplicht)"
    assert by_name["toestemming"].startswith(f"Ik geef {config.name} toestemming")
    assert doc.xpath("//input[@name='naam']/@autocomplete") == ["name"]
    assert doc.xpath("//input[@name='email']/@type") == ["email"]
    assert doc.xpath("//input[@name='telefoon']/@autocomplete") == ["tel"]
    assert doc.xpath("//input[@name='datum_gebeurtenis']/@max") == [TODAY]
    assert [o.get("value") for o in doc.xpath("//select[@name='relatie']/option")] == [
        "", "ouder", "verzorger", "vrijwilliger", "stagiair", "client", "vertegenwoordiger", "oudercommissie",
        "anders"]
    # The type only where the organisation distinguishes several, as radio buttons in a fieldset.
    radios = doc.xpath("//fieldset[legend[starts-with(normalize-space(), 'Wat wilt u ons laten weten?')]]"
                       "//input[@type='radio'][@name='soort']/@value")
    assert radios == (list(rules.types) if len(rules.types) > 1 else [])
    # Locations from the configuration as a select, else free text.
    assert doc.xpath("//*[@name='locatie']")[0].tag == ("select" if rules.locations else "input")
    # Anonymity: a checkbox where allowed or kept as a signal, the explanation where refused.
    checkbox = doc.xpath("//input[@type='checkbox'][@name='anoniem']")
    assert bool(checkbox) == rules.anonymous_possible
    assert " ".join(rules.anonymous_explanation.split()) in text(response)
    # The honeypot: hidden from view and keyboard, labelled for whoever meets it anyway.
    trap = doc.xpath("//input[@name='website']")[0]
    assert trap.get("autocomplete") == "off" and trap.get("tabindex") == "-1"
    assert trap.getparent().get("class") == "verborgen" and labels[trap.get("id")].startswith("Laat dit veld leeg")


def test_an_unknown_organisation_is_a_404(browser, orgs):
    assert browser.get(url("bestaat-niet")).status_code == 404
    assert browser.get("/bestaat-niet/klacht-indienen/ontvangen").status_code == 404


def test_an_organisation_without_a_deployed_diagram_says_the_form_is_unavailable(browser, orgs, runtime):
    leeg = replace(orgs["intakeorg"], slug="leegorg", name="Lege Opvang", reference_prefix="LEEG")
    runtime.organisations[leeg.slug] = leeg
    runtime.ensure_organisations()
    response = browser.get(url("leegorg"))
    assert response.status_code == 503 and "niet beschikbaar" in text(response)


# -- starting a complaint ---------------------------------------------------------------------


@pytest.mark.parametrize("slug", REAL)
def test_a_complaint_at_a_real_organisation_starts_its_procedure(browser, orgs, runtime, slug):
    config = real_org(orgs, slug)
    data = valid_for(config)
    response = browser.post(url(slug), data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/{slug}/klacht-indienen/ontvangen"  # no reference in the URL
    [instance] = instances(runtime)
    assert instance.reference == f"{config.reference_prefix}-2026-0001"
    assert (instance.complaint_type, instance.location, instance.status) == (data["soort"], data["locatie"], "running")
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.state == "ready")) >= 1
        assert s.scalar(select(AuditEvent.actor).where(AuditEvent.event_type == "complaint_received")) \
            == "klager (webformulier)"

    done = browser.get(response.headers["Location"])
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    assert f"Uw referentienummer is {instance.reference}." in text(done)
    assert "Wat gebeurt er nu?" in text(done)


def test_samen_tells_the_complainant_receipt_is_confirmed_within_3_working_days(browser, orgs):
    real_org(orgs, "samen-kinderopvang")
    done = browser.post(url("samen-kinderopvang"), VALID, follow_redirects=True)
    assert "SAMEN-2026-0001" in text(done)
    assert "U ontvangt binnen drie werkdagen een ontvangstbevestiging: uiterlijk donderdag 5 maart 2026" in text(done)


def test_the_complaint_starts_with_the_intake_data_and_the_chosen_location(browser, orgs, runtime):
    response = browser.post(url("intakeorg"), {**VALID, "locatie": "Het Kraaiennest"}, follow_redirects=True)
    assert "PROEF-2026-0001" in text(response)
    assert "Ontvangst bevestigd binnen 3 werkdagen: uiterlijk donderdag 5 maart 2026" in text(response)
    assert "Schriftelijk oordeel binnen 6 weken: uiterlijk maandag 13 april 2026" in text(response)
    [instance] = instances(runtime)
    assert (instance.complaint_type, instance.location) == ("klacht", "Het Kraaiennest")
    loaded = runtime.load(instance.id)
    [task] = loaded.ready_tasks()
    assert task.name == "Klacht behandelen"
    data = loaded.task(task.task_id).data
    assert data["klager"] == {"naam": "Anna de Vries", "email": "anna@example.nl", "telefoon": "06-12345678",
                              "relatie": "ouder"}
    assert {k: data[k] for k in ("anoniem", "soort", "locatie", "datum_gebeurtenis", "kanaal", "toestemming")} == {
        "anoniem": False, "soort": "klacht", "locatie": "Het Kraaiennest", "datum_gebeurtenis": "2026-02-26",
        "kanaal": "website", "toestemming": True}
    assert data["referentie"] == "PROEF-2026-0001"


def test_a_compliment_is_thanked_for_without_deadlines(browser, orgs, runtime):
    done = browser.post(url("intakeorg"), {**VALID, "soort": "compliment"}, follow_redirects=True)
    assert "Bedankt, wij hebben uw compliment ontvangen" in text(done)
    assert "Wij delen uw compliment" in text(done) and "uiterlijk" not in text(done)
    assert instances(runtime)[0].complaint_type == "compliment"


def test_the_confirmation_is_kept_in_the_session_only(app, browser, orgs):
    first = browser.post(url("intakeorg"), VALID)
    assert "PROEF" not in first.headers["Location"]
    assert "PROEF-2026-0001" in text(browser.get(first.headers["Location"]))
    assert "PROEF-2026-0001" in text(browser.get(first.headers["Location"]))  # a reload shows it again
    stranger = app.test_client().get(first.headers["Location"])
    assert stranger.status_code == 302 and stranger.headers["Location"] == url("intakeorg")
    # The confirmation of one organisation is not shown on another's page.
    assert browser.get("/weigerorg/klacht-indienen/ontvangen").status_code == 302
    second = browser.post(url("intakeorg"), VALID, follow_redirects=True)
    assert "PROEF-2026-0002" in text(second) and "PROEF-2026-0001" not in text(second)


# -- the organisations' rules -------------------------------------------------------------------


@pytest.mark.parametrize("slug", [*REAL, "weigerorg"])
def test_anonymous_where_it_is_refused_shows_the_explanation_and_starts_nothing(browser, orgs, runtime, slug):
    config = real_org(orgs, slug)
    rules = IntakeRules.of(config)
    if rules.anonymous != "refuse":
        pytest.skip(f"{slug} does not refuse anonymous complaints")
    response = browser.post(url(slug), {**valid_for(config), "anoniem": "ja"})
    assert response.status_code == 422
    explanation = " ".join(rules.anonymous_explanation.split())
    summary = " ".join(page(response).xpath("string(//*[@class='fout-samenvatting'])").split())
    assert "zo niet in behandeling nemen" in summary and explanation in summary
    assert explanation in field_error(response, "anoniem")
    assert page(response).xpath("//input[@name='naam']/@value") == ["Anna de Vries"]  # kept
    assert instances(runtime) == []


def test_leaving_out_name_and_contact_where_anonymity_is_refused_explains_why(browser, orgs, runtime):
    response = browser.post(url("weigerorg"), {**VALID, "naam": "", "email": "", "telefoon": ""})
    assert response.status_code == 422
    summary = page(response).xpath("//*[@class='fout-samenvatting']//li")
    # The whole form's message comes first; it points to the paragraph on the page rather than repeating it.
    assert "neemt geen anonieme klachten in behandeling" in summary[0].text_content()
    assert summary[0].xpath("a/@href") == ["#veld-anoniem"] and text(response).count(REFUSING) == 1
    assert field_error(response, "naam") == "Fout: Vul uw naam in."
    assert instances(runtime) == []


def test_anonymous_where_the_organisation_signals_is_started_as_a_signal(browser, orgs, runtime):
    response = browser.post(url("intakeorg"), {**VALID, "anoniem": "ja", "naam": "", "email": "", "telefoon": ""})
    assert response.status_code == 303
    done = browser.get(response.headers["Location"])
    assert "Bedankt, wij hebben uw melding ontvangen" in text(done)
    assert "als signaal" in text(done) and "PROEF-2026-0001" in text(done)
    [instance] = instances(runtime)
    assert instance.complaint_type == "signaal"
    loaded = runtime.load(instance.id)
    data = loaded.task(loaded.ready_tasks()[0].task_id).data
    assert data["anoniem"] is True and data["soort"] == "signaal"
    assert data["klager"] == {"naam": "", "email": "", "telefoon": "", "relatie": "ouder"}


def test_a_complaint_after_the_lapse_term_is_refused_with_its_explanation(browser, orgs, runtime):
    response = browser.post(url("intakeorg"), {**VALID, "datum_gebeurtenis": "2025-08-01"})
    assert response.status_code == 422
    assert field_error(response, "datum_gebeurtenis") == (
        "Fout: Het recht om te klagen vervalt zes maanden nadat u van de gebeurtenis wist of kon weten.")
    assert "zo niet in behandeling nemen" in text(response)
    assert page(response).xpath("//input[@name='datum_gebeurtenis']/@value") == ["2025-08-01"]
    assert instances(runtime) == []


# -- input errors, spam and forgery ---------------------------------------------------------------


def test_an_empty_form_lists_its_errors_in_dutch_in_form_order(browser, orgs, runtime):
    response = browser.post(url("intakeorg"), {"naam": "Anna"})
    assert response.status_code == 422
    doc = page(response)
    assert doc.xpath("string(//title)").startswith("Fout: ")
    links = [(a.get("href"), " ".join(a.text_content().split()))
             for a in doc.xpath("//*[@class='fout-samenvatting']//a")]
    assert [href for href, _ in links] == ["#veld-email", "#veld-relatie", "#veld-soort",
                                           "#veld-omschrijving", "#veld-toestemming"]
    assert links[3][1] == "Beschrijf wat er is gebeurd."
    for href, _ in links:  # every link lands on a field that says what is wrong
        target = doc.xpath(f"//*[@id='{href[1:]}']")[0]
        assert target.get("aria-invalid") == "true" or target.tag == "input"
    assert doc.xpath("//input[@name='naam']/@value") == ["Anna"]
    assert instances(runtime) == []


def test_a_too_long_description_is_refused_and_the_text_kept(browser, orgs, runtime):
    story = "Het begon op maandag.\n" + "x" * 4979  # 5001 characters
    response = browser.post(url("intakeorg"), {**VALID, "omschrijving": story, "locatie": "Het Kraaiennest"})
    assert response.status_code == 422
    assert field_error(response, "omschrijving") == "Fout: Gebruik hoogstens 5000 tekens (u gebruikte er 5001)."
    doc = page(response)
    assert textarea(doc, "omschrijving") == story
    assert doc.xpath("//textarea[@name='omschrijving']/@aria-invalid") == ["true"]
    assert doc.xpath("//select[@name='locatie']/option[@selected]/@value") == ["Het Kraaiennest"]
    assert doc.xpath("//input[@name='soort'][@checked]/@value") == ["klacht"]
    assert doc.xpath("//input[@name='toestemming']/@checked")
    assert instances(runtime) == []


def test_a_date_that_is_no_date_is_shown_again_as_typed(browser, orgs, runtime):
    response = browser.post(url("intakeorg"), {**VALID, "datum_gebeurtenis": "31-02-2026"})
    assert field_error(response, "datum_gebeurtenis") == "Fout: Vul een bestaande datum in, zoals 14-02-2026."
    date_input = page(response).xpath("//input[@name='datum_gebeurtenis']")[0]
    assert (date_input.get("type"), date_input.get("value")) == ("text", "31-02-2026")
    future = browser.post(url("intakeorg"), {**VALID, "datum_gebeurtenis": "2026-03-03"})
    assert field_error(future, "datum_gebeurtenis") == "Fout: De datum van de gebeurtenis kan niet in de toekomst liggen."
    assert instances(runtime) == []


def test_a_filled_in_honeypot_gets_a_neutral_thank_you_and_starts_nothing(browser, orgs, runtime):
    response = browser.post(url("intakeorg"), {**VALID, "website": "https://goedkope-pillen.example"})
    assert response.status_code == 200
    assert "Bedankt voor uw bericht" in text(response) and "referentienummer" not in text(response)
    assert instances(runtime) == []


def test_the_form_needs_its_csrf_token(browser, orgs, runtime):
    response = browser.client.post(url("intakeorg"), data=VALID)
    assert response.status_code == 400 and "Formulier verlopen" in text(response)
    assert instances(runtime) == []


# -- the same intake without the web ----------------------------------------------------------------


def test_submit_complaint_checks_and_starts(orgs, runtime):
    from datetime import date

    started = submit_complaint(runtime, "intakeorg", {**VALID, "soort": "suggestie"}, date(2026, 3, 2))
    assert started.reference == "PROEF-2026-0001"
    with runtime.sessions() as s:
        instance = s.get(Instance, started.instance_id)
        assert (instance.complaint_type, instance.location) == ("suggestie", "De Boomhut")
    with pytest.raises(IntakeRefused) as refused:
        submit_complaint(runtime, "weigerorg", {**VALID, "anoniem": True}, date(2026, 3, 2))
    assert refused.value.rule == "anonymous"
    assert len(instances(runtime)) == 1

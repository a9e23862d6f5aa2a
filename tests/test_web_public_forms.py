"""The public complaint forms of the five organisations (issue 13): the location chosen from the
organisation's list, hints that fit the organisation, the complainant addressed as "u", the
external route and its term on the confirmation page, no repeated paragraph on an empty form."""

from __future__ import annotations

import pytest
from lxml import html

from webapp.intake import IntakeRules
from webapp.runtime.organisations import discover
from webapp.runtime.service import Runtime

ORGS = sorted(discover())
VALID = {"naam": "Anna de Vries", "email": "anna@example.nl", "telefoon": "", "relatie": "ouder",
         "datum_gebeurtenis": "2026-02-26", "soort": "klacht", "toestemming": "ja",
         "omschrijving": "Mijn zoon kwam twee keer met natte kleren thuis."}


@pytest.fixture
def orgs(runtime: Runtime) -> dict:
    configs = discover()
    runtime.organisations.update(configs)
    runtime.ensure_organisations()
    for slug in configs:
        runtime.deploy(slug)
    return configs


def text(response) -> str:
    return " ".join(html.fromstring(response.get_data(as_text=True)).text_content().split())


def test_the_location_is_chosen_from_the_organisations_list_else_typed(browser, orgs):
    for slug, config in orgs.items():
        doc = html.fromstring(browser.get(f"/{slug}/klacht-indienen").get_data(as_text=True))
        listed = IntakeRules.of(config).locations
        field = doc.xpath("//*[@id='veld-locatie']")[0]
        if listed:
            assert field.tag == "select", slug
            assert doc.xpath("//select[@id='veld-locatie']/option/@value")[1:] == list(listed)
        else:
            assert field.tag == "input" and field.get("type") == "text", slug
    assert IntakeRules.of(orgs["kwartier"]).locations and not IntakeRules.of(orgs["samen-kinderopvang"]).locations


def test_hints_fit_the_organisation_and_the_complainant_is_u(browser, orgs):
    for slug in ("kwartier", "mos"):  # care and welfare: no kinderdagverblijf
        shown = text(browser.get(f"/{slug}/klacht-indienen"))
        assert "kinderdagverblijf" not in shown.lower(), slug
    for slug in orgs:
        shown = text(browser.get(f"/{slug}/klacht-indienen"))
        assert "de klager" not in shown.lower(), slug
        words = set(shown.lower().replace(",", " ").replace(".", " ").split())
        assert not words & {"je", "jouw", "jij"}, slug  # "u" throughout, Skar's page included


@pytest.mark.parametrize("slug, route, term", [
    ("samen-kinderopvang", "De Geschillencommissie Kinderopvang", "uiterlijk dinsdag 2 maart 2027"),
    ("skar", "De Geschillencommissie Kinderopvang", "uiterlijk dinsdag 2 maart 2027"),
    ("korein", "De Geschillencommissie Kinderopvang", "uiterlijk dinsdag 2 maart 2027"),
    ("kwartier", "De externe klachtencommissie Exkocie", "binnen zes weken"),
    ("mos", "De onafhankelijke Klachtencommissie", "binnen zes weken"),
])
def test_the_confirmation_names_the_external_route_and_its_term(browser, orgs, slug, route, term):
    listed = IntakeRules.of(orgs[slug]).locations
    data = {**VALID, "locatie": listed[0] if listed else "De Boomhut"}
    done = browser.post(f"/{slug}/klacht-indienen", data, follow_redirects=True)
    shown = text(done)
    assert "Niet tevreden?" in shown and route in shown and term in shown, shown
    assert "de klager" not in shown.lower() and "beleidsmedewerker kwaliteit" not in shown


def test_an_empty_form_does_not_repeat_the_anonymous_paragraph(browser, orgs):
    paragraph = " ".join(orgs["samen-kinderopvang"].intake["anonymous_explanation"].split())
    refused = browser.post("/samen-kinderopvang/klacht-indienen", {})
    assert refused.status_code == 422
    shown = text(refused)
    assert shown.count(paragraph[:80]) == 1
    assert "Vul uw naam in." in shown and "neemt geen anonieme klachten in behandeling" in shown

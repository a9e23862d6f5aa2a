"""check_intake on its own: each field check, each size limit, each organisation rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from webapp.intake import (
    MAX_LENGTH,
    RELATIONS,
    IntakeRefused,
    IntakeRules,
    check_intake,
    confirmation,
    long_date,
    months_before,
)
from webapp.runtime.errors import ConfigError
from webapp.runtime.organisations import discover, load_config

from .conftest import AMS, FIXTURES

TODAY = date(2026, 3, 2)
BASE = load_config(FIXTURES / "intake_org")
VALID = {
    "naam": "Anna de Vries", "email": "anna@example.nl", "telefoon": "", "relatie": "ouder",
    "locatie": "De Boomhut", "datum_gebeurtenis": "2026-02-26", "soort": "klacht",
    "omschrijving": "Mijn zoon kwam met natte kleren thuis.", "toestemming": "ja",
}


def org(**intake):
    """The test organisation with this intake section (nothing given: no intake section at all)."""
    return replace(BASE, intake=intake)


def refused(config, submitted, today=TODAY) -> IntakeRefused:
    with pytest.raises(IntakeRefused) as info:
        check_intake(config, submitted, today)
    return info.value


def refused_errors(config, submitted, **kwargs) -> dict[str, str]:
    with pytest.raises(IntakeRefused) as info:
        check_intake(config, submitted, TODAY, **kwargs)
    return info.value.errors


def real(name_start: str):
    for config in discover().values():
        if config.name.startswith(name_start):
            return config
    pytest.skip(f"no organisation named {name_start}... configured yet")


# -- the data a complaint starts with -------------------------------------------------------


def test_a_valid_submission_gives_exactly_the_intake_data():
    result = check_intake(org(), VALID, TODAY)
    assert result.data == {
        "klager": {"naam": "Anna de Vries", "email": "anna@example.nl", "telefoon": "", "relatie": "ouder"},
        "anoniem": False, "soort": "klacht", "locatie": "De Boomhut", "datum_gebeurtenis": "2026-02-26",
        "omschrijving": "Mijn zoon kwam met natte kleren thuis.", "kanaal": "website", "toestemming": True,
    }
    assert (result.complaint_type, result.location, result.signal) == ("klacht", "De Boomhut", False)


def test_nested_json_with_booleans_is_accepted_too():
    submitted = {"klager": {"naam": "Anna", "telefoon": "06-12345678", "relatie": "verzorger"},
                 "omschrijving": "Te laat opgehaald.", "toestemming": True, "anoniem": False}
    result = check_intake(org(), submitted, TODAY)
    assert result.data["klager"] == {"naam": "Anna", "email": "", "telefoon": "06-12345678", "relatie": "verzorger"}
    assert result.data["datum_gebeurtenis"] == "" and result.location is None


def test_no_intake_section_means_anonymous_allowed_only_complaints_no_lapse():
    rules = IntakeRules.of(org())
    assert (rules.anonymous, rules.types, rules.lapse_months, rules.locations) == ("allow", ("klacht",), None, ())
    old = check_intake(org(), {**VALID, "datum_gebeurtenis": "2019-01-01", "soort": ""}, TODAY)
    assert old.data["soort"] == "klacht" and old.data["datum_gebeurtenis"] == "2019-01-01"


def test_text_is_trimmed_line_breaks_normalised_and_control_characters_dropped():
    result = check_intake(org(), {**VALID, "naam": "  Anna\x00 ", "omschrijving": "regel 1\r\nregel 2\x07"}, TODAY)
    assert result.data["klager"]["naam"] == "Anna"
    assert result.data["omschrijving"] == "regel 1\nregel 2"


def test_an_unknown_channel_is_refused_and_another_known_one_kept():
    assert check_intake(org(), VALID, TODAY, kanaal="telefoon").data["kanaal"] == "telefoon"
    assert "kanaal" in refused_errors(org(), VALID, kanaal="fax")


# -- required fields and formats ------------------------------------------------------------


def test_description_name_and_a_way_to_reach_the_complainant_are_required():
    errors = refused(org(), {"relatie": "ouder", "toestemming": "ja"}).errors
    assert errors["omschrijving"] == "Beschrijf wat er is gebeurd."
    assert errors["naam"] == "Vul uw naam in."
    assert errors["email"].startswith("Vul uw e-mailadres of telefoonnummer in")


@pytest.mark.parametrize("contact", [{"email": "a@example.nl"}, {"telefoon": "020 123 45 67"}])
def test_an_email_address_or_a_telephone_number_is_enough(contact):
    submitted = {**VALID, "email": "", "telefoon": "", **contact}
    assert check_intake(org(), submitted, TODAY).data["klager"]["naam"] == "Anna de Vries"


@pytest.mark.parametrize("email", ["anna", "anna@", "@example.nl", "anna@example", "anna de vries@example.nl",
                                   "anna@@example.nl", "anna@example..nl", "anna@-example.nl"])
def test_a_bad_email_address_is_refused(email):
    errors = refused(org(), {**VALID, "email": email}).errors
    assert errors == {"email": "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."}


@pytest.mark.parametrize("email", ["anna@example.nl", "a.de.vries+klacht@mail.example.com", "ANNA@EXAMPLE.NL"])
def test_a_good_email_address_passes(email):
    assert check_intake(org(), {**VALID, "email": email}, TODAY).data["klager"]["email"] == email


@pytest.mark.parametrize("phone", ["0612345678", "06-12345678", "020 123 4567", "+31 6 12345678",
                                   "(020) 123-4567", "0031 20 123 4567"])
def test_a_plausible_telephone_number_passes(phone):
    assert check_intake(org(), {**VALID, "telefoon": phone}, TODAY).data["klager"]["telefoon"] == phone


@pytest.mark.parametrize("phone", ["112", "06-1234", "bel me maar", "06 12a45678", "+31 6 1234 5678 9012 3456",
                                   "06+12345678"])
def test_an_implausible_telephone_number_is_refused(phone):
    assert refused(org(), {**VALID, "telefoon": phone}).errors["telefoon"].startswith("Vul een geldig telefoonnummer in")


@pytest.mark.parametrize("relatie", list(RELATIONS))
def test_every_listed_relation_is_accepted(relatie):
    assert check_intake(org(), {**VALID, "relatie": relatie}, TODAY).data["klager"]["relatie"] == relatie


@pytest.mark.parametrize("relatie, message", [("", "Kies uw relatie tot de organisatie."),
                                              ("buurman", "Kies een van de mogelijkheden uit de lijst.")])
def test_a_missing_or_unknown_relation_is_refused(relatie, message):
    assert refused(org(), {**VALID, "relatie": relatie}).errors == {"relatie": message}


def test_consent_is_required():
    for value in ("", "nee", None):
        errors = refused(org(), {**VALID, "toestemming": value}).errors
        assert errors == {"toestemming": "Geef Kinderopvang De Proef toestemming om uw gegevens te gebruiken "
                                         "voor de behandeling van uw melding."}


def test_a_value_of_the_wrong_kind_is_refused_not_crashed_on():
    errors = refused(org(), {**VALID, "naam": ["Anna"], "toestemming": "misschien"}).errors
    assert errors == {"naam": "Deze waarde is ongeldig.", "toestemming": "Deze waarde is ongeldig."}


# -- dates -------------------------------------------------------------------------------


def test_a_date_in_the_future_is_refused_today_is_fine():
    assert refused(org(), {**VALID, "datum_gebeurtenis": "2026-03-03"}).errors == {
        "datum_gebeurtenis": "De datum van de gebeurtenis kan niet in de toekomst liggen."}
    assert check_intake(org(), {**VALID, "datum_gebeurtenis": "2026-03-02"}, TODAY).data["datum_gebeurtenis"] == "2026-03-02"


@pytest.mark.parametrize("typed", ["2026-02-30", "30-02-2026", "gisteren", "2026/02/26x", "01-01-1800"])
def test_a_date_that_does_not_exist_is_refused(typed):
    assert refused(org(), {**VALID, "datum_gebeurtenis": typed}).errors == {
        "datum_gebeurtenis": "Vul een bestaande datum in, zoals 14-02-2026."}


@pytest.mark.parametrize("typed", ["26-02-2026", "26/2/2026", "26.02.2026", "2026-2-26", date(2026, 2, 26)])
def test_a_dutch_or_iso_date_is_stored_as_iso(typed):
    assert check_intake(org(), {**VALID, "datum_gebeurtenis": typed}, TODAY).data["datum_gebeurtenis"] == "2026-02-26"


# -- size limits -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["naam", "email", "telefoon", "locatie", "omschrijving"])
def test_each_size_limit(name):
    limit = MAX_LENGTH[name]
    fits = {"naam": "a" * limit, "email": "a" * 60 + "@" + ".".join(["b" * 47] * 3 + ["b" * 46, "nl"]),
            "telefoon": "0" + "6" * 9 + " " * (limit - 11) + "1", "locatie": "l" * limit,
            "omschrijving": "o" * limit}[name]
    assert len(fits) == limit
    check_intake(org(), {**VALID, name: fits}, TODAY)  # exactly at the limit: fine
    errors = refused(org(), {**VALID, name: fits + "x"}).errors
    assert errors[name] == f"Gebruik hoogstens {limit} tekens (u gebruikte er {limit + 1})."


def test_the_description_limit_is_5000_and_a_line_break_counts_once():
    assert MAX_LENGTH == {**MAX_LENGTH, "naam": 200, "omschrijving": 5000, "locatie": 200}
    text = ("x" * 99 + "\r\n") * 50  # 5000 characters once \r\n is one line break
    assert len(check_intake(org(), {**VALID, "omschrijving": text}, TODAY).data["omschrijving"]) == 4999


# -- types -------------------------------------------------------------------------------


def test_one_type_needs_no_choice_and_refuses_another():
    config = org(types=["klacht"])
    assert check_intake(config, {**VALID, "soort": ""}, TODAY).complaint_type == "klacht"
    assert refused(config, {**VALID, "soort": "compliment"}).errors == {"soort": "Kies een van de mogelijkheden."}


def test_several_types_need_a_choice():
    config = org(types=["klacht", "compliment", "suggestie"])
    errors = refused(config, {**VALID, "soort": ""}).errors
    assert errors == {"soort": "Kies wat u ons wilt laten weten: een klacht, een compliment, een suggestie "
                               "(verbeterpunt)."}
    for soort in ("klacht", "compliment", "suggestie"):
        result = check_intake(config, {**VALID, "soort": soort}, TODAY)
        assert result.complaint_type == result.data["soort"] == soort
    assert "soort" in refused(config, {**VALID, "soort": "signaal"}).errors  # only the rule makes a signal


def test_locations_from_the_config_are_the_only_ones_accepted():
    config = org(locations=["De Boomhut", {"naam": "Het Kraaiennest"}])
    assert IntakeRules.of(config).locations == ("De Boomhut", "Het Kraaiennest")
    assert check_intake(config, {**VALID, "locatie": "Het Kraaiennest"}, TODAY).location == "Het Kraaiennest"
    assert check_intake(config, {**VALID, "locatie": ""}, TODAY).location is None
    assert refused(config, {**VALID, "locatie": "Elders"}).errors == {"locatie": "Kies een locatie uit de lijst."}


# -- anonymity ---------------------------------------------------------------------------


def test_anonymous_refused_with_the_organisations_explanation():
    config = org(anonymous="refuse", anonymous_explanation="Wij nemen geen anonieme klachten in behandeling.")
    exc = refused(config, {**VALID, "anoniem": "ja"})
    assert exc.errors == {"anoniem": "Wij nemen geen anonieme klachten in behandeling."}
    assert exc.rule == "anonymous"


def test_leaving_out_every_identifying_field_where_anonymity_is_refused_shows_the_explanation():
    config = org(anonymous="refuse", anonymous_explanation="Wij nemen geen anonieme klachten in behandeling.")
    exc = refused(config, {**VALID, "naam": "", "email": "", "telefoon": ""})
    assert exc.errors[""] == "Wij nemen geen anonieme klachten in behandeling." and exc.rule == "anonymous"
    assert {"naam", "email"} <= set(exc.errors)
    assert refused(config, {**VALID, "naam": ""}).rule is None  # a missing name alone is an input error


def test_a_refusal_without_its_own_explanation_gets_a_default():
    exc = refused(org(anonymous="refuse"), {**VALID, "anoniem": True})
    assert exc.errors["anoniem"].startswith("Kinderopvang De Proef neemt geen anonieme klachten in behandeling.")


def test_anonymous_becomes_a_signal_where_the_organisation_signals():
    config = org(anonymous="signal", types=["klacht"])
    result = check_intake(config, {**VALID, "anoniem": "ja", "naam": "Anna", "email": "geen-adres"}, TODAY)
    assert result.signal and result.complaint_type == "signaal" and result.data["soort"] == "signaal"
    assert result.data["anoniem"] is True
    assert result.data["klager"] == {"naam": "", "email": "", "telefoon": "", "relatie": "ouder"}


def test_anonymous_allowed_keeps_the_type_and_drops_the_identity():
    config = org(anonymous="allow", types=["klacht", "suggestie"])
    result = check_intake(config, {**VALID, "anoniem": "on", "soort": "suggestie", "naam": "", "email": ""}, TODAY)
    assert not result.signal and result.complaint_type == "suggestie" and result.data["anoniem"] is True
    assert result.data["klager"]["naam"] == "" and result.data["klager"]["email"] == ""


def test_an_unknown_anonymous_policy_is_a_configuration_error():
    with pytest.raises(ConfigError, match="anonymous"):
        check_intake(org(anonymous="misschien"), VALID, TODAY)
    with pytest.raises(ConfigError, match="lapse_months"):
        check_intake(org(lapse_months="zes"), VALID, TODAY)


# -- lapse -------------------------------------------------------------------------------


def test_a_complaint_about_an_event_more_than_lapse_months_ago_is_refused_with_the_explanation():
    config = org(lapse_months=6, lapse_explanation="Het recht om te klagen is vervallen.")
    assert check_intake(config, {**VALID, "datum_gebeurtenis": "2025-09-02"}, TODAY)  # exactly six months
    exc = refused(config, {**VALID, "datum_gebeurtenis": "2025-09-01"})
    assert exc.errors == {"datum_gebeurtenis": "Het recht om te klagen is vervallen."} and exc.rule == "lapse"


def test_lapse_counts_calendar_months_forward_from_the_event():
    config = org(lapse_months=6)
    # 28 February + 6 months = 28 August: submitted on 31 August is too late.
    assert check_intake(config, {**VALID, "datum_gebeurtenis": "2026-02-28"}, date(2026, 8, 28))
    exc = refused(config, {**VALID, "datum_gebeurtenis": "2026-02-28"}, date(2026, 8, 31))
    assert exc.errors["datum_gebeurtenis"].startswith("Een klacht moet binnen 6 maanden")


def test_lapse_needs_the_date_of_a_complaint_but_not_of_a_compliment_or_a_signal():
    config = org(lapse_months=6, anonymous="signal", types=["klacht", "compliment"])
    assert refused(config, {**VALID, "datum_gebeurtenis": ""}).errors == {
        "datum_gebeurtenis": "Vul de datum van de gebeurtenis in."}
    old = {**VALID, "datum_gebeurtenis": "2024-01-01"}
    assert check_intake(config, {**old, "soort": "compliment"}, TODAY).complaint_type == "compliment"
    assert check_intake(config, {**old, "anoniem": "ja"}, TODAY).complaint_type == "signaal"


def test_months_before():
    assert months_before(date(2026, 3, 2), 6) == date(2025, 9, 2)
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2028, 8, 31), 6) == date(2028, 2, 29)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


# -- the real organisations -------------------------------------------------------------


def test_samen_refuses_anonymous_complaints_and_takes_only_complaints():
    config = real("SAMEN")
    assert IntakeRules.of(config).types == ("klacht",)
    exc = refused(config, {**VALID, "anoniem": "ja"})
    assert exc.rule == "anonymous" and "geen anonieme klachten" in exc.errors["anoniem"]
    assert check_intake(config, {**VALID, "soort": ""}, TODAY).complaint_type == "klacht"


@pytest.mark.parametrize("name", ["Skar", "Korein"])
def test_skar_and_korein_distinguish_complaint_compliment_and_suggestion(name):
    config = real(name)
    valid = {**VALID, "locatie": IntakeRules.of(config).locations[0]}  # one of the organisation's locations
    assert set(IntakeRules.of(config).types) == {"klacht", "compliment", "suggestie"}
    assert "soort" in refused(config, {**valid, "soort": ""}).errors
    assert check_intake(config, {**valid, "soort": "compliment"}, TODAY).complaint_type == "compliment"


def test_mos_keeps_anonymous_reports_as_signals_and_refuses_complaints_after_six_months():
    config = real("M.O.S")
    rules = IntakeRules.of(config)
    assert rules.anonymous == "signal" and rules.lapse_months == 6
    valid = {**VALID, "locatie": rules.locations[0]}  # one of the organisation's locations
    assert check_intake(config, {**valid, "anoniem": "ja", "soort": "klacht"}, TODAY).signal
    assert refused(config, {**valid, "soort": "klacht", "datum_gebeurtenis": "2025-08-01"}).rule == "lapse"


# -- what the complainant is told -----------------------------------------------------------


def test_confirmation_lists_the_deadlines_with_their_dates():
    received = datetime(2026, 3, 2, 9, 0, tzinfo=AMS)
    steps = confirmation(BASE, "klacht", received).steps
    assert [(s.label, s.due) for s in steps] == [
        ("Ontvangst bevestigd binnen 3 werkdagen", date(2026, 3, 5)),
        ("Schriftelijk oordeel binnen 6 weken", date(2026, 4, 13)),
    ]
    own = replace(BASE, intake={"next_steps": ["U hoort binnen een week van ons."]})
    assert [s.label for s in confirmation(own, "klacht", received).steps] == ["U hoort binnen een week van ons."]
    assert "signaal" in confirmation(BASE, "signaal", received).message
    assert confirmation(BASE, "compliment", received).message.startswith("Wij delen uw compliment")
    assert long_date(date(2026, 3, 5)) == "donderdag 5 maart 2026"

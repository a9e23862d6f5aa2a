"""Checking a submission against the organisation's intake rules: every problem at once, as a
Dutch message beside its field, or the process data the complaint starts with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from webapp.runtime.organisations import OrganisationConfig

from .rules import CHANNELS, MAX_LENGTH, RELATIONS, SIGNAL, IntakeRefused, IntakeResult, IntakeRules
from .values import (
    Invalid,
    flag_value,
    lapsed,
    parse_date,
    plausible_email,
    plausible_phone,
    text_value,
    too_long,
)

# The text fields of a submission, read in this order (the order of the error summary).
TEXT_FIELDS = ("naam", "email", "telefoon", "relatie", "soort", "locatie", "omschrijving", "namens")
_CONTACT = ("naam", "email", "telefoon", "relatie")  # may come nested under `klager`


class _Reader:
    """One submission's fields, each read once, with a Dutch error per field that is wrong.
    `rule` names the organisation's rule that refused it ("anonymous", "lapse"), if any."""

    def __init__(self, submitted: Mapping[str, Any]) -> None:
        nested = submitted.get("klager")
        self.submitted = submitted
        self.klager = nested if isinstance(nested, Mapping) else {}
        self.errors: dict[str, str] = {}
        self.rule: str | None = None

    def get(self, name: str) -> Any:
        value = self.submitted.get(name)
        if value is None and name in _CONTACT:
            value = self.klager.get(name)
        return value

    def text(self, name: str) -> str:
        try:
            value = text_value(self.get(name))
        except Invalid:
            self.errors[name] = "Deze waarde is ongeldig."
            return ""
        if name in MAX_LENGTH and (problem := too_long(name, value)):
            self.errors[name] = problem
        return value

    def flag(self, name: str) -> bool:
        try:
            return flag_value(self.get(name))
        except Invalid:
            self.errors[name] = "Deze waarde is ongeldig."
            return False

    def refuse(self, name: str, message: str, rule: str) -> None:
        self.errors[name] = message
        self.rule = self.rule or rule

    def date(self, name: str, today: date) -> date | None:
        raw = self.get(name)
        if raw in (None, "") or name in self.errors:
            return None
        try:
            value = parse_date(raw)
            if value.year < 1900:
                raise Invalid
        except Invalid:
            self.errors[name] = "Vul een bestaande datum in, zoals 14-02-2026."
            return None
        if value > today:
            self.errors[name] = ("De datum van de gebeurtenis kan niet in de toekomst liggen."
                                 if name == "datum_gebeurtenis" else "Deze datum kan niet in de toekomst liggen.")
            return None
        return value


def _check_complainant(r: _Reader, rules: IntakeRules, fields: dict[str, str], anoniem: bool) -> None:
    """Who complains, and how we reach them. An anonymous report drops (and does not check)
    what would identify the complainant."""
    if anoniem and rules.anonymous == "refuse":
        r.refuse("anoniem", rules.anonymous_explanation, "anonymous")
    elif anoniem:
        for name in ("naam", "email", "telefoon"):
            r.errors.pop(name, None)
            fields[name] = ""
    else:
        if not fields["naam"]:
            r.errors.setdefault("naam", "Vul uw naam in.")
        if not fields["email"] and not fields["telefoon"]:
            r.errors.setdefault("email", "Vul uw e-mailadres of telefoonnummer in, zodat wij contact met u "
                                         "kunnen opnemen.")
        if not fields["naam"] and not fields["email"] and not fields["telefoon"] and rules.anonymous == "refuse":
            r.refuse("", rules.anonymous_explanation, "anonymous")
    if fields["email"] and "email" not in r.errors and not plausible_email(fields["email"]):
        r.errors["email"] = "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."
    if fields["telefoon"] and "telefoon" not in r.errors and not plausible_phone(fields["telefoon"]):
        r.errors["telefoon"] = "Vul een geldig telefoonnummer in, zoals 06 12345678 of 020 1234567."
    if not fields["relatie"]:
        r.errors.setdefault("relatie", "Kies uw relatie tot de organisatie.")
    elif fields["relatie"] not in RELATIONS:
        r.errors.setdefault("relatie", "Kies een van de mogelijkheden uit de lijst.")


def _check_subject(r: _Reader, rules: IntakeRules, fields: dict[str, str], anoniem: bool) -> bool:
    """What it is about; True when it is an anonymous report kept as a signal (soort becomes signaal)."""
    soort = fields["soort"]
    if len(rules.types) == 1 and not soort:
        soort = rules.types[0]
    if not soort:
        r.errors.setdefault("soort", "Kies wat u ons wilt laten weten: " + ", ".join(
            label.lower() for _, label in rules.type_choices) + ".")
    elif soort not in rules.types:
        r.errors.setdefault("soort", "Kies een van de mogelijkheden.")
    signal = anoniem and rules.anonymous == "signal"
    fields["soort"] = SIGNAL if signal else soort
    locatie = fields["locatie"]
    if locatie and rules.locations and locatie not in rules.locations and "locatie" not in r.errors:
        r.errors["locatie"] = "Kies een locatie uit de lijst."
    if not fields["omschrijving"]:
        r.errors.setdefault("omschrijving", "Beschrijf wat er is gebeurd.")
    return signal


def _check_dates(r: _Reader, rules: IntakeRules, soort: str, today: date) -> tuple[date | None, date | None]:
    """The date of the event and, when given, the day the complainant knew of it (M.O.S.: the
    lapse term runs from then), which cannot lie before the event. Complaints lapse after the
    organisation's term."""
    datum = r.date("datum_gebeurtenis", today)
    kennisname = r.date("datum_kennisname", today)
    if datum is not None and kennisname is not None and kennisname < datum:
        r.errors["datum_kennisname"] = "U kunt niet eerder van de gebeurtenis geweten hebben dan zij plaatsvond."
        kennisname = None
    lapse_applies = bool(rules.lapse_months) and soort == "klacht"
    if datum is not None and lapse_applies and "datum_gebeurtenis" not in r.errors \
            and lapsed(kennisname or datum, today, rules.lapse_months or 0):
        r.refuse("datum_kennisname" if kennisname else "datum_gebeurtenis", rules.lapse_explanation, "lapse")
    elif datum is None and lapse_applies and "datum_gebeurtenis" not in r.errors:
        r.errors["datum_gebeurtenis"] = "Vul de datum van de gebeurtenis in."
    return datum, kennisname


def check_intake(config: OrganisationConfig, submitted: Mapping[str, Any], today: date,
                 kanaal: str = "website") -> IntakeResult:
    """Validate a submission and apply the organisation's intake rules.
    Returns the data to start the procedure with; raises IntakeRefused with every problem."""
    rules = IntakeRules.of(config)
    r = _Reader(submitted)
    fields = {name: r.text(name) for name in TEXT_FIELDS}
    anoniem, toestemming = r.flag("anoniem"), r.flag("toestemming")
    if kanaal not in CHANNELS:
        r.errors["kanaal"] = "Onbekend kanaal."
    _check_complainant(r, rules, fields, anoniem)
    signal = _check_subject(r, rules, fields, anoniem)
    datum, kennisname = _check_dates(r, rules, fields["soort"], today)
    if not toestemming:
        r.errors.setdefault("toestemming", f"Geef {config.name} toestemming om uw gegevens te gebruiken voor "
                                           "de behandeling van uw melding.")
    if r.errors:
        raise IntakeRefused(r.errors, r.rule)
    data = {
        "klager": {name: fields[name] for name in _CONTACT},
        "anoniem": anoniem,
        "soort": fields["soort"],
        "locatie": fields["locatie"],
        "datum_gebeurtenis": datum.isoformat() if datum else "",
        **({"datum_kennisname": kennisname.isoformat()} if kennisname else {}),
        "omschrijving": fields["omschrijving"],
        "kanaal": kanaal,
        "toestemming": True,
    }
    if fields["namens"]:  # on whose behalf (a registration by staff: "via een ander")
        data["namens"] = fields["namens"]
    return IntakeResult(data=data, complaint_type=fields["soort"], location=fields["locatie"] or None,
                        signal=signal)


__all__ = ["TEXT_FIELDS", "check_intake"]

"""The intake of a complaint from outside: check what a complainant submitted against the
organisation's intake rules (`intake` in organisation.yaml) and start its procedure.

No Flask here: the public web form and the JSON API both call `check_intake` and
`submit_complaint`. Callers pass `today` from the clock seam:
`clock.to_local(clock.now()).date()`, never `date.today()`.

`submitted` may be flat (the form: `naam`, `email`, `telefoon`, `relatie`, ...) or nested as
the process data is (`klager: {naam, email, telefoon, relatie}`); flat names win. Error keys
are the flat names (`naam`, `email`, `telefoon`, `relatie`, `anoniem`, `soort`, `locatie`,
`datum_gebeurtenis`, `omschrijving`, `toestemming`, `kanaal`) and "" for the form as a whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from handlers.working_days import add_months
from webapp.runtime.errors import ConfigError, KlachtrouteError
from webapp.runtime.organisations import OrganisationConfig
from webapp.runtime.service import Actor, RowsHook, Runtime, Started

# Who started a complaint that came in through the public form (audit trail, "started by").
WEB_FORM_IDENTITY = "klager (webformulier)"

RELATIONS: dict[str, str] = {
    "ouder": "Ouder",
    "verzorger": "Verzorger",
    "vrijwilliger": "Vrijwilliger",
    "stagiair": "Stagiair(e)",
    "client": "Cliënt",
    "vertegenwoordiger": "Vertegenwoordiger van een cliënt",
    "oudercommissie": "Oudercommissie",
    "anders": "Anders",
}
TYPE_LABELS: dict[str, str] = {
    "klacht": "Een klacht",
    "compliment": "Een compliment",
    "suggestie": "Een suggestie (verbeterpunt)",
    "signaal": "Een signaal",
}
CHANNELS = ("website", "email", "telefoon", "brief", "mondeling", "via_een_ander")
CHANNEL_LABELS: dict[str, str] = {
    "website": "Webformulier", "email": "E-mail", "telefoon": "Telefoon", "brief": "Brief",
    "mondeling": "Mondeling", "via_een_ander": "Via een ander",
}
ANONYMOUS_POLICIES = ("refuse", "signal", "allow")
SIGNAL = "signaal"

# Size limits, in characters (after trimming; a line break counts as one).
MAX_LENGTH: dict[str, int] = {
    "naam": 200,
    "email": 254,
    "telefoon": 30,
    "locatie": 200,
    "datum_gebeurtenis": 20,
    "datum_kennisname": 20,
    "namens": 200,
    "omschrijving": 5000,
}

_TRUE = {"ja", "true", "on", "1", "yes", "waar"}
_FALSE = {"", "nee", "false", "off", "0", "no", "onwaar"}
_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\\\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}")
_PHONE_CHARS = re.compile(r"\+?[0-9 ()./-]+")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


class IntakeRefused(KlachtrouteError):
    """What was submitted cannot be taken in: `errors` maps a field name to a Dutch message
    ("" for the whole form). `rule` names the organisation's rule that refused it
    ("anonymous" or "lapse"), None when only the input itself was wrong."""

    def __init__(self, errors: dict[str, str], rule: str | None = None) -> None:
        self.errors = errors
        self.rule = rule
        super().__init__("; ".join(f"{k or '(formulier)'}: {v}" for k, v in errors.items()))


@dataclass
class IntakeResult:
    data: dict[str, Any]  # the process data a complaint starts with
    complaint_type: str  # soort: klacht, compliment, suggestie or signaal
    location: str | None
    signal: bool  # an anonymous report kept as a quality signal, not handled as a complaint


@dataclass(frozen=True)
class IntakeRules:
    """An organisation's `intake` section, with defaults for what it leaves out:
    anonymous allowed, only complaints, no lapse term, free-text location."""

    anonymous: str = "allow"
    anonymous_explanation: str = ""
    types: tuple[str, ...] = ("klacht",)
    lapse_months: int | None = None
    lapse_explanation: str = ""
    locations: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()  # public text for the confirmation page; else the deadlines

    @classmethod
    def of(cls, config: OrganisationConfig) -> IntakeRules:
        raw = config.intake or {}
        where = f"{config.slug}/organisation.yaml: intake"
        anonymous = str(raw.get("anonymous") or "allow")
        if anonymous not in ANONYMOUS_POLICIES:
            raise ConfigError(f"{where}.anonymous must be refuse, signal or allow, not {anonymous!r}")
        types = tuple(str(t) for t in (raw.get("types") or ["klacht"]))
        lapse = raw.get("lapse_months")
        if lapse is not None and (isinstance(lapse, bool) or not isinstance(lapse, int) or lapse < 1):
            raise ConfigError(f"{where}.lapse_months must be a whole number of months, not {lapse!r}")
        locations = []
        for item in raw.get("locations") or []:
            if isinstance(item, Mapping):
                item = item.get("naam") or item.get("name") or item.get("label") or ""
            if str(item).strip():
                locations.append(str(item).strip())
        return cls(
            anonymous=anonymous,
            anonymous_explanation=str(raw.get("anonymous_explanation") or "").strip()
            or _default_anonymous_explanation(config.name, anonymous),
            types=types,
            lapse_months=lapse,
            lapse_explanation=str(raw.get("lapse_explanation") or "").strip()
            or (_default_lapse_explanation(lapse) if lapse else ""),
            locations=tuple(locations),
            next_steps=tuple(str(s) for s in raw.get("next_steps") or []),
        )

    @property
    def anonymous_possible(self) -> bool:
        return self.anonymous in ("allow", "signal")

    @property
    def type_choices(self) -> list[tuple[str, str]]:
        return [(t, TYPE_LABELS.get(t, t.capitalize())) for t in self.types]


def _default_anonymous_explanation(name: str, policy: str) -> str:
    if policy == "refuse":
        return (f"{name} neemt geen anonieme klachten in behandeling. Vul uw naam en uw e-mailadres of "
                "telefoonnummer in, zodat wij contact met u kunnen opnemen.")
    if policy == "signal":
        return (f"Een anonieme melding neemt {name} niet in behandeling als klacht. Wij bewaren haar als "
                "signaal om onze kwaliteit te verbeteren, maar kunnen u er niet op antwoorden.")
    return ("Blijft u anoniem, dan bewaren wij uw naam en contactgegevens niet en kunnen wij u niet laten "
            "weten wat wij met uw melding doen.")


def _default_lapse_explanation(months: int) -> str:
    return (f"Een klacht moet binnen {months} maanden na de gebeurtenis worden ingediend. Die termijn is "
            "verstreken, daarom kunnen wij uw klacht niet in behandeling nemen.")


# -- checking ------------------------------------------------------------------------------


class _Invalid(Exception):
    pass


def _clean(text: str) -> str:
    """Normalised line breaks, no control characters (PostgreSQL refuses NUL in text)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid
    return _clean(str(value))


def _flag(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Invalid


def parse_date(value: Any) -> date:
    """A date from a date, ISO (2026-02-14, what <input type=date> sends) or Dutch (14-02-2026)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if m := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := _DUTCH_DATE.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
    else:
        raise _Invalid
    try:
        return date(year, month, day)
    except ValueError:
        raise _Invalid from None


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when that day does not exist)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - date(year, month, 1)).days
    return date(year, month, min(day.day, last))


def lapsed(since: date, submitted: date, months: int) -> bool:
    """Whether the right to complain has lapsed: the term runs `months` months forward from the
    event (or from the day the complainant knew of it) and ends on the same day of the month
    (the month's last day when that day does not exist); a complaint submitted after that day
    is too late. An event on 28 February lapses after 28 August; one on 31 August after
    28 (or 29) February."""
    return add_months(since, months) < submitted


def _plausible_phone(text: str) -> bool:
    if not _PHONE_CHARS.fullmatch(text):
        return False
    digits = re.sub(r"\D", "", text)
    return 10 <= len(digits) <= 15


def _too_long(name: str, text: str) -> str | None:
    limit = MAX_LENGTH[name]
    if len(text) > limit:
        return f"Gebruik hoogstens {limit} tekens (u gebruikte er {len(text)})."
    return None


def _date_field(get, errors: dict[str, str], name: str, today: date) -> date | None:
    raw = get(name)
    if raw in (None, "") or name in errors:
        return None
    try:
        value = parse_date(raw)
        if value.year < 1900:
            raise _Invalid
    except _Invalid:
        errors[name] = "Vul een bestaande datum in, zoals 14-02-2026."
        return None
    if value > today:
        errors[name] = ("De datum van de gebeurtenis kan niet in de toekomst liggen." if name == "datum_gebeurtenis"
                        else "Deze datum kan niet in de toekomst liggen.")
        return None
    return value


def _event_dates(get, errors: dict[str, str], today: date) -> tuple[date | None, date | None]:
    """The date of the event and, when given, the day the complainant knew of it (M.O.S.: the
    lapse term runs from then), which cannot lie before the event."""
    datum = _date_field(get, errors, "datum_gebeurtenis", today)
    kennisname = _date_field(get, errors, "datum_kennisname", today)
    if datum is not None and kennisname is not None and kennisname < datum:
        errors["datum_kennisname"] = "U kunt niet eerder van de gebeurtenis geweten hebben dan zij plaatsvond."
        kennisname = None
    return datum, kennisname


def check_intake(config: OrganisationConfig, submitted: Mapping[str, Any], today: date,
                 kanaal: str = "website") -> IntakeResult:
    """Validate a submission and apply the organisation's intake rules.
    Returns the data to start the procedure with; raises IntakeRefused with every problem."""
    rules = IntakeRules.of(config)
    nested = submitted.get("klager")
    klager = nested if isinstance(nested, Mapping) else {}
    errors: dict[str, str] = {}
    rule: str | None = None

    def get(name: str) -> Any:
        value = submitted.get(name)
        if value is None and name in ("naam", "email", "telefoon", "relatie"):
            value = klager.get(name)
        return value

    def text(name: str) -> str:
        try:
            value = _text(get(name))
        except _Invalid:
            errors[name] = "Deze waarde is ongeldig."
            return ""
        if name in MAX_LENGTH and (problem := _too_long(name, value)):
            errors[name] = problem
        return value

    def flag(name: str) -> bool:
        try:
            return _flag(get(name))
        except _Invalid:
            errors[name] = "Deze waarde is ongeldig."
            return False

    naam, email, telefoon = text("naam"), text("email"), text("telefoon")
    relatie, soort, locatie = text("relatie"), text("soort"), text("locatie")
    omschrijving = text("omschrijving")
    namens = text("namens")  # on whose behalf (a registration by staff: "via een ander")
    anoniem, toestemming = flag("anoniem"), flag("toestemming")

    if kanaal not in CHANNELS:
        errors["kanaal"] = "Onbekend kanaal."

    # Who complains, and how we reach them.
    if anoniem and rules.anonymous == "refuse":
        errors["anoniem"] = rules.anonymous_explanation
        rule = "anonymous"
    elif anoniem:  # what identifies the complainant is dropped, so it is not checked either
        for name in ("naam", "email", "telefoon"):
            errors.pop(name, None)
        naam = email = telefoon = ""
    else:
        if not naam:
            errors.setdefault("naam", "Vul uw naam in.")
        if not email and not telefoon:
            errors.setdefault("email", "Vul uw e-mailadres of telefoonnummer in, zodat wij contact met u "
                                       "kunnen opnemen.")
        if not naam and not email and not telefoon and rules.anonymous == "refuse":
            errors[""] = rules.anonymous_explanation
            rule = "anonymous"
    if email and "email" not in errors and not _EMAIL.fullmatch(email):
        errors["email"] = "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."
    if telefoon and "telefoon" not in errors and not _plausible_phone(telefoon):
        errors["telefoon"] = "Vul een geldig telefoonnummer in, zoals 06 12345678 of 020 1234567."
    if not relatie:
        errors.setdefault("relatie", "Kies uw relatie tot de organisatie.")
    elif relatie not in RELATIONS:
        errors.setdefault("relatie", "Kies een van de mogelijkheden uit de lijst.")

    # What it is about.
    if len(rules.types) == 1 and not soort:
        soort = rules.types[0]
    if not soort:
        errors.setdefault("soort", "Kies wat u ons wilt laten weten: " + ", ".join(
            label.lower() for _, label in rules.type_choices) + ".")
    elif soort not in rules.types:
        errors.setdefault("soort", "Kies een van de mogelijkheden.")
    signal = anoniem and rules.anonymous == "signal"
    if signal:
        soort = SIGNAL
    if locatie and rules.locations and locatie not in rules.locations and "locatie" not in errors:
        errors["locatie"] = "Kies een locatie uit de lijst."
    if not omschrijving:
        errors.setdefault("omschrijving", "Beschrijf wat er is gebeurd.")

    # When it happened; complaints lapse after the organisation's term.
    datum, kennisname = _event_dates(get, errors, today)
    lapse_applies = bool(rules.lapse_months) and soort == "klacht"
    if datum is not None and lapse_applies and "datum_gebeurtenis" not in errors \
            and lapsed(kennisname or datum, today, rules.lapse_months or 0):
        errors["datum_kennisname" if kennisname else "datum_gebeurtenis"] = rules.lapse_explanation
        rule = rule or "lapse"
    elif datum is None and lapse_applies and "datum_gebeurtenis" not in errors:
        errors["datum_gebeurtenis"] = "Vul de datum van de gebeurtenis in."

    if not toestemming:
        errors.setdefault("toestemming", f"Geef {config.name} toestemming om uw gegevens te gebruiken voor "
                                         "de behandeling van uw melding.")

    if errors:
        raise IntakeRefused(errors, rule)
    data = {
        "klager": {"naam": naam, "email": email, "telefoon": telefoon, "relatie": relatie},
        "anoniem": anoniem,
        "soort": soort,
        "locatie": locatie,
        "datum_gebeurtenis": datum.isoformat() if datum else "",
        **({"datum_kennisname": kennisname.isoformat()} if kennisname else {}),
        "omschrijving": omschrijving,
        "kanaal": kanaal,
        "toestemming": True,
    }
    if namens:
        data["namens"] = namens
    if kennisname:
        data["datum_kennisname"] = kennisname.isoformat()
    return IntakeResult(data=data, complaint_type=soort, location=locatie or None, signal=signal)


# -- starting ------------------------------------------------------------------------------


def web_form_actor(slug: str) -> Actor:
    return Actor(WEB_FORM_IDENTITY, slug)


def start_intake(runtime: Runtime, slug: str, result: IntakeResult, actor: Actor | None = None,
                 with_rows: RowsHook | None = None) -> Started:
    """Start the organisation's current diagram with checked intake data (as the web form by default);
    `with_rows` adds rows (the attached documents) in the intake's transaction."""
    return runtime.start(slug, result.data, actor=actor or web_form_actor(slug),
                         complaint_type=result.complaint_type, location=result.location, with_rows=with_rows)


def submit_complaint(runtime: Runtime, slug: str, submitted: Mapping[str, Any], today: date, *,
                     actor: Actor | None = None, kanaal: str = "website") -> Started:
    """Check a submission (IntakeRefused when it cannot be taken in) and start its procedure.
    NotFound when the organisation is unknown or has no deployed diagram."""
    result = check_intake(runtime.organisation(slug), submitted, today, kanaal=kanaal)
    return start_intake(runtime, slug, result, actor)


# -- what happens next ---------------------------------------------------------------------


@dataclass
class NextStep:
    label: str
    due: date | None = None


@dataclass
class Confirmation:
    """What the complainant is told after submitting."""

    soort: str
    steps: list[NextStep] = field(default_factory=list)
    message: str = ""


def confirmation(config: OrganisationConfig, soort: str, received: datetime) -> Confirmation:
    """What happens next: for a complaint the organisation's deadlines (`intake.next_steps`, else
    the labels of `deadlines` with the date each falls on), for the other kinds a short message."""
    if soort == SIGNAL:
        return Confirmation(soort, message=(
            f"Uw melding is anoniem. {config.name} neemt haar niet in behandeling als klacht, maar bewaart "
            "haar als signaal om de kwaliteit te verbeteren. Omdat wij niet weten wie u bent, kunnen wij u "
            "niet laten weten wat wij ermee doen."))
    if soort == "compliment":
        return Confirmation(soort, message="Wij delen uw compliment met de medewerkers om wie het gaat.")
    if soort == "suggestie":
        return Confirmation(soort, message="Wij bekijken uw suggestie en laten u weten wat wij ermee doen.")
    rules = IntakeRules.of(config)
    if rules.next_steps:
        return Confirmation(soort, steps=[NextStep(s) for s in rules.next_steps])
    steps = []
    for spec in (config.deadlines or {}).values():
        if not isinstance(spec, Mapping) or not spec.get("label"):
            continue
        steps.append(NextStep(str(spec["label"]), _due(config, spec, received)))
    return Confirmation(soort, steps=steps)


def _due(config: OrganisationConfig, spec: Mapping[str, Any], received: datetime) -> date | None:
    calendar = config.calendar
    statutory = bool(spec.get("statutory"))
    try:
        if "working_days" in spec:
            moment = calendar.working_days_after(spec["working_days"], received)
        elif "weeks" in spec:
            moment = calendar.weeks_after(spec["weeks"], received, statutory=statutory)
        elif "months" in spec:
            moment = calendar.months_after(spec["months"], received, statutory=statutory)
        elif "days" in spec:
            moment = calendar.days_after(spec["days"], received)
        else:
            return None
        # A date promised to the complainant never falls on a weekend, holiday or closing day; the end
        # of the complainant's own window (the Geschillencommissie's twelve months) is not ours to move.
        if not spec.get("window"):
            moment = calendar.next_working_day(moment)
    except (TypeError, ValueError):
        return None
    return datetime.fromisoformat(moment).date()


WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")


def long_date(day: date) -> str:
    """'donderdag 5 maart 2026'."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"

"""An organisation's intake rules (`intake` in organisation.yaml) and the words of the intake:
relations, kinds of report, channels, size limits; what a checked or refused intake is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webapp.runtime.errors import ConfigError, KlachtrouteError
from webapp.runtime.organisations import OrganisationConfig

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


__all__ = ["ANONYMOUS_POLICIES", "CHANNELS", "CHANNEL_LABELS", "MAX_LENGTH", "RELATIONS", "SIGNAL", "TYPE_LABELS",
           "WEB_FORM_IDENTITY", "IntakeRefused", "IntakeResult", "IntakeRules"]

"""What the complainant is told after submitting: what happens next, and by when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from webapp.runtime.organisations import OrganisationConfig

from .rules import SIGNAL, IntakeRules


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


__all__ = ["MONTHS", "WEEKDAYS", "Confirmation", "NextStep", "confirmation", "long_date"]

"""The words of the reports: complaint types, escalation levels, external bodies and the patterns
that classify form fields and steps by name (Dutch procedures name them consistently)."""

from __future__ import annotations

import re

from webapp.deadlines import STATES
from webapp.vocabulary import EventType

TYPE_LABELS = {"klacht": "Klacht", "compliment": "Compliment", "suggestie": "Suggestie", "signaal": "Signaal"}
TYPE_ORDER = ["klacht", "suggestie", "compliment", "signaal"]
UNKNOWN = "Onbekend"
OTHER_LOCATION = "Overige locaties"

DEADLINE_STATES = STATES

# Escalation levels, checked in this order against a step's name and lane (soft hyphens removed).
ESCALATION_LEVELS: list[tuple[str, str, re.Pattern[str]]] = [
    ("extern", "Externe instantie (Geschillencommissie, Klachtenloket, Klachtencommissie, Exkocie)",
     re.compile(r"geschil|klachtencommissie|exkocie|klachtenloket", re.I)),
    ("directie", "Directie en bestuur", re.compile(r"directeur|bestuurder", re.I)),
]
TIMER_LEVEL = ("termijn", "Termijn verstreken (escalatie door een timer)")
# Organisation-wide improvements are measures, not escalations.
NOT_ESCALATION = re.compile(r"verbeter|oudercommissie|wijziging", re.I)

# External bodies, by the word that names them in a step, lane or form.
BODIES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"exkocie", re.I), "Exkocie"),
    (re.compile(r"klachtencommissie", re.I), "Klachtencommissie"),
    (re.compile(r"klachtenloket", re.I), "Klachtenloket Kinderopvang"),
    (re.compile(r"geschil", re.I), "Geschillencommissie"),
]
EXTERNAL = re.compile(r"geschil|exkocie|klachtencommissie|klachtenloket", re.I)
JUDGEMENT_VALUE = re.compile(r"gegrond", re.I)
# The subject of a complaint; not "soort" (klacht/compliment, onvrede/klacht is the kind, not the subject).
NATURE_FIELD = re.compile(r"aard|categorie|onderwerp|thema", re.I)
MEASURE_FIELD = re.compile(r"verbeter|maatregel|wijziging|afdelingsoverstijgend|opvolging", re.I)
MEASURE_TEXT_FIELD = re.compile(r"maatregel", re.I)
MEASURE_TASK = re.compile(r"verbetering", re.I)
# Roles that read reports besides auditor and procesbeheerder, when the configuration names none.
QUALITY_ROLE = re.compile(r"kwaliteit|klachtenfunctionaris|stafbureau", re.I)  # on a role's id or label
QUALITY_TASK = re.compile(r"jaarverslag|klachtenverslag|analy|rapport", re.I)  # in a role's description

# The audit events the figures read (see the package's doc).
RELEVANT_EVENTS = (EventType.TIMER_FIRED, EventType.GATEWAY_PASSED, EventType.END_EVENT, EventType.ELEMENT_COMPLETED,
                   EventType.MESSAGE_RECEIVED, EventType.TASK_COMPLETED)


def clean(name: str | None) -> str:
    """A BPMN name as text: soft hyphens and line breaks out."""
    return re.sub(r"\s+", " ", (name or "").replace("\xad", "")).strip()


def type_key(value: str | None) -> str:
    return value or "onbekend"


def type_label(key: str) -> str:
    return TYPE_LABELS.get(key, UNKNOWN if key == "onbekend" else key.capitalize())

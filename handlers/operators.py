"""Service-task operators: what a diagram's service tasks may call, by name.

An operator receives the step (to queue letters and notifications in the step's own
transaction, and to read the organisation and reference) and the task data, plus the
parameters the diagram gives. It returns a JSON-serialisable result that lands in the
service task's result variable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Protocol

from webapp.vocabulary import EventType

from .dutch import kind_noun
from .letters import LetterBook


class Step(Protocol):
    """What the runtime offers an operator (see webapp.runtime.steps.StepRecorder)."""

    organisation_slug: str
    organisation_name: str
    reference: str
    letters: LetterBook  # the letters of the package the complaint runs on

    def queue_message(self, *, kind: str, recipient: str, subject: str, body: str,
                      template: str | None = None) -> None: ...

    def record(self, event_type: str, data: dict[str, Any] | None = None) -> None: ...

    # Optional: where a letter to the complainant puts their personal link (the runtime's steps have it).
    # def portal_link(self) -> str: ...
    def record_measure(self, measure: dict[str, Any]) -> None: ...


Operator = Callable[..., dict[str, Any]]


def _complainant_address(data: Mapping[str, Any]) -> str | None:
    complainant = data.get("klager") or {}
    return complainant.get("email") if isinstance(complainant, Mapping) else None


def send_letter(step: Step, data: Mapping[str, Any], template: str, to: str = "klager") -> dict[str, Any]:
    """A letter to the complainant (or to the address `to`), from a Dutch template."""
    if not step.letters.exists(template):
        raise ValueError(f"letter template '{template}' does not exist")
    recipient = _complainant_address(data) if to == "klager" else to
    # Every letter to the complainant carries their personal link to the complaint's page.
    link = getattr(step, "portal_link", None) if to == "klager" else None
    subject, body = step.letters.render(template, data, step, portal_link=link() if link else None)
    # No address (a complaint taken by phone): the letter is kept for posting by hand.
    recipient = recipient or "post"
    step.queue_message(kind="letter", recipient=recipient, subject=subject, body=body, template=template)
    return {"template": template, "recipient": recipient}


def notify_role(step: Step, data: Mapping[str, Any], role: str, subject: str, message: str = "") -> dict[str, Any]:
    """A notification to everyone holding `role` in the organisation."""
    step.queue_message(kind="notification", recipient=f"role:{role}", subject=subject, body=message or subject)
    return {"role": role}


def register_complaint(step: Step, data: Mapping[str, Any], role: str, note: str = "") -> dict[str, Any]:
    """Registration of the complaint with the quality officer (or whoever `role` is):
    an audit event for the register and a notification to the role."""
    step.record(EventType.COMPLAINT_REGISTERED, {"role": role, "note": note})
    subject = f"{kind_noun(data.get('soort', 'klacht'))} {step.reference} geregistreerd" + (f": {note}" if note else "")
    step.queue_message(kind="notification", recipient=f"role:{role}", subject=subject, body=subject)
    return {"registered_with": role}


def _promised_date(value: Any) -> date | None:
    text = str(value or "").strip()[:10]
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"de termijn van de maatregel is geen datum: '{text}'") from None


def record_measure(step: Step, data: Mapping[str, Any], field: str, due_field: str, role: str,
                   person_field: str = "", feedback: Any = False, scope: str = "klacht") -> dict[str, Any]:
    """A measure agreed in this step, into the organisation's register of measures: the text of the
    form field `field`, the promised date of `due_field`, the role responsible (and the person named
    in `person_field`), the complaint's location. At that date the responsible role gets "Maatregel
    gerealiseerd?"; with `feedback` the complainant gets a letter once it is realised. The fields are
    given by name, as a form may leave them out: nothing is recorded when the measure or its date is
    empty (no measure agreed)."""
    text = str(data.get(field) or "").strip()
    promised = _promised_date(data.get(due_field))
    if not text or promised is None:
        return {"recorded": False}
    if scope not in ("klacht", "organisatie"):
        raise ValueError(f"onbekende soort maatregel '{scope}' (klacht of organisatie)")
    person = str(data.get(person_field) or "").strip() if person_field else ""
    location = str(data.get("locatie") or "").strip()
    step.record_measure({
        "description": text[:5000], "due_on": promised, "responsible_role": str(role)[:64],
        "responsible_person": person[:200] or None, "location": location[:200] or None,
        "feedback_letter": bool(feedback), "scope": scope})
    return {"recorded": True, "due_on": promised.isoformat(), "role": role}


OPERATORS: dict[str, Operator] = {
    "send_letter": send_letter,
    "notify_role": notify_role,
    "register_complaint": register_complaint,
    "record_measure": record_measure,
}

# What each operator takes, for the diagram checks and the modeller's property panel.
OPERATOR_PARAMETERS: dict[str, dict[str, bool]] = {
    "send_letter": {"template": True, "to": False},
    "notify_role": {"role": True, "subject": True, "message": False},
    "register_complaint": {"role": True, "note": False},
    "record_measure": {"field": True, "due_field": True, "role": True, "person_field": False,
                       "feedback": False, "scope": False},
}

"""Service-task operators: what a diagram's service tasks may call, by name.

An operator receives the step (to queue letters and notifications in the step's own
transaction, and to read the organisation and reference) and the task data, plus the
parameters the diagram gives. It returns a JSON-serialisable result that lands in the
service task's result variable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from webapp.vocabulary import EventType

from .dutch import kind_noun
from .letters import letter_exists, render_letter


class Step(Protocol):
    """What the runtime offers an operator (see webapp.runtime.steps.StepRecorder)."""

    organisation_slug: str
    organisation_name: str
    reference: str

    def queue_message(self, *, kind: str, recipient: str, subject: str, body: str,
                      template: str | None = None) -> None: ...

    def record(self, event_type: str, data: dict[str, Any] | None = None) -> None: ...

    # Optional: where a letter to the complainant puts their personal link (the runtime's steps have it).
    # def portal_link(self) -> str: ...


Operator = Callable[..., dict[str, Any]]


def _complainant_address(data: Mapping[str, Any]) -> str | None:
    complainant = data.get("klager") or {}
    return complainant.get("email") if isinstance(complainant, Mapping) else None


def send_letter(step: Step, data: Mapping[str, Any], template: str, to: str = "klager") -> dict[str, Any]:
    """A letter to the complainant (or to the address `to`), from a Dutch template."""
    # An organisation may word a generic letter its own way: handlers/letters/<slug>/<template>.txt.
    own = f"{step.organisation_slug}/{template}"
    if "/" not in template and letter_exists(own):
        template = own
    if not letter_exists(template):
        raise ValueError(f"letter template '{template}' does not exist")
    recipient = _complainant_address(data) if to == "klager" else to
    # Every letter to the complainant carries their personal link to the complaint's page.
    link = getattr(step, "portal_link", None) if to == "klager" else None
    subject, body = render_letter(template, data, step, portal_link=link() if link else None)
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


OPERATORS: dict[str, Operator] = {
    "send_letter": send_letter,
    "notify_role": notify_role,
    "register_complaint": register_complaint,
}

# What each operator takes, for the diagram checks and the modeller's property panel.
OPERATOR_PARAMETERS: dict[str, dict[str, bool]] = {
    "send_letter": {"template": True, "to": False},
    "notify_role": {"role": True, "subject": True, "message": False},
    "register_complaint": {"role": True, "note": False},
}

"""A complaint's timeline as people read it: names instead of email addresses, role labels
instead of role codes, element names instead of BPMN ids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import g

from webapp.db.models import AuditEvent
from webapp.vocabulary import EventType

from . import queries
from .auth import runtime

LABELS = {
    EventType.COMPLAINT_RECEIVED: "Klacht ontvangen", EventType.TASK_READY: "Taak klaargezet",
    EventType.TASK_COMPLETED: "Taak afgerond", EventType.TASK_CANCELLED: "Taak vervallen",
    EventType.TIMER_FIRED: "Termijn verstreken", EventType.MESSAGE_SENT: "Bericht verstuurd",
    EventType.MESSAGE_RECEIVED: "Bericht ontvangen", EventType.PROCESS_COMPLETED: "Klacht afgesloten",
    EventType.GATEWAY_PASSED: "Besluit", EventType.ELEMENT_COMPLETED: "Stap uitgevoerd",
    EventType.END_EVENT: "Einde bereikt", EventType.TASK_CLAIMED: "Taak opgepakt",
    EventType.TASK_RELEASED: "Taak vrijgegeven", EventType.TASK_HANDED_OVER: "Taak overgedragen",
    EventType.ERROR: "Storing", EventType.COMPLAINT_REGISTERED: "Klacht geregistreerd",
    EventType.MIGRATED: "Naar een andere procesversie verplaatst",
}
# Engine bookkeeping nobody needs on a complaint's page.
HIDDEN = {EventType.ELEMENT_COMPLETED, EventType.END_EVENT, EventType.TASK_READY}


@dataclass(frozen=True)
class Entry:
    occurred_at: datetime
    event_type: str
    label: str
    what: str  # the element's name, never its id
    detail: str  # where a decision led, who a task went to, who a letter was for
    who: str  # a person's name, or "systeem"


def names_of(emails: Iterable[str]) -> dict[str, str]:
    """Email -> name for the users among `emails`."""
    wanted = [e for e in emails if e and "@" in e]
    if not wanted:
        return {}
    with runtime().sessions() as session:
        return queries.names_by_email(session, wanted)


def recipient_label(recipient: str, roles: dict[str, str]) -> str:
    """'role:manager_ve' -> 'Manager VE'; a complainant's address or 'klager' -> 'de klager'."""
    if recipient.startswith("role:"):
        return roles.get(recipient[5:], recipient[5:].replace("_", " "))
    if recipient == "post":
        return "de klager (per post)"
    return "de klager"


def build(events: Iterable[AuditEvent], hidden: frozenset[str] | set[str] = HIDDEN) -> list[Entry]:
    events = list(events)
    roles = g.org.all_roles if getattr(g, "org", None) else {}
    element_names = {e.bpmn_id: e.bpmn_name for e in events if e.bpmn_id and e.bpmn_name}
    people = names_of([e.actor for e in events] + [str((e.data or {}).get("to", "")) for e in events
                                                     if e.event_type == EventType.TASK_HANDED_OVER])
    entries = []
    for e in events:
        if e.event_type in hidden:
            continue
        data = e.data or {}
        detail = ""
        if e.event_type == EventType.GATEWAY_PASSED:
            taken = [element_names[t] for t in data.get("to") or [] if t in element_names]
            detail = f"verder met {', '.join(taken)}" if taken else ""
        elif e.event_type == EventType.TASK_HANDED_OVER and data.get("to"):
            detail = f"aan {people.get(data['to'], data['to'])}"
        elif e.event_type == EventType.MESSAGE_SENT and data.get("to"):
            kind = "brief" if data.get("kind") == "letter" else "melding"
            detail = f"{kind} aan {recipient_label(str(data['to']), roles)}"
        who = "systeem" if e.actor == "system" else people.get(e.actor, e.actor)
        entries.append(Entry(e.occurred_at, e.event_type, LABELS.get(e.event_type, "Gebeurtenis"),
                             e.bpmn_name or "", detail, who))
    return entries

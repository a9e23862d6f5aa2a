"""Incidents: a complaint whose step failed.

Whatever a step raises (a script error, `OverflowError` from a date out of range,
SpiffWorkflow's bare `Exception('Invalid duration')`, even `SystemExit` or
`MemoryError` from diagram code), that complaint's step is rolled back and the
complaint is marked: which element, what message, since when, how many attempts.
The worker retries it with backoff; staff can retry now, move it to another diagram
version or cancel it (`Runtime.retry_incident`, `migration.migrate`,
`Runtime.cancel_complaint`). Every other complaint goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from webapp.db.models import DiagramVersion, Instance, Organisation

from . import audit
from .errors import InvalidWorkflowState

# The waits before the worker tries again: a passing hiccup is retried soon, a real
# mistake in the diagram does not cost a retry every few seconds.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
MAX_BACKOFF = timedelta(hours=6)
MESSAGE_LIMIT = 2000  # characters kept of an exception's text (it may quote a huge value)

KINDS = {"intake": "bij de registratie", "timer": "bij een termijn", "task": "bij het afronden van een taak",
         "message": "bij een bericht van buiten"}


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure."""
    if attempts <= 0:
        return timedelta(0)
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else MAX_BACKOFF


def _safe_text(value: Any) -> str:
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - an exception whose __str__ fails still needs a message
        text = "(onleesbare foutmelding)"
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " ..."


def _element_of(exc: BaseException) -> str | None:
    """The BPMN element an exception (or one it was raised from) is about."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, InvalidWorkflowState) and current.element_id:
            return current.element_id
        for holder in (getattr(current, "task_spec", None),
                       getattr(getattr(current, "task", None), "task_spec", None)):
            bpmn_id = getattr(holder, "bpmn_id", None)
            if isinstance(bpmn_id, str):
                return bpmn_id
        current = current.__cause__ or current.__context__
    return _element_in_traceback(exc)


def _element_in_traceback(exc: BaseException) -> str | None:
    """For an error the library raised bare (`Exception('Invalid duration')`): the innermost
    frame of the traceback that was working on a task names the element."""
    found = None
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            for name in ("my_task", "task"):
                bpmn_id = getattr(getattr(tb.tb_frame.f_locals.get(name), "task_spec", None), "bpmn_id", None)
                if isinstance(bpmn_id, str):
                    found = bpmn_id
                    break
            tb = tb.tb_next
        current = current.__cause__ or current.__context__
    return found


def describe(exc: BaseException) -> tuple[str | None, str]:
    """(element id, message) of a failed step, for the incident and the audit trail."""
    element = _element_of(exc)
    original = getattr(exc, "orig", None)
    if isinstance(exc, SQLAlchemyError) and original is not None:
        # Never the statement or its parameters: they hold the complaint's personal data.
        first_line = _safe_text(original).splitlines()[0] if _safe_text(original) else ""
        return element, f"database: {type(original).__name__}: {first_line}"
    if isinstance(exc, InvalidWorkflowState):
        return element, _safe_text(exc.message)
    name = type(exc).__name__
    text = _safe_text(exc)
    return element, f"{name}: {text}" if text else name


def open_or_repeat(session: Session, instance: Instance, kind: str, exc: BaseException, now: datetime,
                   actor: str) -> None:
    """Mark `instance` as in incident (or count another failed attempt) and schedule the retry.
    Call after the failed step was rolled back; writes one audit event."""
    element, message = describe(exc)
    attempts = (instance.incident_attempts or 0) + 1
    instance.incident_kind = kind if instance.incident_since is None else instance.incident_kind or kind
    instance.incident_element = element
    instance.incident_since = instance.incident_since or now
    instance.incident_attempts = attempts
    instance.last_error = message
    # A task or a message failed in someone's hands: they try again; only timers and intake are
    # retried by the worker.
    if kind in ("timer", "intake"):
        instance.next_wakeup_at = now + backoff(attempts)
    audit.append(session, [{"organisation_id": instance.organisation_id, "instance_id": instance.id,
                            "occurred_at": now, "actor": actor, "event_type": "error", "bpmn_id": element,
                            "data": {"message": message, "kind": kind, "attempts": attempts}}])


def resolved_event(instance: Instance, now: datetime, actor: str) -> dict[str, Any]:
    return {"organisation_id": instance.organisation_id, "instance_id": instance.id, "occurred_at": now,
            "actor": actor, "event_type": "incident_resolved", "bpmn_id": instance.incident_element,
            "data": {"kind": instance.incident_kind, "attempts": instance.incident_attempts}}


def clear(instance: Instance) -> None:
    instance.incident_kind = None
    instance.incident_element = None
    instance.incident_since = None
    instance.incident_attempts = 0
    instance.last_error = None
    instance.start_data = None


@dataclass(frozen=True)
class IncidentView:
    instance_id: int
    organisation: str
    reference: str
    kind: str
    kind_label: str
    element_id: str | None
    element_name: str | None
    message: str
    since: datetime
    attempts: int
    next_attempt_at: datetime | None
    diagram_version: int


def list_incidents(session: Session, organisation_slug: str | None = None) -> list[IncidentView]:
    """Complaints in incident, oldest first, with the element's name from their diagram."""
    query = (select(Instance, Organisation.slug, DiagramVersion.version)
             .join(Organisation, Organisation.id == Instance.organisation_id)
             .join(DiagramVersion, DiagramVersion.id == Instance.diagram_version_id)
             .where(Instance.incident_since.is_not(None), Instance.status == "running")
             .order_by(Instance.incident_since, Instance.id))
    if organisation_slug is not None:
        query = query.where(Organisation.slug == organisation_slug)
    views = []
    for instance, slug, version in session.execute(query):
        kind = instance.incident_kind or "timer"
        views.append(IncidentView(
            instance.id, slug, instance.reference, kind, KINDS.get(kind, kind), instance.incident_element,
            None, instance.last_error or "", instance.incident_since, instance.incident_attempts,
            instance.next_wakeup_at if kind in ("timer", "intake") else None, version))
    return views

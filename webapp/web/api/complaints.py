"""A complaint through the API: its summary, tasks, letters and trace."""

from __future__ import annotations

from flask import g, jsonify

from webapp.accounts import Membership

from .. import access, queries, staff
from ..auth import runtime
from .base import ApiError, authenticated, bp, iso, jsonable, task_ref
from .tasks import may

# -- complaints --------------------------------------------------------------------------


def _recipient(recipient: str) -> tuple[str, str | None]:
    if recipient.startswith("role:"):
        return "role", recipient.removeprefix("role:")
    if recipient == "post":
        return "post", None
    return "address", None


@bp.get("/complaints/<reference>")
@authenticated
def complaint(reference: str):
    member: Membership = g.member
    with runtime().sessions() as session:
        found = queries.complaint_by_reference(session, reference.strip().upper())
    if found is None:
        raise ApiError(404, "Deze klacht bestaat niet, of u heeft er geen toegang toe.")
    instance, slug, org_name = found
    if not may(member, slug, lambda s, v: queries.may_open_complaint(s, v, instance.id)):
        raise ApiError(404, "Deze klacht bestaat niet, of u heeft er geen toegang toe.")
    with runtime().sessions() as session:
        records = queries.complaint_records(session, instance.id, chronological=True)
    tasks, messages, events = records.tasks, records.messages, records.events
    access.log_access(instance.organisation_id, instance.id, member.user_id, member.email, "api-klacht")
    outbox = []
    for message in messages:
        kind, role = _recipient(message.recipient)
        outbox.append({"id": message.id, "kind": message.kind, "template": message.template,
                       "subject": message.subject, "recipient_kind": kind, "recipient_role": role,
                       "status": message.status, "created_at": iso(message.created_at),
                       "sent_at": iso(message.sent_at)})
    return jsonify({
        "reference": instance.reference,
        "organisation": {"slug": slug, "name": org_name},
        "status": instance.status,
        "type": instance.complaint_type,
        "location": instance.location,
        "created_at": iso(instance.created_at),
        "closed_at": iso(instance.closed_at),
        "lock_version": instance.lock_version,
        "tasks": {"open": [task_ref(t) for t in tasks if t.state == "ready"],
                  "finished": [task_ref(t) for t in tasks if t.state != "ready"]},
        "messages": outbox,
        "trace": [{"occurred_at": iso(e.occurred_at), "actor": e.actor, "event_type": e.event_type,
                   "label": staff.EVENT_LABELS.get(e.event_type, e.event_type), "bpmn_id": e.bpmn_id,
                   "bpmn_name": e.bpmn_name, "data": jsonable(e.data or {})} for e in events],
    })

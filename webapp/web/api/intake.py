"""The public complaint form and staff registrations through the API."""

from __future__ import annotations

from flask import g, jsonify, url_for

from webapp import intake
from webapp.accounts import Membership
from webapp.runtime import clock
from webapp.runtime.errors import (
    NotFound as RuntimeNotFound,
)

from .. import queries, ratelimit
from ..auth import runtime
from .base import (
    PUBLIC_BODY_LIMIT,
    READ_ONLY_ROLES,
    WRITE_BODY_LIMIT,
    ApiError,
    actor,
    authenticated,
    bp,
    iso,
    json_body,
)

# -- the public complaint form -----------------------------------------------------------


@bp.post("/organisations/<org>/complaints")
def submit_complaint(org: str):
    if org not in runtime().organisations:
        raise ApiError(404, "Deze organisatie is onbekend.")
    refusal = ratelimit.intake_refusal(org)
    if refusal is not None:
        raise ApiError(429, ratelimit.message(refusal, runtime().organisations[org].name),
                       headers={"Retry-After": str(refusal.seconds)})
    submitted = json_body(PUBLIC_BODY_LIMIT)
    if not isinstance(submitted, dict):
        raise ApiError(422, errors=[{"field": "", "message": "Stuur de klacht als JSON-object."}])
    today = clock.to_local(clock.now()).date()
    try:
        started = intake.submit_complaint(runtime(), org, submitted, today)
    except intake.IntakeRefused as exc:
        errors = [{"field": field, "message": message} for field, message in exc.errors.items()]
        raise ApiError(422, errors=errors) from None
    except RuntimeNotFound:  # configured, but no diagram deployed
        raise ApiError(404, "Deze organisatie neemt nog geen klachten aan.") from None
    with runtime().sessions() as session:
        instance = queries.instance(session, started.instance_id)
    response = jsonify({"reference": started.reference, "status": instance.status, "type": instance.complaint_type})
    response.status_code = 201
    response.headers["Location"] = url_for("api.complaint", reference=started.reference)
    return response


@bp.post("/organisations/<org>/registrations")
@authenticated
def register_complaint(org: str):
    """Staff register a complaint received elsewhere (webapp.registration)."""
    from webapp.registration import register_complaint as register

    member: Membership = g.member
    roles = member.roles_in(org)
    if not roles or org not in runtime().organisations:
        raise ApiError(404, "Deze organisatie is onbekend, of u heeft er geen rol.")
    if roles <= READ_ONLY_ROLES:
        raise ApiError(403, "Als auditor kunt u meekijken, maar niets wijzigen.")
    submitted = json_body(WRITE_BODY_LIMIT)
    if not isinstance(submitted, dict):
        raise ApiError(422, errors=[{"field": "", "message": "Stuur de registratie als JSON-object."}])
    try:
        done = register(runtime(), org, submitted, actor(member, org), user_id=member.user_id)
    except intake.IntakeRefused as exc:
        raise ApiError(422, errors=[{"field": f, "message": m} for f, m in exc.errors.items()]) from None
    except RuntimeNotFound:
        raise ApiError(404, "Deze organisatie neemt nog geen klachten aan.") from None
    with runtime().sessions() as session:
        instance = queries.instance(session, done.instance_id)
    response = jsonify({"reference": done.reference, "status": instance.status, "type": instance.complaint_type,
                        "received_at": iso(instance.received_at), "registered_late": done.late,
                        "claimed_task_id": done.claimed_task_id})
    response.status_code = 201
    response.headers["Location"] = url_for("api.complaint", reference=done.reference)
    return response

"""The JSON API under /api/v1, described by /api/v1/openapi.json.

Who calls: a person with a personal token (`Authorization: Bearer kr_...`), or the browser of a
logged-in person (the session cookie; a write then needs the CSRF token in `X-CSRFToken`). The
complaint form is public. The organisation rules are those of the staff pages: a caller sees only
the organisations where they hold a role, another organisation's objects are a 404 (never a 403),
and auditors read but never write. Every answer under /api/v1 is JSON, errors included.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, NotFound

from webapp import intake
from webapp.accounts import Membership, membership, user_for_token
from webapp.db.models import HumanTask, Instance, Organisation, OutboxMessage, User
from webapp.runtime import clock
from webapp.runtime.errors import (
    ConflictError,
    FormValidationError,
    KlachtrouteError,
)
from webapp.runtime.errors import (
    NotFound as RuntimeNotFound,
)
from webapp.runtime.errors import (
    PermissionDenied as RuntimePermissionDenied,
)
from webapp.runtime.service import Actor

from . import access, csrf, queries, ratelimit, staff
from .auth import runtime
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000  # beyond it an offset no longer fits the database's integers
PUBLIC_BODY_LIMIT = 64 * 1024  # a complaint is text: 64 KB is plenty
WRITE_BODY_LIMIT = 256 * 1024
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
READ_ONLY_ROLES = {"auditor"}
# What the task view shows of a complaint's data: the same as the staff task page, no contact details.
SUMMARY_KEYS = ("referentie", "ontvangen_op", "locatie", "datum_gebeurtenis", "omschrijving")
COMPLAINANT_KEYS = ("naam", "relatie")

MESSAGES = {
    400: "Het verzoek is ongeldig.",
    401: "Log in, of stuur een persoonlijk API-token mee (Authorization: Bearer ...).",
    403: "U mag dit niet doen.",
    404: "Niet gevonden, of u heeft er geen toegang toe.",
    405: "Deze methode is hier niet toegestaan.",
    409: "Dit kan nu niet meer: de toestand is intussen veranderd.",
    413: "Wat u verstuurde is te groot.",
    415: "Stuur JSON, met Content-Type: application/json.",
    422: "De invoer is niet geldig.",
    429: "Te veel verzoeken kort na elkaar. Probeer het later opnieuw.",
    500: "Er ging aan onze kant iets mis. Probeer het later opnieuw.",
}
BEARER_CHALLENGE = 'Bearer realm="klachtroute"'


# -- errors ------------------------------------------------------------------------------


class ApiError(Exception):
    """An answer other than success: becomes {"error": ..., "errors": [...]} with `status`."""

    def __init__(self, status: int, message: str | None = None, errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message or MESSAGES.get(status, ""))
        self.status = status
        self.message = message or MESSAGES.get(status, "")
        self.errors = errors
        self.headers = headers or {}


def error_response(status: int, message: str | None = None, errors: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": message or MESSAGES.get(status, "")}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.message, exc.errors, exc.headers)


@bp.errorhandler(CSRFError)
def _csrf_error(_exc: CSRFError):
    return error_response(400, "Het CSRF-token ontbreekt of is ongeldig: stuur het mee in de kop X-CSRFToken.")


def _http_error(exc: HTTPException):
    status = exc.code or 500
    headers = {k: v for k, v in exc.get_headers() if k in ("Allow", "WWW-Authenticate", "Retry-After")}
    if status == 401:
        headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
    return error_response(status, MESSAGES.get(status) or exc.name, headers=headers)


def _server_error(_exc: Exception):
    # Flask has logged the exception; the caller gets no stack trace.
    return error_response(500)


for _code in (400, 401, 403, 404, 405, 409, 413, 415, 422):
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)
bp.register_error_handler(InternalServerError, _server_error)
bp.register_error_handler(500, _server_error)


@bp.before_app_request
def _routing_errors_as_json():
    """A path under /api/v1 that matches no route (404) or not with this method (405) never
    reaches a view of this blueprint, so its error handlers would not apply: answer here."""
    exc = request.routing_exception
    prefix = bp.url_prefix or ""
    if exc is None or not (request.path == prefix or request.path.startswith(prefix + "/")):
        return None
    if isinstance(exc, MethodNotAllowed | NotFound):
        return _http_error(exc)
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    """Answers hold personal data and depend on who asks: no cache keeps them."""
    if request.endpoint != "api.openapi":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# -- authentication ----------------------------------------------------------------------


def _caller() -> Membership:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "Gebruik de kop Authorization: Bearer <persoonlijk token>.",
                           headers={"WWW-Authenticate": BEARER_CHALLENGE + ', error="invalid_request"'})
        with runtime().write_sessions.begin() as session:
            user_id = user_for_token(session, token)
            member = membership(session, user_id) if user_id is not None else None
        if member is None:
            raise ApiError(401, "Dit API-token is onbekend of ingetrokken.",
                           headers={"WWW-Authenticate": BEARER_CHALLENGE + ', error="invalid_token"'})
        return member
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            csrf.protect()  # a cookie alone is not enough to write
        return current_user.member
    raise ApiError(401, headers={"WWW-Authenticate": BEARER_CHALLENGE})


def authenticated(view: Callable) -> Callable:
    """The caller is a person, by token or session; sets g.member."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.member = _caller()
        return view(*args, **kwargs)

    return wrapper


def _actor(member: Membership, slug: str) -> Actor:
    return Actor(member.email, slug, member.roles_in(slug))


# -- input -------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is geen geldige JSON-waarde")


def json_body(limit: int) -> Any:
    """The request's JSON: 415 without a JSON content type, 413 above `limit`, 400 when malformed."""
    if not request.is_json:
        raise ApiError(415)
    request.max_content_length = min(limit, current_app.config.get("MAX_CONTENT_LENGTH") or limit)
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ApiError(400, "De body is geen geldige UTF-8-tekst.") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"De body is geen geldige JSON: {exc.msg} (regel {exc.lineno}, kolom {exc.colno}).") from None
    except ValueError as exc:
        raise ApiError(400, f"De body is geen geldige JSON: {exc}.") from None


def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> tuple[int, dict | None]:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default, None
    try:
        value = int(raw)
    except ValueError:
        return default, {"field": name, "message": "Vul een geheel getal in."}
    if value < minimum:
        return default, {"field": name, "message": f"Vul een waarde van minstens {minimum} in."}
    if maximum is not None and value > maximum:
        return default, {"field": name, "message": f"Vul een waarde van hoogstens {maximum} in."}
    return value, None


def _bool_arg(name: str) -> tuple[bool | None, dict | None]:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None, None
    if raw.lower() in ("true", "1", "ja"):
        return True, None
    if raw.lower() in ("false", "0", "nee"):
        return False, None
    return None, {"field": name, "message": "Kies true of false."}


# -- output ------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """A moment as ISO 8601 in UTC with its offset (2026-03-09T22:59:00+00:00)."""
    return moment.astimezone(UTC).isoformat() if moment else None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _overdue(row: HumanTask) -> bool:
    return bool(row.state == "ready" and row.due_at and row.due_at < clock.now())


def _claimer(user: tuple[int, str, str] | None) -> dict[str, Any] | None:
    return {"id": user[0], "name": user[1], "email": user[2]} if user else None


def task_summary(row: HumanTask, slug: str, reference: str, complaint_type: str | None,
                 claimed_by: tuple[int, str, str] | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "organisation": slug,
        "name": row.name,
        "role": row.role,
        "state": row.state,
        "due_at": iso(row.due_at),
        "overdue": _overdue(row),
        "complaint": {"reference": reference, "type": complaint_type},
        "claimed_by": _claimer(claimed_by),
    }


def task_ref(row: HumanTask) -> dict[str, Any]:
    """A task as part of a complaint."""
    return {
        "id": row.id,
        "name": row.name,
        "bpmn_id": row.bpmn_id,
        "role": row.role,
        "state": row.state,
        "due_at": iso(row.due_at),
        "overdue": _overdue(row),
        "created_at": iso(row.created_at),
        "completed_at": iso(row.completed_at),
        "completed_by": row.completed_by,
    }


# -- the OpenAPI document ----------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


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
        status, kind = session.execute(select(Instance.status, Instance.complaint_type)
                                       .where(Instance.id == started.instance_id)).one()
    response = jsonify({"reference": started.reference, "status": status, "type": kind})
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
        done = register(runtime(), org, submitted, _actor(member, org), user_id=member.user_id)
    except intake.IntakeRefused as exc:
        raise ApiError(422, errors=[{"field": f, "message": m} for f, m in exc.errors.items()]) from None
    except RuntimeNotFound:
        raise ApiError(404, "Deze organisatie neemt nog geen klachten aan.") from None
    with runtime().sessions() as session:
        instance = session.get(Instance, done.instance_id)
    response = jsonify({"reference": done.reference, "status": instance.status, "type": instance.complaint_type,
                        "received_at": iso(instance.received_at), "registered_late": done.late,
                        "claimed_task_id": done.claimed_task_id})
    response.status_code = 201
    response.headers["Location"] = url_for("api.complaint", reference=done.reference)
    return response


# -- tasks -------------------------------------------------------------------------------


def _org_ids(session: Session, slugs: list[str]) -> dict[str, int]:
    rows = session.execute(select(Organisation.slug, Organisation.id).where(Organisation.slug.in_(slugs)))
    return {slug: oid for slug, oid in rows}


def _visible(member: Membership, org_ids: dict[str, int]):
    """Which open tasks a caller sees: the inbox's rule (queries.visible_tasks) per organisation."""
    conditions = [queries.visible_tasks(queries.Viewer(oid, member.user_id, member.email, member.grants_in(slug)))
                  for slug, oid in org_ids.items()]
    return or_(*conditions) if conditions else false()


@bp.get("/tasks")
@authenticated
def tasks():
    member: Membership = g.member
    problems = []
    page, problem = _int_arg("page", 1, 1, MAX_PAGE)
    problems.append(problem)
    page_size, problem = _int_arg("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    problems.append(problem)
    overdue, problem = _bool_arg("overdue")
    problems.append(problem)
    if any(problems):
        raise ApiError(400, "Een of meer parameters zijn ongeldig.", errors=[p for p in problems if p])
    slugs = sorted(s for s in member.roles if s in runtime().organisations)
    wanted = request.args.get("organisation")
    if wanted:
        if wanted not in slugs:
            raise ApiError(404, "Deze organisatie is onbekend, of u heeft er geen rol.")
        slugs = [wanted]
    with runtime().sessions() as session:
        org_ids = _org_ids(session, slugs)
        slug_of = {oid: slug for slug, oid in org_ids.items()}
        base = (select(HumanTask, Instance.reference, Instance.complaint_type, User.id, User.name, User.email)
                .join(Instance, Instance.id == HumanTask.instance_id)
                .outerjoin(User, User.id == HumanTask.claimed_by)
                .where(HumanTask.state == "ready", _visible(member, org_ids)))
        if request.args.get("role"):
            base = base.where(HumanTask.role == request.args["role"])
        if overdue is True:
            base = base.where(HumanTask.due_at < clock.now())
        elif overdue is False:
            base = base.where(or_(HumanTask.due_at.is_(None), HumanTask.due_at >= clock.now()))
        total = session.scalar(select(func.count()).select_from(base.subquery()))
        rows = session.execute(base.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
                               .limit(page_size).offset((page - 1) * page_size)).all()
        items = [task_summary(row, slug_of[row.organisation_id], reference, kind,
                              (uid, name, email) if uid is not None else None)
                 for row, reference, kind, uid, name, email in rows]
    return jsonify({"items": items, "total": total, "page": page, "page_size": page_size,
                    "pages": max(1, -(-total // page_size))})


def _task_for(member: Membership, task_id: int) -> tuple[HumanTask, Instance, str]:
    """The task and its complaint, if the caller may see it (as on the staff task page:
    a role in its organisation, and the task's role or auditor); else 404."""
    with runtime().sessions() as session:
        found = session.execute(select(HumanTask, Instance, Organisation.slug)
                                .join(Instance, Instance.id == HumanTask.instance_id)
                                .join(Organisation, Organisation.id == HumanTask.organisation_id)
                                .where(HumanTask.id == task_id)).first()
    if found is None:
        raise ApiError(404, "Deze taak bestaat niet, of u heeft er geen toegang toe.")
    row, instance, slug = found
    if slug not in runtime().organisations or not _may(member, slug, lambda s, v: queries.may_open_task(s, v, row.id)):
        raise ApiError(404, "Deze taak bestaat niet, of u heeft er geen toegang toe.")
    return row, instance, slug


def _may(member: Membership, slug: str, check: Callable) -> bool:
    """Need-to-know (webapp.web.queries): `check(session, viewer)` for the caller in `slug`."""
    if not member.roles_in(slug):
        return False
    with runtime().sessions() as session:
        return check(session, queries.viewer_for(session, member, slug))


def _use_organisation(member: Membership, slug: str) -> None:
    """What the staff page helpers read from `g`."""
    g.org = runtime().organisations[slug]
    g.roles = member.roles_in(slug)
    g.actor = _actor(member, slug)


def _data_summary(data: dict[str, Any]) -> dict[str, Any]:
    summary = {k: data[k] for k in SUMMARY_KEYS if data.get(k) not in (None, "")}
    complainant = data.get("klager")
    if isinstance(complainant, dict):
        summary["klager"] = {k: complainant[k] for k in COMPLAINANT_KEYS if complainant.get(k) not in (None, "")}
    return _jsonable(summary)


def _may_write(row: HumanTask, roles: frozenset[str]) -> bool:
    return not roles <= READ_ONLY_ROLES and row.role in roles


@bp.get("/tasks/<int:task_id>")
@authenticated
def task(task_id: int):
    member: Membership = g.member
    row, instance, slug = _task_for(member, task_id)
    access.log_access(instance.organisation_id, instance.id, member.user_id, member.email, "api-taak")
    _use_organisation(member, slug)
    schema, ui_schema = staff.form_parts(row)
    context = staff.task_context(row, instance)
    data = context["data"]
    names = {uid: (uid, name, email) for uid, name, email in context["colleagues"]}
    claimer = names.get(row.claimed_by) if row.claimed_by else None
    if row.claimed_by and claimer is None:
        with runtime().sessions() as session:
            user = session.get(User, row.claimed_by)
            claimer = (user.id, user.name, user.email) if user else None
    values = {**{k: v for k, v in data.items() if k in schema.get("properties", {})}, **(row.draft or {})}
    body = task_summary(row, slug, instance.reference, instance.complaint_type, claimer)
    body.update({
        "bpmn_id": row.bpmn_id,
        "created_at": iso(row.created_at),
        "completed_at": iso(row.completed_at),
        "completed_by": row.completed_by,
        "instructions": str(context["instructions"] or ""),
        "form": {"name": row.form, "schema": schema, "ui_schema": ui_schema} if row.form else None,
        "values": _jsonable(values),
        "data": _data_summary(data),
        "complaint": {"reference": instance.reference, "type": instance.complaint_type,
                      "location": instance.location, "status": instance.status,
                      "created_at": iso(instance.created_at), "lock_version": instance.lock_version},
        "can_complete": row.state == "ready" and _may_write(row, g.roles),
    })
    return jsonify(body)


@bp.post("/tasks/<int:task_id>/complete")
@authenticated
def complete(task_id: int):
    member: Membership = g.member
    body = json_body(WRITE_BODY_LIMIT)
    row, instance, slug = _task_for(member, task_id)
    roles = member.roles_in(slug)
    if roles <= READ_ONLY_ROLES:
        raise ApiError(403, "Als auditor kunt u meekijken, maar niets wijzigen.")
    if row.role not in roles:
        raise ApiError(403, f"Voor deze taak is de rol '{row.role}' nodig.")
    problems = []
    if not isinstance(body, dict):
        raise ApiError(422, errors=[{"field": "", "message": "Stuur een JSON-object met 'data'."}])
    data = body.get("data")
    if not isinstance(data, dict):
        problems.append({"field": "data", "message": "Stuur de formuliergegevens als object in 'data'."})
    lock_version = body.get("lock_version")
    if lock_version is not None and (isinstance(lock_version, bool) or not isinstance(lock_version, int)
                                     or lock_version < 1):
        problems.append({"field": "lock_version", "message": "Vul een geheel getal van minstens 1 in."})
    unknown = sorted(set(body) - {"data", "lock_version"})
    problems += [{"field": key, "message": "Dit veld is onbekend."} for key in unknown]
    if problems:
        raise ApiError(422, errors=problems)
    if row.state != "ready":
        raise ApiError(409, "Deze taak is niet meer open: een collega of een termijn was u voor.")
    try:
        runtime().complete_task(instance.id, row.task_id, _actor(member, slug), data,
                                expected_lock_version=lock_version)
    except FormValidationError as exc:
        raise ApiError(422, errors=[{"field": e.path, "message": e.message} for e in exc.errors]) from None
    except ConflictError as exc:
        raise ApiError(409, _sentence(str(exc))) from None
    except RuntimePermissionDenied as exc:
        raise ApiError(403, _sentence(str(exc))) from None
    except RuntimeNotFound:
        raise ApiError(404) from None
    except KlachtrouteError as exc:
        current_app.logger.warning("completing task %s failed: %s", task_id, exc)
        raise ApiError(500, f"De taak kon niet worden afgerond: {exc}") from None
    with runtime().sessions() as session:
        instance = session.get(Instance, instance.id)
        done = session.get(HumanTask, row.id)
        open_rows = session.execute(
            select(HumanTask, User.id, User.name, User.email)
            .outerjoin(User, User.id == HumanTask.claimed_by)
            .where(HumanTask.instance_id == instance.id, HumanTask.state == "ready")
            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)).all()
        next_tasks = [task_summary(t, slug, instance.reference, instance.complaint_type,
                                   (uid, name, email) if uid is not None else None)
                      for t, uid, name, email in open_rows]
        return jsonify({
            "task": {"id": done.id, "state": done.state, "completed_at": iso(done.completed_at),
                     "completed_by": done.completed_by},
            "complaint": {"reference": instance.reference, "status": instance.status,
                          "lock_version": instance.lock_version, "closed_at": iso(instance.closed_at)},
            "next_tasks": next_tasks,
        })


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


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
        found = session.execute(select(Instance, Organisation.slug, Organisation.name)
                                .join(Organisation, Organisation.id == Instance.organisation_id)
                                .where(Instance.reference == reference.strip().upper())).first()
        if found is None:
            raise ApiError(404, "Deze klacht bestaat niet, of u heeft er geen toegang toe.")
        instance, slug, org_name = found
        if not _may(member, slug, lambda s, v: queries.may_open_complaint(s, v, instance.id)):
            raise ApiError(404, "Deze klacht bestaat niet, of u heeft er geen toegang toe.")
        tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                                     .order_by(HumanTask.created_at, HumanTask.id)))
        messages = list(session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == instance.id)
                                        .order_by(OutboxMessage.created_at, OutboxMessage.id)))
        events = queries.history(session, instance.id)
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
                   "bpmn_name": e.bpmn_name, "data": _jsonable(e.data or {})} for e in events],
    })

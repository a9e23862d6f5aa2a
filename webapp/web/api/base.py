"""The API's blueprint, errors, authentication, input and output, shared by its routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, NotFound

from webapp.accounts import Membership, membership, user_for_token
from webapp.db.models import HumanTask
from webapp.runtime import clock
from webapp.runtime.service import Actor

from .. import csrf
from ..auth import runtime
from ..openapi import openapi_document

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


def actor(member: Membership, slug: str) -> Actor:
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


def int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> tuple[int, dict | None]:
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


def bool_arg(name: str) -> tuple[bool | None, dict | None]:
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


def jsonable(value: Any) -> Any:
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

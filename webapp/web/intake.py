"""The public complaint forms of the organisations (no login).

GET/POST /<org>/klacht-indienen            the klantreactieformulier
GET      /<org>/klacht-indienen/ontvangen  the confirmation: reference and what happens next

The checks and rules live in webapp.intake; this module only renders and redirects.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from webapp import documents
from webapp.intake import (
    MAX_LENGTH,
    RELATIONS,
    Confirmation,
    IntakeRefused,
    IntakeRules,
    check_intake,
    confirmation,
    long_date,
    start_intake,
    web_form_actor,
)
from webapp.runtime import clock
from webapp.runtime.errors import NotFound
from webapp.runtime.organisations import OrganisationConfig

from . import documents_views, ratelimit
from .auth import runtime

bp = Blueprint("intake", __name__)
log = logging.getLogger(__name__)

HONEYPOT = "website"  # a field only robots fill in
SESSION_KEY = "klachtroute_ontvangen"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The form's fields in the order they are shown: the error summary follows it.
FIELD_ORDER = ("anoniem", "naam", "email", "telefoon", "relatie", "soort", "locatie", "datum_gebeurtenis",
               "omschrijving", "bijlagen", "toestemming")
ATTACHMENTS = 3  # files a complainant may attach to the form


@bp.after_request
def no_store(response):
    # The pages hold what a complainant typed and their reference: keep them out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values) -> None:
    if endpoint == "intake.form":  # the form takes attachments: lift the 1 MB body limit for it only
        documents_views.allow_upload_body(ATTACHMENTS)


@bp.app_template_filter("lange_datum")
def lange_datum(day) -> str:
    return long_date(day) if day else ""


def _organisation(org: str) -> OrganisationConfig:
    config = runtime().organisations.get(org)
    if config is None:
        abort(404)
    return config


def _unavailable(config: OrganisationConfig):
    return render_template(
        "error.html", title="Formulier niet beschikbaar",
        message=f"Het klachtformulier van {config.name} is op dit moment niet beschikbaar. Probeer het later "
                f"nog eens, of neem rechtstreeks contact op met {config.name}."), 503


def _today():
    return clock.to_local(clock.now()).date()


@bp.route("/<org>/klacht-indienen", methods=["GET", "POST"])
def form(org: str):
    config = _organisation(org)
    rules = IntakeRules.of(config)
    try:
        runtime().current_version_id(org)
    except NotFound:
        return _unavailable(config)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    refused_by: str | None = None
    status = 200
    if request.method == "POST":
        if request.form.get(HONEYPOT, "").strip():
            # A robot: thank it like anyone else, start nothing.
            log.info("intake %s: honeypot filled in, nothing started", org)
            return render_template("intake_done.html", org=config, reference=None, confirmation=None)
        values = {k: v for k, v in request.form.items() if k not in ("csrf_token", HONEYPOT)}
        uploads, refused = _attachments()
        try:
            ratelimit.check_intake_limit(org, config.name)
            result = check_intake(config, values, _today())
            if refused:
                raise IntakeRefused({"bijlagen": " ".join(refused)})
        except IntakeRefused as exc:
            errors, refused_by, status = exc.errors, exc.rule, getattr(exc, "http_status", 422)
            if refused:
                errors = {**errors, "bijlagen": " ".join(refused)}
        else:
            received = clock.now()
            try:
                started = start_intake(runtime(), org, result, with_rows=(lambda session, instance: documents.add_rows(
                    session, instance, uploads, instance_actor(org), "klager")) if uploads else None)
            except NotFound:
                return _unavailable(config)
            session[SESSION_KEY] = {"org": org, "referentie": started.reference, "soort": result.complaint_type,
                                    "ontvangen": received.isoformat()}
            return redirect(url_for("intake.received", org=org), code=303)
    if errors.get("") == rules.anonymous_explanation and not rules.anonymous_possible:
        # Name and contact left out: the paragraph on anonymous complaints is on the page already
        # ("Anoniem melden"); the summary points to it instead of repeating it.
        errors.pop("")
        errors["anoniem"] = (f"{config.name} neemt geen anonieme klachten in behandeling: vul uw naam en uw "
                             "e-mailadres of telefoonnummer in.")
    summary = [(name, errors[name]) for name in ("", *FIELD_ORDER) if name in errors]
    summary += [(name, message) for name, message in errors.items() if name not in FIELD_ORDER and name != ""]
    return render_template(
        "intake_form.html", org=config, rules=rules, values=values, errors=errors, summary=summary,
        refused_by=refused_by, relations=list(RELATIONS.items()), max_length=MAX_LENGTH,
        today=_today().isoformat(), honeypot=HONEYPOT, date_type=_date_input_type(values),
        attachments=ATTACHMENTS, location_hint=location_hint(config, bool(rules.locations))), status


def _attachments() -> tuple[list[documents.Upload], list[str]]:
    uploads, refused = documents_views.read_uploads("bijlagen")
    if len(uploads) + len(refused) > ATTACHMENTS:
        return [], [f"Voeg hoogstens {ATTACHMENTS} bestanden toe."]
    return uploads, refused


def instance_actor(org: str) -> str:
    return web_form_actor(org).identity


def location_hint(config: OrganisationConfig, listed: bool) -> str:
    """The hint under the location field: the organisation's own (`intake.location_hint`), else
    one that fits any organisation (a care organisation has no kinderdagverblijf)."""
    own = str((config.intake or {}).get("location_hint") or "").strip()
    if own:
        return own
    return "Kies de locatie waar het om gaat." if listed else "Bijvoorbeeld de naam van de locatie en de plaats."


@dataclass(frozen=True)
class ExternalRoute:
    name: str
    text: str
    term: str
    until: date | None


def external_route(config: OrganisationConfig, received: datetime) -> ExternalRoute | None:
    """Where a complainant can go when the organisation does not solve it (`intake.external_route`),
    with its term and, for a window in months, the last day."""
    raw = (config.intake or {}).get("external_route")
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    until = None
    if isinstance(raw.get("months"), int):
        until = date.fromisoformat(config.calendar.months_after(raw["months"], received)[:10])
    return ExternalRoute(str(raw["name"]), " ".join(str(raw.get("text") or "").split()),
                         str(raw.get("term") or ""), until)


def public_steps(config: OrganisationConfig, found: Confirmation) -> Confirmation:
    """The steps as the complainant reads them: each deadline's `public_label` (its staff label
    otherwise), without those marked `public: false` and without the external window, which the
    page names on its own with the external route."""
    if not found.steps or (IntakeRules.of(config).next_steps):
        return found
    specs = [s for s in (config.deadlines or {}).values() if isinstance(s, Mapping) and s.get("label")]
    if len(specs) != len(found.steps):
        return found
    has_route = external_route(config, clock.now()) is not None
    steps = [replace(step, label=str(spec.get("public_label") or step.label))
             for spec, step in zip(specs, found.steps, strict=True)
             if spec.get("public", True) is not False and not (spec.get("window") and has_route)]
    return replace(found, steps=steps)


def _date_input_type(values: dict[str, Any]) -> str:
    # A browser blanks a date input whose value it cannot parse, which would hide what was
    # typed beside its error: show such a value as plain text.
    value = values.get("datum_gebeurtenis", "")
    return "date" if not value or _ISO_DATE.fullmatch(value) else "text"


@bp.route("/<org>/klacht-indienen/ontvangen")
def received(org: str):
    config = _organisation(org)
    done = session.get(SESSION_KEY)
    if not isinstance(done, dict) or done.get("org") != org:
        return redirect(url_for("intake.form", org=org))
    received_at = datetime.fromisoformat(done["ontvangen"])
    found = confirmation(config, done["soort"], received_at)
    route = external_route(config, received_at) if done["soort"] == "klacht" else None
    return render_template("intake_done.html", org=config, reference=done["referentie"],
                           confirmation=public_steps(config, found), received_at=received_at, route=route)

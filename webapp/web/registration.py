"""Staff register a complaint that came in by phone, email, letter, in person or through someone
else: GET/POST /<org>/klachten/registreren. The rules are webapp.registration's; this module
renders the form and redirects (to the registrant's own first task when the procedure gives
them one, as Kwartier's employee; else to the complaint)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import documents
from webapp.intake import CHANNEL_LABELS, MAX_LENGTH, RELATIONS, IntakeRefused, IntakeRules
from webapp.registration import STAFF_CHANNELS, register_complaint
from webapp.runtime import clock
from webapp.runtime.errors import NotFound

from . import documents_views, queries
from .auth import organisation_page, runtime, writer_required

bp = Blueprint("registration", __name__)

FIELD_ORDER = ("", "kanaal", "ontvangen_datum", "ontvangen_tijd", "anoniem", "naam", "email", "telefoon",
               "relatie", "namens", "soort", "locatie", "datum_gebeurtenis", "datum_kennisname", "omschrijving",
               "toestemming", "bestanden")


@bp.app_context_processor
def channel_labels() -> dict[str, Any]:
    return {"channel_labels": CHANNEL_LABELS}


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values) -> None:
    if endpoint == "registration.form":
        documents_views.allow_upload_body()


@bp.route("/<org>/klachten/registreren", methods=["GET", "POST"])
@organisation_page
def form(org: str):
    writer_required()
    rules = IntakeRules.of(g.org)
    now_local = clock.to_local(clock.now())
    values: dict[str, Any] = {"ontvangen_datum": now_local.date().isoformat(),
                              "ontvangen_tijd": now_local.strftime("%H:%M")}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        uploads, refused = documents_views.read_uploads("bestanden")
        if refused:
            errors["bestanden"] = " ".join(refused)
        try:
            if errors:
                raise IntakeRefused({})
            done = register_complaint(
                runtime(), org, values, g.actor, user_id=int(current_user.id),
                with_rows=(lambda session, instance: documents.add_rows(
                    session, instance, uploads, g.actor.identity, "klager")) if uploads else None)
        except IntakeRefused as exc:
            errors, status = {**errors, **exc.errors}, 422
        except NotFound:
            flash("Deze organisatie heeft nog geen procesontwerp: registreren kan nog niet.")
            status = 503
        else:
            flash(f"Klacht {done.reference} is geregistreerd"
                  + (" (te laat: meer dan een werkdag na ontvangst)" if done.late else "") + ".")
            if done.claimed_task_id:
                return redirect(url_for("staff.task", org=org, task_id=done.claimed_task_id), code=303)
            return redirect(url_for("complaints.show", org=org, reference=done.reference), code=303)
    summary = [(name, errors[name]) for name in FIELD_ORDER if name in errors]
    summary += [(n, m) for n, m in errors.items() if n not in FIELD_ORDER]
    return render_template(
        "registration.html", rules=rules, values=values, errors=errors, summary=summary,
        channels=[(c, CHANNEL_LABELS[c]) for c in STAFF_CHANNELS], relations=list(RELATIONS.items()),
        max_length=MAX_LENGTH, today=now_local.date().isoformat(),
        known_locations=_known_locations(org) if not rules.locations else []), status


def _known_locations(org: str) -> list[str]:
    """Without a configured list: the locations of earlier complaints, as suggestions."""
    with runtime().sessions() as session:
        return queries.known_locations(session, runtime().organisation_id(org))

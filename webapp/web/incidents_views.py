"""Storingen: complaints whose step failed (as Camunda Cockpit shows incidents). Process
owners and quality officers see element, message, since when and attempts, and retry,
move to another diagram version or cancel with a reason; auditors read along."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from webapp import reports
from webapp.runtime import migration
from webapp.runtime.errors import KlachtrouteError
from webapp.runtime.incidents import list_incidents

from . import queries
from .auth import organisation_page, runtime, writer_required
from .complaints import instance_of

bp = Blueprint("incidents", __name__)


def may_see_incidents(slug: str, roles: frozenset[str]) -> bool:
    try:
        return bool(roles & reports.report_roles(runtime(), slug))
    except KlachtrouteError:
        return False


def _require_reader(org: str) -> None:
    if not may_see_incidents(org, g.roles):
        abort(403, description="Storingen zijn voor procesbeheerders, kwaliteitsfunctionarissen en auditors.")


@bp.app_context_processor
def nav() -> dict[str, object]:
    org, roles = getattr(g, "org", None), getattr(g, "roles", None)
    return {"show_incidents": bool(org and roles and may_see_incidents(org.slug, roles))}


@bp.route("/<org>/storingen")
@organisation_page
def index(org: str):
    _require_reader(org)
    with runtime().sessions() as session:
        views = list_incidents(session, org)
        versions = queries.diagram_versions(session, runtime().organisation_id(org))
    names = {}
    for view in views:
        if view.element_id:
            names[view.element_id] = _element_name(view.instance_id, view.element_id)
    return render_template("incidents.html", incidents=views, versions=versions, names=names)


def _element_name(instance_id: int, element_id: str) -> str | None:
    with runtime().sessions() as session:
        version_id = queries.diagram_version_of(session, instance_id)
    try:
        documents = runtime().diagram(version_id).documents.values()
    except KlachtrouteError:
        return None
    for root in documents:
        for element in root.xpath("//*[@id=$id]", id=element_id):
            return element.get("name")
    return None


def _acting_on(org: str, reference: str):
    """A complaint of this organisation that the user may act on (a writer who reads incidents)."""
    _require_reader(org)
    writer_required()
    return instance_of(org, reference)


@bp.route("/<org>/storingen/<reference>/opnieuw", methods=["POST"])
@organisation_page
def retry(org: str, reference: str):
    instance = _acting_on(org, reference)
    try:
        ok = runtime().retry_incident(instance.id, g.actor)
    except KlachtrouteError as exc:
        flash(f"Niet opnieuw geprobeerd: {exc}.")
    else:
        flash(f"Klacht {reference} loopt weer." if ok else
              f"Klacht {reference} faalde opnieuw; de storing blijft staan.")
    return redirect(url_for("incidents.index", org=org))


@bp.route("/<org>/storingen/<reference>/afbreken", methods=["POST"])
@organisation_page
def cancel(org: str, reference: str):
    instance = _acting_on(org, reference)
    try:
        runtime().cancel_complaint(instance.id, g.actor, request.form.get("reden", "")[:500])
    except KlachtrouteError as exc:
        flash(f"Niet afgebroken: {exc}.")
    else:
        flash(f"Klacht {reference} is afgebroken.")
    return redirect(url_for("incidents.index", org=org))


@bp.route("/<org>/storingen/<reference>/verplaatsen", methods=["POST"])
@organisation_page
def move(org: str, reference: str):
    instance = _acting_on(org, reference)
    version_id = request.form.get("versie", type=int)
    if not version_id:
        flash("Kies een versie van het procesontwerp.")
        return redirect(url_for("incidents.index", org=org))
    try:
        if instance.state:
            [result] = migration.migrate(runtime(), [instance.id], version_id, g.actor.identity)
            moved, reasons = result.moved, result.reasons
        else:  # stored at a failed intake: it starts afresh on the chosen version
            runtime().move_intake_incident(instance.id, version_id, g.actor)
            moved, reasons = True, []
    except KlachtrouteError as exc:
        moved, reasons = False, [str(exc)]
    if moved:
        flash(f"Klacht {reference} is verplaatst naar de gekozen versie.")
    else:
        flash(f"Klacht {reference} kon niet worden verplaatst: {'; '.join(reasons)}.")
    return redirect(url_for("incidents.index", org=org))

"""Maatregelen: the register of measures agreed in complaints and the organisation-wide
improvements, with their follow-up "Maatregel gerealiseerd?". Quality officers (and auditors,
reading) see every measure, overdue first, filtered by status and location; everyone else sees
the measures of their own roles and answers their follow-up tasks."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from webapp import reports
from webapp.runtime import measures
from webapp.runtime.errors import KlachtrouteError
from webapp.vocabulary import MeasureStatus

from .auth import organisation_page, runtime, writer_required

bp = Blueprint("measures", __name__)
STATUSES = [("te_laat", "Te laat"), *((s.value, s.value.capitalize()) for s in MeasureStatus)]


def _is_overseer(org: str) -> bool:
    try:
        return bool(g.roles & reports.report_roles(runtime(), org))
    except KlachtrouteError:
        return False


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


@bp.app_context_processor
def nav() -> dict[str, object]:
    return {"show_measures": getattr(g, "org", None) is not None and bool(getattr(g, "roles", None))}


@bp.app_template_global()
def measure_tasks_waiting() -> int:
    """How many "Maatregel gerealiseerd?" tasks wait for the user's roles (shown in the inbox)."""
    org, roles = getattr(g, "org", None), getattr(g, "roles", None)
    if org is None or not roles:
        return 0
    return measures.waiting_count(runtime(), org.slug, roles)


@bp.app_template_global()
def measure_inbox_tasks(flt) -> list[measures.MeasureRow]:
    """The "Maatregel gerealiseerd?" tasks of the user's roles, as inbox rows under the inbox's own
    filters (role, location, overdue, reference). They cannot be claimed: "Door mij opgepakt" hides them."""
    org, roles = getattr(g, "org", None), getattr(g, "roles", None)
    if org is None or not roles or flt.status == "mine":
        return []
    rows = measures.waiting_tasks(runtime(), org.slug, frozenset({flt.role}) & roles if flt.role else roles)
    reference = flt.reference.strip().upper()
    return [r for r in rows if (not flt.location or r.measure.location == flt.location)
            and (not flt.overdue or r.overdue) and (not reference or any(reference in x for x in r.references))]


@bp.app_template_global()
def measure_register_counts(slug: str) -> list[tuple[str, str, int]]:
    """(status key, label, count) of the register now, overdue first (for the reports page)."""
    counts = measures.status_counts(runtime(), slug)
    if not any(counts.values()):
        return []
    return [(key, label, counts.get(key, 0)) for key, label in STATUSES]


@bp.route("/<org>/maatregelen")
@organisation_page
def index(org: str):
    status = request.args.get("status") or None
    location = request.args.get("locatie") or None
    if status and status not in dict(STATUSES):
        abort(400)
    overseer = _is_overseer(org)
    rows = measures.register(runtime(), org, status, location)
    if not overseer:
        rows = [r for r in rows if r.measure.responsible_role in g.roles]
    mine = [r for r in rows if r.task_open and r.measure.responsible_role in g.roles]
    return render_template("maatregelen.html", rows=rows, mine=mine, overseer=overseer, statuses=STATUSES,
                           status=status, location=location, locations=measures.locations(runtime(), org),
                           overdue=sum(1 for r in rows if r.overdue), task_name=measures.FOLLOW_UP_TASK,
                           roles=sorted(g.org.roles.items(), key=lambda kv: kv[1]), today=measures.today())


@bp.route("/<org>/maatregelen/<int:measure_id>/opvolgen", methods=["POST"])
@organisation_page
def follow_up(org: str, measure_id: int):
    writer_required()
    answer = measures.Answer(request.form.get("uitkomst", ""), request.form.get("toelichting", ""),
                             _date(request.form.get("nieuwe_datum")))
    # The quality officer may answer for the responsible role (someone left, a role is vacant).
    roles = frozenset(g.org.roles) | g.roles if _is_overseer(org) else g.roles
    try:
        measures.answer_follow_up(runtime(), org, measure_id, answer, g.actor.identity, roles)
    except measures.MeasureInputError as exc:
        flash(str(exc), "fout")
    except KlachtrouteError as exc:
        flash(f"Niet opgeslagen: {exc}", "fout")
    else:
        flash("De opvolging van de maatregel is vastgelegd.", "ok")
    return redirect(url_for("measures.index", org=org))


@bp.route("/<org>/maatregelen/nieuw", methods=["POST"])
@organisation_page
def add(org: str):
    writer_required()
    form = request.form
    due = _date(form.get("datum"))
    if due is None:
        flash("Geef de datum waarop de verbetering gerealiseerd moet zijn.", "fout")
        return redirect(url_for("measures.index", org=org))
    new = measures.NewMeasure(form.get("omschrijving", ""), due, form.get("rol", ""), form.get("persoon"),
                              form.get("locatie"), tuple(form.get("klachten", "").replace(";", ",").split(",")))
    try:
        measures.add_improvement(runtime(), org, new, g.actor.identity)
    except KlachtrouteError as exc:
        flash(str(exc), "fout")
    else:
        flash("De organisatiebrede verbetering staat in het register.", "ok")
    return redirect(url_for("measures.index", org=org))

"""The published complaints reports: the quality officer prepares a report (a stored, anonymised
snapshot), reviews it and publishes it; then it is public at /<org>/klachtenjaarverslag/<year>
(and as PDF), without login. Sending it to the GGD is recorded. Kwartier's reports to the OR and
the management team (kind "or") are released the same way and then readable by the organisation's
staff."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from webapp import clock, reports
from webapp.reports import public
from webapp.reports.public_pdf import snapshot_pdf
from webapp.runtime.errors import KlachtrouteError

from .auth import organisation_page, runtime, writer_required

bp = Blueprint("public_reports", __name__)


def _require_officer(org: str) -> None:
    if not g.roles & reports.report_roles(runtime(), org):
        abort(403, description="Verslagen publiceren is voor de kwaliteitsfunctionarissen.")


def _title(kind: str, period: str) -> str:
    if kind == "jaarverslag":
        return f"Openbaar klachtenjaarverslag {period}"
    return f"Klachtenverslag voor OR en managementteam {period.replace('-K', ', kwartaal ')}"


@bp.app_template_global()
def published_report_years(slug: str) -> list[int]:
    """The years with a published annual report, newest first (for the public complaint form)."""
    return [r.year for r in public.all_for(runtime(), slug) if r.kind == "jaarverslag" and r.published_at]


# -- public ----------------------------------------------------------------------------------------


def _public_row(org: str, year: int):
    if org not in runtime().organisations or not 1990 <= year <= 2200:
        abort(404)
    row = public.published(runtime(), org, "jaarverslag", str(year))
    if row is None:
        abort(404)
    return row


@bp.route("/<org>/klachtenjaarverslag/<int:year>")
def annual(org: str, year: int):
    row = _public_row(org, year)
    return render_template("reports/gepubliceerd.html", row=row, content=row.content,
                           title=_title("jaarverslag", str(year)), org_slug=org, public_page=True,
                           public_org=runtime().organisations[org])


@bp.route("/<org>/klachtenjaarverslag/<int:year>.pdf")
def annual_pdf(org: str, year: int):
    row = _public_row(org, year)
    title = _title("jaarverslag", str(year))
    return Response(snapshot_pdf(row.content, title), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="klachtenjaarverslag-{org}-{year}.pdf"'})


# -- staff -----------------------------------------------------------------------------------------


@bp.route("/<org>/verslagen")
@organisation_page
def index(org: str):
    officer = bool(g.roles & reports.report_roles(runtime(), org))
    rows = [r for r in public.all_for(runtime(), org) if officer or (r.kind == "or" and r.published_at)]
    this_year = clock.to_local(clock.now()).year
    return render_template("reports/verslagen.html", rows=rows, officer=officer, title=_title,
                           last_year=this_year - 1, wants_or=reports.wants_quarterly(g.org),
                           today=clock.to_local(clock.now()).date())


@bp.route("/<org>/verslagen/<kind>/<period>")
@organisation_page
def show(org: str, kind: str, period: str):
    row = public.find(runtime(), org, kind, period) if kind in public.KINDS else None
    if row is None:
        abort(404)
    officer = bool(g.roles & reports.report_roles(runtime(), org))
    if not officer and not (kind == "or" and row.published_at):
        abort(403, description="Dit verslag is nog niet vrijgegeven.")
    return render_template("reports/gepubliceerd.html", row=row, content=row.content, title=_title(kind, period),
                           org_slug=org, public_page=False)


@bp.route("/<org>/verslagen/voorbereiden", methods=["POST"])
@organisation_page
def prepare(org: str):
    _require_officer(org)
    writer_required()
    kind, period = request.form.get("soort", "jaarverslag"), request.form.get("periode", "").strip()
    try:
        public.period_of(kind, period)
        public.prepare(runtime(), org, kind, period, g.actor.identity)
    except ValueError:
        flash("Kies een jaar (2026) of, voor de OR, een kwartaal (2026-K1).", "fout")
        return redirect(url_for("public_reports.index", org=org))
    except KlachtrouteError as exc:
        flash(str(exc), "fout")
        return redirect(url_for("public_reports.index", org=org))
    flash("Het verslag is voorbereid. Controleer het en publiceer het daarna.", "ok")
    return redirect(url_for("public_reports.show", org=org, kind=kind, period=period))


@bp.route("/<org>/verslagen/<kind>/<period>/publiceren", methods=["POST"])
@organisation_page
def publish(org: str, kind: str, period: str):
    _require_officer(org)
    writer_required()
    try:
        public.publish(runtime(), org, kind, period, g.actor.identity)
    except KlachtrouteError as exc:
        flash(str(exc), "fout")
    else:
        flash("Het verslag is gepubliceerd." if kind == "jaarverslag" else "Het verslag is vrijgegeven.", "ok")
    return redirect(url_for("public_reports.show", org=org, kind=kind, period=period))


@bp.route("/<org>/verslagen/jaarverslag/<int:year>/ggd", methods=["POST"])
@organisation_page
def ggd(org: str, year: int):
    _require_officer(org)
    writer_required()
    try:
        sent_on = date.fromisoformat(request.form.get("datum", ""))
        public.record_ggd(runtime(), org, year, sent_on, g.actor.identity)
    except ValueError:
        flash("Geef de datum van verzending.", "fout")
    except KlachtrouteError as exc:
        flash(str(exc), "fout")
    else:
        flash(f"Vastgelegd: verzonden aan de GGD op {sent_on:%d-%m-%Y}.", "ok")
    return redirect(url_for("public_reports.show", org=org, kind="jaarverslag", period=str(year)))

"""Report pages: the dashboard with a period selector, the printable public annual report
(and its PDF) and the quarterly analysis. The figures, the SVG charts and the PDF come from
`webapp.reports` (compute, charts, pdf); this module holds the routes. For auditors,
procesbeheerders and the organisation's quality officers (see `webapp.reports.report_roles`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request
from flask_login import current_user

from webapp import clock, reports
from webapp.reports.charts import charts_for
from webapp.reports.formatting import number, percent, summary_lines
from webapp.reports.pdf import annual_report_pdf

from .auth import organisation_page, runtime

bp = Blueprint("reports", __name__)



# -- access ----------------------------------------------------------------------------------------


def _may_read(org: str) -> bool:
    try:
        allowed = reports.report_roles(runtime(), org)
    except Exception:  # an organisation that is not (fully) configured
        return False
    return bool(g.roles & allowed)


def _require_reader(org: str) -> None:
    if not _may_read(org):
        abort(403, description="Rapportages zijn voor auditors, procesbeheerders en de kwaliteitsfunctionarissen.")


@bp.app_context_processor
def nav() -> dict[str, Any]:
    """`show_reports`: whether the menu shows Rapportages for this user and organisation."""
    def show() -> bool:
        org = getattr(g, "org", None)
        roles = getattr(g, "roles", None)
        if org is None or not roles or not current_user.is_authenticated:
            return False
        return _may_read(org.slug)
    return {"show_reports": show()}


# -- formatting ------------------------------------------------------------------------------------


@bp.app_template_filter("getal")
def getal_filter(value: Any) -> str:
    return number(value)


@bp.app_template_filter("procent")
def procent_filter(value: Any) -> str:
    return percent(value)


# -- periods ---------------------------------------------------------------------------------------


def _period_from_request(org: str) -> reports.Period:
    args = request.args
    try:
        if args.get("van") or args.get("tot"):
            start = date.fromisoformat(args.get("van") or args.get("tot"))
            end = date.fromisoformat(args.get("tot") or args.get("van"))
            if (end - start).days > 366 * 10 or not all(1990 <= d.year <= 2200 for d in (start, end)):
                abort(400, description="Kies een periode tussen 1990 en 2200 van hoogstens tien jaar, "
                                       "met datums als 2026-01-31.")
            return reports.Period.between(start, end)
        year = int(args.get("jaar") or 0)
        quarter = int(args.get("kwartaal") or 0)
    except ValueError:
        abort(400, description="Deze datum bestaat niet. Gebruik de vorm jjjj-mm-dd, bijvoorbeeld 2026-01-31.")
    if not year:
        years = reports.years_with_data(runtime(), org)
        this_year = clock.to_local(clock.now()).year
        year = this_year if not years or this_year in years else years[0]
    _check_year(year)
    return reports.Period.quarter(year, quarter) if quarter in (1, 2, 3, 4) else reports.Period.year(year)


def _check_year(year: int) -> None:
    if not 1990 <= year <= 2200:
        abort(404)


# -- pages -----------------------------------------------------------------------------------------


@bp.route("/<org>/rapportages")
@organisation_page
def index(org: str):
    _require_reader(org)
    period = _period_from_request(org)
    report = reports.build_report(runtime(), org, period)
    years = reports.years_with_data(runtime(), org)
    year = period.end.year
    return render_template("reports/index.html", report=report, charts=charts_for(report), years=years,
                           year=year, quarterly=reports.wants_quarterly(g.org),
                           settings=reports.reporting_settings(g.org))


@bp.route("/<org>/rapportages/gebeurtenissen.<fmt>")
@organisation_page
def event_log(org: str, fmt: str):
    """The event log of the complaints received in the period, for process mining (XES) or a
    spreadsheet (CSV)."""
    from webapp.exports import event_log as read_log
    from webapp.exports import to_excel_csv, to_xes

    _require_reader(org)
    if fmt not in ("xes", "csv"):
        abort(404)
    period = _period_from_request(org)
    with runtime().sessions() as session:
        events = read_log(session, org, period.start, period.end)
    name = f"{org}-gebeurtenissen-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"
    if fmt == "xes":
        body, mimetype = to_xes(events, g.org.name), "application/xml"
    else:
        body, mimetype = to_excel_csv(events), "text/csv; charset=utf-8"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/<org>/rapportages/jaarverslag/<int:year>")
@organisation_page
def annual(org: str, year: int):
    _require_reader(org)
    _check_year(year)
    report = reports.annual_report(runtime(), org, year)
    return render_template("reports/jaarverslag.html", report=report, charts=charts_for(report), year=year,
                           settings=reports.reporting_settings(g.org))


@bp.route("/<org>/rapportages/jaarverslag/<int:year>.pdf")
@organisation_page
def annual_pdf(org: str, year: int):
    _require_reader(org)
    _check_year(year)
    report = reports.annual_report(runtime(), org, year)
    pdf = annual_report_pdf(report, title=f"Klachtenjaarverslag {year}")
    filename = f"klachtenjaarverslag-{org}-{year}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"',
                             "Cache-Control": "no-store"})


@bp.route("/<org>/rapportages/kwartaal/<int:year>/<int:quarter>")
@organisation_page
def quarterly(org: str, year: int, quarter: int):
    _require_reader(org)
    _check_year(year)
    if quarter not in (1, 2, 3, 4):
        abort(404)
    report = reports.quarterly_report(runtime(), org, year, quarter)
    return render_template("reports/kwartaal.html", report=report, charts=charts_for(report), year=year,
                           quarter=quarter, settings=reports.reporting_settings(g.org))


@bp.route("/<org>/rapportages/kwartaal/<int:year>/<int:quarter>.pdf")
@organisation_page
def quarterly_pdf(org: str, year: int, quarter: int):
    _require_reader(org)
    _check_year(year)
    if quarter not in (1, 2, 3, 4):
        abort(404)
    report = reports.quarterly_report(runtime(), org, year, quarter)
    pdf = annual_report_pdf(report, title=f"Kwartaalrapportage klachten {quarter}e kwartaal {year}")
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="klachten-{org}-{year}-k{quarter}.pdf"',
                             "Cache-Control": "no-store"})


@bp.app_template_global("rapport_samenvatting")
def rapport_samenvatting(report: reports.Report) -> list[str]:
    return summary_lines(report)


@bp.app_template_global("soort_label")
def soort_label(key: str) -> str:
    return reports.type_label(key)

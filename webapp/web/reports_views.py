"""Report pages: the dashboard with a period selector, the printable public annual report
(and its PDF) and the quarterly analysis. Charts are inline SVG drawn here on the server
(no JavaScript, no external service); every chart has a title and a description, and the
table beside it carries the numbers. For auditors, procesbeheerders and the organisation's
quality officers (see `webapp.reports.report_roles`)."""

from __future__ import annotations

from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request
from flask_login import current_user
from markupsafe import Markup, escape

from webapp import reports
from webapp.runtime import clock

from .auth import organisation_page, runtime

bp = Blueprint("reports", __name__)

# Colours with enough contrast on white (WCAG AA for the bars against the background).
BLUE, GREEN, RED, GREY, LIGHT = "#00558a", "#00703c", "#b10e1e", "#505a5f", "#b1b4b6"
DEADLINE_SERIES = [("Gehaald", GREEN), ("Gemist", RED), ("Open", GREY), ("Vervallen", LIGHT)]
_ids = count(1)


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


def number(value: float | int | None, decimals: int = 1) -> str:
    """Dutch notation: 12,5; a dash for no value."""
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{number(value)}%"


@bp.app_template_filter("getal")
def getal_filter(value: Any) -> str:
    return number(value)


@bp.app_template_filter("procent")
def procent_filter(value: Any) -> str:
    return percent(value)


# -- SVG charts ------------------------------------------------------------------------------------

CHAR_W = 7.4  # average width of a character at 14px, for wrapping labels
LABEL_W = 270


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _wrap(text: str, width: int = int((LABEL_W - 12) / CHAR_W), lines: int = 2) -> list[str]:
    """A label in at most `lines` lines of `width` characters, the last one shortened."""
    words, out, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    out.append(line)
    if len(out) > lines:
        out = out[: lines - 1] + [" ".join(out[lines - 1:])]
    return [_short(x, width) for x in out]


def _label(text: str, x: float, y_mid: float, size: int = 14) -> str:
    parts = _wrap(text, int((x - 4) / CHAR_W))
    first = y_mid + size * 0.35 - (len(parts) - 1) * size * 0.6
    spans = "".join(f'<tspan x="{x}" dy="{0 if n == 0 else size * 1.2:.1f}">{escape(p)}</tspan>'
                    for n, p in enumerate(parts))
    return f'<text x="{x}" y="{first:.1f}" text-anchor="end" font-size="{size}" fill="#1b1b1b">{spans}</text>'


def _row_height(rows: list[str], single: int, label_w: int = LABEL_W) -> int:
    return single + 16 if any(len(_wrap(r, int((label_w - 14) / CHAR_W))) > 1 for r in rows) else single


def _legend(series: list[tuple[str, str]], x0: float, width: float) -> tuple[list[str], int]:
    """Legend items, wrapped over lines as needed; returns the SVG and its height."""
    body, x, y = [], x0, 6
    for name, colour in series:
        item_w = 24 + len(name) * 7.0 + 14
        if x + item_w > width and x > x0:
            x, y = x0, y + 22
        body.append(f'<rect x="{x:.0f}" y="{y}" width="14" height="14" fill="{colour}"/>'
                    f'<text x="{x + 19:.0f}" y="{y + 12}" font-size="13" fill="#1b1b1b">{escape(name)}</text>')
        x += item_w
    return body, y + 26


def _svg(title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    cid = f"grafiek-{next(_ids)}"
    return Markup(
        f'<svg class="grafiek" role="img" aria-labelledby="{cid}-t {cid}-d" viewBox="0 0 {width} {height:.0f}" '
        f'width="{width}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        f'<title id="{cid}-t">{escape(title)}</title><desc id="{cid}-d">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def bar_chart(title: str, rows: list[tuple[str, float | int | None]], unit: str = "",
              colour: str = BLUE, label_w: int = LABEL_W, bar_w: int = 250) -> Markup:
    """Horizontal bars, one per row, the value at the end of each bar."""
    rows = [(label, value or 0) for label, value in rows]
    if not rows:
        return Markup("")
    top = 6
    row_h = _row_height([r[0] for r in rows], 30, label_w)
    width, height = label_w + bar_w + 70, top + row_h * len(rows) + 4
    peak = max((v for _, v in rows), default=0) or 1
    body = []
    for n, (label, value) in enumerate(rows):
        y = top + n * row_h
        mid = y + row_h / 2
        w = max(0.0, bar_w * value / peak)
        body.append(f'<g><title>{escape(label)}: {escape(number(value))}{escape(unit)}</title>'
                    + _label(label, label_w - 10, mid)
                    + f'<rect x="{label_w}" y="{mid - 10:.1f}" width="{w:.1f}" height="20" fill="{colour}"/>'
                    f'<text x="{label_w + w + 6:.1f}" y="{mid + 5:.1f}" font-size="14" fill="#1b1b1b">'
                    f'{escape(number(value))}{escape(unit)}</text></g>')
    desc = "; ".join(f"{label}: {number(value)}{unit}" for label, value in rows)
    return _svg(title, desc, width, height, body)


def stacked_chart(title: str, rows: list[tuple[str, list[int]]], series: list[tuple[str, str]],
                  label_w: int = LABEL_W, bar_w: int = 300) -> Markup:
    """Horizontal bars split in segments (gehaald, gemist, ...), each bar 100%, with a legend."""
    if not rows:
        return Markup("")
    width = label_w + bar_w + 16
    body, top = _legend(series, label_w, width)
    row_h = _row_height([r[0] for r in rows], 30, label_w)
    height = top + row_h * len(rows) + 4
    for n, (label, values) in enumerate(rows):
        y = top + n * row_h
        mid = y + row_h / 2
        total = sum(values)
        parts = ", ".join(f"{name.lower()} {v}" for (name, _), v in zip(series, values, strict=False))
        body.append(f'<g><title>{escape(label)}: {escape(parts)}</title>' + _label(label, label_w - 10, mid))
        if total == 0:
            body.append(f'<text x="{label_w}" y="{mid + 5:.1f}" font-size="13" fill="{GREY}">geen gegevens</text>')
        offset = 0.0
        for (_name, colour), value in zip(series, values, strict=False):
            if not value:
                continue
            w = bar_w * value / total
            body.append(f'<rect x="{label_w + offset:.1f}" y="{mid - 10:.1f}" width="{w:.1f}" height="20" '
                        f'fill="{colour}"/>')
            if w >= 22:
                fg = "#1b1b1b" if colour == LIGHT else "#ffffff"
                body.append(f'<text x="{label_w + offset + w / 2:.1f}" y="{mid + 5:.1f}" text-anchor="middle" '
                            f'font-size="13" font-weight="600" fill="{fg}">{value}</text>')
            offset += w
        body.append("</g>")
    desc = "; ".join(f"{label}: " + ", ".join(f"{name.lower()} {v}" for (name, _), v in zip(series, values, strict=False))
                     for label, values in rows)
    return _svg(title, desc, width, height, body)


def grouped_chart(title: str, rows: list[tuple[str, list[float | None]]], series: list[tuple[str, str]],
                  unit: str = "", label_w: int = LABEL_W, bar_w: int = 250) -> Markup:
    """Horizontal bars, a small group per row (mediaan, 90e percentiel, ...), with a legend."""
    rows = [(label, vals) for label, vals in rows if any(v is not None for v in vals)]
    if not rows:
        return Markup("")
    bar_h = 19
    width = label_w + bar_w + 80
    body, top = _legend(series, label_w, width)
    group_h = bar_h * len(series) + 14
    height = top + group_h * len(rows) + 4
    peak = max((v or 0 for _, vals in rows for v in vals), default=0) or 1
    for n, (label, values) in enumerate(rows):
        y = top + n * group_h
        body.append(_label(label, label_w - 10, y + bar_h * len(series) / 2))
        for m, ((name, colour), value) in enumerate(zip(series, values, strict=False)):
            by = y + m * bar_h
            w = bar_w * (value or 0) / peak
            body.append(f'<g><title>{escape(label)}, {escape(name)}: {escape(number(value))}{escape(unit)}</title>'
                        f'<rect x="{label_w}" y="{by + 1}" width="{w:.1f}" height="{bar_h - 3}" fill="{colour}"/>'
                        f'<text x="{label_w + w + 5:.1f}" y="{by + bar_h - 5}" font-size="13" fill="#1b1b1b">'
                        f'{escape(number(value))}{escape(unit)}</text></g>')
    desc = "; ".join(f"{label}: " + ", ".join(f"{name} {number(v)}{unit}" for (name, _), v in zip(series, vals, strict=False))
                     for label, vals in rows)
    return _svg(title, desc, width, height, body)


WIDE = {"label_w": 430, "bar_w": 470}  # charts that have the full width (their table is below them)


def charts_for(report: reports.Report) -> dict[str, Markup]:
    """The charts of a report, by section."""
    charts: dict[str, Markup] = {}
    charts["termijnen"] = stacked_chart(
        "Termijnen: gehaald, gemist en open per soort termijn",
        [(f.kind.label, [f.gehaald, f.gemist, f.open, f.vervallen]) for f in report.deadlines if f.measured],
        DEADLINE_SERIES, **WIDE)
    charts["doorlooptijd"] = grouped_chart(
        "Doorlooptijd van ontvangst tot afsluiting in dagen, per soort",
        [(t.label, [t.median, t.p90]) for t in report.throughput], [("Mediaan", BLUE), ("90e percentiel", GREY)],
        " d", **WIDE)
    charts["escalaties"] = bar_chart("Aantal klachten per niveau van opschaling",
                                     [(lvl.label.split(" (")[0], lvl.complaints) for lvl in report.escalations],
                                     colour=RED)
    charts["locaties"] = bar_chart("Aantal per locatie", [(r.location, r.total) for r in report.by_location])
    charts["soorten"] = bar_chart("Aantal per soort", [(c.label, c.count) for c in report.by_type])
    charts["uitkomsten"] = bar_chart("Aantal per afloop (eindpunt van de procedure)",
                                     [(c.label, c.count) for c in report.by_outcome], colour=GREEN)
    charts["afhandeling"] = stacked_chart(
        "Afhandeling per afloop: binnen de termijnen of niet",
        [(h.route, [h.within, h.exceeded, h.running, h.no_deadline]) for h in report.handling],
        [("Binnen termijn", GREEN), ("Termijn overschreden", RED), ("Loopt nog", GREY), ("Geen termijn", LIGHT)],
        **WIDE)
    for n, b in enumerate(report.judgements):
        charts[f"oordeel-{n}"] = bar_chart(f"{b.title} ({b.step})", [(c.label, c.count) for c in b.counts])
    for n, b in enumerate(report.nature):
        charts[f"aard-{n}"] = bar_chart(b.title, [(c.label, c.count) for c in b.counts])
    if report.quarters:
        charts["kwartalen"] = bar_chart("Ontvangen per kwartaal", [(q.label, q.received) for q in report.quarters])
    return charts


# -- periods ---------------------------------------------------------------------------------------


def _period_from_request(org: str) -> reports.Period:
    args = request.args
    try:
        if args.get("van") or args.get("tot"):
            start = date.fromisoformat(args.get("van") or args.get("tot"))
            end = date.fromisoformat(args.get("tot") or args.get("van"))
            if (end - start).days > 366 * 10:
                abort(400)
            return reports.Period.between(start, end)
        year = int(args.get("jaar") or 0)
        quarter = int(args.get("kwartaal") or 0)
    except ValueError:
        abort(400)
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
    from webapp.exports import to_csv, to_xes

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
        body, mimetype = to_csv(events).encode("utf-8"), "text/csv; charset=utf-8"
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


# -- PDF (fpdf2) -----------------------------------------------------------------------------------

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/local/share/fonts")]


def _font_files() -> tuple[Path, Path] | None:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def annual_report_pdf(report: reports.Report, title: str) -> bytes:
    """The public report as a PDF: the same sections and numbers as the printable page,
    with bar charts drawn as rectangles."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    fonts = _font_files()

    class Document(FPDF):
        def header(self) -> None:
            self.set_font(family, "", 8)
            self.set_text_color(80, 90, 95)
            self.cell(0, 5, text(f"{report.organisation} · {title}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 8)
            self.set_text_color(80, 90, 95)
            self.cell(0, 5, text(f"Pagina {self.page_no()} van {{nb}} · geanonimiseerd · opgesteld "
                                 f"{clock.to_local(report.generated_at):%d-%m-%Y}"), align="C")

    pdf = Document(format="A4", unit="mm")
    if fonts:
        family = "DejaVu"
        pdf.add_font(family, "", str(fonts[0]))
        pdf.add_font(family, "B", str(fonts[1]))

        def text(value: Any) -> str:
            return str(value)
    else:  # the core font: Latin-1 only
        family = "Helvetica"

        def text(value: Any) -> str:
            return str(value).replace("–", "-").replace("…", "...").replace("·", "-").encode(
                "latin-1", "replace").decode("latin-1")

    pdf.set_title(text(f"{title} – {report.organisation}"))
    pdf.set_author(text(report.organisation))
    pdf.set_creator("Klachtroute")
    pdf.set_auto_page_break(True, margin=16)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_text_color(27, 27, 27)

    sections = count(1)

    def heading(value: str, size: int = 14, numbered: bool = True) -> None:
        if pdf.get_y() > 245:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(family, "B", size)
        label = f"{next(sections)}. {value}" if numbered and size >= 14 else value
        pdf.multi_cell(0, 7, text(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.set_font(family, "", 10)

    def paragraph(value: str) -> None:
        pdf.set_font(family, "", 10)
        pdf.multi_cell(0, 5, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.ln(1)

    def table(headers: list[str], rows: list[list[Any]], widths: list[int] | None = None) -> None:
        if not rows:
            paragraph("Geen gegevens in deze periode.")
            return
        pdf.set_font(family, "", 9)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_draw_color(177, 180, 182)
        with pdf.table(col_widths=widths or None, text_align=["LEFT"] + ["RIGHT"] * (len(headers) - 1),
                       line_height=5, first_row_as_headings=True, borders_layout="HORIZONTAL_LINES",
                       cell_fill_color=(247, 247, 246), cell_fill_mode="ROWS",
                       headings_style=_headings_style(family)) as t:
            row = t.row()
            for h in headers:
                row.cell(text(h))
            for values in rows:
                row = t.row()
                for v in values:
                    row.cell(text(v if isinstance(v, str) else number(v)))
        pdf.ln(2)

    def bars(rows: list[tuple[str, float | int]], colour: tuple[int, int, int] = (0, 85, 138)) -> None:
        if not rows:
            return
        if pdf.get_y() + 5.5 * len(rows) > 270 and len(rows) < 40:
            pdf.add_page()
        peak = max((v for _, v in rows), default=0) or 1
        pdf.set_font(family, "", 8)
        for label, value in rows:
            y = pdf.get_y()
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(60, 5, text(_short(label, 40)), align="R")
            pdf.set_fill_color(*colour)
            w = 95 * (value or 0) / peak
            if w > 0:
                pdf.rect(pdf.l_margin + 62, y + 0.8, w, 3.6, style="F")
            pdf.set_xy(pdf.l_margin + 64 + w, y)
            pdf.cell(20, 5, text(number(value)))
            pdf.set_xy(pdf.l_margin, y + 5.5)
        pdf.set_fill_color(255, 255, 255)
        pdf.ln(2)

    pdf.set_font(family, "B", 20)
    pdf.multi_cell(0, 10, text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 13)
    pdf.multi_cell(0, 7, text(report.organisation), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    for line in summary_lines(report):
        paragraph(line)

    if report.quarters:
        heading("Per kwartaal", numbered=False)
        table(["Kwartaal", "Ontvangen", "Afgesloten", "Binnen termijn", "Termijn overschreden", "Opgeschaald",
               "Externe zaken"],
              [[q.label, q.received, q.closed, q.within, q.exceeded, q.escalated, q.committee_cases]
               for q in report.quarters], [30, 22, 22, 26, 30, 24, 26])

    heading("Klachten per locatie")
    type_labels = [reports.type_label(k) for k in report.types]
    table(["Locatie", *type_labels, "Totaal"],
          [[r.location, *(r.per_type.get(k, 0) for k in report.types), r.total] for r in report.by_location],
          [70, *([int(90 / max(1, len(type_labels)))] * len(type_labels)), 20])
    bars([(r.location, r.total) for r in report.by_location])

    heading("Aard van de klachten")
    table(["Soort", "Aantal"], [[c.label, c.count] for c in report.by_type], [120, 40])
    for b in report.nature:
        paragraph(f"{b.title} (vastgelegd bij {b.total} klachten)")
        table(["Onderwerp", "Aantal"], [[c.label, c.count] for c in b.counts], [120, 40])

    heading("Afhandeling")
    table(["Afloop", "Aantal", "Binnen termijn", "Overschreden", "Loopt nog", "Geen termijn"],
          [[h.route, h.count, h.within, h.exceeded, h.running, h.no_deadline] for h in report.handling],
          [58, 16, 24, 28, 20, 24])
    paragraph("Een klacht kan meer dan één afloop hebben, bijvoorbeeld 'klager tevreden' en 'verbetering in "
              "gang gezet'.")
    heading("Termijnen", 12)
    table(["Termijn", "Gehaald", "Gemist", "Open", "Vervallen", "% gehaald"],
          [[f.kind.label, f.gehaald, f.gemist, f.open, f.vervallen, percent(f.percentage)]
           for f in report.deadlines if f.measured], [80, 18, 18, 16, 20, 20])
    if report.lapse_terms:
        table(["Vervaltermijn", "Verstreken", "Niet verstreken", "Loopt"],
              [[f.kind.label, f.gemist, f.gehaald, f.open] for f in report.lapse_terms], [100, 25, 30, 20])
    heading("Doorlooptijd (dagen van ontvangst tot afsluiting)", 12)
    table(["Soort", "Afgesloten", "Nog open", "Mediaan", "90e percentiel", "Maximum"],
          [[t.label, t.closed, t.still_open, t.median, t.p90, t.maximum] for t in report.throughput],
          [50, 24, 22, 24, 30, 24])

    if report.judgements:
        heading("Oordeel")
        for b in report.judgements:
            paragraph(f"{b.title} ({b.step})")
            table(["Oordeel", "Aantal"], [[c.label, c.count] for c in b.counts], [120, 40])

    heading("Geschillencommissie en andere externe instanties")
    if not report.committees:
        paragraph("In deze periode is geen klacht voorgelegd aan een externe instantie.")
    for c in report.committees:
        paragraph(f"{c.body}: {c.cases} voorgelegd, {c.decided} afgerond, {c.pending} loopt nog.")
        if c.verdicts:
            table(["Uitspraak", "Aantal"], [[v.label, v.count] for v in c.verdicts], [120, 40])

    heading("Opschaling")
    for lvl in report.escalations:
        paragraph(f"{lvl.label}: {lvl.complaints} klachten.")
        if lvl.steps:
            table(["Stap", "Klachten"], [[s.name, s.count] for s in lvl.steps], [130, 30])

    heading("Maatregelen")
    if report.measures:
        table(["Maatregel", "Aantal"], [[m.label, m.count] for m in report.measures], [130, 30])
    else:
        paragraph("Er zijn geen maatregelen vastgelegd.")

    heading("Verantwoording", numbered=False)
    for line in ACCOUNT:
        paragraph(line)
    return bytes(pdf.output())


def _headings_style(family: str):
    from fpdf.fonts import FontFace

    return FontFace(family=family, emphasis="BOLD", fill_color=(243, 242, 241))


ACCOUNT = [
    "De cijfers zijn berekend uit de registratie van Klachtroute: de klachten (soort, locatie, datum van "
    "ontvangst en afsluiting), de taken met hun termijnen en het logboek van de procedure (verstreken "
    "termijnen, genomen beslissingen, bereikte eindpunten). Het verslag bevat geen namen, adressen, "
    "omschrijvingen of kenmerken van klachten.",
    "Termijnen: een termijn is gemist als de termijnbewaking van de procedure is afgegaan voordat de stap was "
    "afgerond; vervallen als de stap eerder verviel, bijvoorbeeld doordat de klacht werd ingetrokken.",
]


def summary_lines(report: reports.Report) -> list[str]:
    types = ", ".join(f"{c.count} {c.label.lower()}" for c in report.by_type) or "geen"
    lines = [f"Periode: {report.period.start:%d-%m-%Y} t/m {report.period.end:%d-%m-%Y}. "
             f"Ontvangen: {report.total} ({types}). Afgesloten: {report.closed}; nog in behandeling: "
             f"{report.running}."]
    met, missed = report.deadline_totals
    if met + missed:
        lines.append(f"Van de bewaakte termijnen is {percent(report.deadline_percentage)} gehaald "
                     f"({met} gehaald, {missed} gemist).")
    cases = sum(c.cases for c in report.committees)
    lines.append(f"Voorgelegd aan een externe instantie: {cases}.")
    return lines


@bp.app_template_global("rapport_samenvatting")
def rapport_samenvatting(report: reports.Report) -> list[str]:
    return summary_lines(report)


@bp.app_template_global("soort_label")
def soort_label(key: str) -> str:
    return reports.type_label(key)

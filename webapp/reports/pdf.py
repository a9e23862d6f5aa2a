"""The public report (annual or quarterly) as a PDF, with fpdf2: the same sections and numbers as
the printable page, with bar charts drawn as rectangles."""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from webapp import clock

from .formatting import ACCOUNT, number, percent, short, summary_lines
from .labels import type_label
from .results import Report

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/local/share/fonts")]
GREY_TEXT = (80, 90, 95)


def _font_files() -> tuple[Path, Path] | None:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Document(FPDF):
    """An A4 page with the organisation and title above and the page number below; DejaVu when
    installed, else the core font (Latin-1 only)."""

    def __init__(self, report: Report, title: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.report, self.title_text = report, title
        fonts = _font_files()
        self.face = "DejaVu" if fonts else "Helvetica"
        if fonts:
            self.add_font(self.face, "", str(fonts[0]))
            self.add_font(self.face, "B", str(fonts[1]))

    def plain(self, value: Any) -> str:
        if self.face != "Helvetica":
            return str(value)
        return str(value).replace("–", "-").replace("…", "...").replace("·", "-").encode(
            "latin-1", "replace").decode("latin-1")

    def header(self) -> None:
        self.set_font(self.face, "", 8)
        self.set_text_color(*GREY_TEXT)
        self.cell(0, 5, self.plain(f"{self.report.organisation} · {self.title_text}"),
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.face, "", 8)
        self.set_text_color(*GREY_TEXT)
        self.cell(0, 5, self.plain(f"Pagina {self.page_no()} van {{nb}} · geanonimiseerd · opgesteld "
                                  f"{clock.to_local(self.report.generated_at):%d-%m-%Y}"), align="C")


class ReportPdf:
    """Writes the sections of a report into a `_Document`, numbering the main headings."""

    def __init__(self, report: Report, title: str) -> None:
        self.report, self.title = report, title
        self.pdf = pdf = _Document(report, title)
        self._sections = count(1)
        pdf.set_title(pdf.plain(f"{title} – {report.organisation}"))
        pdf.set_author(pdf.plain(report.organisation))
        pdf.set_creator("Klachtroute")
        pdf.set_auto_page_break(True, margin=16)
        pdf.alias_nb_pages()
        pdf.add_page()
        pdf.set_text_color(27, 27, 27)

    # -- building blocks ---------------------------------------------------------------------

    def heading(self, value: str, size: int = 14, numbered: bool = True) -> None:
        pdf = self.pdf
        if pdf.get_y() > 245:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(pdf.face, "B", size)
        label = f"{next(self._sections)}. {value}" if numbered and size >= 14 else value
        pdf.multi_cell(0, 7, pdf.plain(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.set_font(pdf.face, "", 10)

    def paragraph(self, value: str) -> None:
        pdf = self.pdf
        pdf.set_font(pdf.face, "", 10)
        pdf.multi_cell(0, 5, pdf.plain(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.ln(1)

    def table(self, headers: list[str], rows: list[list[Any]], widths: list[int] | None = None) -> None:
        if not rows:
            self.paragraph("Geen gegevens in deze periode.")
            return
        pdf = self.pdf
        pdf.set_font(pdf.face, "", 9)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_draw_color(177, 180, 182)
        style = FontFace(family=pdf.face, emphasis="BOLD", fill_color=(243, 242, 241))
        with pdf.table(col_widths=widths or None, text_align=["LEFT"] + ["RIGHT"] * (len(headers) - 1),
                       line_height=5, first_row_as_headings=True, borders_layout="HORIZONTAL_LINES",
                       cell_fill_color=(247, 247, 246), cell_fill_mode="ROWS", headings_style=style) as t:
            row = t.row()
            for h in headers:
                row.cell(pdf.plain(h))
            for values in rows:
                row = t.row()
                for v in values:
                    row.cell(pdf.plain(v if isinstance(v, str) else number(v)))
        pdf.ln(2)

    def bars(self, rows: list[tuple[str, float | int]], colour: tuple[int, int, int] = (0, 85, 138)) -> None:
        if not rows:
            return
        pdf = self.pdf
        if pdf.get_y() + 5.5 * len(rows) > 270 and len(rows) < 40:
            pdf.add_page()
        peak = max((v for _, v in rows), default=0) or 1
        pdf.set_font(pdf.face, "", 8)
        for label, value in rows:
            y = pdf.get_y()
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(60, 5, pdf.plain(short(label, 40)), align="R")
            pdf.set_fill_color(*colour)
            w = 95 * (value or 0) / peak
            if w > 0:
                pdf.rect(pdf.l_margin + 62, y + 0.8, w, 3.6, style="F")
            pdf.set_xy(pdf.l_margin + 64 + w, y)
            pdf.cell(20, 5, pdf.plain(number(value)))
            pdf.set_xy(pdf.l_margin, y + 5.5)
        pdf.set_fill_color(255, 255, 255)
        pdf.ln(2)

    # -- sections ----------------------------------------------------------------------------

    def opening(self) -> None:
        pdf, report = self.pdf, self.report
        pdf.set_font(pdf.face, "B", 20)
        pdf.multi_cell(0, 10, pdf.plain(self.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(pdf.face, "", 13)
        pdf.multi_cell(0, 7, pdf.plain(report.organisation), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        for line in summary_lines(report):
            self.paragraph(line)
        if report.quarters:
            self.heading("Per kwartaal", numbered=False)
            self.table(["Kwartaal", "Ontvangen", "Afgesloten", "Binnen termijn", "Termijn overschreden",
                        "Opgeschaald", "Externe zaken"],
                       [[q.label, q.received, q.closed, q.within, q.exceeded, q.escalated, q.committee_cases]
                        for q in report.quarters], [30, 22, 22, 26, 30, 24, 26])

    def locations_and_nature(self) -> None:
        report = self.report
        self.heading("Klachten per locatie")
        type_labels = [type_label(k) for k in report.types]
        self.table(["Locatie", *type_labels, "Totaal"],
                   [[r.location, *(r.per_type.get(k, 0) for k in report.types), r.total] for r in report.by_location],
                   [70, *([int(90 / max(1, len(type_labels)))] * len(type_labels)), 20])
        self.bars([(r.location, r.total) for r in report.by_location])
        self.heading("Aard van de klachten")
        self.table(["Soort", "Aantal"], [[c.label, c.count] for c in report.by_type], [120, 40])
        for b in report.nature:
            self.paragraph(f"{b.title} (vastgelegd bij {b.total} klachten)")
            self.table(["Onderwerp", "Aantal"], [[c.label, c.count] for c in b.counts], [120, 40])

    def handling(self) -> None:
        report = self.report
        self.heading("Afhandeling")
        self.table(["Afloop", "Aantal", "Binnen termijn", "Overschreden", "Loopt nog", "Geen termijn"],
                   [[h.route, h.count, h.within, h.exceeded, h.running, h.no_deadline] for h in report.handling],
                   [58, 16, 24, 28, 20, 24])
        self.paragraph("Een klacht kan meer dan één afloop hebben, bijvoorbeeld 'klager tevreden' en "
                       "'verbetering in gang gezet'.")
        self.heading("Termijnen", 12)
        self.table(["Termijn", "Gehaald", "Gemist", "Open", "Vervallen", "% gehaald"],
                   [[f.kind.label, f.gehaald, f.gemist, f.open, f.vervallen, percent(f.percentage)]
                    for f in report.deadlines if f.measured], [80, 18, 18, 16, 20, 20])
        if report.lapse_terms:
            self.table(["Vervaltermijn", "Verstreken", "Niet verstreken", "Loopt"],
                       [[f.kind.label, f.gemist, f.gehaald, f.open] for f in report.lapse_terms], [100, 25, 30, 20])
        self.heading("Doorlooptijd (dagen van ontvangst tot afsluiting)", 12)
        self.table(["Soort", "Afgesloten", "Nog open", "Mediaan", "90e percentiel", "Maximum"],
                   [[t.label, t.closed, t.still_open, t.median, t.p90, t.maximum] for t in report.throughput],
                   [50, 24, 22, 24, 30, 24])

    def judgements_and_bodies(self) -> None:
        report = self.report
        if report.judgements:
            self.heading("Oordeel")
            for b in report.judgements:
                self.paragraph(f"{b.title} ({b.step})")
                self.table(["Oordeel", "Aantal"], [[c.label, c.count] for c in b.counts], [120, 40])
        self.heading("Geschillencommissie en andere externe instanties")
        if not report.committees:
            self.paragraph("In deze periode is geen klacht voorgelegd aan een externe instantie.")
        for c in report.committees:
            self.paragraph(f"{c.body}: {c.cases} voorgelegd, {c.decided} afgerond, {c.pending} loopt nog.")
            if c.verdicts:
                self.table(["Uitspraak", "Aantal"], [[v.label, v.count] for v in c.verdicts], [120, 40])

    def escalations_and_measures(self) -> None:
        report = self.report
        self.heading("Opschaling")
        for lvl in report.escalations:
            self.paragraph(f"{lvl.label}: {lvl.complaints} klachten.")
            if lvl.steps:
                self.table(["Stap", "Klachten"], [[s.name, s.count] for s in lvl.steps], [130, 30])
        self.heading("Maatregelen")
        if report.measures:
            self.table(["Maatregel", "Aantal"], [[m.label, m.count] for m in report.measures], [130, 30])
        else:
            self.paragraph("Er zijn geen maatregelen vastgelegd.")
        self.heading("Verantwoording", numbered=False)
        for line in ACCOUNT:
            self.paragraph(line)

    def render(self) -> bytes:
        self.opening()
        self.locations_and_nature()
        self.handling()
        self.judgements_and_bodies()
        self.escalations_and_measures()
        return bytes(self.pdf.output())


def annual_report_pdf(report: Report, title: str) -> bytes:
    """The public report as a PDF: the same sections and numbers as the printable page,
    with bar charts drawn as rectangles."""
    return ReportPdf(report, title).render()

"""A published report's stored snapshot as a PDF (fpdf2): the same sections and numbers as its
public page, never recomputed."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .pdf import _font_files

SECTIONS = [("types", "Soort"), ("handled", "Afhandeling"), ("outcomes", "Uitkomst"),
            ("measures", "Maatregelen")]


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm")
        fonts = _font_files()
        self.face = "DejaVu" if fonts else "Helvetica"
        if fonts:
            self.add_font(self.face, "", str(fonts[0]))
            self.add_font(self.face, "B", str(fonts[1]))

    def text_of(self, value: Any) -> str:
        text = str(value)
        return text if self.face != "Helvetica" else text.encode("latin-1", "replace").decode("latin-1")

    def line_of(self, value: Any, size: int = 10, bold: bool = False) -> None:
        self.set_font(self.face, "B" if bold else "", size)
        self.multi_cell(0, size * 0.55, self.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _section(pdf: _Pdf, title: str, part: dict[str, Any]) -> None:
    pdf.ln(3)
    pdf.line_of(title, 13, bold=True)
    if part.get("received") is not None:
        pdf.line_of(f"Ontvangen: {part['received']}")
    for key, label in SECTIONS:
        rows = part.get(key) or []
        if rows:
            pdf.line_of(label, 10, bold=True)
            for row in rows:
                pdf.line_of(f"  {row['label']}: {row['count']}")
    for group in [*(part.get("nature") or []), *(part.get("judgements") or [])]:
        pdf.line_of(group["title"], 10, bold=True)
        for row in group["counts"]:
            pdf.line_of(f"  {row['label']}: {row['count']}")
    for committee in part.get("committees") or []:
        pdf.line_of(f"{committee['body']}: {committee['cases']} zaken, {committee['decided']} met uitspraak", 10,
                    bold=True)
        for row in committee["verdicts"]:
            pdf.line_of(f"  {row['label']}: {row['count']}")


def snapshot_pdf(content: dict[str, Any], title: str) -> bytes:
    pdf = _Pdf()
    pdf.set_title(pdf.text_of(f"{title} – {content['organisation']}"))
    pdf.set_creator("Klachtroute")
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.line_of(content["organisation"], 16, bold=True)
    pdf.line_of(title, 14, bold=True)
    pdf.line_of("Geanonimiseerd: aantallen onder de 3 staan als \"minder dan 3\"; locaties met minder dan drie "
                "klachten zijn samengevoegd.", 9)
    _section(pdf, "De hele organisatie", content["total"])
    for part in content["locations"]:
        _section(pdf, part["location"], part)
    return bytes(pdf.output())

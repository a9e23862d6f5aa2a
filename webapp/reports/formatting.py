"""Numbers and sentences of a report in Dutch, shared by the pages, the charts and the PDF."""

from __future__ import annotations

from .results import Report


def number(value: float | int | None, decimals: int = 1) -> str:
    """Dutch notation: 12,5; a dash for no value."""
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{number(value)}%"


def short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary_lines(report: Report) -> list[str]:
    """The opening sentences of a report: received, closed, deadlines, external bodies."""
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


ACCOUNT = [
    "De cijfers zijn berekend uit de registratie van Klachtroute: de klachten (soort, locatie, datum van "
    "ontvangst en afsluiting), de taken met hun termijnen en het logboek van de procedure (verstreken "
    "termijnen, genomen beslissingen, bereikte eindpunten). Het verslag bevat geen namen, adressen, "
    "omschrijvingen of kenmerken van klachten.",
    "Termijnen: een termijn is gemist als de termijnbewaking van de procedure is afgegaan voordat de stap was "
    "afgerond; vervallen als de stap eerder verviel, bijvoorbeeld doordat de klacht werd ingetrokken.",
]

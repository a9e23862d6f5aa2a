"""The charts of a report as inline SVG, drawn on the server (no JavaScript, no external service):
every chart has a title and a description, and the table beside it carries the numbers."""

from __future__ import annotations

from itertools import count

from markupsafe import Markup, escape

from .formatting import number, short
from .results import Report

# Colours with enough contrast on white (WCAG AA for the bars against the background).
BLUE, GREEN, RED, GREY, LIGHT = "#00558a", "#00703c", "#b10e1e", "#505a5f", "#b1b4b6"
DEADLINE_SERIES = [("Gehaald", GREEN), ("Gemist", RED), ("Open", GREY), ("Vervallen", LIGHT)]
_ids = count(1)

CHAR_W = 7.4  # average width of a character at 14px, for wrapping labels
LABEL_W = 270


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
    return [short(x, width) for x in out]


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


def charts_for(report: Report) -> dict[str, Markup]:
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

"""Render a .bpmn file with bpmn-js in headless Chromium to a PNG, at 1:1 scale.

    .venv/bin/python scripts/render_bpmn.py bpmn/skar/klachtenprocedure.bpmn /tmp/skar.png

Needs `npm ci` (bpmn-js) and Debian's chromium and chromedriver. bpmn-js import
warnings are printed, so a diagram that bpmn-js cannot lay out is noticed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webapp.browser import headless_chromium  # noqa: E402

VIEWER = ROOT / "node_modules/bpmn-js/dist/bpmn-viewer.production.min.js"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>html,body{margin:0;background:#fff}#canvas{width:%(w)dpx;height:%(h)dpx}</style>
<script src="%(viewer)s"></script></head><body><div id="canvas"></div>
<script>
const viewer = new BpmnJS({container: '#canvas'});
viewer.importXML(%(xml)s).then(({warnings}) => {
  viewer.get('canvas').viewbox({x: %(x)d, y: %(y)d, width: %(w)d, height: %(h)d});
  window.renderResult = {ok: true, warnings: warnings.map(w => w.message)};
}).catch(err => { window.renderResult = {ok: false, warnings: [err.message]}; });
</script></body></html>"""


def bounds(xml: bytes) -> tuple[int, int, int, int]:
    root = etree.fromstring(xml)
    xs, ys = [], []
    for b in root.iter(f"{{{DC}}}Bounds"):
        x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        xs += [x, x + w]
        ys += [y, y + h]
    for p in root.iter(f"{{{DI}}}waypoint"):
        xs.append(float(p.get("x")))
        ys.append(float(p.get("y")))
    if not xs:
        raise SystemExit("the diagram has no BPMN DI: nothing to draw")
    margin = 20
    return (int(min(xs)) - margin, int(min(ys)) - margin,
            int(max(xs) - min(xs)) + 2 * margin, int(max(ys) - min(ys)) + 2 * margin)


def render(bpmn: Path, out: Path) -> list[str]:
    """Draw `bpmn` into `out`; returns bpmn-js's import warnings, raises on an import error."""
    if not VIEWER.exists():
        raise SystemExit(f"{VIEWER} is missing: run `npm ci` first")
    xml = bpmn.read_bytes()
    x, y, w, h = bounds(xml)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "render.html"
        page.write_text(PAGE % {"viewer": VIEWER.as_uri(), "xml": json.dumps(xml.decode("utf-8")),
                                "x": x, "y": y, "w": w, "h": h}, encoding="utf-8")
        with headless_chromium(max(w + 40, 400), max(h + 240, 300)) as driver:  # the window's frame takes height
            driver.get(page.as_uri())
            from selenium.webdriver.support.ui import WebDriverWait

            result = WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.renderResult"))
            if not result["ok"]:
                raise SystemExit(f"bpmn-js could not import {bpmn}: {result['warnings']}")
            driver.find_element("id", "canvas").screenshot(str(out))
    return result["warnings"]


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    warnings = render(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{sys.argv[1]} -> {sys.argv[2]}; bpmn-js import warnings: {len(warnings)}")
    for warning in warnings:
        print(f"  {warning}")

"""What counts as a change of the drawing in the version history. bpmn-js writes a diagram
back with its shapes in its own order, numbers as it formats them and isMarkerVisible on
every exclusive gateway: none of that is a change a process owner made, so a version whose
only change is a task's instruction must not say "De tekening is ook aangepast"."""

from __future__ import annotations

from lxml import etree

from webapp.runtime.deploy import compare_diagrams
from webapp.runtime.organisations import REPO_ROOT

KWARTIER = (REPO_ROOT / "bpmn" / "kwartier" / "klachtenprocedure.bpmn").read_text(encoding="utf-8")
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def as_bpmn_js_writes_it(xml: str) -> etree._Element:
    """The diagram as the modeller exports it: the drawing's shapes reversed, whole numbers
    as decimals, isMarkerVisible="true" on every exclusive gateway that had none."""
    root = etree.fromstring(xml.encode("utf-8"))
    gateways = {g.get("id") for g in root.iter(f"{{{BPMN}}}exclusiveGateway")}
    plane = root.find(f"{{{DI}}}BPMNDiagram/{{{DI}}}BPMNPlane")
    drawn = list(plane)
    for element in drawn:
        plane.remove(element)
    plane.extend(reversed(drawn))
    for bounds in root.iter(f"{{{DC}}}Bounds"):
        bounds.set("x", f"{float(bounds.get('x')):.1f}")
    for shape in plane.iterfind(f"{{{DI}}}BPMNShape"):
        if shape.get("bpmnElement") in gateways and shape.get("isMarkerVisible") is None:
            shape.set("isMarkerVisible", "true")
    return root


def text(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


def test_an_instruction_changed_in_the_modeller_is_not_a_new_drawing():
    exported = as_bpmn_js_writes_it(KWARTIER)
    assert any(s.get("isMarkerVisible") for s in exported.iter(f"{{{DI}}}BPMNShape"))  # the test bites
    instruction = next(exported.iter(f"{{{SPIFF}}}instructionsForEndUser"))
    task = next(instruction.iterancestors(f"{{{BPMN}}}userTask"))
    instruction.text = "Bel de klant binnen twee werkdagen."

    changes = compare_diagrams(KWARTIER, text(exported))

    assert (changes["added"], changes["removed"]) == ([], [])
    assert [(c["id"], c["aspects"]) for c in changes["changed"]] == [(task.get("id"), ["extensions"])]
    assert changes["layout_changed"] is False


def test_a_moved_shape_or_a_hidden_gateway_marker_is_a_new_drawing():
    exported = as_bpmn_js_writes_it(KWARTIER)
    bounds = next(exported.iter(f"{{{DC}}}Bounds"))
    bounds.set("y", str(float(bounds.get("y")) + 40))
    changes = compare_diagrams(KWARTIER, text(exported))
    assert (changes["added"], changes["removed"], changes["changed"]) == ([], [], [])
    assert changes["layout_changed"] is True

    exported = as_bpmn_js_writes_it(KWARTIER)
    gateway = next(s for s in exported.iter(f"{{{DI}}}BPMNShape") if s.get("isMarkerVisible"))
    gateway.set("isMarkerVisible", "false")
    assert compare_diagrams(KWARTIER, text(exported))["layout_changed"] is True

"""What changed between two versions of a diagram: elements added, removed and changed (name,
type, lane, attributes, extensions, expressions), and whether the drawing itself changed. Stored
with each published version and shown on the versions page."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .bpmn import NS
from .diagrams import parse_xml

BPMN_NS = NS["bpmn"]
BPMNDI_NS = NS["bpmndi"]
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


# -- what changed --------------------------------------------------------------------------

# Elements reported on their own. Everything else inside one of them (event definitions,
# expressions, extension elements, documentation, loop characteristics) is part of it.
TRACKED = frozenset({
    "process", "participant", "lane", "message", "signal", "error", "escalation", "dataStore",
    "sequenceFlow", "messageFlow", "association", "textAnnotation", "group",
    "dataObject", "dataObjectReference", "dataStoreReference",
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
})
# Not compared as content: connections show as the flows' own changes, lane membership as `lane`.
SKIPPED = frozenset({"incoming", "outgoing", "flowNodeRef", "laneSet", "childLaneSet"})
EXPRESSIONS = frozenset({"conditionExpression", "timeDate", "timeCycle", "timeDuration", "script",
                         "completionCondition", "loopCardinality", "preScript", "postScript", "messagePayload"})


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _is_bpmn(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).namespace == BPMN_NS


def _tracked(element: etree._Element) -> bool:
    return _is_bpmn(element) and _local(element) in TRACKED and bool(element.get("id"))


def _attribute_value(element: etree._Element, name: str, value: str) -> str:
    if name == XSI_TYPE and ":" in value:  # a QName: compare the namespace, not the prefix
        prefix, local = value.split(":", 1)
        return f"{{{element.nsmap.get(prefix, prefix)}}}{local}"
    return value


def _canonical(element: etree._Element, skip_expressions: bool) -> str:
    """A stable text of a subtree: tags by namespace, sorted attributes, trimmed text;
    no comments, no tracked sub-elements, no connections."""
    if not isinstance(element.tag, str):
        return ""
    attributes = sorted((k, _attribute_value(element, k, v)) for k, v in element.attrib.items())
    text = "" if skip_expressions and _local(element) in EXPRESSIONS else (element.text or "").strip()
    children = [_canonical(child, skip_expressions) for child in element
                if isinstance(child.tag, str) and not _tracked(child) and _local(child) not in SKIPPED]
    return f"<{element.tag} {attributes!r}>{text}{''.join(children)}</>"


def _expressions(element: etree._Element, path: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for child in element:
        if not isinstance(child.tag, str) or _tracked(child):
            continue
        where = f"{path}/{_local(child)}" if path else _local(child)
        while where in found:
            where += "'"
        if _local(child) in EXPRESSIONS:
            found[where] = (child.text or "").strip()
        found.update(_expressions(child, where))
    return found


def _fingerprint(element: etree._Element, lane: str | None) -> dict[str, Any]:
    attributes = {etree.QName(k).localname if k != XSI_TYPE else "xsi:type": _attribute_value(element, k, v)
                  for k, v in element.attrib.items() if k not in ("id", "name")}
    extensions = [child for child in element if isinstance(child.tag, str) and _local(child) == "extensionElements"]
    rest = [child for child in element if isinstance(child.tag, str) and _local(child) != "extensionElements"
            and not _tracked(child) and _local(child) not in SKIPPED]
    return {
        "name": (element.get("name") or "").strip() or None,
        "type": _local(element),
        "lane": lane,
        "attributes": attributes,
        "extensions": "".join(_canonical(e, skip_expressions=True) for e in extensions),
        "expressions": _expressions(element),
        "content": "".join(_canonical(e, skip_expressions=True) for e in rest),
    }


def _elements(root: etree._Element) -> dict[str, dict[str, Any]]:
    lanes: dict[str, tuple[int, str]] = {}  # node id -> (depth, lane name): the innermost lane wins
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        depth = sum(1 for _ in lane.iterancestors())
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            node = (ref.text or "").strip()
            if node and depth >= lanes.get(node, (-1, ""))[0]:
                lanes[node] = (depth, lane.get("name") or lane.get("id"))
    elements = {}
    for element in root.iter():
        if isinstance(element.tag, str) and _tracked(element):
            element_id = element.get("id")
            elements[element_id] = _fingerprint(element, lanes.get(element_id, (0, None))[1])
    return elements


_COORDINATES = frozenset({"x", "y", "width", "height"})


def _number(text: str) -> str:
    try:
        return repr(float(text))
    except ValueError:
        return text


def _drawn(element: etree._Element, gateways: frozenset[str]) -> str:
    """One DI element as stable text: coordinates as numbers ('100' == '100.0'), and an
    exclusive gateway's X shown unless the file says otherwise (bpmn-js writes
    isMarkerVisible="true" where it was absent, and draws the X either way)."""
    attributes = dict(element.attrib)
    for name in _COORDINATES & attributes.keys():
        attributes[name] = _number(attributes[name])
    if _local(element) == "BPMNShape" and element.get("bpmnElement") in gateways:
        attributes.setdefault("isMarkerVisible", "true")
    children = "".join(_drawn(child, gateways) for child in element if isinstance(child.tag, str))
    return f"<{element.tag} {sorted(attributes.items())!r}>{(element.text or '').strip()}{children}</>"


def _layout(root: etree._Element) -> str:
    """The drawing, as stable text. Shapes and edges are compared as a set: bpmn-js writes
    them in its own order, which is not a change a person can see."""
    gateways = frozenset(g.get("id") for g in root.iter(f"{{{BPMN_NS}}}exclusiveGateway"))
    diagrams = []
    for diagram in root.iterfind("bpmndi:BPMNDiagram", NS):
        planes = []
        for plane in diagram.iterfind("bpmndi:BPMNPlane", NS):
            drawn = sorted(_drawn(e, gateways) for e in plane if isinstance(e.tag, str))
            planes.append(f"{plane.get('bpmnElement')}:{''.join(drawn)}")
        diagrams.append("|".join(sorted(planes)))
    return "||".join(sorted(diagrams))


def _entry(element_id: str, fp: dict[str, Any], file: str | None) -> dict[str, Any]:
    entry = {"id": element_id, "name": fp["name"], "type": fp["type"]}
    if file:
        entry["file"] = file
    return entry


def _compare_documents(old: etree._Element | None, new: etree._Element | None, file: str | None,
                       changes: dict[str, Any]) -> None:
    before = _elements(old) if old is not None else {}
    after = _elements(new) if new is not None else {}
    changes["added"] += [_entry(i, fp, file) for i, fp in after.items() if i not in before]
    changes["removed"] += [_entry(i, fp, file) for i, fp in before.items() if i not in after]
    for element_id, fp in after.items():
        was = before.get(element_id)
        if was is None or was == fp:
            continue
        aspects = [k for k in ("name", "type", "lane", "attributes", "extensions", "expressions", "content")
                   if was[k] != fp[k]]
        entry = _entry(element_id, fp, file)
        entry["aspects"] = aspects
        details: dict[str, Any] = {k: [was[k], fp[k]] for k in ("name", "type", "lane") if k in aspects}
        if "attributes" in aspects:
            details["attributes"] = {k: [was["attributes"].get(k), fp["attributes"].get(k)]
                                     for k in sorted(set(was["attributes"]) | set(fp["attributes"]))
                                     if was["attributes"].get(k) != fp["attributes"].get(k)}
        if "expressions" in aspects:
            details["expressions"] = {k: [_short(was["expressions"].get(k)), _short(fp["expressions"].get(k))]
                                      for k in sorted(set(was["expressions"]) | set(fp["expressions"]))
                                      if was["expressions"].get(k) != fp["expressions"].get(k)}
        entry["details"] = details
        changes["changed"].append(entry)
    old_layout = _layout(old) if old is not None else ""
    new_layout = _layout(new) if new is not None else ""
    changes["layout_changed"] = changes["layout_changed"] or old_layout != new_layout


def _short(text: str | None, limit: int = 200) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit] + "…"


def compare_diagrams(old_xml: str | None, new_xml: str, old_dependencies: dict[str, str] | None = None,
                     new_dependencies: dict[str, str] | None = None, main_file: str = "diagram.bpmn") -> dict[str, Any]:
    """What changed between two versions of a diagram, by BPMN id, ignoring BPMN DI.

    Returns {"from_version": None, "added": [...], "removed": [...], "changed": [...],
    "layout_changed": bool}. Entries are {"id", "name", "type"} (plus "file" for a called
    process); a changed entry adds "aspects" (name, type, lane, attributes, extensions,
    expressions, content) and "details" (old and new name/type/lane, attributes, expressions).
    Incoming/outgoing references and lane membership lists are not compared as such: a
    new connection shows as an added or changed sequence flow, a move as a changed lane."""
    changes: dict[str, Any] = {"from_version": None, "added": [], "removed": [], "changed": [],
                               "layout_changed": False}
    old_docs = {main_file: old_xml} if old_xml is not None else {}
    old_docs.update(old_dependencies or {})
    new_docs = {main_file: new_xml, **(new_dependencies or {})}
    for name in list(new_docs) + [n for n in old_docs if n not in new_docs]:
        old = parse_xml(old_docs[name], name) if name in old_docs else None
        new = parse_xml(new_docs[name], name) if name in new_docs else None
        _compare_documents(old, new, None if name == main_file else name, changes)
    return changes


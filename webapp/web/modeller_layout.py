"""A layout (BPMN DI) for diagrams that have none, so the modeller can open them.

bpmn-js draws only what the diagram interchange (BPMN DI) places; a diagram written by
hand or by another tool may have no DI at all. `add_layout` gives such a diagram a
simple, readable one that passes the layout checks: pools stacked top to bottom, lanes
stacked inside them, the flow left to right by the longest path from the start, boundary
events on their task's lower border, orthogonal edges. Collapsed sub-processes get their
own plane. It never touches a diagram that has a layout: `needs_layout` says when to call it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree

from webapp.runtime.bpmn import ACTIVITIES, BPMN, BPMNDI, DC, DI, DI_NSMAP, FLOW_NODES, GATEWAYS
from webapp.runtime.diagrams import parse_xml

COLUMN = 170  # one rank of the flow
ROW = 130  # one node slot within a lane
LABEL = 30  # the name band of a pool and of a lane
MARGIN = 40


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class _Plane:
    """What one BPMNPlane gets: shapes (id -> box and extra attributes) and edges (id -> waypoints)."""

    element: str
    shapes: dict[str, tuple[Box, dict[str, str]]] = field(default_factory=dict)
    labels: dict[str, Box] = field(default_factory=dict)
    edges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _size(kind: str, boundaries: int = 0) -> tuple[float, float]:
    if kind in ACTIVITIES:
        return max(100, 38 * boundaries + 14), 80  # room for its boundary events side by side
    if kind in GATEWAYS:
        return 50, 50
    return 36, 36


def needs_layout(xml: str | bytes) -> bool:
    """True when no flow node of the diagram has a shape (no DI, or only an empty plane)."""
    root = parse_xml(xml, "diagram.bpmn")
    placed = {s.get("bpmnElement") for s in root.iter(f"{{{BPMNDI}}}BPMNShape")}
    nodes = [e.get("id") for e in root.iter() if _local(e) in FLOW_NODES]
    return bool(nodes) and not placed & set(nodes)


def add_layout(xml: str | bytes, participant_name: str = "") -> str:
    """The diagram with a generated BPMN DI (any existing, empty DI is replaced)."""
    root = parse_xml(xml, "diagram.bpmn")
    for old in root.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        root.remove(old)
    processes = {p.get("id"): p for p in root.findall(f"{{{BPMN}}}process")}
    collaboration = root.find(f"{{{BPMN}}}collaboration")
    if collaboration is None:
        collaboration = _add_collaboration(root, processes, participant_name)
    planes = [_Plane(collaboration.get("id"))]
    y = 80.0
    for participant in collaboration.findall(f"{{{BPMN}}}participant"):
        process = processes.get(participant.get("processRef") or "")
        if process is None:
            continue
        y = _layout_pool(participant, process, planes, y) + MARGIN
    _write(root, planes)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _add_collaboration(root: etree._Element, processes: dict[str, etree._Element], name: str) -> etree._Element:
    ids = {e.get("id") for e in root.iter() if e.get("id")}

    def fresh(base: str) -> str:
        candidate, n = base, 1
        while candidate in ids:
            n += 1
            candidate = f"{base}_{n}"
        ids.add(candidate)
        return candidate

    collaboration = etree.Element(f"{{{BPMN}}}collaboration", id=fresh("Collaboration_1"))
    for process_id, process in processes.items():
        if any(_local(c) in FLOW_NODES for c in process):
            etree.SubElement(collaboration, f"{{{BPMN}}}participant", id=fresh(f"Participant_{process_id}"),
                             name=process.get("name") or name or process_id, processRef=process_id)
    # Root elements in definitions may come in any order; first reads best.
    first = next((i for i, child in enumerate(root) if isinstance(child.tag, str)), 0)
    root.insert(first, collaboration)
    return collaboration


def _lanes(process: etree._Element) -> list[etree._Element]:
    lane_set = process.find(f"{{{BPMN}}}laneSet")
    return lane_set.findall(f"{{{BPMN}}}lane") if lane_set is not None else []


def _layout_pool(participant: etree._Element, process: etree._Element, planes: list[_Plane], top: float) -> float:
    lanes = _lanes(process)
    lane_of: dict[str, int] = {}
    for index, lane in enumerate(lanes):
        for ref in lane.iter(f"{{{BPMN}}}flowNodeRef"):
            lane_of.setdefault((ref.text or "").strip(), index)
    grid = _grid(process, planes)
    rows = max(len(lanes), 1)
    # How many node slots each lane needs: the fullest rank in it.
    slots = [1] * rows
    cells: dict[tuple[int, int], list[str]] = defaultdict(list)
    for node_id in grid.order:
        if node_id in grid.boundaries:
            continue
        row = lane_of.get(node_id, 0) if lanes else 0
        cells[(row, grid.rank[node_id])].append(node_id)
        slots[row] = max(slots[row], len(cells[(row, grid.rank[node_id])]))
    left = 160.0
    body_x = left + LABEL + (LABEL if lanes else 0)
    width = (LABEL if lanes else 0) + LABEL + MARGIN + (grid.max_rank + 1) * COLUMN + MARGIN
    lane_tops, y = [], top
    for row in range(rows):
        lane_tops.append(y)
        y += slots[row] * ROW + 20
    height = y - top
    plane = planes[0]
    plane.shapes[participant.get("id")] = (Box(left, top, width, height), {"isHorizontal": "true"})
    for index, lane in enumerate(lanes):
        lane_height = slots[index] * ROW + 20
        plane.shapes[lane.get("id")] = (Box(left + LABEL, lane_tops[index], width - LABEL, lane_height),
                                        {"isHorizontal": "true"})
    for (row, rank), members in cells.items():
        for slot, node_id in enumerate(members):
            w, h = grid.size(node_id)
            cx = body_x + MARGIN + rank * COLUMN + 50
            cy = lane_tops[row] + 10 + slot * ROW + ROW / 2 - 5
            grid.boxes[node_id] = Box(cx - w / 2, cy - h / 2, w, h)
    _place_boundaries(grid)
    _place(grid, plane)
    return top + height


@dataclass
class _Grid:
    kinds: dict[str, str]
    order: list[str]  # document order of the container's flow nodes
    rank: dict[str, int]
    boundaries: dict[str, str]  # boundary event -> host
    flows: list[tuple[str, str, str]]  # (id, source, target)
    expanded: dict[str, str]  # sub-process -> "false" when drawn collapsed
    boxes: dict[str, Box] = field(default_factory=dict)
    labels: dict[str, Box] = field(default_factory=dict)

    @property
    def max_rank(self) -> int:
        return max(self.rank.values(), default=0)

    def size(self, node_id: str) -> tuple[float, float]:
        return _size(self.kinds[node_id], sum(1 for host in self.boundaries.values() if host == node_id))


def _grid(container: etree._Element, planes: list[_Plane]) -> _Grid:
    """Ranks of the container's flow nodes: the longest path from a node without incoming
    flows, ignoring the flows that loop back. Sub-processes with content get their own plane."""
    kinds = {c.get("id"): _local(c) for c in container if _local(c) in FLOW_NODES and c.get("id")}
    order = list(kinds)
    boundaries = {c.get("id"): c.get("attachedToRef") for c in container
                  if _local(c) == "boundaryEvent" and c.get("attachedToRef") in kinds}
    flows = [(f.get("id"), f.get("sourceRef"), f.get("targetRef")) for f in container
             if _local(f) == "sequenceFlow" and f.get("sourceRef") in kinds and f.get("targetRef") in kinds]
    # A boundary event's flows leave from its host, one rank on.
    successors: dict[str, list[str]] = defaultdict(list)
    for _, source, target in flows:
        successors[boundaries.get(source, source)].append(boundaries.get(target, target))
    incoming = {boundaries.get(t, t) for _, _, t in flows}
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def visit(node: str) -> None:  # iterative DFS: diagrams can be long
        stack = [(node, iter(successors[node]))]
        state[node] = 1
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[current] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((current, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(successors[child])))

    hosts = [n for n in order if n not in boundaries]
    for node in [n for n in hosts if n not in incoming] + hosts:
        if node not in state:
            visit(node)
    rank = {n: 0 for n in hosts}
    changed, guard = True, 0
    while changed and guard <= len(hosts) + 1:
        changed, guard = False, guard + 1
        for source in hosts:
            for target in successors[source]:
                if (source, target) not in back and target != source and rank[target] < rank[source] + 1:
                    rank[target] = rank[source] + 1
                    changed = True
    for boundary, host in boundaries.items():
        rank[boundary] = rank[host]
    # The main path (reached without a boundary event) takes the top slots of its lane; what
    # only a deadline or a message reaches goes below it, where the boundary events hang.
    main: set[str] = set()
    todo = [n for n in hosts if n not in incoming]
    while todo:
        node = todo.pop()
        if node in main:
            continue
        main.add(node)
        todo += [t for _, s, t in flows if s == node and s not in boundaries]
    order = sorted(order, key=lambda n: (n not in main, order.index(n)))
    expanded: dict[str, str] = {}
    for child in container:
        if _local(child) in ("subProcess", "transaction", "adHocSubProcess") and any(
                _local(c) in FLOW_NODES for c in child):
            expanded[child.get("id")] = "false"
            sub = _Plane(child.get("id"))
            planes.append(sub)
            sub_grid = _grid(child, planes)
            _place_plain(sub_grid, sub)
    return _Grid(kinds, order, rank, boundaries, flows, expanded)


def _place_plain(grid: _Grid, plane: _Plane) -> None:
    """A container without lanes (a sub-process's own plane)."""
    cells: dict[int, list[str]] = defaultdict(list)
    for node_id in grid.order:
        if node_id not in grid.boundaries:
            cells[grid.rank[node_id]].append(node_id)
    for rank, members in cells.items():
        for slot, node_id in enumerate(members):
            w, h = grid.size(node_id)
            cx, cy = 200 + rank * COLUMN, 120 + slot * ROW
            grid.boxes[node_id] = Box(cx - w / 2, cy - h / 2, w, h)
    _place_boundaries(grid)
    _place(grid, plane)


def _place_boundaries(grid: _Grid) -> None:
    per_host: dict[str, int] = defaultdict(int)
    for boundary, host in grid.boundaries.items():
        box = grid.boxes.get(host)
        if box is None:
            continue
        k = per_host[host]
        per_host[host] += 1
        cx = box.x + 7 + 18 + k * 38
        grid.boxes[boundary] = Box(cx - 18, box.bottom - 18, 36, 36)
        # Neighbouring events' names would overlap side by side: each gets its own line.
        grid.labels[boundary] = Box(cx - 60, box.bottom + 20 + k * 15, 120, 14)


def _place(grid: _Grid, plane: _Plane) -> None:
    for node_id, box in grid.boxes.items():
        extra = {}
        if grid.kinds[node_id] == "exclusiveGateway":
            extra["isMarkerVisible"] = "true"
        if node_id in grid.expanded:
            extra["isExpanded"] = grid.expanded[node_id]
        plane.shapes[node_id] = (box, extra)
    plane.labels.update(grid.labels)
    for flow_id, source, target in grid.flows:
        a, b = grid.boxes.get(source), grid.boxes.get(target)
        if a is not None and b is not None:
            plane.edges[flow_id] = _route(a, b, source in grid.boundaries)


def _route(a: Box, b: Box, from_boundary: bool) -> list[tuple[float, float]]:
    """Orthogonal waypoints from a to b."""
    if from_boundary:
        if b.cx > a.cx:
            return [(a.cx, a.bottom), (a.cx, b.cy), (b.x, b.cy)] if b.cy > a.bottom else \
                [(a.cx, a.bottom), (a.cx, a.bottom + 20), (b.x - 20, a.bottom + 20), (b.x - 20, b.cy), (b.x, b.cy)]
        low = max(a.bottom, b.bottom) + 20
        return [(a.cx, a.bottom), (a.cx, low), (b.cx, low), (b.cx, b.bottom)]
    if b.x >= a.right:
        if abs(a.cy - b.cy) < 1:
            return [(a.right, a.cy), (b.x, b.cy)]
        mid = b.x - 30  # in the gap before the target's column, clear of the nodes in it
        return [(a.right, a.cy), (mid, a.cy), (mid, b.cy), (b.x, b.cy)]
    # Back (or upward in the same rank): around below both.
    low = max(a.bottom, b.bottom) + 25
    return [(a.cx, a.bottom), (a.cx, low), (b.cx, low), (b.cx, b.bottom)]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _write(root: etree._Element, planes: list[_Plane]) -> None:
    for index, plane in enumerate(planes, start=1):
        diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", nsmap=DI_NSMAP, id=f"BPMNDiagram_{index}")
        di_plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"BPMNPlane_{index}",
                                    bpmnElement=plane.element)
        for element_id, (box, extra) in plane.shapes.items():
            shape = etree.SubElement(di_plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element_id}_di",
                                     bpmnElement=element_id, **extra)
            etree.SubElement(shape, f"{{{DC}}}Bounds", x=_number(box.x), y=_number(box.y),
                             width=_number(box.w), height=_number(box.h))
            label = plane.labels.get(element_id)
            if label is not None:
                di_label = etree.SubElement(shape, f"{{{BPMNDI}}}BPMNLabel")
                etree.SubElement(di_label, f"{{{DC}}}Bounds", x=_number(label.x), y=_number(label.y),
                                 width=_number(label.w), height=_number(label.h))
        for element_id, points in plane.edges.items():
            edge = etree.SubElement(di_plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{element_id}_di", bpmnElement=element_id)
            for x, y in points:
                etree.SubElement(edge, f"{{{DI}}}waypoint", x=_number(x), y=_number(y))

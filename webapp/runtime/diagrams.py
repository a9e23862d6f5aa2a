"""Reading diagrams: safe XML, the OMG BPMN 2.0 schema, SpiffBpmnParser, and a cache
of parsed specs per diagram version (parsing costs milliseconds; a step must not)."""

from __future__ import annotations

import copy
import hashlib
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from .bpmn import BPMN
from .errors import DiagramError, DiagramProblem

MAX_DIAGRAM_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ParsedDiagram:
    process_id: str
    spec: Any  # BpmnProcessSpec
    subprocess_specs: dict[str, Any]
    documents: dict[str, etree._Element]  # filename -> parsed XML root

    @cached_property
    def has_triggered_subprocesses(self) -> bool:
        """Event subprocesses with a message (or signal) start: SpiffWorkflow wires them into
        the spec when they fire, so such a spec cannot be shared between complaints."""
        specs = [self.spec, *self.subprocess_specs.values()]
        return any(getattr(s.start, "trigger_specs", None) for s in specs)

    @cached_property
    def _pickled_specs(self) -> bytes | None:
        """The pristine specs, pickled once: unpickling makes the same private copy as a
        deepcopy in a fifth of the time (every step of such a complaint makes one). Only ever
        bytes this process made itself, never read from anywhere."""
        try:
            return pickle.dumps((self.spec, self.subprocess_specs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # something unpicklable in a spec
            return None

    def specs_for_instance(self) -> tuple[Any, dict[str, Any]]:
        """The spec a workflow may use: the shared one, or a private copy where firing an
        event subprocess would change it for every other complaint."""
        if self.has_triggered_subprocesses:
            pickled = self._pickled_specs
            if pickled is not None:
                return pickle.loads(pickled)  # noqa: S301 - our own bytes, see _pickled_specs
            return copy.deepcopy((self.spec, self.subprocess_specs))
        return self.spec, self.subprocess_specs

    def element_line(self, element_id: str) -> tuple[str | None, int | None]:
        for filename, root in self.documents.items():
            found = root.xpath("//*[@id=$id]", id=element_id)
            if found:
                return filename, found[0].sourceline
        return None, None


def _safe_parser() -> etree.XMLParser:
    # No DTD loading, no entity expansion, no network: an upload is untrusted.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False
    )


def parse_xml(xml: str | bytes, filename: str) -> etree._Element:
    """Well-formed, safe XML or a DiagramError naming file and line."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DiagramError([DiagramProblem(
            f"diagram is {len(data) // 1024} KB; the limit is {MAX_DIAGRAM_BYTES // 1024 // 1024} MB", file=filename)])
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise DiagramError([DiagramProblem(f"XML is not well-formed: {exc.msg}", file=filename,
                                           line=exc.lineno)]) from exc
    doctype = root.getroottree().docinfo
    if doctype.internalDTD is not None or doctype.externalDTD is not None or doctype.doctype:
        raise DiagramError([DiagramProblem(
            "a DOCTYPE is not allowed in a diagram (entities could read files or expand without bound)",
            file=filename, line=1)])
    return root


def parse_diagram(
    xml: str | bytes,
    filename: str,
    process_id: str,
    dependencies: dict[str, str] | None = None,
) -> ParsedDiagram:
    """Parse and validate a diagram and the called processes it needs.

    Raises DiagramError listing the problems with file, element id and line.
    """
    documents = {filename: parse_xml(xml, filename)}
    for dep_name, dep_xml in (dependencies or {}).items():
        documents[dep_name] = parse_xml(dep_xml, dep_name)

    dangling = [p for name, root in documents.items() for p in _dangling_references(root, name)]
    if dangling:
        raise DiagramError(dangling)

    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, root in documents.items():
        try:
            parser.add_bpmn_xml(root, filename=name)
        except ValidationException as exc:
            raise DiagramError([_problem_from(exc, documents, name)]) from exc

    if process_id not in parser.get_process_ids():
        raise DiagramError([DiagramProblem(
            f"the diagram has no process with id '{process_id}' (found: {', '.join(parser.get_process_ids()) or 'none'})",
            file=filename)])
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DiagramError([_problem_from(exc, documents, filename)]) from exc
    except SpiffWorkflowException as exc:
        raise DiagramError([DiagramProblem(str(exc), file=filename)]) from exc
    return ParsedDiagram(process_id, spec, subprocess_specs, documents)


_REFERENCES = (("sequenceFlow", "sourceRef"), ("sequenceFlow", "targetRef"), ("boundaryEvent", "attachedToRef"),
               ("messageEventDefinition", "messageRef"), ("exclusiveGateway", "default"),
               ("inclusiveGateway", "default"), ("participant", "processRef"))


def _dangling_references(root: etree._Element, filename: str) -> list[DiagramProblem]:
    """References to ids that do not exist: SpiffWorkflow reports these confusingly."""
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    problems = []
    for tag, attribute in _REFERENCES:
        for element in root.iter(f"{{{BPMN}}}{tag}"):
            target = element.get(attribute)
            if target and target not in ids:
                problems.append(DiagramProblem(f"{attribute} points to '{target}', which does not exist",
                                               file=filename, element_id=element.get("id"),
                                               element_name=element.get("name"), line=element.sourceline))
    return problems


def _problem_from(exc: ValidationException, documents: dict[str, etree._Element], default_file: str) -> DiagramProblem:
    file = exc.file_name or default_file
    line = exc.line_number or None
    element_id = exc.id or None
    if element_id and not line:
        # Semantic errors carry no line: find the element in the XML.
        for name, root in documents.items():
            found = root.xpath("//*[@id=$id]", id=element_id)
            if found:
                file, line = name, found[0].sourceline
                break
    elif line and not element_id and file in documents:
        # Schema errors carry only a line: name the BPMN element that stands there.
        here = next((e for e in documents[file].iter() if isinstance(e.tag, str) and e.sourceline == int(line)
                     and e.get("id") and etree.QName(e).namespace == BPMN), None)
        if here is not None:
            element_id, exc.name = here.get("id"), exc.name or here.get("name")
    message = str(exc.args[0]) if exc.args else str(exc)
    return DiagramProblem(message, file=file, element_id=element_id, element_name=exc.name or None,
                          line=int(line) if line else None)


def diagram_sha256(xml: str, dependencies: dict[str, str] | None = None) -> str:
    digest = hashlib.sha256(xml.encode("utf-8"))
    for name in sorted(dependencies or {}):
        digest.update(b"\0" + name.encode() + b"\0" + dependencies[name].encode("utf-8"))
    return digest.hexdigest()


class SpecCache:
    """Parsed diagrams by diagram version id. Specs are immutable once parsed, so one
    parsed copy serves every instance and thread."""

    def __init__(self, capacity: int = 64) -> None:
        self._items: OrderedDict[int, ParsedDiagram] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, version_id: int, loader) -> ParsedDiagram:
        with self._lock:
            if version_id in self._items:
                self._items.move_to_end(version_id)
                return self._items[version_id]
        parsed = loader()
        with self._lock:
            self._items[version_id] = parsed
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return parsed

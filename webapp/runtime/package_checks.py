"""Checks of a whole procedure package beyond its diagram: forms that are valid JSON Schema,
letters that are valid templates and name only data the procedure has, the link paragraph.

A letter's placeholder must be something the complaint's data can hold when the letter is
written: a field of one of the package's forms, a field of the intake, a variable a script,
a message or a service task of the diagram sets, or what the runtime adds (organisation,
reference, dates). A name outside all of these is almost always a typo that would print
nothing in a letter to a parent; the gate refuses it with the letter and the name.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable

from jinja2 import TemplateSyntaxError
from jsonschema import Draft202012Validator, SchemaError
from lxml import etree

from handlers.letters import PORTAL

from .bpmn import NS
from .errors import DiagramProblem
from .organisations import OrganisationConfig

# What every complaint's data holds from the intake and the runtime (webapp.intake, service.start),
# and what the runtime adds when it renders a letter (organisatie, referentie; link in _portal).
INTAKE_FIELDS = frozenset({
    "klager", "anoniem", "soort", "locatie", "datum_gebeurtenis", "datum_kennisname", "omschrijving", "kanaal",
    "toestemming", "namens", "referentie", "ontvangen_op", "ontvangen_op_datum", "organisatie", "link",
    # measures (webapp.runtime.measures: the letter after a measure was realised)
    "maatregel", "uitvoering", "termijn",
})
_ASSIGNED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)", re.MULTILINE)


def check_package(config: OrganisationConfig, diagrams: Iterable[str]) -> list[DiagramProblem]:
    """Problems of the package's forms and letters (the diagram has its own checks)."""
    problems = _form_problems(config)
    known = known_placeholders(config, diagrams)
    for name in config.letters.names() + ([PORTAL] if config.letters.exists(PORTAL) else []):
        file = f"letters/{name}.txt"
        try:
            used = config.letters.placeholders(name)
        except TemplateSyntaxError as exc:
            problems.append(DiagramProblem(f"brief '{name}': de tekst klopt niet op regel {exc.lineno}: {exc.message}",
                                           file=file, line=exc.lineno))
            continue
        first = config.letters.texts[name].split("\n", 1)[0].strip()
        if not first:
            problems.append(DiagramProblem(f"brief '{name}': de eerste regel (het onderwerp) is leeg", file=file, line=1))
        for missing in sorted(used - known):
            problems.append(DiagramProblem(
                f"brief '{name}' gebruikt het gegeven '{missing}', dat geen formulier, intake of stap van de "
                "procedure invult: controleer de schrijfwijze", file=file, line=_line_of(config.letters.texts[name],
                                                                                       missing)))
    return problems


def known_placeholders(config: OrganisationConfig, diagrams: Iterable[str]) -> set[str]:
    """Every name a letter of this package may read from a complaint's data."""
    return set(INTAKE_FIELDS | _form_fields(config) | _diagram_variables(diagrams))


def _line_of(text: str, name: str) -> int | None:
    for number, line in enumerate(text.split("\n"), start=1):
        if re.search(rf"\b{re.escape(name)}\b", line):
            return number
    return None


def _form_problems(config: OrganisationConfig) -> list[DiagramProblem]:
    problems = []
    for name in config.forms.names():
        text = config.forms.text(name) or ""
        file = f"forms/{name}"
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(DiagramProblem(f"formulier '{name}' is geen geldige JSON: {exc.msg}", file=file,
                                           line=exc.lineno))
            continue
        if not isinstance(schema, dict):
            problems.append(DiagramProblem(f"formulier '{name}' moet een JSON-object zijn", file=file))
        elif not name.endswith("-uischema.json"):
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                problems.append(DiagramProblem(f"formulier '{name}' is geen geldig JSON Schema: {exc.message}",
                                               file=file))
    return problems


def _form_fields(config: OrganisationConfig) -> set[str]:
    fields: set[str] = set()
    for name in config.forms.names():
        try:
            schema = json.loads(config.forms.text(name) or "{}")
        except json.JSONDecodeError:
            continue
        if isinstance(schema, dict):
            fields |= _properties(schema)
    return fields


def _properties(schema: dict) -> set[str]:
    """Top-level field names, also those under if/then/else, allOf and dependentSchemas."""
    names = set((schema.get("properties") or {}).keys())
    for key in ("then", "else", "if"):
        if isinstance(schema.get(key), dict):
            names |= _properties(schema[key])
    for part in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
        if isinstance(part, dict):
            names |= _properties(part)
    for part in (schema.get("dependentSchemas") or {}).values():
        if isinstance(part, dict):
            names |= _properties(part)
    return names


def _diagram_variables(diagrams: Iterable[str]) -> set[str]:
    """Names the diagram itself sets: script assignments, message variables, service-task results,
    data objects and inputs/outputs."""
    names: set[str] = set()
    for xml in diagrams:
        try:
            root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        for script in root.iterfind(".//bpmn:script", NS):
            names |= _assigned(script.text or "")
        for tag in ("preScript", "postScript"):
            for script in root.iterfind(f".//spiffworkflow:{tag}", NS):
                names |= _assigned(script.text or "")
        for element in root.iter():
            for attr in ("messageVariable", "resultVariable"):
                value = element.get(attr) or element.get(f"{{{NS['spiffworkflow']}}}{attr}")
                if value:
                    names.add(value)
            if etree.QName(element).localname in ("messageVariable", "resultVariable") and element.text:
                names.add(element.text.strip())
        for element in root.iterfind(".//bpmn:dataObject", NS):
            names.add(element.get("id") or "")
        for tag in ("dataInput", "dataOutput"):
            for element in root.iterfind(f".//bpmn:{tag}", NS):
                names |= {element.get("id") or "", element.get("name") or ""}
    return names - {""}


def _assigned(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(_ASSIGNED.findall(source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names

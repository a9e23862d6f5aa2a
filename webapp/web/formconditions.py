"""Fields shown only when another answer says so ("alleen tonen als <veld> = <waarde>").

A task form says it in its UI schema, on a top-level field:

    "toelichting": {"ui:toonAls": {"veld": "soort", "waarde": "anders"}}

(`"ui:options": {"toonAls": ...}` means the same, as for every ui:x.) The source is a choice
field (enum, or oneOf of const+title) or a yes/no field, and the value one of its answers.
A field that is required only when shown is not in `required`; the schema says it with

    "allOf": [{"if": {"properties": {"soort": {"const": "anders"}}, "required": ["soort"]},
               "then": {"required": ["toelichting"]}}]

so the ordinary JSON Schema validation asks for it exactly when it is shown. The field
builder of the form editor writes both; this module checks them (`problems`, for the form
checks), drops answers to fields that are not shown before validation (`drop_hidden`), and
gives the renderer a Dutch hint and the data attributes a script needs to hide the field
(`annotate`, `attributes`). Without JavaScript the field stays visible with its hint.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from webapp.web.formrender import Field, field_id

KEY = "ui:toonAls"


@dataclass(frozen=True)
class Condition:
    field: str  # the field shown only sometimes
    source: str  # the field whose answer decides
    value: Any  # the answer that shows it


def _node(ui_schema: Any, key: str) -> dict[str, Any]:
    node = ui_schema.get(key) if isinstance(ui_schema, dict) else None
    return node if isinstance(node, dict) else {}


def _raw(node: dict[str, Any]) -> tuple[bool, Any]:
    if KEY in node:
        return True, node[KEY]
    options = node.get("ui:options")
    if isinstance(options, dict) and "toonAls" in options:
        return True, options["toonAls"]
    return False, None


def _properties(schema: Any) -> dict[str, Any]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


def _well_formed(raw: Any) -> bool:
    return (isinstance(raw, dict) and set(raw) == {"veld", "waarde"} and isinstance(raw["veld"], str)
            and isinstance(raw["waarde"], str | bool))


def conditions(schema: dict[str, Any], ui_schema: dict[str, Any]) -> dict[str, Condition]:
    """The well-formed conditions of the form's top-level fields, by field name."""
    found = {}
    for name in _properties(schema):
        present, raw = _raw(_node(ui_schema, name))
        if present and _well_formed(raw):
            found[name] = Condition(name, raw["veld"], raw["waarde"])
    return found


def answers(prop: Any) -> list[tuple[Any, str]] | None:
    """The answers a condition can test on this field, with their labels; None if it is no
    choice or yes/no field."""
    if not isinstance(prop, dict):
        return None
    if prop.get("type") == "boolean":
        return [(True, "Ja"), (False, "Nee")]
    if isinstance(prop.get("enum"), list):
        return [(v, str(v)) for v in prop["enum"]]
    alternatives = prop.get("oneOf")
    if isinstance(alternatives, list) and alternatives and all(
            isinstance(a, dict) and "const" in a for a in alternatives):
        return [(a["const"], str(a.get("title", a["const"]))) for a in alternatives]
    return None


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b  # True is not 1, as in JSON


def _quote(value: Any) -> str:
    return ("ja" if value else "nee") if isinstance(value, bool) else f"'{value}'"


def _nested(schema: Any, ui_schema: Any, prefix: str) -> list[str]:
    """Conditions inside groups: not supported (the builder only writes top-level ones)."""
    found = []
    for name, prop in _properties(schema).items():
        node = _node(ui_schema, name)
        if prefix and _raw(node)[0]:
            found.append(f"{prefix}{name}")
        if isinstance(prop, dict):
            found += _nested(prop, node, f"{prefix}{name}.")
    return found


def problems(schema: dict[str, Any], ui_schema: dict[str, Any]) -> list[str]:
    """What is wrong with the form's conditions, in Dutch (empty when all is well)."""
    properties = _properties(schema)
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    found = [f"het veld '{name}' staat in een groep; 'alleen tonen als' kan alleen bij velden op het hoogste "
             f"niveau" for name in _nested(schema, ui_schema, "")]
    for name in properties:
        present, raw = _raw(_node(ui_schema, name))
        if present and not _well_formed(raw):
            found.append(f"bij het veld '{name}' moet {KEY} de vorm {{\"veld\": \"...\", \"waarde\": ...}} hebben")
    rules = conditions(schema, ui_schema)
    for name, rule in rules.items():
        options = answers(properties.get(rule.source))
        if rule.source == name:
            found.append(f"het veld '{name}' kan niet van zijn eigen antwoord afhangen")
        elif rule.source not in properties:
            found.append(f"het veld '{name}' hangt af van '{rule.source}', maar dat veld bestaat niet")
        elif options is None:
            found.append(f"het veld '{name}' hangt af van '{rule.source}', maar dat is geen keuzeveld of "
                         f"ja/nee-vraag")
        elif not any(_same(rule.value, value) for value, _ in options):
            found.append(f"het veld '{name}' hangt af van '{rule.source}' = {_quote(rule.value)}, maar dat is "
                         f"geen van de antwoorden van '{rule.source}'")
        if name in required:
            found.append(f"het veld '{name}' wordt alleen soms getoond maar staat in 'required'; maak het "
                         f"verplicht alleen als het getoond wordt (allOf met if/then, zoals de veldenbouwer doet)")
    found += [f"de voorwaarden van {', '.join(repr(n) for n in loop)} verwijzen in een kring naar elkaar"
              for loop in _loops(rules)]
    return found


def _loops(rules: dict[str, Condition]) -> list[list[str]]:
    loops: list[list[str]] = []
    seen: set[str] = set()
    for start in rules:
        path: list[str] = []
        name = start
        while name in rules and name not in path and name not in seen:
            path.append(name)
            name = rules[name].source
        if name in path and path.index(name) < len(path) - 1:  # a field on itself is named apart
            loops.append(path[path.index(name):])
        seen |= set(path)
    return loops


def shown(schema: dict[str, Any], ui_schema: dict[str, Any], data: dict[str, Any]) -> set[str]:
    """The top-level fields shown for these answers: those without a condition, and those whose
    source is shown and has the value (a field in a loop is never shown)."""
    rules = conditions(schema, ui_schema)
    result: dict[str, bool] = {}

    def visible(name: str, trail: frozenset[str]) -> bool:
        if name not in result:
            rule = rules.get(name)
            if rule is None:
                result[name] = True
            elif name in trail:
                return False
            else:
                result[name] = (visible(rule.source, trail | {name}) and rule.source in data
                                and _same(data[rule.source], rule.value))
        return result[name]

    return {name for name in _properties(schema) if visible(name, frozenset())}


def drop_hidden(schema: dict[str, Any], ui_schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A copy of the answers without those to fields that are not shown, to validate and store:
    an answer given while a field was shown does not stay behind when the source changes."""
    visible = shown(schema, ui_schema, data)
    hidden = set(conditions(schema, ui_schema)) - visible
    return {key: copy.deepcopy(value) for key, value in data.items() if key not in hidden}


def hint(schema: dict[str, Any], ui_schema: dict[str, Any], name: str) -> str | None:
    """The Dutch help line of a field shown only sometimes; None for other fields."""
    rule = conditions(schema, ui_schema).get(name)
    if rule is None:
        return None
    prop = _properties(schema).get(rule.source)
    title = prop.get("title") if isinstance(prop, dict) and prop.get("title") else rule.source
    label = next((label for value, label in answers(prop) or [] if _same(value, rule.value)), str(rule.value))
    return f"Alleen invullen als bij '{title}' is gekozen voor '{label}'."


def _html_value(value: Any) -> str:
    return ("ja" if value else "nee") if isinstance(value, bool) else str(value)


def attributes(schema: dict[str, Any], ui_schema: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per field shown only sometimes, the data attributes for its wrapper: the source's input
    name and id, and the posted value that shows it (as formrender writes it: "ja"/"nee")."""
    return {name: {"data-toon-als": rule.source, "data-toon-als-id": field_id(rule.source),
                   "data-toon-als-waarde": _html_value(rule.value)}
            for name, rule in conditions(schema, ui_schema).items()}


def annotate(fields: list[Field], schema: dict[str, Any], ui_schema: dict[str, Any]) -> list[Field]:
    """Add the hint to the help text of the top-level fields shown only sometimes."""
    for item in fields:
        line = hint(schema, ui_schema, item.name)
        if line and line not in item.help:
            item.help = f"{item.help} {line}".strip()
    return fields

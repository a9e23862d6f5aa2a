"""What a task form's JSON Schema and react-jsonschema-form UI schema say, field by field.

`root_specs` walks a schema into `Spec`s (one per property, nested for objects): the widget,
the choices, whether it is read-only and what this app cannot show. Rendering (formrender)
and parsing a post (formparse) both start from these; `unsupported` lists the problems for
the form checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

YES_NO: list[tuple[Any, str]] = [(True, "Ja"), (False, "Nee")]

# ui:widget values we honour; anything else falls back to the type's own widget.
KNOWN_UI_WIDGETS = {"text", "textarea", "email", "date", "radio", "select", "hidden", "checkboxes", "checkbox"}
SCALARS = {"string", "integer", "number", "boolean"}
# Keywords whose sub-schemas may declare properties; those must also be in `properties`
# or the field is never shown (validation alone, e.g. if/then required, is fine).
CONDITIONAL = ("allOf", "anyOf", "oneOf", "if", "then", "else", "dependentSchemas", "dependencies")
TRUE_WORDS = {"ja", "true", "on", "1"}
FALSE_WORDS = {"nee", "false", "off", "0"}


@dataclass
class Spec:
    """What the schema and UI schema say about one property; shared by rendering and parsing."""

    name: str
    schema: dict[str, Any]
    ui: dict[str, Any]
    required: bool
    kind: str  # the JSON type, "" when unknown
    widget: str
    options: list[tuple[Any, str]]  # (JSON value, label)
    readonly: bool
    problem: str | None = None  # makes the field unsupported
    notes: list[str] = field(default_factory=list)  # listed by unsupported(), rendered anyway
    children: list[Spec] = field(default_factory=list)


# ---------------------------------------------------------------- schema walking


def _ui_node(ui_schema: Any, key: str) -> dict[str, Any]:
    node = ui_schema.get(key) if isinstance(ui_schema, dict) else None
    if not isinstance(node, dict):
        return {}
    # RJSF lets every ui:x also be written as ui:options.x; the explicit ui:x wins.
    options = node.get("ui:options")
    merged = {f"ui:{k}": v for k, v in options.items()} if isinstance(options, dict) else {}
    return {**merged, **node}


def _ordered(names: list[str], order: Any) -> list[str]:
    if not isinstance(order, list):
        return names
    order = [o for o in order if isinstance(o, str)]
    listed = [o for o in order if o in names]
    rest = [n for n in names if n not in order]
    if "*" in order:
        star = order.index("*")
        result = [o for o in order[:star] if o in names] + rest + [o for o in order[star + 1:] if o in names]
    else:
        result = listed + rest  # RJSF refuses an incomplete order; appending is kinder
    return list(dict.fromkeys(result))


def _options(schema: dict[str, Any], ui: dict[str, Any]) -> tuple[list[tuple[Any, str]] | None, str | None]:
    """The choices of an enum or a oneOf/anyOf of const+title; (None, problem) for other oneOfs."""
    if isinstance(schema.get("enum"), list):
        values = schema["enum"]
        names = ui.get("ui:enumNames") or schema.get("enumNames")
        if isinstance(names, list) and len(names) == len(values):
            return [(v, str(n)) for v, n in zip(values, names, strict=True)], None
        return [(v, _default_label(v)) for v in values], None
    for key in ("oneOf", "anyOf"):
        alternatives = schema.get(key)
        if alternatives is None:
            continue
        if isinstance(alternatives, list) and alternatives and all(
                isinstance(a, dict) and "const" in a for a in alternatives):
            return [(a["const"], str(a.get("title", _default_label(a["const"])))) for a in alternatives], None
        return None, f"{key} with alternatives other than const+title is not supported"
    return None, None


def _default_label(value: Any) -> str:
    if isinstance(value, bool):
        return "Ja" if value else "Nee"
    return str(value)


def _kind(schema: dict[str, Any], options: list[tuple[Any, str]] | None) -> tuple[str, str | None]:
    kind = schema.get("type")
    if isinstance(kind, list):
        real = [k for k in kind if k != "null"]  # nullable: an omitted field says the same
        if len(real) != 1:
            return "", f"several types {kind} are not supported"
        kind = real[0]
    if isinstance(kind, str):
        return kind, None
    if kind is not None:
        return "", "an invalid type is not supported"
    if options:
        values = [v for v, _ in options]
        if all(isinstance(v, bool) for v in values):
            return "boolean", None
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "integer", None
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return "number", None
        return "string", None
    if "properties" in schema:
        return "object", None
    if "items" in schema:
        return "array", None
    return "", "a field without a type is not supported"


def _choice_widget(requested: Any, options: list[tuple[Any, str]]) -> str:
    if requested in ("radio", "select"):
        return requested
    return "select" if len(options) > 4 else "radio"


def _spec(name: str, schema: Any, ui: dict[str, Any], required: bool, readonly: bool) -> Spec:
    spec = Spec(name=name, schema=schema if isinstance(schema, dict) else {}, ui=ui, required=required,
                 kind="", widget="unsupported", options=[], readonly=readonly)
    if not isinstance(schema, dict):
        spec.problem = "the field's schema is not an object"
        return spec
    spec.readonly = readonly or bool(ui.get("ui:disabled") or ui.get("ui:readonly") or schema.get("readOnly"))
    requested = ui.get("ui:widget")
    if requested is not None and requested not in KNOWN_UI_WIDGETS:
        spec.notes.append(f"ui:widget {requested!r} is not supported; the default widget is used")
    if "ui:field" in ui:
        spec.notes.append("ui:field is not supported; the default widget is used")
    if "$ref" in schema:
        spec.problem = "$ref is not supported"
        return spec
    options, problem = _options(schema, ui)
    kind, kind_problem = _kind(schema, options)
    spec.kind = kind
    if problem or kind_problem:
        spec.problem = problem or kind_problem
        return spec
    if requested == "hidden":
        spec.widget, spec.options = "hidden", options or []
        return spec
    if kind == "boolean":
        spec.options = options or YES_NO
        spec.widget = "select" if requested == "select" else "yesno"
    elif options:
        spec.options = options
        spec.widget = _choice_widget(requested, options)
    elif kind == "string":
        fmt = schema.get("format")
        if requested in ("textarea", "email", "date", "text"):
            spec.widget = requested
        else:
            spec.widget = {"date": "date", "email": "email"}.get(fmt, "text")
    elif kind in ("integer", "number"):
        spec.widget = kind
    elif kind == "array":
        _array_spec(spec)
    elif kind == "object":
        _object_spec(spec, schema, ui)
    else:
        spec.problem = f"type {kind!r} is not supported"
    if spec.problem:
        spec.widget = "unsupported"
    return spec


def _array_spec(spec: Spec) -> None:
    items = spec.schema.get("items", {})
    if not isinstance(items, dict):
        spec.problem = "an array without a single items schema is not supported"
        return
    if "$ref" in items:
        spec.problem = "$ref in items is not supported"
        return
    options, problem = _options(items, _ui_node(spec.ui, "items"))
    if problem:
        spec.problem = f"items: {problem}"
    elif options:
        spec.widget, spec.options = "checkboxes", options
    elif items.get("type", "string") == "string" and not items.keys() & {"properties", "items"}:
        spec.widget = "lines"
    else:
        spec.problem = "only arrays of strings (free text or enum) are supported"


def _object_spec(spec: Spec, schema: dict[str, Any], ui: dict[str, Any]) -> None:
    if not isinstance(schema.get("properties"), dict):
        spec.problem = "an object without properties is not supported"
        return
    spec.widget = "group"
    spec.children, notes = _children(schema, ui, spec.name, spec.readonly)
    spec.notes += notes


def _children(schema: dict[str, Any], ui: Any, prefix: str, readonly: bool) -> tuple[list[Spec], list[str]]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return [], []
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    specs = [_spec(f"{prefix}.{key}" if prefix else key, properties[key], _ui_node(ui, key), key in required, readonly)
             for key in _ordered(list(properties), ui.get("ui:order") if isinstance(ui, dict) else None)]
    hidden_only = sorted(_conditional_properties(schema) - properties.keys())
    notes = [f"property {p!r} is only declared inside a conditional (allOf/if/then/...) and is never shown"
             for p in hidden_only]
    return specs, notes


def _conditional_properties(schema: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for key in CONDITIONAL:
        subs = schema.get(key)
        if isinstance(subs, dict) and key in ("dependentSchemas", "dependencies"):
            subs = [s for s in subs.values() if isinstance(s, dict)]
        for sub in subs if isinstance(subs, list) else [subs] if isinstance(subs, dict) else []:
            if isinstance(sub, dict):
                if isinstance(sub.get("properties"), dict):
                    found |= sub["properties"].keys()
                found |= _conditional_properties(sub)
    return found


def root_specs(schema: Any, ui_schema: Any) -> tuple[list[Spec], list[str]]:
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return [], ["(form): the form schema must be an object with properties"]
    ui = ui_schema if isinstance(ui_schema, dict) else {}
    readonly = bool(ui.get("ui:disabled") or ui.get("ui:readonly"))
    specs, notes = _children(schema, ui, "", readonly)
    return specs, [f"(form): {n}" for n in notes]


def walk(specs: list[Spec]) -> Iterator[Spec]:
    for spec in specs:
        yield spec
        yield from walk(spec.children)


def unsupported(schema: dict[str, Any], ui_schema: dict[str, Any] | None = None) -> list[str]:
    """What this renderer cannot show properly, as "path: reason" lines (empty when all is well)."""
    specs, problems = root_specs(schema, ui_schema or {})
    for spec in walk(specs):
        if spec.problem:
            problems.append(f"{spec.name}: {spec.problem}")
        problems += [f"{spec.name}: {note}" for note in spec.notes]
    return problems


# ---------------------------------------------------------------- values shared by rendering and parsing


def lookup(values: Mapping[str, Any] | None, name: str) -> tuple[bool, Any]:
    """A flat dotted key (typed input) first, then the nested path (current data)."""
    if not isinstance(values, Mapping):
        return False, None
    if name in values:
        return True, values[name]
    node: Any = values
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def html_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def bool_text(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    return value


__all__ = ["SCALARS", "Spec", "bool_text", "html_value", "lookup", "root_specs", "unsupported", "walk"]

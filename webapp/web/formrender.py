"""Server-side rendering of task forms (JSON Schema + react-jsonschema-form UI schema).

`build_fields` turns a schema into a flat, ordered view model for the `_form.html` macros;
`parse_submission` turns the posted strings back into typed JSON for `FormCatalog.validate`;
`raw_values` keeps what the user typed so it can be shown again beside the errors;
`unsupported` lists the schema constructs this renderer cannot show (for the form checks).

Typical use in a view:

    fields = build_fields(schema, ui, {**task_data, **raw_values(request.form)}, errors)

Flat dotted keys (from `raw_values`) win over nested current values, so one merged dict
gives "what was typed, else the current value, else the schema default".
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from webapp.runtime import clock
from webapp.runtime.errors import FieldError

UNSUPPORTED_TEXT = "Dit veld wordt niet ondersteund in dit formulier. Neem contact op met de beheerder."
LINES_TEXT = "Zet elke waarde op een eigen regel."
YES_NO: list[tuple[Any, str]] = [(True, "Ja"), (False, "Nee")]

# ui:widget values we honour; anything else falls back to the type's own widget.
KNOWN_UI_WIDGETS = {"text", "textarea", "email", "date", "radio", "select", "hidden", "checkboxes", "checkbox"}
SCALARS = {"string", "integer", "number", "boolean"}
# Keywords whose sub-schemas may declare properties; those must also be in `properties`
# or the field is never shown (validation alone, e.g. if/then required, is fine).
CONDITIONAL = ("allOf", "anyOf", "oneOf", "if", "then", "else", "dependentSchemas", "dependencies")


@dataclass
class Field:
    name: str  # the HTML input name; dotted for nested objects ("contact.datum")
    label: str
    widget: str  # text textarea email date number integer select radio yesno checkboxes lines group hidden unsupported
    help: str = ""
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)  # (HTML value, label)
    value: Any = ""  # str, or list[str] for checkboxes; None for groups
    error: str | None = None
    placeholder: str | None = None
    max_length: int | None = None
    min: int | float | None = None
    max: int | float | None = None
    disabled: bool = False
    rows: int | None = None
    latest: str | None = None  # a date that records the past: today at the latest (ISO)
    children: list[Field] = field(default_factory=list)

    @property
    def id(self) -> str:
        return field_id(self.name)

    @property
    def hint_id(self) -> str:
        return self.id + "-hulp"

    @property
    def error_id(self) -> str:
        return self.id + "-fout"

    @property
    def described_by(self) -> str:
        return " ".join(i for i, on in ((self.hint_id, self.help), (self.error_id, self.error)) if on)

    @property
    def input_type(self) -> str:
        # Browsers silently blank a number/date input whose value they cannot parse, which
        # would hide what the user typed beside the error; show such a value as plain text.
        if self.widget in ("number", "integer"):
            return "number" if not self.value or _NUMBER_VALUE.fullmatch(str(self.value)) else "text"
        if self.widget == "date":
            return "date" if not self.value or _ISO_DATE.fullmatch(str(self.value)) else "text"
        return {"email": "email", "hidden": "hidden"}.get(self.widget, "text")


def field_id(name: str) -> str:
    return "veld-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


_NUMBER_VALUE = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")
_TRUE = {"ja", "true", "on", "1"}
_FALSE = {"nee", "false", "off", "0"}


@dataclass
class _Spec:
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
    children: list[_Spec] = field(default_factory=list)


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


def _spec(name: str, schema: Any, ui: dict[str, Any], required: bool, readonly: bool) -> _Spec:
    spec = _Spec(name=name, schema=schema if isinstance(schema, dict) else {}, ui=ui, required=required,
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


def _array_spec(spec: _Spec) -> None:
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


def _object_spec(spec: _Spec, schema: dict[str, Any], ui: dict[str, Any]) -> None:
    if not isinstance(schema.get("properties"), dict):
        spec.problem = "an object without properties is not supported"
        return
    spec.widget = "group"
    spec.children, notes = _children(schema, ui, spec.name, spec.readonly)
    spec.notes += notes


def _children(schema: dict[str, Any], ui: Any, prefix: str, readonly: bool) -> tuple[list[_Spec], list[str]]:
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


def _root_specs(schema: Any, ui_schema: Any) -> tuple[list[_Spec], list[str]]:
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return [], ["(form): the form schema must be an object with properties"]
    ui = ui_schema if isinstance(ui_schema, dict) else {}
    readonly = bool(ui.get("ui:disabled") or ui.get("ui:readonly"))
    specs, notes = _children(schema, ui, "", readonly)
    return specs, [f"(form): {n}" for n in notes]


def _walk(specs: list[_Spec]):
    for spec in specs:
        yield spec
        yield from _walk(spec.children)


def unsupported(schema: dict[str, Any], ui_schema: dict[str, Any] | None = None) -> list[str]:
    """What this renderer cannot show properly, as "path: reason" lines (empty when all is well)."""
    specs, problems = _root_specs(schema, ui_schema or {})
    for spec in _walk(specs):
        if spec.problem:
            problems.append(f"{spec.name}: {spec.problem}")
        problems += [f"{spec.name}: {note}" for note in spec.notes]
    return problems


# ---------------------------------------------------------------- rendering


def _lookup(values: Mapping[str, Any] | None, name: str) -> tuple[bool, Any]:
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


def _html(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _display(spec: _Spec, value: Any) -> Any:
    if spec.widget == "checkboxes":
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [_html(v) for v in items if v not in ("", None)]
    if spec.widget == "lines" and isinstance(value, list):
        return "\n".join(_html(v) for v in value)
    if spec.widget == "unsupported":
        return value if isinstance(value, str) else _html(value)
    if isinstance(value, list):  # a repeated name in the post: show the first answer
        value = next((v for v in value if v != ""), "")
    if spec.kind == "boolean":
        value = _bool_text(value)
    return _html(value)


def _bool_text(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return value


def _messages(errors: list[FieldError] | None, names: set[str]) -> dict[str, str]:
    """Each error on its field, or on the nearest enclosing field ("keuzes.1" -> "keuzes")."""
    found: dict[str, list[str]] = {}
    for error in errors or []:
        path = error.path
        while path and path not in names:
            path = path.rpartition(".")[0]
        if path:
            messages = found.setdefault(path, [])
            if error.message not in messages:
                messages.append(error.message)
    return {name: " ".join(messages) for name, messages in found.items()}


def _help(spec: _Spec) -> str:
    parts = [spec.ui.get("ui:description", spec.schema.get("description")), spec.ui.get("ui:help")]
    if spec.widget == "unsupported":
        parts.append(UNSUPPORTED_TEXT)
    if spec.widget == "lines":
        parts.append(LINES_TEXT)
    return " ".join(str(p).strip() for p in parts if p)


def humanise(name: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ").split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:]


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _field(spec: _Spec, values: Mapping[str, Any] | None, messages: dict[str, str]) -> Field:
    schema, ui = spec.schema, spec.ui
    key = spec.name.rpartition(".")[2]
    result = Field(
        name=spec.name, widget=spec.widget, required=spec.required, disabled=spec.readonly,
        label=str(ui.get("ui:title") or schema.get("title") or humanise(key)),
        help=_help(spec), error=messages.get(spec.name),
        choices=[(_html(v), label) for v, label in spec.options],
        placeholder=str(ui["ui:placeholder"]) if ui.get("ui:placeholder") else None,
        max_length=schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else None,
        rows=ui.get("ui:rows") if isinstance(ui.get("ui:rows"), int) else None,
    )
    if spec.widget == "group":
        result.value = None
        result.children = [_field(child, values, messages) for child in spec.children]
        return result
    if spec.kind in ("integer", "number"):
        result.min, result.max = _number(schema.get("minimum")), _number(schema.get("maximum"))
        if spec.kind == "integer":  # an integer's exclusive bound is the next whole number
            if (low := _number(schema.get("exclusiveMinimum"))) is not None:
                result.min = math.floor(low) + 1
            if (high := _number(schema.get("exclusiveMaximum"))) is not None:
                result.max = math.ceil(high) - 1
    found, value = _lookup(values, spec.name)
    # A required yes/no question must be answered on purpose, so its default is not preselected.
    if not found and "default" in schema and not (spec.kind == "boolean" and spec.required):
        value = schema["default"]
    result.value = _display(spec, value)
    if records_the_past(spec):
        result.latest = clock.to_local(clock.now()).date().isoformat()
    return result


def records_the_past(spec: _Spec) -> bool:
    """A date field marked `"ui:options": {"verleden": true}` (or `ui:verleden`) records something that
    happened (a contact, a conversation): it cannot lie in the future."""
    return bool(spec.ui.get("ui:verleden")) and (spec.widget == "date" or spec.schema.get("format") == "date")


def past_date_errors(schema: dict[str, Any], ui_schema: dict[str, Any], submitted: Mapping[str, Any],
                     today: date) -> list[FieldError]:
    """The server's check of the past-date rule, with a Dutch message beside the field."""
    specs, _ = _root_specs(schema, ui_schema)
    errors = []
    for spec in _walk(specs):
        if not records_the_past(spec):
            continue
        found, value = _lookup(submitted, spec.name)
        try:
            day = date.fromisoformat(str(value)) if found and value else None
        except ValueError:
            continue  # not a date: the schema's own format check says so
        if day is not None and day > today:
            errors.append(FieldError(spec.name, f"Deze datum ligt in de toekomst. Vul de datum in waarop het "
                                                f"gebeurde: vandaag ({today.strftime('%d-%m-%Y')}) of eerder.",
                                     "verleden"))
    return errors


def build_fields(schema: dict[str, Any], ui_schema: dict[str, Any], values: dict[str, Any] | None = None,
                 errors: list[FieldError] | None = None) -> list[Field]:
    """The form as an ordered list of Fields (groups hold their children)."""
    specs, _ = _root_specs(schema, ui_schema)
    # Hidden arrays/objects have no input; parse_submission keeps their current value.
    specs = _visible(specs)
    messages = _messages(errors, {s.name for s in _walk(specs)})
    return [_field(spec, values, messages) for spec in specs]


def _visible(specs: list[_Spec]) -> list[_Spec]:
    kept = []
    for spec in specs:
        if spec.widget == "hidden" and spec.kind not in SCALARS:
            continue
        spec.children = _visible(spec.children)
        kept.append(spec)
    return kept


# ---------------------------------------------------------------- parsing


def _getlist(form: Mapping[str, Any], name: str) -> list[str]:
    try:
        items = form.getlist(name) if hasattr(form, "getlist") else form.get(name)
    except (TypeError, KeyError, AttributeError):
        return []
    if items is None:
        return []
    if not isinstance(items, list | tuple):
        items = [items]
    return [item for item in items if isinstance(item, str)]


def _convert(spec: _Spec, text: str) -> Any:
    """Typed JSON for one posted string; what does not convert stays a string so that the
    schema validation reports it in Dutch."""
    if spec.kind == "boolean":
        return _bool_text(text)
    compact = text.replace(" ", "")
    if spec.kind == "integer" and _INTEGER.fullmatch(compact):
        return int(compact)
    if spec.kind == "number" and _DECIMAL.fullmatch(compact):
        number = float(compact.replace(",", "."))
        return int(number) if number.is_integer() and not re.search(r"[.,]", compact) else number
    if spec.widget == "date" or spec.schema.get("format") == "date":
        match = _DUTCH_DATE.fullmatch(text)  # dd-mm-jjjj, where a browser has no date picker
        if match:
            try:
                return date(int(match[3]), int(match[2]), int(match[1])).isoformat()
            except ValueError:
                return text
    return text


def _from_choice(spec: _Spec, text: str) -> Any:
    for value, _ in spec.options:
        if _html(value) == text:
            return value
    return _convert(spec, text)


def _kept(spec: _Spec, current: Mapping[str, Any] | None) -> tuple[bool, Any]:
    found, value = _lookup(current, spec.name)
    if found:
        return True, copy.deepcopy(value)
    if "default" in spec.schema:
        return True, copy.deepcopy(spec.schema["default"])
    return False, None


def _parsed(spec: _Spec, form: Mapping[str, Any], current: Mapping[str, Any] | None) -> tuple[bool, Any]:
    # Read-only, unsupported and hidden non-scalar fields are never taken from the post, so
    # a crafted request cannot change them; they keep the current value.
    if spec.readonly or spec.widget == "unsupported" or (spec.widget == "hidden" and spec.kind not in SCALARS):
        return _kept(spec, current)
    if spec.widget == "group":
        sub = _parse(spec.children, form, current)
        return bool(sub), sub
    posted = _getlist(form, spec.name)
    if spec.widget == "checkboxes":
        # The template posts an empty marker first, so "nothing ticked" is still a post.
        chosen: list[Any] = []
        for item in posted:
            value = _from_choice(spec, item.strip())
            if item.strip() and value not in chosen:
                chosen.append(value)
        return bool(chosen), chosen
    text = posted[0] if posted else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # browsers post CRLF; maxLength counts it
    if spec.widget == "lines":
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        return bool(lines), lines
    text = text.strip()
    if not text:
        return False, None  # omitted, so that `required` reports a missing answer
    return True, _from_choice(spec, text) if spec.options else _convert(spec, text)


def _parse(specs: list[_Spec], form: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in specs:
        found, value = _parsed(spec, form, current)
        if found:
            data[spec.name.rpartition(".")[2]] = value
    return data


def parse_submission(schema: dict[str, Any], ui_schema: dict[str, Any], form: Mapping[str, Any],
                     current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Typed JSON from posted form data (a MultiDict or a dict of str / list[str]).

    Never raises on bad input: what does not convert is left for the schema validation.
    Posted names the schema does not know (e.g. csrf_token) are ignored. Read-only fields
    take their value from `current` (else their default), never from the post.
    """
    specs, _ = _root_specs(schema, ui_schema)
    if not isinstance(form, Mapping) and not hasattr(form, "getlist"):
        form = {}
    return _parse(specs, form, current)


def raw_values(form: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """What the user typed, by input name (a list for a repeated name), to show again."""
    result: dict[str, str | list[str]] = {}
    try:
        keys = list(form.keys())
    except (AttributeError, TypeError):
        return result
    for key in keys:
        if isinstance(key, str):
            items = _getlist(form, key)
            result[key] = items[0] if len(items) == 1 else items
    return result

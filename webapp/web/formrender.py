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

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from webapp.runtime import clock
from webapp.runtime.errors import FieldError

from .formparse import parse_submission, raw_values
from .formschema import SCALARS, Spec, bool_text, html_value, lookup, root_specs, unsupported, walk

UNSUPPORTED_TEXT = "Dit veld wordt niet ondersteund in dit formulier. Neem contact op met de beheerder."
LINES_TEXT = "Zet elke waarde op een eigen regel."


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


# ---------------------------------------------------------------- rendering


def _display(spec: Spec, value: Any) -> Any:
    if spec.widget == "checkboxes":
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [html_value(v) for v in items if v not in ("", None)]
    if spec.widget == "lines" and isinstance(value, list):
        return "\n".join(html_value(v) for v in value)
    if spec.widget == "unsupported":
        return value if isinstance(value, str) else html_value(value)
    if isinstance(value, list):  # a repeated name in the post: show the first answer
        value = next((v for v in value if v != ""), "")
    if spec.kind == "boolean":
        value = bool_text(value)
    return html_value(value)


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


def _help(spec: Spec) -> str:
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


def _field(spec: Spec, values: Mapping[str, Any] | None, messages: dict[str, str]) -> Field:
    schema, ui = spec.schema, spec.ui
    key = spec.name.rpartition(".")[2]
    result = Field(
        name=spec.name, widget=spec.widget, required=spec.required, disabled=spec.readonly,
        label=str(ui.get("ui:title") or schema.get("title") or humanise(key)),
        help=_help(spec), error=messages.get(spec.name),
        choices=[(html_value(v), label) for v, label in spec.options],
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
    found, value = lookup(values, spec.name)
    # A required yes/no question must be answered on purpose, so its default is not preselected.
    if not found and "default" in schema and not (spec.kind == "boolean" and spec.required):
        value = schema["default"]
    result.value = _display(spec, value)
    if records_the_past(spec):
        result.latest = clock.to_local(clock.now()).date().isoformat()
    return result


def records_the_past(spec: Spec) -> bool:
    """A date field marked `"ui:options": {"verleden": true}` (or `ui:verleden`) records something that
    happened (a contact, a conversation): it cannot lie in the future."""
    return bool(spec.ui.get("ui:verleden")) and (spec.widget == "date" or spec.schema.get("format") == "date")


def past_date_errors(schema: dict[str, Any], ui_schema: dict[str, Any], submitted: Mapping[str, Any],
                     today: date) -> list[FieldError]:
    """The server's check of the past-date rule, with a Dutch message beside the field."""
    specs, _ = root_specs(schema, ui_schema)
    errors = []
    for spec in walk(specs):
        if not records_the_past(spec):
            continue
        found, value = lookup(submitted, spec.name)
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
    specs, _ = root_specs(schema, ui_schema)
    # Hidden arrays/objects have no input; parse_submission keeps their current value.
    specs = _visible(specs)
    messages = _messages(errors, {s.name for s in walk(specs)})
    return [_field(spec, values, messages) for spec in specs]


def _visible(specs: list[Spec]) -> list[Spec]:
    kept = []
    for spec in specs:
        if spec.widget == "hidden" and spec.kind not in SCALARS:
            continue
        spec.children = _visible(spec.children)
        kept.append(spec)
    return kept


__all__ = ["Field", "build_fields", "field_id", "humanise", "parse_submission", "past_date_errors", "raw_values",
           "records_the_past", "unsupported"]

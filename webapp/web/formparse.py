"""Parsing a posted task form back into typed JSON for `FormCatalog.validate`, and keeping
what the user typed (`raw_values`) to show it again beside the errors."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from .formschema import SCALARS, Spec, bool_text, html_value, lookup, root_specs, walk

_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


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


def _convert(spec: Spec, text: str) -> Any:
    """Typed JSON for one posted string; what does not convert stays a string so that the
    schema validation reports it in Dutch."""
    if spec.kind == "boolean":
        return bool_text(text)
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


def _from_choice(spec: Spec, text: str) -> Any:
    for value, _ in spec.options:
        if html_value(value) == text:
            return value
    return _convert(spec, text)


def _keeps_current(spec: Spec) -> bool:
    return spec.readonly or spec.widget == "unsupported" or (spec.widget == "hidden" and spec.kind not in SCALARS)


def reads_current(schema: dict[str, Any], ui_schema: dict[str, Any]) -> bool:
    """Whether parsing a post of this form needs the current data: it has fields that keep
    their current value (read-only, unsupported, hidden lists and groups)."""
    specs, _ = root_specs(schema, ui_schema)
    return any(_keeps_current(spec) for spec in walk(specs))


def _kept(spec: Spec, current: Mapping[str, Any] | None) -> tuple[bool, Any]:
    found, value = lookup(current, spec.name)
    if found:
        return True, copy.deepcopy(value)
    if "default" in spec.schema:
        return True, copy.deepcopy(spec.schema["default"])
    return False, None


def _parsed(spec: Spec, form: Mapping[str, Any], current: Mapping[str, Any] | None) -> tuple[bool, Any]:
    # Read-only, unsupported and hidden non-scalar fields are never taken from the post, so
    # a crafted request cannot change them; they keep the current value.
    if _keeps_current(spec):
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


def _parse(specs: list[Spec], form: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
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
    specs, _ = root_specs(schema, ui_schema)
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

__all__ = ["parse_submission", "raw_values", "reads_current"]

"""What changed in a procedure package besides the diagram: the organisation's settings
(`organisation.yaml`), forms (`forms/<name>.json`), letters (`letters/<name>.txt`) and
scenarios (`scenarios/<name>.yaml`), given as {relative path: text} of two versions.

Text files get a unified diff. A form gets a summary per field, as a process owner thinks
of it: fields added or removed, a changed label, required or not, the choices offered, and
the rest (type, help text, limits, how it is shown). A form is JSON Schema, a UI schema
(`*-uischema.json`, whose labels come from the schema beside it) or both in one file
({"schema": ..., "uischema": ...}). A form that is not valid JSON gets a text diff.
Pure: no database, no Flask."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["FieldChange", "FileChange", "package_changes"]

Status = Literal["added", "removed", "changed"]
MAX_DIFF_LINES = 400  # a whole new letter is shown; a pasted novel is cut
KIND_ORDER = ("settings", "form", "letter", "scenario", "other")


@dataclass(frozen=True)
class FieldChange:
    name: str  # the field's key, dotted when nested: "klager.naam"
    label: str  # its label (the new one; the old one when removed), else the key
    status: Status
    # What changed: label, required, options, type, help, limits, display, order.
    aspects: tuple[str, ...] = ()
    # aspect -> (old, new) as short text; options -> (removed choices, added choices).
    details: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class FileChange:
    path: str
    kind: str  # settings, form, letter, scenario, other
    status: Status
    diff: str = ""  # unified diff, for text files and forms that are not JSON
    fields: tuple[FieldChange, ...] = ()
    # The form's own title and description: aspect -> (old, new).
    form: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    truncated: bool = False


def package_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[FileChange]:
    """Every file added, removed or changed from `old` to `new`: settings first, then forms,
    letters, scenarios and anything else, each by path. Unchanged files are left out."""
    changes = []
    for path in set(old) | set(new):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status: Status = "added" if before is None else "removed" if after is None else "changed"
        kind = _kind(path)
        if kind == "form":
            change = _form_change(path, status, before, after, old, new)
            if change is not None:
                changes.append(change)
                continue
        diff, truncated = _text_diff(path, before or "", after or "")
        changes.append(FileChange(path, kind, status, diff=diff, truncated=truncated))
    return sorted(changes, key=lambda c: (KIND_ORDER.index(c.kind), c.path))


def _kind(path: str) -> str:
    if path == "organisation.yaml":
        return "settings"
    folder = path.split("/", 1)[0] if "/" in path else ""
    return {"forms": "form", "letters": "letter", "scenarios": "scenario"}.get(folder, "other")


def _text_diff(path: str, before: str, after: str) -> tuple[str, bool]:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), fromfile=f"oud/{path}",
                                      tofile=f"nieuw/{path}", lineterm="", n=2))
    return "\n".join(lines[:MAX_DIFF_LINES]), len(lines) > MAX_DIFF_LINES


# -- forms ------------------------------------------------------------------------------------


def _load(text: str | None) -> Any:
    if text is None:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return None


def _parts(data: Any, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(JSON Schema, UI schema) of one form file."""
    if not isinstance(data, dict):
        return {}, {}
    if isinstance(data.get("schema"), dict):
        ui = data.get("uischema") or data.get("uiSchema") or {}
        return data["schema"], ui if isinstance(ui, dict) else {}
    if path.endswith("-uischema.json") or not ("properties" in data or data.get("type") == "object"):
        return {}, data
    return data, {}


def _sibling_schema(path: str, files: Mapping[str, str]) -> dict[str, Any]:
    """The schema beside a UI schema (x-uischema.json -> x-schema.json), for the labels."""
    if not path.endswith("-uischema.json"):
        return {}
    schema, _ = _parts(_load(files.get(path[: -len("-uischema.json")] + "-schema.json")) or {}, "schema.json")
    return schema


def _form_change(path: str, status: Status, before: str | None, after: str | None,
                 old_files: Mapping[str, str], new_files: Mapping[str, str]) -> FileChange | None:
    old_data, new_data = _load(before), _load(after)
    if old_data is None or new_data is None:
        return None  # not JSON: the text diff says what changed
    old_schema, old_ui = _parts(old_data, path)
    new_schema, new_ui = _parts(new_data, path)
    if old_schema or new_schema:
        old_fields, new_fields = _fields(old_schema, old_ui), _fields(new_schema, new_ui)
    else:  # a UI schema alone: how its fields are shown, labelled from the schema beside it
        labels = {**_fields(_sibling_schema(path, old_files), {}), **_fields(_sibling_schema(path, new_files), {})}
        old_fields, new_fields = _ui_fields(old_ui, labels), _ui_fields(new_ui, labels)
        for one, other in ((old_fields, new_fields), (new_fields, old_fields)):  # a widget set, not a field
            for key in other.keys() - one.keys():
                one[key] = {**other[key], "help": "", "display": ""}
    fields = []
    for name in [n for n in new_fields if n not in old_fields]:
        fields.append(FieldChange(name, new_fields[name]["label"], "added"))
    for name in [n for n in old_fields if n not in new_fields]:
        fields.append(FieldChange(name, old_fields[name]["label"], "removed"))
    for name, now in new_fields.items():
        was = old_fields.get(name)
        if was is not None and _field_details(was, now):
            details = _field_details(was, now)
            fields.append(FieldChange(name, now["label"], "changed", tuple(details), details))
    form = {k: (_text(old_schema.get(k)), _text(new_schema.get(k))) for k in ("title", "description")
            if old_schema.get(k) != new_schema.get(k)}
    if old_ui.get("ui:order") != new_ui.get("ui:order") and status == "changed":
        form["order"] = (", ".join(map(str, old_ui.get("ui:order") or [])),
                         ", ".join(map(str, new_ui.get("ui:order") or [])))
    return FileChange(path, "form", status, fields=tuple(fields), form=form)


ASPECTS = ("label", "required", "options", "type", "help", "limits", "display")
LIMITS = ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "pattern")


def _ui_fields(ui: dict[str, Any], labels: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {}
    for key, spec in ui.items():
        if key.startswith("ui:") or not isinstance(spec, dict):
            continue
        found[key] = {"label": labels.get(key, {}).get("label") or key, "help": _text(spec.get("ui:help")),
                      "display": _display(spec)}
    return found


def _display(field_ui: dict[str, Any]) -> str:
    options = f" {json.dumps(field_ui['ui:options'], sort_keys=True)}" if "ui:options" in field_ui else ""
    return (_text(field_ui.get("ui:widget")) + options).strip()


def _fields(schema: dict[str, Any], ui: dict[str, Any], prefix: str = "",
            branch: bool = False) -> dict[str, dict[str, Any]]:
    """Field key -> what a person sees of it. Fields shown only under a condition (in if/then,
    allOf, oneOf, dependencies) count as fields of the form; required there is 'onder voorwaarde'."""
    found: dict[str, dict[str, Any]] = {}
    required = set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
    conditional = _conditionally_required(schema)
    for part in _branches(schema):
        for name, value in _fields(part, ui, prefix, branch=True).items():
            required_here = name[len(prefix):] in required and not branch
            found.setdefault(name, {**value, "required": "ja"} if required_here else value)
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for key, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        name = f"{prefix}{key}"
        field_ui = ui.get(key) if isinstance(ui.get(key), dict) else {}
        if spec.get("type") == "object" and isinstance(spec.get("properties"), dict):
            found.update(_fields(spec, field_ui, f"{name}."))
            continue
        items = spec.get("items") if isinstance(spec.get("items"), dict) else {}
        found[name] = {
            "label": _text(spec.get("title")) or name,
            "required": ("onder voorwaarde" if branch else "ja") if key in required
            else "onder voorwaarde" if key in conditional else "nee",
            "options": _options(spec) or _options(items),
            "type": " ".join(x for x in (_text(spec.get("type")), _text(spec.get("format"))) if x),
            "help": _text(spec.get("description")) or _text(field_ui.get("ui:help")),
            "limits": ", ".join(f"{k} {spec[k]}" for k in LIMITS if k in spec),
            "display": _display(field_ui),
        }
    return found


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    branches: list[Any] = [schema.get("then"), schema.get("else")]
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and not _is_choice_list(schema[key]):
            branches += schema[key]
    dependencies = schema.get("dependencies") if isinstance(schema.get("dependencies"), dict) else {}
    branches += [d for d in dependencies.values() if isinstance(d, dict)]
    return [b for b in branches if isinstance(b, dict)]


def _conditionally_required(schema: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for branch in _branches(schema):
        if isinstance(branch.get("required"), list):
            names |= {str(n) for n in branch["required"]}
        names |= _conditionally_required(branch)
    return names


def _is_choice_list(entries: list[Any]) -> bool:
    return bool(entries) and all(isinstance(e, dict) and "const" in e for e in entries)


def _options(spec: dict[str, Any]) -> tuple[str, ...]:
    if isinstance(spec.get("enum"), list):
        return tuple(_text(v) for v in spec["enum"])
    for key in ("oneOf", "anyOf"):
        if isinstance(spec.get(key), list) and _is_choice_list(spec[key]):
            return tuple(_text(e.get("title", e["const"])) for e in spec[key])
    return ()


def _field_details(was: dict[str, Any], now: dict[str, Any]) -> dict[str, tuple[str, str]]:
    details = {}
    for aspect in ASPECTS if "required" in now else ("help", "display"):  # a UI schema: labels are not its own
        if was.get(aspect) == now.get(aspect):
            continue
        if aspect == "options":
            gone = [o for o in was["options"] if o not in now["options"]]
            new = [o for o in now["options"] if o not in was["options"]]
            details[aspect] = (", ".join(gone), ", ".join(new)) if gone or new else ("andere volgorde", "")
        else:
            details[aspect] = (was[aspect], now[aspect])
    return details


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)

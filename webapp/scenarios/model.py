"""The scenario file format (YAML), checked with JSON Schema before anything runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from webapp.runtime.errors import KlachtrouteError
from webapp.runtime.packages import load_yaml_all

_TASK = {
    "oneOf": [
        {"type": "string"},
        {"type": "object", "required": ["task"], "additionalProperties": False,
         "properties": {"task": {"type": "string"}, "role": {"type": "string"},
                        "due": {"type": ["string", "null"]}}},
    ]
}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_MEASURE_STATUS = {"enum": ["open", "gerealiseerd", "uitgesteld", "vervallen"]}
_MEASURE = {  # a measure of the complaint in the register; only the keys given are compared
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {"description": {"type": "string"}, "role": {"type": "string"},
                   "person": {"type": ["string", "null"]}, "location": {"type": ["string", "null"]},
                   "due": _DATE, "status": _MEASURE_STATUS, "scope": {"enum": ["klacht", "organisatie"]},
                   "outcome": {"type": ["string", "null"]}, "feedback": {"type": "boolean"},
                   "follow_up": {"type": "boolean"}, "overdue": {"type": "boolean"}},
}
_FOLLOW_UP = {  # an open "Maatregel gerealiseerd?" task
    "type": "object", "required": ["measure"], "additionalProperties": False,
    "properties": {"measure": {"type": "string"}, "role": {"type": "string"}, "raised": _DATE},
}
_EXPECT = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "tasks": {"type": "array", "items": _TASK},
        "letters": {"type": "array", "items": {"type": "string"}},
        "notified_roles": {"type": "array", "items": {"type": "string"}},
        "status": {"enum": ["running", "completed"]},
        "end_event": {"type": "string"},
        "passed": {"type": "array", "items": {"type": "string"}},
        "not_passed": {"type": "array", "items": {"type": "string"}},
        "timers_fired": {"type": "array", "items": {"type": "string"}},
        "decisions": {"type": "object", "additionalProperties": {"type": "string"}},
        "data": {"type": "object"},
        "next_deadline": {"type": ["string", "null"]},
        "measures": {"type": "array", "items": _MEASURE},
        "follow_ups": {"type": "array", "items": _FOLLOW_UP},
        "overdue_measures": {"type": "array", "items": {"type": "string"}},
    },
}
_DURATION = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {k: {"type": "integer", "minimum": 0}
                   for k in ("working_days", "days", "weeks", "months", "hours", "minutes")},
}
STEP_SCHEMA = {
    "type": "object",
    "oneOf": [
        {"required": ["complete"], "properties": {
            "complete": {"type": "string"}, "as": {"type": "string"}, "data": {"type": "object"},
            "expect_error": {"type": "string"}},
         "additionalProperties": False},
        {"required": ["message"], "properties": {
            "message": {"type": "string"}, "payload": {"type": "object"}, "as": {"type": "string"},
            "expect_error": {"type": "string"}},
         "additionalProperties": False},
        {"required": ["follow_up", "outcome"], "properties": {
            "follow_up": {"type": "string"}, "outcome": {"enum": ["gerealiseerd", "uitgesteld", "vervallen"]},
            "note": {"type": "string"}, "new_date": _DATE, "as": {"type": "string"},
            "expect_error": {"type": "string"}},
         "additionalProperties": False},
        {"required": ["advance"], "properties": {"advance": _DURATION}, "additionalProperties": False},
        {"required": ["advance_to"], "properties": {"advance_to": {"type": "string"}},
         "additionalProperties": False},
        {"required": ["expect"], "properties": {"expect": _EXPECT}, "additionalProperties": False},
    ],
}
SCENARIO_SCHEMA = {
    "type": "object",
    "required": ["name", "start", "steps"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "start": {"type": "string"},
        "data": {"type": "object"},
        "steps": {"type": "array", "items": STEP_SCHEMA},
        "expect": _EXPECT,
    },
}


class ScenarioFormatError(KlachtrouteError):
    pass


@dataclass
class Scenario:
    name: str
    path: Path
    start: str
    data: dict[str, Any]
    steps: list[dict[str, Any]]
    expect: dict[str, Any] | None = None
    description: str = ""
    lines: list[int] = field(default_factory=list)  # the line of each step, for the report


def load_scenarios(path: Path) -> list[Scenario]:
    """One scenario per YAML document in the file."""
    return parse_scenarios(path.read_text(encoding="utf-8"), path)


def parse_scenarios(text: str, path: Path) -> list[Scenario]:
    """One scenario per YAML document of a package's scenario file (`path` names it in messages)."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        raws = load_yaml_all(text)  # no aliases: a scenario file may come from the browser
    except yaml.YAMLError as exc:
        raise ScenarioFormatError(f"{path}: not valid YAML: {exc}") from exc
    validator = jsonschema.Draft202012Validator(SCENARIO_SCHEMA)
    scenarios = []
    for node, raw in zip(documents, raws, strict=True):
        if raw is None:
            continue
        errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            where = "/".join(map(str, e.absolute_path)) or "(root)"
            raise ScenarioFormatError(f"{path}: scenario {raw.get('name', '?')!r}: {where}: {e.message}")
        lines = []
        for key, value in node.value:
            if key.value == "steps":
                lines = [item.start_mark.line + 1 for item in value.value]
        scenarios.append(Scenario(name=raw["name"], path=path, start=raw["start"], data=raw.get("data", {}),
                                  steps=raw["steps"], expect=raw.get("expect"),
                                  description=raw.get("description", ""), lines=lines))
    return scenarios

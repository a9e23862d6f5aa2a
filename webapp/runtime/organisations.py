"""Organisation configuration: `bpmn/<slug>/organisation.yaml`.

The configuration says which diagram an organisation runs, which role works which
lane, its closing days, intake rules, retention and deadline targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from handlers.working_days import WorkingDayCalendar

from .errors import ConfigError

CONFIG_FILENAME = "organisation.yaml"
REPO_ROOT = Path(__file__).resolve().parents[2]
BPMN_ROOT = REPO_ROOT / "bpmn"

# Roles every organisation has besides those working its lanes. The functioneel beheerder
# manages the colleagues' accounts and roles (Collega's); it opens no complaint.
COMMON_ROLES = {"procesbeheerder": "Procesbeheerder", "auditor": "Auditor",
                "functioneel_beheerder": "Functioneel beheerder"}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["slug", "name", "reference_prefix", "process_file", "process_id", "roles", "lanes"],
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "name": {"type": "string", "minLength": 1},
        "reference_prefix": {"type": "string", "pattern": "^[A-Z0-9]{2,12}$"},
        "process_file": {"type": "string"},
        "process_id": {"type": "string"},
        "called_process_files": {"type": "array", "items": {"type": "string"}},
        "roles": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["label"],
                "properties": {"label": {"type": "string"}, "description": {"type": "string"}},
            },
        },
        "lanes": {"type": "object", "additionalProperties": {"type": "string"}},
        "calendar": {
            "type": "object",
            "properties": {"closing_days": {"type": "array", "items": {"type": "string", "format": "date"}}},
        },
        "intake": {"type": "object"},
        "retention": {"type": "object"},
        "deadlines": {"type": "object"},
    },
}


@dataclass(frozen=True)
class OrganisationConfig:
    slug: str
    name: str
    reference_prefix: str
    folder: Path
    process_file: str
    process_id: str
    roles: dict[str, str]  # role -> Dutch label
    lanes: dict[str, str]  # lane name -> role
    called_process_files: tuple[str, ...] = ()
    closing_days: tuple[date, ...] = ()
    intake: dict[str, Any] = field(default_factory=dict)
    retention: dict[str, Any] = field(default_factory=dict)
    deadlines: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def calendar(self) -> WorkingDayCalendar:
        return WorkingDayCalendar(self.closing_days)

    @property
    def all_roles(self) -> dict[str, str]:
        return {**self.roles, **COMMON_ROLES}

    def role_for_lane(self, lane: str | None) -> str | None:
        return self.lanes.get(lane) if lane else None

    def process_path(self) -> Path:
        return self.folder / self.process_file

    def read_diagram_files(self) -> tuple[str, dict[str, str]]:
        """The main diagram's XML and the called processes' XML by filename."""
        main = self.process_path().read_text(encoding="utf-8")
        deps = {name: (self.folder / name).read_text(encoding="utf-8") for name in self.called_process_files}
        return main, deps


def load_config(folder: Path) -> OrganisationConfig:
    path = folder / CONFIG_FILENAME
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no organisation configuration") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors)
        raise ConfigError(f"{path}: {details}")
    unknown = sorted({role for role in raw["lanes"].values() if role not in raw["roles"]})
    if unknown:
        raise ConfigError(f"{path}: lanes name roles that are not defined under roles: {', '.join(unknown)}")
    closing = tuple(date.fromisoformat(str(d)) for d in raw.get("calendar", {}).get("closing_days", []))
    return OrganisationConfig(
        slug=raw["slug"],
        name=raw["name"],
        reference_prefix=raw["reference_prefix"],
        folder=folder,
        process_file=raw["process_file"],
        process_id=raw["process_id"],
        roles={k: v["label"] for k, v in raw["roles"].items()},
        lanes=dict(raw["lanes"]),
        called_process_files=tuple(raw.get("called_process_files", [])),
        closing_days=closing,
        intake=raw.get("intake", {}),
        retention=raw.get("retention", {}),
        deadlines=raw.get("deadlines", {}),
    )


def discover(root: Path = BPMN_ROOT) -> dict[str, OrganisationConfig]:
    """Every organisation folder under `root`, by slug."""
    configs = {}
    for config_file in sorted(root.glob(f"*/{CONFIG_FILENAME}")):
        config = load_config(config_file.parent)
        configs[config.slug] = config
    return configs

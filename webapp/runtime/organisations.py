"""Organisation configuration: the settings (`organisation.yaml`) of one procedure package.

The configuration says which diagram an organisation runs, which role works which
lane, its closing days, intake rules, retention and deadline targets; it carries the
rest of its package (forms, letters, scenarios) so that a complaint is handled with
exactly the package its version holds (see `packages`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

from handlers.letters import LetterBook
from handlers.working_days import WorkingDayCalendar

from . import packages
from .errors import ConfigError
from .forms import FormCatalog

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
    folder: Path | None  # the template folder it was read from; None for a stored package
    process_file: str
    process_id: str
    roles: dict[str, str]  # role -> Dutch label
    lanes: dict[str, str]  # lane name -> role
    called_process_files: tuple[str, ...] = ()
    closing_days: tuple[date, ...] = ()
    intake: dict[str, Any] = field(default_factory=dict)
    retention: dict[str, Any] = field(default_factory=dict)
    deadlines: dict[str, Any] = field(default_factory=dict)
    # organisation.yaml as written (sections the runtime does not model: reporting, the portal's words)
    settings: dict[str, Any] = field(default_factory=dict, compare=False)
    # The whole package: {relative path: text} (see `packages`).
    files: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def forms(self) -> FormCatalog:
        return FormCatalog.of_package(self.files)

    @cached_property
    def letters(self) -> LetterBook:
        return LetterBook(packages.of(packages.LETTERS, self.files))

    @property
    def scenario_texts(self) -> dict[str, str]:
        return packages.of(packages.SCENARIOS, self.files)

    @property
    def locations(self) -> list[str]:
        return [str(x) for x in (self.intake.get("locations") or [])]

    @cached_property
    def calendar(self) -> WorkingDayCalendar:
        return WorkingDayCalendar(self.closing_days)

    @property
    def all_roles(self) -> dict[str, str]:
        return {**self.roles, **COMMON_ROLES}

    def role_for_lane(self, lane: str | None) -> str | None:
        return self.lanes.get(lane) if lane else None

    def read_diagram_files(self) -> tuple[str, dict[str, str]]:
        """The main diagram's XML and the called processes' XML by filename (from the package)."""
        try:
            main = self.files[self.process_file]
            deps = {name: self.files[name] for name in self.called_process_files}
        except KeyError as exc:
            raise ConfigError(f"{self.slug}: the package has no diagram {exc.args[0]}") from None
        return main, deps

    def with_files(self, files: dict[str, str]) -> OrganisationConfig:
        """The configuration of another package of this organisation (a draft)."""
        return config_from_files(files, slug=self.slug, folder=self.folder)


def load_config(folder: Path, form_roots: tuple[Path, ...] = ()) -> OrganisationConfig:
    """A template folder (`bpmn/<slug>/`) or an exported package folder, read as a package."""
    if not (folder / CONFIG_FILENAME).is_file():
        raise ConfigError(f"{folder / CONFIG_FILENAME}: no organisation configuration")
    if (folder / packages.LETTERS).is_dir():  # a package's own layout (klachtroute package export)
        return config_from_files(packages.read_folder(folder), folder=folder)
    return config_from_files(packages.read_template(folder, form_roots), folder=folder)


def config_from_files(files: dict[str, str], slug: str | None = None, folder: Path | None = None) -> OrganisationConfig:
    """The configuration of a package; `slug` (the organisation's row) wins over the file's."""
    path = f"{slug or (folder.name if folder else '?')}/{CONFIG_FILENAME}"
    try:
        raw = packages.settings_of(files)
    except packages.PackageError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
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
        slug=slug or raw["slug"],
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
        settings=raw,
        files=dict(files),
    )


def discover(root: Path = BPMN_ROOT) -> dict[str, OrganisationConfig]:
    """Every organisation folder under `root`, by slug."""
    configs = {}
    for config_file in sorted(root.glob(f"*/{CONFIG_FILENAME}")):
        config = load_config(config_file.parent)
        configs[config.slug] = config
    return configs

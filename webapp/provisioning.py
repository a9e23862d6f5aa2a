"""New organisations without a developer: a platform administrator picks a template (one of the
procedures the platform ships, or a copy of another organisation's current version), gives the
organisation its name, slug, reference prefix and locations, and the package goes through the
same gate as every publication. Its public form and inbox work at once; the first process owner
is invited by email (webapp.web.platform_views)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import delete, select

from webapp.db.models import Organisation
from webapp.runtime import clock, packages
from webapp.runtime.deploy import Deployment
from webapp.runtime.errors import ConfigError, KlachtrouteError
from webapp.runtime.organisations import config_from_files
from webapp.scenarios import publish

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
PREFIX = re.compile(r"^[A-Z0-9]{2,12}$")
RESERVED = frozenset({"login", "logout", "beheer", "api", "static", "vendor", "account", "mijn-klacht", "health"})


class ProvisioningError(KlachtrouteError):
    """A Dutch message per field: {field: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Template:
    key: str  # "sjabloon:<slug>" or "kopie:<slug>"
    label: str


def templates(runtime) -> list[Template]:
    """The procedures the platform ships, then the other organisations' current versions."""
    shipped = [Template(f"sjabloon:{slug}", f"Sjabloon: de procedure van {config.name}")
               for slug, config in sorted(runtime.registry.templates.items())]
    stored = [Template(f"kopie:{slug}", f"Kopie van de huidige versie van {runtime.organisation(slug).name}")
              for slug in runtime.organisations if runtime.registry.packages.current_version_id(slug) is not None]
    return shipped + stored


def _source_files(runtime, key: str) -> dict[str, str]:
    kind, _, slug = key.partition(":")
    if kind == "sjabloon" and slug in runtime.registry.templates:
        return dict(runtime.registry.templates[slug].files)
    if kind == "kopie" and runtime.registry.packages.current_version_id(slug) is not None:
        return dict(runtime.organisation(slug).files)
    raise ProvisioningError({"sjabloon": "Kies een sjabloon of een organisatie om te kopiëren."})


def with_locations(files: dict[str, str], locations: list[str]) -> dict[str, str]:
    """The package with `intake.locations` replaced, keeping the rest of organisation.yaml as
    written when the list is on one line (as in the templates)."""
    text = files[packages.SETTINGS]
    line = "  locations: " + json.dumps(locations, ensure_ascii=False)
    replaced, found = re.subn(r"^  locations:.*$", line.replace("\\", r"\\"), text, count=1, flags=re.MULTILINE)
    if found and packages.settings_of({packages.SETTINGS: replaced}).get("intake", {}).get("locations") == locations:
        return {**files, packages.SETTINGS: replaced}
    intake = dict(packages.settings_of(files).get("intake") or {})
    return packages.with_settings(files, intake={**intake, "locations": locations})


def check_request(runtime, slug: str, name: str, prefix: str, locations: list[str]) -> None:
    errors = {}
    if not SLUG.match(slug) or slug in RESERVED:
        errors["slug"] = ("Gebruik kleine letters, cijfers en streepjes (bijv. kinderopvang-de-hoeve), "
                          "niet beginnend of eindigend met een streepje.")
    if not name.strip() or len(name) > 200:
        errors["naam"] = "Vul de naam van de organisatie in (hoogstens 200 tekens)."
    if not PREFIX.match(prefix):
        errors["kenmerk"] = "Het kenmerk is 2 tot 12 hoofdletters of cijfers, bijv. HOEVE."
    if len(locations) > 500 or any(len(x) > 200 for x in locations):
        errors["locaties"] = "Hoogstens 500 locaties van elk hoogstens 200 tekens."
    with runtime.sessions() as session:
        if "slug" not in errors and session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
            errors["slug"] = f"Er is al een organisatie met het adres '{slug}'."
    taken = {runtime.organisation(s).reference_prefix for s in runtime.organisations}
    if "kenmerk" not in errors and prefix in taken:
        errors["kenmerk"] = f"Het kenmerk {prefix} is al in gebruik; klachtnummers moeten uniek zijn."
    if errors:
        raise ProvisioningError(errors)


def create_organisation(runtime, *, slug: str, name: str, prefix: str, locations: list[str], template: str,
                        actor_email: str) -> Deployment:
    """Store the organisation and publish version 1 of its package through the gate. Nothing is
    stored when the gate finds a problem (raises DiagramError) or a field is wrong
    (raises ProvisioningError)."""
    locations = [x.strip() for x in locations if x.strip()]
    check_request(runtime, slug, name, prefix, locations)
    files = packages.with_identity(_source_files(runtime, template), slug=slug, name=name, reference_prefix=prefix)
    if locations:
        files = with_locations(files, locations)
    diagrams, rest = packages.split(files)
    names = packages.diagram_names(packages.settings_of(files))
    main = diagrams.pop(names[0])
    try:
        config_from_files(files, slug=slug)
    except ConfigError as exc:
        raise ProvisioningError({"sjabloon": f"De instellingen van het sjabloon kloppen niet: {exc}"}) from exc
    with runtime.write_sessions.begin() as session:
        session.add(Organisation(slug=slug, name=name, created_at=clock.now()))
    try:  # the whole gate, as for every publication: DiagramError lists what the package lacks
        return publish.deploy(runtime, slug, main, actor_email, f"nieuwe organisatie ({template})", diagrams, rest)
    except BaseException:
        with runtime.write_sessions.begin() as session:  # no organisation without a version
            session.execute(delete(Organisation).where(Organisation.slug == slug))
        runtime.registry.forget_organisation(slug)
        raise

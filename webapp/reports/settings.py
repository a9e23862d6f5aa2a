"""Who reads reports and what they want: the optional `reporting:` section of organisation.yaml,
the organisation's known locations, the years with complaints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from webapp import clock
from webapp.db.models import Instance
from webapp.runtime.organisations import OrganisationConfig

from .complaints import current_version, organisation_id
from .labels import OTHER_LOCATION, QUALITY_ROLE, QUALITY_TASK, UNKNOWN
from .model import diagram_model


def _raw_config(config: OrganisationConfig) -> dict[str, Any]:
    """organisation.yaml as written (sections the runtime does not model)."""
    return config.settings if isinstance(config.settings, dict) else {}


def reporting_settings(config: OrganisationConfig) -> dict[str, Any]:
    """The optional `reporting:` section of organisation.yaml (by, reports, recipients, ...)."""
    raw = _raw_config(config).get("reporting")
    return raw if isinstance(raw, Mapping) else {}


def wants_quarterly(config: OrganisationConfig) -> bool:
    settings = reporting_settings(config)
    text = " ".join(str(x) for x in [settings.get("analysis", ""), *(settings.get("reports") or [])])
    return "kwartaal" in text.lower()


def report_roles(runtime, slug: str) -> frozenset[str]:
    """auditor, procesbeheerder and the organisation's quality officers: the roles named under
    `reporting.by` in organisation.yaml; else the roles the diagram registers complaints with
    (`register_complaint`), roles whose id or label names quality (kwaliteit, klachtenfunctionaris,
    stafbureau) and roles whose description speaks of the annual report or analysis."""
    config = runtime.organisation(slug)
    roles = {"auditor", "procesbeheerder"}
    by = reporting_settings(config).get("by")
    if by:
        roles.update([by] if isinstance(by, str) else [str(r) for r in by])
        return frozenset(roles)
    raw_roles = _raw_config(config).get("roles") or {}
    for role, label in config.roles.items():
        spec = raw_roles.get(role) if isinstance(raw_roles, Mapping) else None
        description = spec.get("description", "") if isinstance(spec, Mapping) else ""
        if QUALITY_ROLE.search(f"{role} {label}") or QUALITY_TASK.search(str(description)):
            roles.add(role)
    roles.update(_register_roles(runtime, slug, config))
    return frozenset(roles)


def _register_roles(runtime, slug: str, config: OrganisationConfig) -> frozenset[str]:
    version = current_version(runtime, slug)
    if version is None:
        return frozenset()
    return frozenset(diagram_model(version, config).register_roles() & set(config.roles))


def years_with_data(runtime, slug: str) -> list[int]:
    """The calendar years (Amsterdam) in which complaints were received, newest first."""
    with runtime.sessions() as session:
        org_id = organisation_id(session, slug)
        if org_id is None:
            return []
        first = session.scalar(select(Instance.created_at).where(Instance.organisation_id == org_id)
                               .order_by(Instance.created_at).limit(1))
        last = session.scalar(select(Instance.created_at).where(Instance.organisation_id == org_id)
                              .order_by(Instance.created_at.desc()).limit(1))
    if first is None:
        return []
    return list(range(clock.to_local(last).year, clock.to_local(first).year - 1, -1))


def known_locations(config: OrganisationConfig) -> set[str]:
    """The locations the organisation's intake offers (its `intake.locations`)."""
    names = set()
    for item in (config.intake or {}).get("locations") or []:
        if isinstance(item, Mapping):
            item = item.get("naam") or item.get("name") or item.get("label") or ""
        if str(item).strip():
            names.add(str(item).strip())
    return names


def location_label(config: OrganisationConfig, value: str | None, public: bool) -> str:
    if not value:
        return UNKNOWN
    known = known_locations(config)
    if public and known and value not in known:
        return OTHER_LOCATION  # a free-text location outside the organisation's list is not published
    return value

"""Packages in and out of the database: a stored version (or draft) as the files of its package,
and a package brought in as a draft. The gate and publishing live above (webapp.scenarios.publish)."""

from __future__ import annotations

from sqlalchemy import select

from webapp.db.models import DiagramVersion

from . import packages
from .deploy import load_draft, save_draft
from .errors import NotFound


def version_files(runtime, slug: str, version: int | None = None) -> dict[str, str]:
    """Every file of a published version's package (the newest when `version` is None)."""
    org_id = runtime.organisation_id(slug)
    with runtime.sessions() as session:
        query = select(DiagramVersion).where(DiagramVersion.organisation_id == org_id)
        query = query.where(DiagramVersion.version == version) if version else \
            query.order_by(DiagramVersion.version.desc()).limit(1)
        row = session.scalars(query).first()
        if row is None:
            raise NotFound(f"{slug} heeft geen versie {version}" if version else f"{slug} heeft nog geen versie")
        return runtime.config_for_version(row.id).files | {}


def draft_files(runtime, slug: str, draft_id: int) -> dict[str, str]:
    """Every file of a draft's package."""
    draft = load_draft(runtime, slug, draft_id)
    settings = packages.settings_of(draft.files)
    names = packages.diagram_names(settings)
    return {**draft.files, names[0]: draft.bpmn_xml, **draft.dependencies}


def import_files(runtime, slug: str, files: dict[str, str], actor_email: str, note: str = "") -> int:
    """A package (as read by `packages.read_folder`) as a new draft of `slug`; returns its id.
    The package's own slug line is set to the organisation it is imported into."""
    packages.check_files(files)
    if packages.settings_of(files).get("slug") != slug:
        files = packages.with_identity(files, slug=slug)
    diagrams, rest = packages.split(files)
    names = packages.diagram_names(packages.settings_of(files))
    missing = [n for n in names if n and n not in diagrams]
    if missing or not names[0]:
        raise packages.PackageError(f"het pakket mist het diagram {', '.join(missing) or '(process_file)'}")
    main = diagrams.pop(names[0])
    return save_draft(runtime, slug, main, actor_email, note, dependencies=diagrams, files=rest)

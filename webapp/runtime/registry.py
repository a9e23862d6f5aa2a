"""The organisations and their versions: look-up by slug or id, the package each version holds
(`package_registry`), the parsed-diagram cache, and deploying a new version. No complaint
state lives here."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db.models import DiagramVersion, Organisation

from . import clock, packages
from .database import Database
from .diagrams import ParsedDiagram, SpecCache, parse_diagram
from .errors import NotFound
from .organisations import OrganisationConfig
from .package_registry import OrganisationDirectory, PackageRegistry
from .steps import SYSTEM


class Registry:
    def __init__(self, db: Database, organisations: dict[str, OrganisationConfig]) -> None:
        self.db = db
        self.templates = organisations  # what `klachtroute load` imports; tests and the CLI add to it
        self.packages = PackageRegistry(db.sessions, organisations)
        self.organisations = OrganisationDirectory(self.packages)
        self.specs = SpecCache()
        self._org_ids: dict[str, int] = {}
        self._org_slugs: dict[int, str] = {}

    # -- organisations -------------------------------------------------------------------

    def organisation(self, slug: str) -> OrganisationConfig:
        """The organisation's current package (its newest version, else its template)."""
        return self.packages.current(slug)

    def config_for_version(self, version_id: int, session: Session | None = None) -> OrganisationConfig:
        """The package a complaint on this version runs on: its settings, forms and letters."""
        return self.packages.for_version(version_id, session)

    def organisation_id(self, slug: str) -> int:
        if slug not in self._org_ids:
            with self.db.sessions() as session:
                org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
            if org_id is None:
                raise NotFound(f"organisation '{slug}' is not in the database (run `klachtroute load`)")
            self._org_ids[slug], self._org_slugs[org_id] = org_id, slug
        return self._org_ids[slug]

    def forget_organisation(self, slug: str) -> None:
        """Forget what this process knew of an organisation (one that was just removed again)."""
        org_id = self._org_ids.pop(slug, None)
        self._org_slugs.pop(org_id, None)
        self.packages.forget(slug)

    def slug_for(self, session: Session, org_id: int) -> str:
        """The slug of a stored organisation (cached; read in the caller's session)."""
        if org_id not in self._org_slugs:
            slug = session.scalar(select(Organisation.slug).where(Organisation.id == org_id))
            self._org_ids[slug], self._org_slugs[org_id] = org_id, slug
        return self._org_slugs[org_id]

    def config_for(self, session: Session, org_id: int) -> OrganisationConfig:
        """The organisation's current package (for a complaint: `config_for_version`)."""
        return self.organisation(self.slug_for(session, org_id))

    def ensure_organisations(self) -> None:
        """Create the organisation rows that are configured but not yet stored."""
        with self.db.write_sessions.begin() as session:
            known = set(session.scalars(select(Organisation.slug)))
            for config in self.templates.values():
                if config.slug not in known:
                    session.add(Organisation(slug=config.slug, name=config.name, created_at=clock.now()))

    # -- diagrams ------------------------------------------------------------------------

    def validate_diagram(self, slug: str, xml: str, dependencies: dict[str, str] | None = None) -> ParsedDiagram:
        config = self.organisation(slug)
        return parse_diagram(xml, config.process_file, config.process_id, dependencies)

    def current_version_id(self, slug: str) -> int:
        org_id = self.organisation_id(slug)
        with self.db.sessions() as session:
            version_id = session.scalar(select(DiagramVersion.id).where(DiagramVersion.organisation_id == org_id)
                                        .order_by(DiagramVersion.version.desc()).limit(1))
        if version_id is None:
            raise NotFound(f"organisation '{slug}' has no deployed diagram")
        return version_id

    def diagram(self, version_id: int, session: Session | None = None) -> ParsedDiagram:
        """A parsed diagram version, from the cache or read (in `session` when given)."""
        def read(s: Session) -> ParsedDiagram:
            version = s.get(DiagramVersion, version_id)
            if version is None:
                raise NotFound(f"diagram version {version_id} does not exist")
            config = self.config_for_version(version_id, s)
            return parse_diagram(version.bpmn_xml, config.process_file, version.process_id, version.dependencies)

        def load() -> ParsedDiagram:
            if session is not None:
                return read(session)
            with self.db.sessions() as s:
                return read(s)
        return self.specs.get(version_id, load)

    def deploy(self, slug: str, xml: str | None = None, dependencies: dict[str, str] | None = None,
               actor: str = SYSTEM, note: str = "") -> int:
        """Validate and store a new version: the organisation's template package (its current one
        when it has no template), with `xml` as its diagram when given. Returns the new version's
        id; an unchanged package returns the current id. Publishing a draft goes through the gate
        instead (webapp.scenarios.publish)."""
        config = self._package_with(slug, xml, dependencies)
        xml, dependencies = config.read_diagram_files()
        parsed = parse_diagram(xml, config.process_file, config.process_id, dependencies)
        diagrams = {config.process_file, *config.called_process_files}
        rest = {name: text for name, text in config.files.items() if name not in diagrams}
        file_identity = {k: config.settings.get(k) for k in ("slug", "name", "reference_prefix")}
        identity = {"slug": config.slug, "name": config.name, "reference_prefix": config.reference_prefix}
        if file_identity != identity:  # a template copied for another organisation (a benchmark's)
            rest = packages.with_identity(rest, **identity)
        digest = packages.sha256({**rest, config.process_file: xml, **dependencies})
        org_id = self.organisation_id(slug)
        with self.db.write_sessions.begin() as session:
            current = session.scalars(select(DiagramVersion).where(DiagramVersion.organisation_id == org_id)
                                      .order_by(DiagramVersion.version.desc()).limit(1)).first()
            if current is not None and current.sha256 == digest:
                return current.id
            version = DiagramVersion(
                organisation_id=org_id, version=(current.version + 1) if current else 1,
                process_id=config.process_id, bpmn_xml=xml, dependencies=dependencies, sha256=digest,
                deployed_by=actor, deployed_at=clock.now(), note=note, files=rest)
            session.add(version)
            session.flush()
            version_id = version.id
        # Only after the commit: a rolled-back id could be handed out again.
        self.specs.get(version_id, lambda: parsed)
        self.packages.remember(version_id, config)
        return version_id

    def _package_with(self, slug: str, xml: str | None, dependencies: dict[str, str] | None) -> OrganisationConfig:
        config = self.templates.get(slug) or self.organisation(slug)
        if xml is None:
            return config
        dependencies = dependencies or {}
        if config.files.get(config.process_file) == xml and \
                all(config.files.get(n) == t for n, t in dependencies.items()):
            return config  # the same diagram: keep the configuration (and its cached forms)
        return dataclasses.replace(config, files={**config.files, config.process_file: xml, **dependencies})


__all__ = ["Registry"]

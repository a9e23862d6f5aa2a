"""The organisations and their diagram versions: look-up by slug or id, the parsed-diagram
cache, and deploying a new version. No complaint state lives here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db.models import DiagramVersion, Organisation

from . import clock
from .database import Database
from .diagrams import ParsedDiagram, SpecCache, diagram_sha256, parse_diagram
from .errors import NotFound
from .organisations import OrganisationConfig
from .steps import SYSTEM


class Registry:
    def __init__(self, db: Database, organisations: dict[str, OrganisationConfig]) -> None:
        self.db = db
        self.organisations = organisations  # shared with the facade: tests and the CLI add to it
        self.specs = SpecCache()
        self._org_ids: dict[str, int] = {}
        self._org_slugs: dict[int, str] = {}

    # -- organisations -------------------------------------------------------------------

    def organisation(self, slug: str) -> OrganisationConfig:
        try:
            return self.organisations[slug]
        except KeyError:
            raise NotFound(f"unknown organisation '{slug}'") from None

    def organisation_id(self, slug: str) -> int:
        if slug not in self._org_ids:
            with self.db.sessions() as session:
                org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
            if org_id is None:
                raise NotFound(f"organisation '{slug}' is not in the database (run `klachtroute load`)")
            self._org_ids[slug], self._org_slugs[org_id] = org_id, slug
        return self._org_ids[slug]

    def slug_for(self, session: Session, org_id: int) -> str:
        """The slug of a stored organisation (cached; read in the caller's session)."""
        if org_id not in self._org_slugs:
            slug = session.scalar(select(Organisation.slug).where(Organisation.id == org_id))
            self._org_ids[slug], self._org_slugs[org_id] = org_id, slug
        return self._org_slugs[org_id]

    def config_for(self, session: Session, org_id: int) -> OrganisationConfig:
        return self.organisation(self.slug_for(session, org_id))

    def ensure_organisations(self) -> None:
        """Create the organisation rows that are configured but not yet stored."""
        with self.db.write_sessions.begin() as session:
            known = set(session.scalars(select(Organisation.slug)))
            for config in self.organisations.values():
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
            config = self.config_for(s, version.organisation_id)
            return parse_diagram(version.bpmn_xml, config.process_file, version.process_id, version.dependencies)

        def load() -> ParsedDiagram:
            if session is not None:
                return read(session)
            with self.db.sessions() as s:
                return read(s)
        return self.specs.get(version_id, load)

    def deploy(self, slug: str, xml: str | None = None, dependencies: dict[str, str] | None = None,
               actor: str = SYSTEM, note: str = "") -> int:
        """Validate and store a new diagram version (the configured files by default).
        Returns the new version's id; an unchanged diagram returns the current id."""
        config = self.organisation(slug)
        if xml is None:
            xml, dependencies = config.read_diagram_files()
        dependencies = dependencies or {}
        parsed = self.validate_diagram(slug, xml, dependencies)
        digest = diagram_sha256(xml, dependencies)
        org_id = self.organisation_id(slug)
        with self.db.write_sessions.begin() as session:
            current = session.scalars(select(DiagramVersion).where(DiagramVersion.organisation_id == org_id)
                                      .order_by(DiagramVersion.version.desc()).limit(1)).first()
            if current is not None and current.sha256 == digest:
                return current.id
            version = DiagramVersion(
                organisation_id=org_id, version=(current.version + 1) if current else 1,
                process_id=config.process_id, bpmn_xml=xml, dependencies=dependencies, sha256=digest,
                deployed_by=actor, deployed_at=clock.now(), note=note)
            session.add(version)
            session.flush()
            version_id = version.id
        # Only after the commit: a rolled-back id could be handed out again.
        self.specs.get(version_id, lambda: parsed)
        return version_id


__all__ = ["Registry"]

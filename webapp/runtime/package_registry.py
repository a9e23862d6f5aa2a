"""Which package an organisation and a complaint run on, read from the database.

A published version is immutable, so its configuration (settings, forms, letters) is built once
per process and kept. Which version is an organisation's current one is asked of the database
again after at most `CURRENT_TTL` seconds, so every web process and worker, on every machine,
sees a version another one published within that time. The templates (`bpmn/`, or folders named
in KLACHTROUTE_ORGANISATION_DIRS) only serve organisations that have no version yet and versions
stored by a release before packages whose organisation had no template folder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, MutableMapping

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from webapp.db.models import DiagramVersion, Organisation

from . import packages
from .errors import ConfigError, NotFound
from .organisations import OrganisationConfig, config_from_files

CURRENT_TTL = 1.0  # seconds a process trusts its idea of an organisation's current version


class PackageRegistry:
    def __init__(self, sessions: sessionmaker[Session], templates: dict[str, OrganisationConfig]) -> None:
        self.sessions = sessions
        self.templates = templates
        self._versions: dict[int, OrganisationConfig] = {}
        self._current: dict[str, tuple[float, int | None]] = {}
        self._lock = threading.Lock()

    # -- a complaint's package --------------------------------------------------------------

    def for_version(self, version_id: int, session: Session | None = None) -> OrganisationConfig:
        config = self._versions.get(version_id)
        if config is not None:
            return config
        if session is not None:
            config = self._read(session, version_id)
        else:
            with self.sessions() as own:
                config = self._read(own, version_id)
        with self._lock:
            if len(self._versions) > 4096:  # a bound for a process serving a thousand organisations
                self._versions.clear()
            self._versions[version_id] = config
        return config

    def _read(self, session: Session, version_id: int) -> OrganisationConfig:
        row = session.execute(select(DiagramVersion, Organisation.slug)
                              .join(Organisation, Organisation.id == DiagramVersion.organisation_id)
                              .where(DiagramVersion.id == version_id)).first()
        if row is None:
            raise NotFound(f"diagram version {version_id} does not exist")
        version, slug = row
        files = version.files
        if files is None:  # stored before packages, by an organisation without a template folder
            template = self.templates.get(slug)
            if template is None:
                raise ConfigError(f"version {version.version} of {slug} has no package and there is no template")
            files = packages.split(template.files)[1]
        settings = packages.settings_of(files)
        main = str(settings.get("process_file"))
        return config_from_files({**files, main: version.bpmn_xml, **(version.dependencies or {})}, slug=slug)

    def remember(self, version_id: int, config: OrganisationConfig) -> None:
        """The package of a version this process just stored (no need to read it back)."""
        with self._lock:
            self._versions[version_id] = config
            self._current.pop(config.slug, None)

    # -- an organisation's current package ----------------------------------------------------

    def current(self, slug: str) -> OrganisationConfig:
        version_id = self.current_version_id(slug)
        if version_id is not None:
            return self.for_version(version_id)
        if slug in self.templates:
            return self.templates[slug]
        raise NotFound(f"unknown organisation '{slug}'")

    def current_version_id(self, slug: str) -> int | None:
        now = time.monotonic()
        cached = self._current.get(slug)
        if cached is not None and now - cached[0] < CURRENT_TTL:
            return cached[1]
        with self.sessions() as session:
            version_id = session.scalar(
                select(DiagramVersion.id).join(Organisation, Organisation.id == DiagramVersion.organisation_id)
                .where(Organisation.slug == slug).order_by(DiagramVersion.version.desc()).limit(1))
        self._current[slug] = (now, version_id)
        return version_id

    def forget(self, slug: str | None = None) -> None:
        """Ask the database again on the next look-up (after a publish in this process)."""
        if slug is None:
            self._current.clear()
        else:
            self._current.pop(slug, None)

    def slugs(self) -> list[str]:
        with self.sessions() as session:
            stored = list(session.scalars(select(Organisation.slug)))
        return sorted(set(stored) | set(self.templates))


class OrganisationDirectory(MutableMapping[str, OrganisationConfig]):
    """`runtime.organisations`: every organisation by slug, each with its current package.
    Setting an item adds or replaces a template (the CLI's and the tests' organisations)."""

    def __init__(self, registry: PackageRegistry) -> None:
        self.registry = registry

    def __getitem__(self, slug: str) -> OrganisationConfig:
        try:
            return self.registry.current(slug)
        except NotFound:
            raise KeyError(slug) from None

    def __setitem__(self, slug: str, config: OrganisationConfig) -> None:
        self.registry.templates[slug] = config
        self.registry.forget(slug)

    def __delitem__(self, slug: str) -> None:
        del self.registry.templates[slug]
        self.registry.forget(slug)

    def __iter__(self) -> Iterator[str]:
        return iter(self.registry.slugs())

    def __len__(self) -> int:
        return len(self.registry.slugs())

    def __contains__(self, slug: object) -> bool:
        return isinstance(slug, str) and (slug in self.registry.templates or
                                          self.registry.current_version_id(slug) is not None)

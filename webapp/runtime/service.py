"""`Runtime`: the one object the web pages, the CLI, the worker and the scenario runner hold.

A thin facade. It builds the collaborators and hands each call to its use case:

- `Registry` (registry.py): organisations, diagram versions, the parsed-diagram cache, deploy;
- `UnitOfWork` (unit_of_work.py): restore a complaint, store its step (state, inbox, audit,
  outbox, measures) in one transaction, with the row lock;
- use cases: `StartComplaint` (starting.py), `TaskActions` (acting.py), `Timers` (timers.py),
  `Interventions` (interventions.py); migration.py moves complaints to a new version.

Code that needs only one of them may take it (`runtime.registry`, `runtime.work`) instead of
the whole runtime."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from . import portal_links
from .acting import TaskActions
from .actors import Actor, RowsHook
from .database import Database
from .diagrams import ParsedDiagram, SpecCache
from .errors import FormValidationError
from .interventions import Interventions
from .organisations import OrganisationConfig
from .registry import Registry
from .starting import StartComplaint, Started
from .steps import SYSTEM, LoadedWorkflow
from .timers import SweepResult, Timers
from .unit_of_work import STEP_FAILURES, UnitOfWork, contained


class Runtime:
    def __init__(self, sessions: sessionmaker[Session], organisations: dict[str, OrganisationConfig]) -> None:
        """`organisations`: the templates (`klachtroute load` imports them as version 1); at run
        time every organisation and complaint runs on the package stored with its version."""
        self.db = Database.over(sessions)
        self.registry = Registry(self.db, organisations)
        self.work = UnitOfWork(self.db, self.registry, portal_links.PortalSettings.from_env())
        self.tasks = TaskActions(self.registry, self.work)
        self.timers = Timers(self.registry, self.work)
        self.interventions = Interventions(self.registry, self.work, self.timers)
        self._start = StartComplaint(self.registry, self.work)

    # -- what callers read (and tests replace) ------------------------------------------------

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.db.sessions

    @sessions.setter
    def sessions(self, factory: sessionmaker[Session]) -> None:
        self.db.sessions = factory

    @property
    def write_sessions(self) -> sessionmaker[Session]:
        return self.db.write_sessions

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def organisations(self) -> MutableMapping[str, OrganisationConfig]:
        """Every organisation by slug, with its current package (setting one adds a template)."""
        return self.registry.organisations

    @property
    def specs(self) -> SpecCache:
        return self.registry.specs

    @property
    def portal(self) -> portal_links.PortalSettings:
        return self.work.portal

    @portal.setter
    def portal(self, settings: portal_links.PortalSettings) -> None:
        self.work.portal = settings

    # -- organisations and diagrams ------------------------------------------------------------

    def organisation(self, slug: str) -> OrganisationConfig:
        """The organisation's current package: settings, forms, letters, scenarios."""
        return self.registry.organisation(slug)

    def config_for_version(self, version_id: int, session: Session | None = None) -> OrganisationConfig:
        """The package of one version: what a complaint on that version runs on."""
        return self.registry.config_for_version(version_id, session)

    def organisation_id(self, slug: str) -> int:
        return self.registry.organisation_id(slug)

    def slug_for(self, session: Session, org_id: int) -> str:
        return self.registry.slug_for(session, org_id)

    def ensure_organisations(self) -> None:
        self.registry.ensure_organisations()

    def validate_diagram(self, slug: str, xml: str, dependencies: dict[str, str] | None = None) -> ParsedDiagram:
        return self.registry.validate_diagram(slug, xml, dependencies)

    def deploy(self, slug: str, xml: str | None = None, dependencies: dict[str, str] | None = None,
               actor: str = SYSTEM, note: str = "") -> int:
        """Validate and store a new version of the template package (with `xml` as its diagram
        when given). Returns the new version's id; an unchanged package returns the current id."""
        return self.registry.deploy(slug, xml, dependencies, actor, note)

    def current_version_id(self, slug: str) -> int:
        return self.registry.current_version_id(slug)

    def diagram(self, version_id: int, session: Session | None = None) -> ParsedDiagram:
        return self.registry.diagram(version_id, session)

    # -- complaints ----------------------------------------------------------------------------

    def start(self, slug: str, data: dict[str, Any], actor: Actor | None = None,
              complaint_type: str | None = None, location: str | None = None,
              received_at: datetime | None = None, with_rows: RowsHook | None = None) -> Started:
        """Register a complaint and run its procedure up to the first waiting point.

        `received_at`: when the organisation really received it (a phone call registered days
        later); the diagram's `ontvangen_op`, so every deadline counts from it. Default: now.
        `with_rows(session, instance)` adds rows that belong to the intake (its documents) in the
        intake's transaction, before the procedure runs, so they stay when the procedure fails.

        No intake is ever lost: when the procedure fails, the complaint is still stored with
        its reference and data, and opens as an incident that the worker and staff retry."""
        return self._start(slug, data, actor, complaint_type, location, received_at, with_rows)

    def load(self, instance_id: int) -> LoadedWorkflow:
        """A read-only view of a complaint's workflow (changes to it are not saved)."""
        return self.work.read(instance_id)

    def complete_task(self, instance_id: int, task_id: str, actor: Actor, data: dict[str, Any],
                      expected_lock_version: int | None = None) -> None:
        """Complete a ready user task with form data, as `actor`, and run the engine on."""
        self.tasks.complete_task(instance_id, task_id, actor, data, expected_lock_version)

    def send_message(self, instance_id: int, name: str, payload: dict[str, Any], actor: Actor,
                     with_rows: RowsHook | None = None) -> None:
        """Deliver a message from outside, with the rows that come with it (see TaskActions)."""
        self.tasks.send_message(instance_id, name, payload, actor, with_rows)

    def assign_task(self, human_task_id: int, actor: Actor, assignee: tuple[int, str] | None) -> None:
        """Claim (assignee = the actor), release (None) or hand over ((user id, email)) a task."""
        self.tasks.assign_task(human_task_id, actor, assignee)

    def save_draft(self, human_task_id: int, actor: Actor, draft: dict[str, Any]) -> None:
        self.tasks.save_draft(human_task_id, actor, draft)

    def fire_due_timers(self, limit: int = 100) -> SweepResult:
        """Fire the due timers of up to `limit` complaints, in one transaction (see Timers)."""
        return self.timers.fire_due(limit)

    def next_wakeup_at(self) -> datetime | None:
        return self.timers.next_wakeup_at()

    def retry_incident(self, instance_id: int, actor: Actor) -> bool:
        return self.interventions.retry_incident(instance_id, actor)

    def move_intake_incident(self, instance_id: int, version_id: int, actor: Actor) -> bool:
        return self.interventions.move_intake_incident(instance_id, version_id, actor)

    def cancel_complaint(self, instance_id: int, actor: Actor, reason: str) -> None:
        self.interventions.cancel_complaint(instance_id, actor, reason)


__all__ = ["Actor", "FormValidationError", "RowsHook", "Runtime", "STEP_FAILURES", "Started", "SweepResult",
           "contained"]

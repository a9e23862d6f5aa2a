"""The runtime's units of work: each public method loads what it needs, runs one
step of the engine and writes instance state, human tasks, audit events and
outgoing messages in one transaction, or changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from handlers.dutch import long_date
from webapp.db.models import (
    DiagramVersion,
    HumanTask,
    Instance,
    Organisation,
    OutboxMessage,
    ReferenceCounter,
)
from webapp.db.session import writer_engine

from . import audit, clock, incidents, measures, notifications, portal_links
from .diagrams import ParsedDiagram, SpecCache, diagram_sha256, parse_diagram
from .errors import ConflictError, FormValidationError, InvalidWorkflowState, NotFound, PermissionDenied
from .forms import FormCatalog
from .organisations import OrganisationConfig
from .serialization import dump_state, load_state
from .steps import SYSTEM, LoadedWorkflow, ReadyTask, StepRecorder

# Errors a caller acts on (the task was taken, the complaint is closed, the form is wrong):
# they are answers, not failures of the diagram, and open no incident.
_ANSWERS = (ConflictError, NotFound, PermissionDenied, FormValidationError)

# What rolls back one complaint's step: the diagram failed, or what it produced does not fit
# the tables (a name too long for its column). A lost connection is not among them.
STEP_FAILURES = (InvalidWorkflowState, DataError, IntegrityError)


@contextmanager
def contained() -> Iterator[None]:
    """Run diagram-driven work: whatever it raises, whatever the class (`SystemExit`,
    `KeyboardInterrupt`, `MemoryError`, `RecursionError`, a bare `Exception`), the caller
    gets an `InvalidWorkflowState` naming the element, and can roll back just that step."""
    try:
        yield
    except _ANSWERS:
        raise
    except InvalidWorkflowState:
        raise
    except BaseException as exc:  # noqa: BLE001 - diagram code must never take the process down
        element, message = incidents.describe(exc)
        raise InvalidWorkflowState(message, element) from exc


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (email and roles in the organisation) or the system."""

    identity: str
    organisation: str | None = None  # slug; None for the system
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls) -> Actor:
        return cls(SYSTEM)

    @property
    def is_system(self) -> bool:
        return self.identity == SYSTEM


# Adds rows that belong to a new complaint (its documents) in the intake's transaction.
RowsHook = Callable[[Session, Instance], None]


@dataclass(frozen=True)
class Started:
    instance_id: int
    reference: str
    incident: bool = False  # the procedure failed at intake: stored, and open for staff as an incident


@dataclass(frozen=True)
class SweepResult:
    instances: int = 0
    timers: int = 0
    errors: int = 0


class Runtime:
    def __init__(self, sessions: sessionmaker[Session], organisations: dict[str, OrganisationConfig],
                 forms: FormCatalog | None = None) -> None:
        self.sessions = sessions
        bind = sessions.kw["bind"]
        self.write_sessions = sessionmaker(writer_engine(bind), expire_on_commit=False)
        self.dialect = bind.dialect.name
        self.organisations = organisations
        self.forms = forms or FormCatalog()
        self.specs = SpecCache()
        self._org_ids: dict[str, int] = {}
        self._org_slugs: dict[int, str] = {}
        self.portal = portal_links.PortalSettings.from_env()

    # -- organisations and diagrams ------------------------------------------------------

    def organisation(self, slug: str) -> OrganisationConfig:
        try:
            return self.organisations[slug]
        except KeyError:
            raise NotFound(f"unknown organisation '{slug}'") from None

    def organisation_id(self, slug: str) -> int:
        if slug not in self._org_ids:
            with self.sessions() as session:
                org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
            if org_id is None:
                raise NotFound(f"organisation '{slug}' is not in the database (run `klachtroute load`)")
            self._org_ids[slug], self._org_slugs[org_id] = org_id, slug
        return self._org_ids[slug]

    def ensure_organisations(self) -> None:
        """Create the organisation rows that are configured but not yet stored."""
        with self.write_sessions.begin() as session:
            known = set(session.scalars(select(Organisation.slug)))
            for config in self.organisations.values():
                if config.slug not in known:
                    session.add(Organisation(slug=config.slug, name=config.name, created_at=clock.now()))

    def validate_diagram(self, slug: str, xml: str, dependencies: dict[str, str] | None = None) -> ParsedDiagram:
        config = self.organisation(slug)
        return parse_diagram(xml, config.process_file, config.process_id, dependencies)

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
        with self.write_sessions.begin() as session:
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

    def current_version_id(self, slug: str) -> int:
        org_id = self.organisation_id(slug)
        with self.sessions() as session:
            version_id = session.scalar(select(DiagramVersion.id).where(DiagramVersion.organisation_id == org_id)
                                        .order_by(DiagramVersion.version.desc()).limit(1))
        if version_id is None:
            raise NotFound(f"organisation '{slug}' has no deployed diagram")
        return version_id

    def diagram(self, version_id: int, session: Session | None = None) -> ParsedDiagram:
        def load() -> ParsedDiagram:
            def read(s: Session) -> ParsedDiagram:
                version = s.get(DiagramVersion, version_id)
                if version is None:
                    raise NotFound(f"diagram version {version_id} does not exist")
                slug = self._slug_for(s, version.organisation_id)
                config = self.organisation(slug)
                return parse_diagram(version.bpmn_xml, config.process_file, version.process_id,
                                     version.dependencies)
            if session is not None:
                return read(session)
            with self.sessions() as s:
                return read(s)
        return self.specs.get(version_id, load)

    def _slug_for(self, session: Session, org_id: int) -> str:
        if org_id not in self._org_slugs:
            slug = session.scalar(select(Organisation.slug).where(Organisation.id == org_id))
            self._org_ids[slug], self._org_slugs[org_id] = org_id, slug
        return self._org_slugs[org_id]

    # -- starting ------------------------------------------------------------------------

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
        actor = actor or Actor.system()
        config = self.organisation(slug)
        org_id = self.organisation_id(slug)
        version_id = self.current_version_id(slug)
        diagram = self.diagram(version_id)
        now = clock.now()
        received_at = received_at or now
        if received_at > now:
            raise ConflictError("het moment van ontvangst kan niet in de toekomst liggen")
        with self.write_sessions.begin() as session:
            reference = self._next_reference(session, config, org_id, now)
            data = {**data, "referentie": reference, "ontvangen_op": received_at.isoformat(),
                    "ontvangen_op_datum": long_date(received_at)}
            kanaal = data.get("kanaal")
            instance = Instance(
                organisation_id=org_id, diagram_version_id=version_id, reference=reference,
                status="running", state="", next_wakeup_at=None, complaint_type=complaint_type,
                location=location, created_at=now, received_at=received_at,
                channel=kanaal[:20] if isinstance(kanaal, str) and kanaal else None)
            session.add(instance)
            session.flush()
            received = StepRecorder(config, reference, actor.identity)
            received.record("complaint_received", {"type": complaint_type, "location": location,
                                                   "diagram_version_id": version_id})
            self._write_records(session, [(instance, received)], now)
            if with_rows is not None:
                with_rows(session, instance)
            failure = self._run_start(session, instance, diagram, config, data, actor.identity)
            if failure is not None:
                instance.start_data = data
                incidents.open_or_repeat(session, instance, "intake", failure, now, actor.identity)
            return Started(instance.id, reference, incident=failure is not None)

    def _run_start(self, session: Session, instance: Instance, diagram: ParsedDiagram,
                   config: OrganisationConfig, data: dict[str, Any], actor: str) -> InvalidWorkflowState | None:
        """Start the workflow of a stored complaint in a savepoint; the failure, if any."""
        try:
            with session.begin_nested():
                recorder = StepRecorder(config, instance.reference, actor)
                with contained():
                    loaded = LoadedWorkflow.new(diagram, config, data)
                    loaded.run(recorder)
                    self._persist(session, instance, loaded, recorder)
        except STEP_FAILURES as exc:
            return exc
        return None

    def _next_reference(self, session: Session, config: OrganisationConfig, org_id: int, now: datetime) -> str:
        year = clock.to_local(now).year
        insert_fn = pg_insert if self.dialect == "postgresql" else sqlite_insert
        session.execute(insert_fn(ReferenceCounter).values(organisation_id=org_id, year=year, last_value=0)
                        .on_conflict_do_nothing())
        value = session.execute(
            update(ReferenceCounter)
            .where(ReferenceCounter.organisation_id == org_id, ReferenceCounter.year == year)
            .values(last_value=ReferenceCounter.last_value + 1)
            .returning(ReferenceCounter.last_value)).scalar_one()
        return f"{config.reference_prefix}-{year}-{value:04d}"

    # -- acting on a complaint -----------------------------------------------------------

    def _load_for_update(self, session: Session, instance_id: int) -> tuple[Instance, LoadedWorkflow]:
        # On PostgreSQL the row lock makes a second writer wait and then see the new state;
        # SQLite's BEGIN IMMEDIATE does the same. The lock_version check stays as a safety net.
        instance = session.get(Instance, instance_id, with_for_update=self.dialect == "postgresql")
        if instance is None:
            raise NotFound(f"complaint {instance_id} does not exist")
        return instance, self._restore(session, instance)

    def _restore(self, session: Session, instance: Instance) -> LoadedWorkflow:
        config = self.organisation(self._slug_for(session, instance.organisation_id))
        diagram = self.diagram(instance.diagram_version_id, session)
        return LoadedWorkflow(load_state(instance.state, diagram), diagram, config)

    def load(self, instance_id: int) -> LoadedWorkflow:
        """A read-only view of a complaint's workflow (changes to it are not saved)."""
        with self.sessions() as session:
            instance = session.get(Instance, instance_id)
            if instance is None:
                raise NotFound(f"complaint {instance_id} does not exist")
            return self._restore(session, instance)

    def complete_task(self, instance_id: int, task_id: str, actor: Actor, data: dict[str, Any],
                      expected_lock_version: int | None = None) -> None:
        """Complete a ready user task with form data, as `actor`, and run the engine on."""
        try:
            with self.write_sessions.begin() as session:
                instance, loaded = self._load_for_update(session, instance_id)
                if expected_lock_version is not None and instance.lock_version != expected_lock_version:
                    raise ConflictError("deze klacht is intussen gewijzigd; laad de pagina opnieuw")
                config = loaded.organisation
                self._check_organisation(actor, config)
                ready = {t.task_id: t for t in loaded.ready_tasks()}
                task = ready.get(task_id)
                if task is None:
                    raise ConflictError("deze taak is niet meer open: een collega of een termijn was u voor")
                role = config.role_for_lane(task.lane)
                if not actor.is_system and (role is None or role not in actor.roles):
                    raise PermissionDenied(f"voor deze taak is de rol '{role}' nodig")
                if task.form:
                    self.forms.validate(task.form, data)
                recorder = StepRecorder(config, instance.reference, actor.identity)
                recorder.record("task_completed", self._summary(task.form, data), bpmn_id=task.bpmn_id,
                                bpmn_name=task.name)
                with contained():
                    loaded.complete(task_id, data, recorder)
                    self._persist(session, instance, loaded, recorder, completed=(task_id, actor.identity))
        except StaleDataError as exc:
            raise ConflictError("deze klacht is tegelijk door iemand anders gewijzigd; er is niets opgeslagen") from exc
        except InvalidWorkflowState as exc:
            self._record_failure(instance_id, "task", exc, actor.identity)
            raise

    def send_message(self, instance_id: int, name: str, payload: dict[str, Any], actor: Actor,
                     with_rows: RowsHook | None = None) -> None:
        """Deliver a message from outside (the complainant withdraws, answers, ...).
        `with_rows(session, instance)` adds rows that come with it (the documents of an answer)
        in the step's transaction: the message and its documents are stored together or not at all."""
        try:
            with self.write_sessions.begin() as session:
                instance, loaded = self._load_for_update(session, instance_id)
                self._check_organisation(actor, loaded.organisation)
                if instance.status != "running":
                    # An event subprocess would still catch it: a closed complaint takes no messages.
                    raise ConflictError(f"deze klacht is afgesloten en wacht niet op het bericht '{name}'")
                recorder = StepRecorder(loaded.organisation, instance.reference, actor.identity)
                recorder.record("message_received", {"message": name})
                if with_rows is not None:
                    with_rows(session, instance)
                with contained():
                    loaded.send_message(name, payload, recorder)
                    self._persist(session, instance, loaded, recorder)
        except StaleDataError as exc:
            raise ConflictError("deze klacht is tegelijk door iemand anders gewijzigd; er is niets opgeslagen") from exc
        except InvalidWorkflowState as exc:
            self._record_failure(instance_id, "message", exc, actor.identity)
            raise

    def _record_failure(self, instance_id: int, kind: str, exc: BaseException, actor: str) -> None:
        """After a rolled-back step: the complaint is in incident, in a transaction of its own."""
        with self.write_sessions.begin() as session:
            instance = session.get(Instance, instance_id, with_for_update=self.dialect == "postgresql")
            if instance is not None:
                incidents.open_or_repeat(session, instance, kind, exc, clock.now(), actor)

    def assign_task(self, human_task_id: int, actor: Actor, assignee: tuple[int, str] | None) -> None:
        """Claim a task (assignee = the actor), release it (None), or hand it to a colleague
        of the same role (assignee = (user id, email)). Recorded in the audit trail."""
        with self.write_sessions.begin() as session:
            row = self._open_task_for(session, human_task_id, actor)
            if assignee is None:
                event, data = "task_released", {}
            elif assignee[1] == actor.identity:
                event, data = "task_claimed", {}
            else:
                event, data = "task_handed_over", {"to": assignee[1]}
            row.claimed_by = assignee[0] if assignee else None
            audit.append(session, [{"organisation_id": row.organisation_id, "instance_id": row.instance_id,
                                    "occurred_at": clock.now(), "actor": actor.identity, "event_type": event,
                                    "bpmn_id": row.bpmn_id, "bpmn_name": row.name, "data": data}])

    def save_draft(self, human_task_id: int, actor: Actor, draft: dict[str, Any]) -> None:
        with self.write_sessions.begin() as session:
            self._open_task_for(session, human_task_id, actor).draft = draft

    def _open_task_for(self, session: Session, human_task_id: int, actor: Actor) -> HumanTask:
        """A ready inbox task of the actor's organisation that the actor's roles may work, locked."""
        row = session.get(HumanTask, human_task_id, with_for_update=self.dialect == "postgresql")
        if row is None or self._slug_for(session, row.organisation_id) != actor.organisation:
            raise NotFound("deze taak bestaat niet")
        if row.state != "ready":
            raise ConflictError("deze taak is niet meer open: een collega of een termijn was u voor")
        if row.role not in actor.roles:
            raise PermissionDenied(f"voor deze taak is de rol '{row.role}' nodig")
        return row

    def _check_organisation(self, actor: Actor, config: OrganisationConfig) -> None:
        if not actor.is_system and actor.organisation != config.slug:
            raise NotFound("deze klacht bestaat niet")

    def _summary(self, form: str | None, data: dict[str, Any]) -> dict[str, Any]:
        """What the audit keeps of submitted data: the fields, and the decisions (yes/no,
        choices, numbers), never free text, which is personal data."""
        enum_fields: set[str] = set()
        if form:
            props = self.forms.validator(form).schema.get("properties", {})  # cached: no file read per step
            enum_fields = {k for k, v in props.items() if "enum" in v or "oneOf" in v}
        decisions = {k: v for k, v in data.items()
                     if isinstance(v, bool | int | float) or (k in enum_fields and isinstance(v, str))}
        return {"fields": sorted(data), "decisions": decisions}

    # -- timers --------------------------------------------------------------------------

    def fire_due_timers(self, limit: int = 100) -> SweepResult:
        """Fire the timers of up to `limit` instances that are due, in one transaction.
        On PostgreSQL the rows are locked with SKIP LOCKED, so workers share the work.

        Each complaint runs in a savepoint of its own: whatever one complaint's diagram
        raises rolls back that complaint's step only, puts it in incident (retried with
        backoff), and the others of the batch are written as usual."""
        now = clock.now()
        fired = errors = 0
        with self.write_sessions.begin() as session:
            # Strictly before now, as SpiffWorkflow fires a timer only once its moment has passed.
            query = (select(Instance).where(Instance.next_wakeup_at < now)
                     .order_by(Instance.next_wakeup_at).limit(limit))
            if self.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            instances = session.scalars(query).all()
            if not instances:
                return SweepResult()
            # One query and one insert per batch, not per complaint.
            open_rows = self._open_tasks(session, [i.id for i in instances])
            done: list[tuple[Instance, StepRecorder]] = []
            for instance in instances:
                try:
                    with session.begin_nested(), contained():
                        recorder, count = self._step_again(session, instance, SYSTEM, open_rows.get(instance.id, {}))
                    fired += count
                except STEP_FAILURES as exc:
                    errors += 1
                    incidents.open_or_repeat(session, instance, instance.incident_kind or "timer", exc, now, SYSTEM)
                    continue
                done.append((instance, recorder))
            self._write_records(session, done, now)
        return SweepResult(len(instances), fired, errors)

    def _step_again(self, session: Session, instance: Instance, actor: str,
                    open_rows: dict[str, HumanTask]) -> tuple[StepRecorder, int]:
        """Fire a complaint's due timers and run its engine on; for a complaint stored at a
        failed intake, start its procedure from the stored data. (recorder, timers fired)"""
        if instance.state:
            loaded = self._restore(session, instance)
            recorder = StepRecorder(loaded.organisation, instance.reference, actor)
            fired = loaded.fire_timers(recorder)
        else:
            config = self.organisation(self._slug_for(session, instance.organisation_id))
            diagram = self.diagram(instance.diagram_version_id, session)
            recorder = StepRecorder(config, instance.reference, actor)
            loaded = LoadedWorkflow.new(diagram, config, dict(instance.start_data or {}))
            loaded.run(recorder)
            fired = 0
        self._apply(session, instance, loaded, recorder, open_rows)
        return recorder, fired

    def _locked_instance(self, session: Session, instance_id: int, actor: Actor) -> Instance:
        """The complaint, locked for this step, if the actor's organisation holds it; else NotFound."""
        instance = session.get(Instance, instance_id, with_for_update=self.dialect == "postgresql")
        if instance is None or (not actor.is_system
                                and self._slug_for(session, instance.organisation_id) != actor.organisation):
            raise NotFound("deze klacht bestaat niet")
        return instance

    def retry_incident(self, instance_id: int, actor: Actor) -> bool:
        """Staff's "retry now": run the complaint's failed step again (its intake, or its due
        timers and waiting engine steps). True when it went through; otherwise the incident
        stays, with one more attempt counted."""
        now = clock.now()
        with self.write_sessions.begin() as session:
            instance = self._locked_instance(session, instance_id, actor)
            if instance.incident_since is None:
                raise ConflictError("deze klacht heeft geen storing (meer)")
            try:
                with session.begin_nested(), contained():
                    recorder, _ = self._step_again(session, instance, actor.identity,
                                                   self._open_tasks(session, [instance.id])[instance.id])
            except STEP_FAILURES as exc:
                incidents.open_or_repeat(session, instance, instance.incident_kind or "timer", exc, now,
                                         actor.identity)
                return False
            self._write_records(session, [(instance, recorder)], now)
            return True

    def move_intake_incident(self, instance_id: int, version_id: int, actor: Actor) -> bool:
        """A complaint stored at a failed intake starts afresh on another diagram version of
        its organisation (a fixed one). True when its procedure now runs."""
        with self.write_sessions.begin() as session:
            instance = self._locked_instance(session, instance_id, actor)
            version = session.get(DiagramVersion, version_id)
            if version is None or version.organisation_id != instance.organisation_id:
                raise NotFound("deze versie van het procesontwerp bestaat niet")
            if instance.state or instance.incident_since is None:
                raise ConflictError("alleen een klacht waarvan de registratie mislukte kan zo opnieuw beginnen")
            audit.append(session, [{"organisation_id": instance.organisation_id, "instance_id": instance.id,
                                    "occurred_at": clock.now(), "actor": actor.identity,
                                    "event_type": "migrated",
                                    "data": {"from_version": session.get(DiagramVersion,
                                                                         instance.diagram_version_id).version,
                                             "to_version": version.version}}])
            instance.diagram_version_id = version_id
        return self.retry_incident(instance_id, actor)

    def cancel_complaint(self, instance_id: int, actor: Actor, reason: str) -> None:
        """Close a complaint that cannot go on (staff, with a reason; audited). Its open tasks
        are cancelled and its timers stop."""
        reason = (reason or "").strip()
        if not reason:
            raise ConflictError("geef een reden op voor het afbreken van deze klacht")
        now = clock.now()
        with self.write_sessions.begin() as session:
            instance = self._locked_instance(session, instance_id, actor)
            if instance.status != "running":
                raise ConflictError("deze klacht is al afgesloten")
            for row in self._open_tasks(session, [instance.id])[instance.id].values():
                row.state = "cancelled"
            events = []
            if instance.incident_since is not None:
                events.append(incidents.resolved_event(instance, now, actor.identity))
            events.append({"organisation_id": instance.organisation_id, "instance_id": instance.id,
                           "occurred_at": now, "actor": actor.identity, "event_type": "complaint_cancelled",
                           "data": {"reason": reason[:500]}})
            audit.append(session, events)
            incidents.clear(instance)
            instance.status, instance.closed_at, instance.next_wakeup_at = "cancelled", now, None

    def next_wakeup_at(self) -> datetime | None:
        """The earliest moment any timer is due (an index-only look-up)."""
        with self.sessions() as session:
            return session.scalar(select(func.min(Instance.next_wakeup_at)))

    # -- persistence ---------------------------------------------------------------------

    def _persist(self, session: Session, instance: Instance, loaded: LoadedWorkflow, recorder: StepRecorder,
                 completed: tuple[str, str] | None = None) -> None:
        open_rows = self._open_tasks(session, [instance.id]).get(instance.id, {})
        self._apply(session, instance, loaded, recorder, open_rows, completed)
        self._write_records(session, [(instance, recorder)], clock.now())
        session.flush()

    def _open_tasks(self, session: Session, instance_ids: list[int]) -> dict[int, dict[str, HumanTask]]:
        rows: dict[int, dict[str, HumanTask]] = {i: {} for i in instance_ids}
        for row in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids),
                                                           HumanTask.state == "ready")):
            rows[row.instance_id][row.task_id] = row
        return rows

    def _apply(self, session: Session, instance: Instance, loaded: LoadedWorkflow, recorder: StepRecorder,
               open_rows: dict[str, HumanTask], completed: tuple[str, str] | None = None) -> None:
        """Bring the instance row and its human tasks in line with the workflow. Everything that
        can fail is computed before any row changes, so a failure leaves the rows as they were."""
        now = clock.now()
        state = dump_state(loaded.workflow)
        wakeup = None if loaded.completed else loaded.next_wakeup()
        ready = loaded.ready_tasks()
        instance.state = state
        instance.next_wakeup_at = wakeup
        if instance.incident_since is not None:
            recorder.record("incident_resolved", {"kind": instance.incident_kind,
                                                  "attempts": instance.incident_attempts},
                            bpmn_id=instance.incident_element)
        incidents.clear(instance)
        self._sync_human_tasks(session, instance, ready, open_rows, recorder, completed, now)
        if loaded.completed and instance.status == "running":
            # After the task sync, so a trace ends with its closing, not with a cancelled task.
            instance.status = "completed"
            instance.closed_at = now
            recorder.record("process_completed", {}, actor=SYSTEM)

    def _sync_human_tasks(self, session: Session, instance: Instance, ready: Iterable[ReadyTask],
                          open_rows: dict[str, HumanTask], recorder: StepRecorder,
                          completed: tuple[str, str] | None, now: datetime) -> None:
        config = recorder.organisation
        ready_by_id = {t.task_id: t for t in ready}
        for task_id, row in open_rows.items():
            if task_id in ready_by_id:
                continue
            if completed and completed[0] == task_id:
                row.state, row.completed_by, row.completed_at = "completed", completed[1], now
            else:
                row.state = "cancelled"
                recorder.record("task_cancelled", {}, bpmn_id=row.bpmn_id, bpmn_name=row.name, actor=SYSTEM)
        for task_id, task in ready_by_id.items():
            if task_id in open_rows:
                if open_rows[task_id].due_at != task.due_at:
                    open_rows[task_id].due_at = task.due_at
                continue
            role = config.role_for_lane(task.lane)
            session.add(HumanTask(  # names cut to their columns: a diagram may hold longer ones
                instance_id=instance.id, organisation_id=instance.organisation_id, task_id=task_id,
                bpmn_id=task.bpmn_id[:200], name=task.name[:300], lane=task.lane and task.lane[:200],
                role=role and role[:64], form=task.form and task.form[:200],
                due_at=task.due_at, state="ready", created_at=now))
            if role:
                recorder.staff_notices.append(notifications.task_arrived(
                    instance.organisation_id, instance.id, instance.reference, role, task.name, task.due_at, now,
                    task_id=task_id))
            recorder.record("task_ready", {"role": role, "due_at": task.due_at.isoformat() if task.due_at else None},
                            bpmn_id=task.bpmn_id, bpmn_name=task.name, actor=SYSTEM)

    def _write_records(self, session: Session, steps: list[tuple[Instance, StepRecorder]], now: datetime) -> None:
        events = [{"organisation_id": inst.organisation_id, "instance_id": inst.id, "occurred_at": a.occurred_at,
                  "actor": a.actor, "event_type": a.event_type, "bpmn_id": a.bpmn_id, "bpmn_name": a.bpmn_name,
                  "data": a.data} for inst, rec in steps for a in rec.audit]
        outbox = [{"organisation_id": inst.organisation_id, "instance_id": inst.id, "kind": m.kind,
                   "template": m.template, "recipient": m.recipient, "subject": m.subject, "body": m.body,
                   "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
                  for inst, rec in steps for m in rec.outbox]
        if events:
            audit.append(session, events)
        # A letter to the complainant gets its personal link here, in the step's transaction.
        portal_links.mint_for_outbox(session, self.portal, outbox, now)
        outbox += [notice for _, rec in steps for notice in rec.staff_notices]
        if outbox:
            session.connection().execute(OutboxMessage.__table__.insert(), outbox)
        measures.write(session, [(inst, m) for inst, rec in steps for m in rec.measures], now)
        for _, rec in steps:
            rec.measures.clear()
            rec.audit.clear()
            rec.outbox.clear()
            rec.staff_notices.clear()

__all__ = ["Actor", "Runtime", "Started", "SweepResult", "FormValidationError"]

"""The tables of Klachtroute. Times are UTC (see `UTCDateTime`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Part of every session's identity: logout and a password change raise it, which ends
    # every session issued before (see webapp.web.auth).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Two-factor sign-in (TOTP): the secret, sealed with the app's key (webapp.sealing); set at
    # enrolment, never shown again. totp_last_step: the last time step accepted (no code twice).
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # A platform administrator stands above the organisations: creates them from a template and
    # invites their first process owner. Opens no complaint.
    platform_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan")


class UserRole(Base):
    """A role a user holds in one organisation (a lane's role, `procesbeheerder`, `auditor`)."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(64))
    # The locations this role covers (need-to-know, see webapp.web.queries): null covers all.
    locations: Mapped[list[str] | None] = mapped_column(JSON)

    user: Mapped[User] = relationship(back_populates="roles")


class DiagramVersion(Base):
    __tablename__ = "diagram_versions"
    __table_args__ = (UniqueConstraint("organisation_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    version: Mapped[int]
    process_id: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    # Called processes (shared letters, external committee): {filename: xml}.
    dependencies: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sha256: Mapped[str] = mapped_column(String(64))
    deployed_by: Mapped[str] = mapped_column(String(254))
    deployed_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    # What changed against the previous version: {"added": [...], "removed": [...], "changed": [...], ...}
    # (see webapp.runtime.deploy.compare_diagrams); null for versions stored by `klachtroute load`.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The rest of the procedure package: {"organisation.yaml": ..., "forms/x.json": ..., "letters/y.txt": ...,
    # "scenarios/z.yaml": ...} (see webapp.runtime.packages). Immutable once published.
    files: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReferenceCounter(Base):
    """Hands out complaint reference numbers per organisation and year (SAMEN-2026-0001)."""

    __tablename__ = "reference_counters"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Instance(Base):
    """One complaint: a running (or finished) workflow of its organisation's diagram."""

    __tablename__ = "instances"
    __table_args__ = (Index("ix_instances_org_status", "organisation_id", "status"),
                      Index("ix_instances_org_incident", "organisation_id", "incident_since"),
                      Index("ix_instances_org_created", "organisation_id", "created_at"))  # reports: a period

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    diagram_version_id: Mapped[int] = mapped_column(ForeignKey("diagram_versions.id"))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # running, completed, cancelled
    # SpiffWorkflow state without its spec (the spec comes from the diagram version).
    state: Mapped[str] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(default=1)
    next_wakeup_at: Mapped[datetime | None] = mapped_column(index=True)
    complaint_type: Mapped[str | None] = mapped_column(String(40))
    location: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]  # when it was registered here (the form, the API, a colleague)
    # When the organisation actually received it (a phone call three days before it was registered):
    # the diagram's `ontvangen_op`, from which every deadline counts.
    received_at: Mapped[datetime | None]  # always set (null only in theory: see migration 0010)
    channel: Mapped[str | None] = mapped_column(String(20))  # website, telefoon, email, brief, ...
    # Registered more than a working day after it was received (see webapp.registration).
    registered_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closed_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]  # personal data removed under the retention period
    last_error: Mapped[str | None] = mapped_column(Text)
    # An incident: a step of this complaint failed and was rolled back (see runtime.incidents).
    # kind: intake (the procedure never started), timer, task or message; the message is last_error.
    incident_kind: Mapped[str | None] = mapped_column(String(20))
    incident_element: Mapped[str | None] = mapped_column(String(200))
    incident_since: Mapped[datetime | None]
    incident_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # The submitted data of a complaint whose procedure failed at intake, kept to start it on retry.
    start_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """A user task as the inbox sees it, kept in step with the workflow state."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        Index("ix_human_tasks_org_state_role", "organisation_id", "state", "role"),
        Index("ix_human_tasks_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    task_id: Mapped[str] = mapped_column(String(36))  # SpiffWorkflow task UUID
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None]
    due_soon_notified_at: Mapped[datetime | None]  # when the holders of the role were warned
    overdue_notified_at: Mapped[datetime | None]  # when the overseer was told it passed unmet
    state: Mapped[str] = mapped_column(String(20))  # ready, completed, cancelled
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    completed_by: Mapped[str | None] = mapped_column(String(254))
    completed_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Append-only history: who did what, when, on which BPMN element."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_time", "organisation_id", "occurred_at"),
        UniqueConstraint("organisation_id", "seq", name="uq_audit_events_org_seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(254))  # a user's email, or "system"
    event_type: Mapped[str] = mapped_column(String(40))
    bpmn_id: Mapped[str | None] = mapped_column(String(200))
    bpmn_name: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The hash chain (see webapp.runtime.audit).
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last link of an organisation's audit chain; locked while events are appended."""

    __tablename__ = "audit_chain_heads"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """A letter or notification written in the step's transaction, sent later by the worker."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # letter, notification
    template: Mapped[str | None] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(254))  # an address, or "role:<role>"
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, sent, held, failed
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A personal API token; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)


class DiagramDraft(Base):
    """A diagram a process owner is working on: saved (even incomplete), not yet deployed."""

    __tablename__ = "diagram_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    # Called processes: {filename: xml}, as on DiagramVersion.
    dependencies: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The version that was current when the draft was first saved (null before any deploy).
    based_on_version_id: Mapped[int | None] = mapped_column(ForeignKey("diagram_versions.id"))
    saved_by: Mapped[str] = mapped_column(String(254))
    saved_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    # The draft's forms, letters, settings and scenarios (as DiagramVersion.files), edited freely.
    files: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ThrottleCounter(Base):
    """Attempts of one kind from one source in a fixed window (failed logins per account or
    address, submitted complaints per address or organisation); shared by every web process.
    The key is a hash, so no address or email is stored."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Document(Base):
    """A file kept with a complaint (a letter, a photo, a saved email), stored in the database in
    the transaction of the step that brought it; purged with the complaint's personal data."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))  # as sniffed from the content
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    added_by: Mapped[str] = mapped_column(String(254))  # an email, or "klager (webformulier)"
    added_at: Mapped[datetime]
    # Which side brought it (klager, organisatie), and M.O.S.'s mark: not shared with the other
    # side, so it plays no part in the oordeel.
    side: Mapped[str] = mapped_column(String(20), default="organisatie")
    not_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AccountToken(Base):
    """A one-time link sent by email: an invitation to an organisation (with the roles it gives)
    or a password reset. Only the token's sha256 is stored; used_at is set when it is used."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # invitation, reset
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Invitations: {role: [locations]} ([] covers all locations).
    roles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class OrganisationSettings(Base):
    """What an organisation's functioneel beheerder sets: two-factor sign-in, and sign-in with
    the organisation's own OpenID Connect provider."""

    __tablename__ = "organisation_settings"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    two_factor_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    oidc_name: Mapped[str | None] = mapped_column(String(100))  # shown: "Inloggen met <name>"
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_client_id: Mapped[str | None] = mapped_column(String(300))
    oidc_client_secret: Mapped[str | None] = mapped_column(String(1000))  # sealed (webapp.sealing)
    oidc_groups_claim: Mapped[str | None] = mapped_column(String(100))
    # {group as the provider names it: [roles]}
    oidc_role_map: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime | None]


class AccessLogEntry(Base):
    """Someone opened a complaint's personal data (complaint page, task page, trace, API);
    read by the auditor on Inzage (AVG: who saw what, when)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_org_time", "organisation_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))
    view: Mapped[str] = mapped_column(String(40))  # klacht, taak, spoor, api-klacht, api-taak
    occurred_at: Mapped[datetime]


class PortalLink(Base):
    """A complainant's personal link to their complaint's page (/mijn-klacht/<token>): only the
    token's sha256 is stored. Valid while the complaint is open and a set time after it closes,
    unless revoked by staff (then the next letter carries a new link) or past `expires_at`."""

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]  # an end of its own; otherwise the complaint's closing decides
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(254))


class PortalCode(Base):
    """A one-time code mailed to the complainant to confirm an action with consequences
    (withdrawing, escalating); stored as an HMAC, valid 15 minutes, at most 5 tries."""

    __tablename__ = "portal_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(String(100))  # the message it confirms
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what the complainant wrote, until used
    code_hash: Mapped[str] = mapped_column(String(64))
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)  # the mail that carried it, scrubbed after use
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class Measure(Base):
    """A measure agreed in a complaint (the oordeel, the agreements, mediation, an external
    committee's outcome) or an organisation-wide improvement, followed up at its promised date.
    status: open, gerealiseerd, uitgesteld, vervallen (see webapp.runtime.measures)."""

    __tablename__ = "measures"
    __table_args__ = (Index("ix_measures_org_status", "organisation_id", "status"),
                      Index("ix_measures_status_due", "status", "due_on"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # The complaint it was agreed in; null for an organisation-wide improvement (see MeasureComplaint).
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    scope: Mapped[str] = mapped_column(String(20), default="klacht")  # klacht, organisatie
    description: Mapped[str] = mapped_column(Text)
    responsible_role: Mapped[str | None] = mapped_column(String(64))
    responsible_person: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date]  # the promised date
    status: Mapped[str] = mapped_column(String(20), default="open")
    source: Mapped[str | None] = mapped_column(String(200))  # the BPMN element that recorded it
    feedback_letter: Mapped[bool] = mapped_column(default=False)  # the complainant hears of its realisation
    # When the follow-up task "Maatregel gerealiseerd?" arrived; null while it has not (yet).
    follow_up_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)  # what was done, or why it moved or lapsed
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(254))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(254))


class MeasureComplaint(Base):
    """The complaints that led to a measure (an organisation-wide improvement may have several)."""

    __tablename__ = "measure_complaints"

    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), primary_key=True, index=True)


class PublishedReport(Base):
    """A report prepared, reviewed and released by the quality officer: a stored snapshot of the
    anonymised figures, never recomputed. kind: jaarverslag (public), kwartaal/jaar-or (Kwartier's
    reports to the OR and the management team, for staff only). period: "2026" or "2026-K1"."""

    __tablename__ = "published_reports"
    __table_args__ = (UniqueConstraint("organisation_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(10))
    year: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    prepared_at: Mapped[datetime]
    prepared_by: Mapped[str] = mapped_column(String(254))
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(254))
    ggd_sent_on: Mapped[date | None]  # "Verzonden aan de GGD op <datum>"
    ggd_recorded_by: Mapped[str | None] = mapped_column(String(254))


class ReportReminder(Base):
    """The yearly reminder (before 1 June) of the previous year's report, sent once."""

    __tablename__ = "report_reminders"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)  # the report's year
    sent_at: Mapped[datetime]

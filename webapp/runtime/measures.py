"""The register of measures: what a complaint's procedure agreed (the record_measure operator,
written in the step's own transaction) and the organisation-wide improvements staff add, each
followed up at its promised date.

Follow-up: on the promised date (Europe/Amsterdam) the worker raises the task "Maatregel
gerealiseerd?" for the responsible role (a notification through the outbox, the task on
/<org>/maatregelen). Its three answers: realised (with what was done; the complainant gets a
letter where the procedure promised feedback), a new date with a reason (status uitgesteld, a
new task at that date), or dropped with a reason (vervallen). A measure whose date has passed
while it is open or postponed is overdue: first on the quality officer's overview.

Why not a BPMN process per measure: an instance is a complaint everywhere (its reference, the
complaint lists, the reports, retention, the API), so a follow-up instance would have to be
filtered out of all of them; a measure row carries its own single deadline instead."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.dutch import long_date
from webapp import clock
from webapp.db.models import Instance, Measure, MeasureComplaint, Organisation, OutboxMessage
from webapp.vocabulary import EventType, MeasureStatus

from . import audit
from .errors import ConflictError, KlachtrouteError, NotFound, PermissionDenied

if TYPE_CHECKING:
    from .service import Runtime

OPEN_STATES = (MeasureStatus.OPEN, MeasureStatus.POSTPONED)
FOLLOW_UP_TASK = "Maatregel gerealiseerd?"
FEEDBACK_LETTER = "maatregel_gerealiseerd"
MAX_TEXT = 5000


class MeasureInputError(KlachtrouteError):
    """A Dutch message about one field of a measure's form."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def today() -> date:
    return clock.to_local(clock.now()).date()


def is_overdue(measure: Measure, on: date | None = None) -> bool:
    return measure.status in OPEN_STATES and measure.due_on < (on or today())


def task_open(measure: Measure) -> bool:
    """Whether "Maatregel gerealiseerd?" waits for an answer."""
    return measure.status in OPEN_STATES and measure.follow_up_at is not None


def _outbox(org_id: int, instance_id: int | None, kind: str, template: str, recipient: str, subject: str,
            body: str, now: datetime) -> dict[str, Any]:
    return {"organisation_id": org_id, "instance_id": instance_id, "kind": kind, "template": template,
            "recipient": recipient, "subject": subject[:300], "body": body, "status": "pending", "attempts": 0,
            "created_at": now, "next_attempt_at": now}


# -- recording -------------------------------------------------------------------------------------


def write(session: Session, rows: Iterable[tuple[Instance, dict[str, Any]]], now: datetime) -> None:
    """The measures a step recorded, with the complaint that led to them (the runtime calls this
    in the step's transaction, beside the audit events and the outbox)."""
    for instance, values in rows:
        measure = Measure(organisation_id=instance.organisation_id, instance_id=instance.id,
                          status=MeasureStatus.OPEN, history=[], created_at=now, created_by="system", **values)
        session.add(measure)
        session.flush()
        session.add(MeasureComplaint(measure_id=measure.id, instance_id=instance.id))


@dataclass(frozen=True)
class NewMeasure:
    description: str
    due_on: date
    responsible_role: str
    responsible_person: str | None = None
    location: str | None = None
    references: tuple[str, ...] = ()


def add_improvement(runtime: Runtime, slug: str, new: NewMeasure, actor: str) -> int:
    """An organisation-wide improvement (director with regiomanager or clustermanager, M.O.S.'s
    directeur-bestuurder), linked to the complaints that led to it. Returns its id."""
    config = runtime.organisation(slug)
    description = (new.description or "").strip()
    if not description:
        raise MeasureInputError("omschrijving", "Beschrijf de verbetering.")
    if len(description) > MAX_TEXT:
        raise MeasureInputError("omschrijving", f"De omschrijving is langer dan {MAX_TEXT} tekens.")
    if new.responsible_role not in config.roles:
        raise MeasureInputError("rol", "Kies de verantwoordelijke rol uit de rollen van de organisatie.")
    org_id = runtime.organisation_id(slug)
    now = clock.now()
    with runtime.write_sessions.begin() as session:
        instances = []
        for reference in dict.fromkeys(r.strip() for r in new.references if r.strip()):
            instance = session.scalar(select(Instance).where(Instance.organisation_id == org_id,
                                                             Instance.reference == reference))
            if instance is None:
                raise MeasureInputError("klachten", f"Klacht {reference[:40]} bestaat niet.")
            instances.append(instance)
        measure = Measure(organisation_id=org_id, instance_id=None, scope="organisatie", description=description,
                          responsible_role=new.responsible_role,
                          responsible_person=(new.responsible_person or "").strip()[:200] or None,
                          location=(new.location or "").strip()[:200] or None, due_on=new.due_on,
                          status=MeasureStatus.OPEN, source="organisatiebreed", feedback_letter=False,
                          history=[], created_at=now, created_by=actor)
        session.add(measure)
        session.flush()
        for instance in instances:
            session.add(MeasureComplaint(measure_id=measure.id, instance_id=instance.id))
        audit.append(session, [_event(org_id, instance.id, now, actor, EventType.MEASURE_RECORDED,
                                      {"measure_id": measure.id, "scope": "organisatie"}) for instance in instances])
        return measure.id


def _event(org_id: int, instance_id: int | None, now: datetime, actor: str, event_type: str,
           data: dict[str, Any]) -> dict[str, Any]:
    return {"organisation_id": org_id, "instance_id": instance_id, "occurred_at": now, "actor": actor,
            "event_type": event_type, "bpmn_id": None, "bpmn_name": None, "data": data}


# -- follow-up -------------------------------------------------------------------------------------


def raise_follow_ups(runtime: Runtime, limit: int = 200) -> int:
    """Raise "Maatregel gerealiseerd?" for every open or postponed measure whose promised date
    has come: once per date, announced to the responsible role. Returns how many."""
    now = clock.now()
    with runtime.write_sessions.begin() as session:
        query = (select(Measure, Instance.reference).outerjoin(Instance, Instance.id == Measure.instance_id)
                 .where(Measure.status.in_(OPEN_STATES), Measure.follow_up_at.is_(None),
                        Measure.due_on <= today())
                 .order_by(Measure.due_on, Measure.id).limit(limit))
        if runtime.dialect == "postgresql":
            query = query.with_for_update(of=Measure, skip_locked=True)
        rows = session.execute(query).all()
        messages = []
        for measure, reference in rows:
            measure.follow_up_at = now
            about = f" ({reference})" if reference else ""
            body = (f"De maatregel{about} had uiterlijk {long_date(measure.due_on)} gerealiseerd moeten zijn:\n\n"
                    f"{measure.description}\n\nGeef in Klachtroute onder Maatregelen aan of hij is gerealiseerd, "
                    "een nieuwe datum nodig heeft of vervalt.")
            messages.append(_outbox(measure.organisation_id, measure.instance_id, "notification", "maatregel_opvolgen",
                                    f"role:{measure.responsible_role}", f"{FOLLOW_UP_TASK}{about}", body, now))
        if messages:
            session.execute(OutboxMessage.__table__.insert(), messages)
        return len(rows)


@dataclass(frozen=True)
class Answer:
    status: str  # gerealiseerd, uitgesteld, vervallen
    note: str
    new_date: date | None = None


def _check_answer(answer: Answer) -> str:
    note = (answer.note or "").strip()
    if answer.status not in (MeasureStatus.REALISED, MeasureStatus.POSTPONED, MeasureStatus.DROPPED):
        raise MeasureInputError("uitkomst", "Kies gerealiseerd, een nieuwe datum of vervallen.")
    if not note:
        what = "wat er is gedaan" if answer.status == MeasureStatus.REALISED else "de reden"
        raise MeasureInputError("toelichting", f"Beschrijf {what}.")
    if len(note) > MAX_TEXT:
        raise MeasureInputError("toelichting", f"De toelichting is langer dan {MAX_TEXT} tekens.")
    if answer.status == MeasureStatus.POSTPONED and (answer.new_date is None or answer.new_date <= today()):
        raise MeasureInputError("nieuwe_datum", "Geef een nieuwe datum na vandaag.")
    return note


def answer_follow_up(runtime: Runtime, slug: str, measure_id: int, answer: Answer, actor: str,
                     roles: frozenset[str]) -> Measure:
    """Answer "Maatregel gerealiseerd?" as a holder of the responsible role (or of one of the
    roles the caller lets answer for it, the quality officer's). One answer wins: a second one
    for an answered measure is a conflict."""
    note = _check_answer(answer)
    org_id = runtime.organisation_id(slug)
    now = clock.now()
    with runtime.write_sessions.begin() as session:
        measure = session.get(Measure, measure_id, with_for_update=runtime.dialect == "postgresql")
        if measure is None or measure.organisation_id != org_id:
            raise NotFound("deze maatregel bestaat niet")
        if measure.status not in OPEN_STATES:
            raise ConflictError("deze maatregel is al afgehandeld")
        if measure.responsible_role not in roles:
            raise PermissionDenied(f"voor deze maatregel is de rol '{measure.responsible_role}' nodig")
        entry = {"at": now.isoformat(), "by": actor, "status": str(answer.status), "note": note,
                 "previous_date": measure.due_on.isoformat()}
        if answer.status == MeasureStatus.POSTPONED:
            entry["new_date"] = answer.new_date.isoformat()
            measure.due_on, measure.follow_up_at = answer.new_date, None
        else:
            measure.closed_at, measure.closed_by = now, actor
        measure.status, measure.outcome = str(answer.status), note
        measure.history = [*(measure.history or []), entry]
        links = list(session.scalars(select(MeasureComplaint.instance_id)
                                     .where(MeasureComplaint.measure_id == measure.id)))
        audit.append(session, [_event(org_id, iid, now, actor, EventType.MEASURE_FOLLOWED_UP,
                                      {"measure_id": measure.id, "status": str(answer.status)}) for iid in links])
        if answer.status == MeasureStatus.REALISED and measure.feedback_letter and measure.instance_id:
            _feedback_letter(runtime, session, measure, note, now)
        return measure


def _feedback_letter(runtime: Runtime, session: Session, measure: Measure, note: str, now: datetime) -> None:
    """The complainant hears that the measure promised in the oordeel or the agreements was
    realised (unless their data was removed under the retention period)."""
    instance = session.get(Instance, measure.instance_id)
    if instance is None or instance.purged_at is not None or not instance.state:
        return
    # The letter of the package the complaint runs on.
    config = runtime.registry.config_for_version(instance.diagram_version_id, session)
    data = runtime.work.restore(session, instance).data
    # The package's own wording (an organisation's version of the letter replaced the shared one when its
    # template was imported), under one name whatever the organisation is called.
    template = FEEDBACK_LETTER
    sender = SimpleNamespace(organisation_name=config.name, reference=instance.reference)
    subject, body = config.letters.render(template, {**data, "maatregel": measure.description, "uitvoering": note,
                                             "termijn": measure.due_on.isoformat()}, sender)
    klager = data.get("klager") if isinstance(data.get("klager"), dict) else {}
    recipient = (klager.get("email") or "post")[:254]
    session.execute(OutboxMessage.__table__.insert(), [
        _outbox(instance.organisation_id, instance.id, "letter", template, recipient, subject, body, now)])
    audit.append(session, [_event(instance.organisation_id, instance.id, now, "system", EventType.MESSAGE_SENT,
                                  {"kind": "letter", "to": "klager" if recipient != "post" else "post",
                                   "template": template})])


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureRow:
    measure: Measure
    references: tuple[str, ...]
    overdue: bool
    task_open: bool


def register(runtime: Runtime, slug: str, status: str | None = None, location: str | None = None,
             role: str | None = None) -> list[MeasureRow]:
    """The organisation's measures, overdue first, then by promised date."""
    on = today()
    with runtime.sessions() as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
        if org_id is None:
            return []
        query = select(Measure).where(Measure.organisation_id == org_id)
        if status == "te_laat":
            query = query.where(Measure.status.in_(OPEN_STATES), Measure.due_on < on)
        elif status:
            query = query.where(Measure.status == status)
        if location:
            query = query.where(Measure.location == location)
        if role:
            query = query.where(Measure.responsible_role == role)
        measures = list(session.scalars(query.order_by(Measure.due_on, Measure.id).limit(2000)))
        rows = _rows(session, measures, on)
    return sorted(rows, key=lambda r: (not r.overdue, r.measure.due_on, r.measure.id))


def _rows(session: Session, measures: list[Measure], on: date) -> list[MeasureRow]:
    """The measures with the references of the complaints they are linked to."""
    refs: dict[int, list[str]] = {}
    for mid, reference in session.execute(
            select(MeasureComplaint.measure_id, Instance.reference)
            .join(Instance, Instance.id == MeasureComplaint.instance_id)
            .where(MeasureComplaint.measure_id.in_([m.id for m in measures]))
            .order_by(Instance.reference)):
        refs.setdefault(mid, []).append(reference)
    return [MeasureRow(m, tuple(refs.get(m.id, ())), is_overdue(m, on), task_open(m)) for m in measures]


def waiting_tasks(runtime: Runtime, slug: str, roles: frozenset[str], limit: int = 100) -> list[MeasureRow]:
    """The "Maatregel gerealiseerd?" tasks that wait for these roles, for the inbox: the longest
    overdue first. A task belongs to the responsible role; the responsible person is a name a form
    gave, not an account, so it is shown, not used to route."""
    on = today()
    with runtime.sessions() as session:
        measures = list(session.scalars(
            select(Measure).join(Organisation, Organisation.id == Measure.organisation_id)
            .where(Organisation.slug == slug, Measure.status.in_(OPEN_STATES), Measure.follow_up_at.is_not(None),
                   Measure.responsible_role.in_(sorted(roles)))
            .order_by(Measure.due_on, Measure.id).limit(limit)))
        return _rows(session, measures, on)


def waiting_count(runtime: Runtime, slug: str, roles: frozenset[str]) -> int:
    """How many "Maatregel gerealiseerd?" tasks wait for these roles."""
    with runtime.sessions() as session:
        return session.scalar(
            select(func.count(Measure.id)).join(Organisation, Organisation.id == Measure.organisation_id)
            .where(Organisation.slug == slug, Measure.status.in_(OPEN_STATES), Measure.follow_up_at.is_not(None),
                   Measure.responsible_role.in_(sorted(roles)))) or 0


def status_counts(runtime: Runtime, slug: str) -> dict[str, int]:
    """The register now: measures per status, and how many are overdue ("te_laat")."""
    on = today()
    with runtime.sessions() as session:
        base = select(func.count(Measure.id)).join(Organisation, Organisation.id == Measure.organisation_id).where(
            Organisation.slug == slug)
        counts = dict(session.execute(select(Measure.status, func.count(Measure.id))
                                      .join(Organisation, Organisation.id == Measure.organisation_id)
                                      .where(Organisation.slug == slug).group_by(Measure.status)).all())
        counts["te_laat"] = session.scalar(base.where(Measure.status.in_(OPEN_STATES), Measure.due_on < on)) or 0
    return counts


def locations(runtime: Runtime, slug: str) -> list[str]:
    with runtime.sessions() as session:
        return sorted(session.scalars(
            select(Measure.location).join(Organisation, Organisation.id == Measure.organisation_id)
            .where(Organisation.slug == slug, Measure.location.is_not(None)).distinct()))

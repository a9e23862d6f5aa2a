"""Registering a complaint that reached the organisation elsewhere: by phone, email, letter, in
person or through someone else. Staff enter it afterwards; the moment it was really received is
the diagram's `ontvangen_op`, so every deadline counts from it (`Runtime.start(received_at=...)`).

The organisation's intake rules apply as on the public form (`check_intake`), judged on the day
of receipt, with what the text leaves to staff: M.O.S. counts the lapse from `datum_kennisname`
when given, and an anonymous M.O.S. report becomes a signal (the intake policy `signal`).

A registration made more than one working day after receipt is marked late on the complaint
(`Instance.registered_late`), for the complaint page and the reports.

Kwartier: the employee who had the conversation registers it. The diagram's first task,
"Gesprek voeren en klacht registreren" (lane Medewerker), is theirs: when the registrant holds
the role of a task the procedure made ready, that task is claimed for them in the registration,
and the page takes them straight to it to record the conversation's outcome. The diagram is
unchanged, and its gateways route on that task's form as they always do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db.models import HumanTask, Instance
from webapp.intake import CHANNEL_LABELS, IntakeRefused, check_intake, parse_date
from webapp.runtime import audit, clock
from webapp.runtime.organisations import OrganisationConfig
from webapp.runtime.service import Actor, RowsHook, Runtime

# The channels staff register (the public form and API are "website").
STAFF_CHANNELS = ("telefoon", "email", "brief", "mondeling", "via_een_ander")
LATE_AFTER_WORKING_DAYS = 1


@dataclass(frozen=True)
class Registered:
    instance_id: int
    reference: str
    late: bool
    incident: bool
    claimed_task_id: int | None  # the registrant's own first task (Kwartier), claimed for them


def parse_received(raw_date: Any, raw_time: Any, now: datetime) -> datetime:
    """The moment of receipt from a date and a time (HH:MM) in Europe/Amsterdam, as UTC.
    IntakeRefused with Dutch messages when missing, malformed or in the future."""
    errors: dict[str, str] = {}
    day: date | None = None
    moment: time | None = None
    if raw_date in (None, ""):
        errors["ontvangen_datum"] = "Vul de datum in waarop de klacht binnenkwam."
    else:
        try:
            day = parse_date(raw_date)
        except Exception:  # noqa: BLE001 - intake's own parse error: one message for every kind
            errors["ontvangen_datum"] = "Vul een bestaande datum in, zoals 14-02-2026."
    text = str(raw_time or "").strip()
    if not text:
        errors["ontvangen_tijd"] = "Vul het tijdstip in waarop de klacht binnenkwam, zoals 14:30."
    else:
        try:
            moment = time.fromisoformat(text) if len(text) <= 8 else None
        except ValueError:
            moment = None
        if moment is None:
            errors["ontvangen_tijd"] = "Vul een geldig tijdstip in, zoals 14:30."
    if errors:
        raise IntakeRefused(errors)
    assert day is not None and moment is not None
    if day.year < 1900:
        raise IntakeRefused({"ontvangen_datum": "Vul een bestaande datum in, zoals 14-02-2026."})
    local = datetime.combine(day, moment.replace(tzinfo=None), tzinfo=clock.AMSTERDAM)
    received = local.astimezone(UTC)
    if received > now:
        raise IntakeRefused({"ontvangen_datum": "Het moment van ontvangst kan niet in de toekomst liggen. "
                                                "Vul in wanneer de klacht werkelijk binnenkwam."})
    return received


def is_late(config: OrganisationConfig, received_at: datetime, registered_at: datetime) -> bool:
    """Registered after the end of the first working day after receipt."""
    limit = datetime.fromisoformat(config.calendar.working_days_after(LATE_AFTER_WORKING_DAYS, received_at))
    return registered_at > limit


def register_complaint(runtime: Runtime, slug: str, submitted: Mapping[str, Any], actor: Actor, *,
                       user_id: int | None = None, with_rows: RowsHook | None = None) -> Registered:
    """Check a registration (IntakeRefused with every problem) and start its procedure with the
    moment of receipt. `submitted` holds the intake fields plus `kanaal`, `ontvangen_datum` and
    `ontvangen_tijd` (or `ontvangen_op`, an ISO moment with offset, as the API sends)."""
    config = runtime.organisation(slug)
    now = clock.now()
    received_at = _received(submitted, now)
    kanaal = str(submitted.get("kanaal") or "")
    errors: dict[str, str] = {}
    if kanaal not in STAFF_CHANNELS:
        errors["kanaal"] = "Kies hoe de klacht binnenkwam: " + ", ".join(
            CHANNEL_LABELS[c].lower() for c in STAFF_CHANNELS) + "."
    try:
        result = check_intake(config, submitted, clock.to_local(received_at).date(),
                              kanaal=kanaal if not errors else "telefoon")
    except IntakeRefused as exc:
        raise IntakeRefused({**errors, **exc.errors}, exc.rule) from None
    if errors:
        raise IntakeRefused(errors)
    late = is_late(config, received_at, now)
    result.data["geregistreerd_door"] = actor.identity

    def rows(session: Session, instance: Instance) -> None:
        instance.registered_late = late
        audit.append(session, [{
            "organisation_id": instance.organisation_id, "instance_id": instance.id, "occurred_at": now,
            "actor": actor.identity, "event_type": "complaint_entered",
            "data": {"channel": kanaal, "received_at": received_at.isoformat(), "late": late}}])
        if with_rows is not None:
            with_rows(session, instance)

    started = runtime.start(slug, result.data, actor=actor, complaint_type=result.complaint_type,
                            location=result.location, received_at=received_at, with_rows=rows)
    claimed = _claim_own_task(runtime, started.instance_id, actor, user_id) if user_id else None
    return Registered(started.instance_id, started.reference, late, started.incident, claimed)


def _received(submitted: Mapping[str, Any], now: datetime) -> datetime:
    raw = submitted.get("ontvangen_op")
    if raw in (None, ""):
        return parse_received(submitted.get("ontvangen_datum"), submitted.get("ontvangen_tijd"), now)
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise IntakeRefused({"ontvangen_op": "Geef het moment van ontvangst als ISO 8601 met tijdzone, zoals "
                                             "2026-03-02T14:30:00+01:00."})
    if moment > now:
        raise IntakeRefused({"ontvangen_op": "Het moment van ontvangst kan niet in de toekomst liggen."})
    return moment


def _claim_own_task(runtime: Runtime, instance_id: int, actor: Actor, user_id: int) -> int | None:
    """Claim for the registrant the first ready task their roles may work (Kwartier's employee)."""
    with runtime.sessions() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.state == "ready")
                               .order_by(HumanTask.id)).all()
    for row in rows:
        if row.role in actor.roles:
            runtime.assign_task(row.id, actor, (user_id, actor.identity))
            return row.id
    return None

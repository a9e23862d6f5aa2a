"""Retention: personal data of complaints closed longer ago than the organisation's
retention period is removed from the workflow state, the task forms and the letters.
What reports need stays: the complaint row (type, location, dates, status), the human
task skeleton (names, roles, deadlines, who completed them) and the audit trail, which
never holds a complainant's personal data, so its hash chain stays intact. A complaint's
documents are deleted; the audit trail keeps their SHA-256, never their names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from webapp import clock
from webapp.db.models import Document, HumanTask, Instance, Measure, OutboxMessage, PortalCode
from webapp.vocabulary import InstanceStatus

from .serialization import dump_state, load_state

DEFAULT_MONTHS = 24
PURGED = "[verwijderd na de bewaartermijn]"
# Data that says nothing about a person and that reports use.
KEEP = {"referentie", "ontvangen_op", "soort", "locatie", "kanaal", "anoniem"}


@dataclass(frozen=True)
class RetentionResult:
    organisation: str
    cutoff: datetime
    purged: int


def retention_months(retention: Mapping[str, Any]) -> int:
    return int(retention.get("months_after_closing", DEFAULT_MONTHS))


def cutoff_for(months: int, now: datetime) -> datetime:
    total = now.year * 12 + now.month - 1 - months
    year, month = divmod(total, 12)
    day = min(now.day, 28)
    return now.replace(year=year, month=month + 1, day=day)


def scrub(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep decisions (yes/no, numbers, dates of steps) and the non-personal summary; drop
    names, addresses and every free text."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key in KEEP or isinstance(value, bool | int | float) or value is None:
            kept[key] = value
        elif key == "klager" and isinstance(value, Mapping):
            kept[key] = {"relatie": value.get("relatie")} if value.get("relatie") else {}
    return kept


def purge_instance(runtime, session, instance: Instance, now: datetime) -> None:
    if instance.state:
        diagram = runtime.diagram(instance.diagram_version_id, session)
        workflow = load_state(instance.state, diagram)
        for task in workflow.get_tasks():
            task.data = scrub(task.data)
        workflow.data = scrub(workflow.data)
        instance.state = dump_state(workflow)
    if instance.start_data is not None:  # kept from an intake whose procedure never started
        instance.start_data = scrub(instance.start_data)
    instance.purged_at = now
    session.execute(update(HumanTask).where(HumanTask.instance_id == instance.id).values(draft=None))
    session.execute(update(OutboxMessage).where(OutboxMessage.instance_id == instance.id).values(
        body=PURGED, recipient="verwijderd"))
    # Documents are personal data through and through; the audit trail keeps their hashes.
    session.execute(delete(Document).where(Document.instance_id == instance.id))
    # What a complainant wrote while confirming an action on their page, and the staff's free text
    # on the complaint's own measures once they are settled (the register keeps date and status).
    session.execute(delete(PortalCode).where(PortalCode.instance_id == instance.id))
    session.execute(update(Measure).where(Measure.instance_id == instance.id, Measure.scope == "klacht",
                                          Measure.status.in_(("gerealiseerd", "vervallen")))
                    .values(description=PURGED, outcome=PURGED, responsible_person=None, history=[]))


def run_retention(runtime, batch: int = 200) -> list[RetentionResult]:
    """Purge every organisation's complaints past their retention period; idempotent."""
    now = clock.now()
    results = []
    for slug, config in sorted(runtime.organisations.items()):
        cutoff = cutoff_for(retention_months(config.retention), now)
        org_id = runtime.organisation_id(slug)
        purged = 0
        while True:
            with runtime.write_sessions.begin() as session:
                rows = session.scalars(select(Instance).where(
                    Instance.organisation_id == org_id, Instance.status == InstanceStatus.COMPLETED,
                    Instance.closed_at < cutoff, Instance.purged_at.is_(None)).limit(batch)).all()
                for instance in rows:
                    purge_instance(runtime, session, instance, now)
                purged += len(rows)
            if len(rows) < batch:
                break
        results.append(RetentionResult(slug, cutoff, purged))
    return results

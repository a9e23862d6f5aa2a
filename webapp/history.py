"""A complaint's history: its audit rows read back as one list of events, the way the trace page
reads it, and the rule by which the process-mining exports read theirs (`merged`; they select
fewer columns). The reports read only which elements a complaint went through (the database
aggregates them, webapp.reports.complaints), where a delivery, having no element, counts for nothing.

One rule lives here that the trace and the exports need: when a message arrives the runtime writes
two rows, the delivery (who sent it in, no element) and the catching event (which element caught
it). Read back, they are one event: the catching element's, with the deliverer as actor and the
message's name kept. A delivery that nothing caught in the same step stays an event of its own."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from webapp.db.models import AuditEvent, Instance
from webapp.vocabulary import EventType


class AuditRow(Protocol):
    seq: int | None
    instance_id: int | None
    occurred_at: datetime
    actor: str
    event_type: str
    bpmn_id: str | None
    bpmn_name: str | None
    data: Mapping[str, Any] | None


class _Row(Protocol):
    instance_id: int | None
    event_type: str
    bpmn_id: str | None


R = TypeVar("R", bound=_Row)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    instance_id: int | None
    occurred_at: datetime
    actor: str  # a user's email or "system"; of a caught message, who delivered it
    event_type: str  # an EventType value
    bpmn_id: str | None = None
    bpmn_name: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    seq: int | None = None  # the row's place in the organisation's audit hash chain
    message: str | None = None  # message_received: the message's name
    delivered: bool = False  # message_received: a delivery and its catching event, merged

    @property
    def is_delivery(self) -> bool:
        """A message someone delivered that no element caught in the same row."""
        return self.event_type == EventType.MESSAGE_RECEIVED and self.bpmn_id is None


def _event(row: AuditRow, **changes: Any) -> HistoryEvent:
    data = row.data or {}
    values: dict[str, Any] = {
        "instance_id": row.instance_id, "occurred_at": row.occurred_at, "actor": row.actor,
        "event_type": row.event_type, "bpmn_id": row.bpmn_id, "bpmn_name": row.bpmn_name, "data": data,
        "seq": getattr(row, "seq", None),
        "message": data.get("message") if row.event_type == EventType.MESSAGE_RECEIVED else None}
    values.update(changes)
    return HistoryEvent(**values)


def _catches(delivery: AuditRow, following: AuditRow | None) -> bool:
    return (following is not None and following.instance_id == delivery.instance_id
            and following.event_type == EventType.MESSAGE_RECEIVED and following.bpmn_id is not None)


def merged(rows: Sequence[R]) -> Iterator[tuple[R, R | None]]:
    """Each row that is read back as an event, with the delivery merged into it (None when there is
    none). Rows ordered by complaint, then time and id; any rows with instance_id, event_type and
    bpmn_id (the exports read other columns than `history`)."""
    skip = False
    for index, row in enumerate(rows):
        if skip:
            skip = False
            continue
        if row.event_type == EventType.MESSAGE_RECEIVED and row.bpmn_id is None and index + 1 < len(rows) \
                and _catches(row, rows[index + 1]):
            yield rows[index + 1], row
            skip = True
        else:
            yield row, None


def history(rows: Sequence[AuditRow]) -> list[HistoryEvent]:
    """The events of audit rows ordered by complaint, then time and id (one complaint or many)."""
    events: list[HistoryEvent] = []
    for row, delivery in merged(rows):
        if delivery is None:
            events.append(_event(row))
        else:
            message = (delivery.data or {}).get("message") or (row.data or {}).get("message")
            events.append(_event(row, actor=delivery.actor, message=message, delivered=True))
    return events


AUDIT_COLUMNS = (AuditEvent.seq, AuditEvent.instance_id, AuditEvent.occurred_at, AuditEvent.actor,
                 AuditEvent.event_type, AuditEvent.bpmn_id, AuditEvent.bpmn_name, AuditEvent.data)


def load_histories(session: Session, *where: ColumnElement[bool],
                   event_types: Iterable[str] | None = None) -> dict[int, list[HistoryEvent]]:
    """The histories of the complaints that `where` selects (conditions on Instance and
    AuditEvent), per complaint id; `event_types` narrows the rows read."""
    query = select(*AUDIT_COLUMNS).join(Instance, Instance.id == AuditEvent.instance_id).where(*where)
    if event_types is not None:
        query = query.where(AuditEvent.event_type.in_(list(event_types)))
    # Steps write several rows with one timestamp: the id keeps the order they were written in.
    rows = session.execute(query.order_by(AuditEvent.instance_id, AuditEvent.occurred_at, AuditEvent.id)).all()
    histories: dict[int, list[HistoryEvent]] = {}
    for event in history(rows):
        histories.setdefault(event.instance_id, []).append(event)
    return histories


__all__ = ["AUDIT_COLUMNS", "HistoryEvent", "history", "load_histories", "merged"]

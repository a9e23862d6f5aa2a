"""The audit trail as a hash chain per organisation: each event carries its position
(`seq`), its predecessor's hash and its own, so an edited, removed or inserted row
shows. Audit rows hold no complainant's personal data (no names, addresses or free
text), so retention never edits them and the chain stays verifiable."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from webapp.db.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def event_hash(row: dict[str, Any]) -> str:
    """SHA-256 over the event's canonical JSON, including its predecessor's hash."""
    occurred: datetime = row["occurred_at"]
    canonical = json.dumps({
        "organisation_id": row["organisation_id"], "seq": row["seq"], "instance_id": row["instance_id"],
        "occurred_at": occurred.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": row["actor"], "event_type": row["event_type"], "bpmn_id": row["bpmn_id"],
        "bpmn_name": row["bpmn_name"], "data": row["data"], "prev_hash": row["prev_hash"],
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_HEADS = AuditChainHead.__table__
_EVENTS = AuditEvent.__table__


def append(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert audit rows, chained per organisation. The chain head row is locked until
    commit, so concurrent steps of one organisation take their turn."""
    by_org: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_org.setdefault(row["organisation_id"], []).append(row)
    connection = session.connection()  # Core statements: this runs on every step
    for org_id in sorted(by_org):  # a fixed order, so two transactions never wait on each other crosswise
        head = connection.execute(select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.organisation_id == org_id)
                                  .with_for_update()).first()
        if head is None:
            insert_fn = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            connection.execute(insert_fn(_HEADS).values(organisation_id=org_id, seq=0, hash=GENESIS)
                               .on_conflict_do_nothing())
            head = connection.execute(select(_HEADS.c.seq, _HEADS.c.hash)
                                      .where(_HEADS.c.organisation_id == org_id).with_for_update()).one()
        seq, previous = head.seq, head.hash
        for row in by_org[org_id]:
            seq += 1
            row.setdefault("instance_id", None)
            row.setdefault("bpmn_id", None)
            row.setdefault("bpmn_name", None)
            row.setdefault("data", {})
            row["seq"], row["prev_hash"] = seq, previous
            row["hash"] = previous = event_hash(row)
        connection.execute(_EVENTS.insert(), by_org[org_id])
        connection.execute(update(_HEADS).where(_HEADS.c.organisation_id == org_id).values(seq=seq, hash=previous))


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    seq: int | None
    kind: str  # edited, removed, inserted
    detail: str

    def __str__(self) -> str:
        where = f"event {self.event_id}" if self.event_id is not None else "events"
        return f"{self.kind}: {where} (seq {self.seq}): {self.detail}"


def verify(session: Session, organisation_id: int) -> tuple[int, list[ChainProblem]]:
    """Walk one organisation's chain; returns (events checked, problems)."""
    problems: list[ChainProblem] = []
    rows = session.execute(select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
                           .order_by(AuditEvent.seq.is_(None), AuditEvent.seq, AuditEvent.id)).scalars().all()
    expected_seq, previous = 1, GENESIS
    previous_event: AuditEvent | None = None
    seen: set[int] = set()
    for event in rows:
        if event.seq is None or event.hash is None:
            problems.append(ChainProblem(event.id, None, "inserted", "the event is not part of the chain"))
            continue
        if event.seq in seen:
            problems.append(ChainProblem(event.id, event.seq, "inserted", "a second event claims this place"))
            continue
        seen.add(event.seq)
        if event.seq > expected_seq:
            problems.append(ChainProblem(None, expected_seq, "removed",
                                         f"event(s) {expected_seq}..{event.seq - 1} are missing"))
        row = {c: getattr(event, c) for c in ("organisation_id", "seq", "instance_id", "occurred_at", "actor",
                                               "event_type", "bpmn_id", "bpmn_name", "data", "prev_hash")}
        if event_hash(row) != event.hash:
            problems.append(ChainProblem(event.id, event.seq, "edited", "its content does not match its hash"))
        elif event.prev_hash != previous and event.seq == expected_seq:
            # The predecessor was rewritten with a recomputed hash: this event still links to the original.
            culprit = previous_event
            problems.append(ChainProblem(culprit.id if culprit else None, event.seq - 1, "edited",
                                         f"rewritten with a new hash; event seq {event.seq} links to the original"))
        previous, expected_seq, previous_event = event.hash, event.seq + 1, event
    head = session.get(AuditChainHead, organisation_id)
    if head is not None and head.seq >= expected_seq:
        problems.append(ChainProblem(None, expected_seq, "removed",
                                     f"the chain ended at {head.seq}, but events {expected_seq}..{head.seq} are missing"))
    return len(rows), problems

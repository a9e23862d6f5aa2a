"""Throttling and rate limits whose state is in the database, so that every web process
(and every machine) counts the same attempts: failed logins per account and per client
address, submitted complaints per address and per organisation.

A counter counts attempts in a fixed window that starts at its first attempt; when the
window has passed, the next attempt starts a new one. Keys are sha256 hashes of the scope
and the source, so the table holds no email address or IP address. No Flask here: callers
pass a SQLAlchemy session (a writing one: on SQLite it holds the write lock, on PostgreSQL
the counter row is locked) and the moment, from the clock seam.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.db.models import ThrottleCounter

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"\s*(\d+)\s*(?:/|per)\s*(\d*)\s*(second|minute|hour|day)s?\s*", re.IGNORECASE)


class LimitSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Limit:
    """At most `count` attempts per `window`."""

    count: int
    window: timedelta

    @classmethod
    def parse(cls, text: str | Limit) -> Limit:
        """'10/hour', '5/15minutes', '200 per day'."""
        if isinstance(text, Limit):
            return text
        match = _LIMIT.fullmatch(str(text))
        if not match:
            raise LimitSyntaxError(f"'{text}' is no limit: write it as '10/hour' or '5/15minutes'")
        count, amount, unit = int(match[1]), int(match[2] or 1), match[3].lower()
        if amount < 1:
            raise LimitSyntaxError(f"'{text}': the window must be at least one {unit}")
        return cls(count, timedelta(seconds=amount * _UNITS[unit]))


@dataclass(frozen=True)
class Refusal:
    """Too many attempts: try again after `retry_after`."""

    scope: str
    retry_after: timedelta

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.retry_after.total_seconds()))

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


def key_for(scope: str, source: str) -> str:
    return hashlib.sha256(f"{scope}\x00{source}".encode()).hexdigest()


def _row(session: Session, key: str) -> ThrottleCounter | None:
    return session.scalar(select(ThrottleCounter).where(ThrottleCounter.key == key).with_for_update())


def refused(session: Session, scope: str, source: str, limit: Limit, now: datetime) -> Refusal | None:
    """A refusal when `limit` attempts were counted in the current window, else None. Counts nothing."""
    row = _row(session, key_for(scope, source))
    if row is None or row.expires_at <= now or row.count < limit.count:
        return None
    return Refusal(scope, row.expires_at - now)


def record(session: Session, scope: str, source: str, limit: Limit, now: datetime) -> int:
    """Count one attempt; returns the count in the current window."""
    key = key_for(scope, source)
    row = _row(session, key)
    if row is None:
        _prune(session, now)
        try:
            with session.begin_nested():
                row = ThrottleCounter(key=key, scope=scope, count=0, window_started_at=now,
                                      expires_at=now + limit.window)
                session.add(row)
        except IntegrityError:  # another process counted the first attempt at the same moment
            row = _row(session, key)
            assert row is not None
    if row.expires_at <= now:
        row.count, row.window_started_at, row.expires_at = 0, now, now + limit.window
    row.count += 1
    session.flush()
    return row.count


def consume(session: Session, scope: str, source: str, limit: Limit, now: datetime) -> Refusal | None:
    """Count one attempt if the limit allows it; else a refusal and nothing counted."""
    refusal = refused(session, scope, source, limit, now)
    if refusal is None:
        record(session, scope, source, limit, now)
    return refusal


def reset(session: Session, scope: str, source: str) -> None:
    session.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key_for(scope, source)))


def _prune(session: Session, now: datetime) -> None:
    # Counters whose window has passed count nothing: drop them when a new one is made,
    # so the table stays as small as the number of sources active in the longest window.
    session.execute(delete(ThrottleCounter).where(ThrottleCounter.expires_at <= now))

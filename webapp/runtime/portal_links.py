"""The complainant's personal link (/mijn-klacht/<token>), minted in the step's own
transaction: a letter to the complainant carries PLACEHOLDER where its link goes, and
`mint_for_outbox` replaces it with a fresh token's URL and writes the token's hash, with
the letter, in the same transaction. The token itself is stored nowhere but in the letter."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from webapp.db.models import PortalLink

# Stands in a letter's body for the link until the step's records are written.
PLACEHOLDER = "\u27e6mijn-klacht-link\u27e7"
PATH = "/mijn-klacht/"
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_DAYS_AFTER_CLOSING = 90


@dataclass(frozen=True)
class PortalSettings:
    """BASE_URL: where the application is reached; PORTAL_DAYS_AFTER_CLOSING: how long a link
    keeps working after the complaint closed."""

    base_url: str = DEFAULT_BASE_URL
    days_after_closing: int = DEFAULT_DAYS_AFTER_CLOSING

    @classmethod
    def from_env(cls) -> PortalSettings:
        days = os.environ.get("PORTAL_DAYS_AFTER_CLOSING", str(DEFAULT_DAYS_AFTER_CLOSING))
        if not days.isdigit():
            raise ValueError(f"PORTAL_DAYS_AFTER_CLOSING must be a number of days, not '{days}'")
        return cls(os.environ.get("BASE_URL", DEFAULT_BASE_URL).rstrip("/"), int(days))

    def url(self, token: str) -> str:
        return f"{self.base_url}{PATH}{token}"

    def valid_until(self, closed_at: datetime | None) -> datetime | None:
        """The end of a link of a complaint closed at `closed_at` (None: still open)."""
        return closed_at + timedelta(days=self.days_after_closing) if closed_at else None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_link(session: Session, instance_id: int, now: datetime) -> str:
    """A fresh token for the complaint; its hash is added to the session. Returns the token."""
    token = secrets.token_urlsafe(32)
    session.add(PortalLink(instance_id=instance_id, token_sha256=token_hash(token), created_at=now))
    return token


def mint_for_outbox(session: Session, settings: PortalSettings, rows: Iterable[dict], now: datetime) -> None:
    """Give every outbox row (about to be inserted) that holds the placeholder a link of its own."""
    links = []
    for row in rows:
        if PLACEHOLDER not in row["body"]:
            continue
        token = secrets.token_urlsafe(32)
        links.append({"instance_id": row["instance_id"], "token_sha256": token_hash(token), "created_at": now})
        row["body"] = row["body"].replace(PLACEHOLDER, settings.url(token))
    if links:
        session.connection().execute(PortalLink.__table__.insert(), links)


def revoke_all(session: Session, instance_id: int, actor: str, now: datetime) -> int:
    """Revoke every link of a complaint still in force; the next letter carries a new one."""
    result = session.execute(update(PortalLink).where(PortalLink.instance_id == instance_id,
                                                      PortalLink.revoked_at.is_(None))
                             .values(revoked_at=now, revoked_by=actor[:254]))
    return result.rowcount or 0

"""One-time links by email: an invitation to an organisation (with the roles it gives) and a
password reset. The token is 256 random bits; only its sha256 is stored. A link works once
(used_at is set in the same statement that checks it) and expires. The email goes through the
outbox (kind "account"), which the worker sends; the Berichten page never lists it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.db.models import AccountToken, OutboxMessage
from webapp.runtime import clock

INVITATION_VALID = timedelta(hours=72)
RESET_VALID = timedelta(hours=2)
KINDS = {"invitation": INVITATION_VALID, "reset": RESET_VALID}


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: object


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, kind: str, organisation_id: int, email: str, created_by: str,
          user_id: int | None = None, roles: dict[str, list[str]] | None = None) -> Issued:
    """A new link of `kind`; earlier unused links of the same kind for this email and organisation
    stop working (only the newest counts)."""
    now = clock.now()
    email = email.strip().lower()
    session.execute(update(AccountToken).where(
        AccountToken.kind == kind, AccountToken.email == email, AccountToken.organisation_id == organisation_id,
        AccountToken.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    expires = now + KINDS[kind]
    session.add(AccountToken(kind=kind, token_sha256=_hash(token), organisation_id=organisation_id, email=email,
                             user_id=user_id, roles=roles or {}, created_by=created_by, created_at=now,
                             expires_at=expires))
    return Issued(token, expires)


def find(session: Session, kind: str, token: str) -> AccountToken | None:
    """The unused, unexpired link with this token, else None."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(AccountToken).where(AccountToken.token_sha256 == _hash(token),
                                                    AccountToken.kind == kind))
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        return None
    return row


def use(session: Session, row: AccountToken) -> bool:
    """Mark the link used; False when another request used it first."""
    done = session.execute(update(AccountToken).where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
                           .values(used_at=clock.now()))
    return done.rowcount == 1


def queue_mail(session: Session, organisation_id: int, recipient: str, template: str, subject: str,
               body: str) -> None:
    now = clock.now()
    session.add(OutboxMessage(organisation_id=organisation_id, instance_id=None, kind="account", template=template,
                              recipient=recipient, subject=subject, body=body, status="pending", attempts=0,
                              created_at=now, next_attempt_at=now))


def _until(moment) -> str:
    return clock.to_local(moment).strftime("%d-%m-%Y %H:%M")


def invitation_mail(org_name: str, inviter: str, link: str, expires_at) -> tuple[str, str]:
    subject = f"Uitnodiging voor Klachtroute van {org_name}"
    body = (f"Beste collega,\n\n{inviter} nodigt u uit voor Klachtroute van {org_name}.\n"
            f"Open deze link om uw naam en wachtwoord te kiezen:\n\n{link}\n\n"
            f"De link werkt één keer en verloopt op {_until(expires_at)}.\n"
            "Verwachtte u deze uitnodiging niet, dan kunt u dit bericht negeren.\n")
    return subject, body


def reset_mail(org_name: str, link: str, expires_at) -> tuple[str, str]:
    subject = "Nieuw wachtwoord voor Klachtroute"
    body = (f"Beste collega,\n\nDe functioneel beheerder van {org_name} stuurt u een link om een nieuw "
            f"wachtwoord te kiezen:\n\n{link}\n\n"
            f"De link werkt één keer en verloopt op {_until(expires_at)}.\n"
            "Vroeg u hier niet om, neem dan contact op met uw functioneel beheerder.\n")
    return subject, body

"""One-time codes that confirm a complainant's action with consequences (withdrawing, escalating):
six digits mailed to the complainant's address through the outbox (the worker sends it), stored
as an HMAC under the application's secret, valid 15 minutes, at most 5 tries. What the complainant
wrote waits with the code and is delivered into the procedure when the code is right."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from webapp.db.models import Instance, OutboxMessage, PortalCode
from webapp.runtime import audit, clock
from webapp.runtime.service import Runtime

from .portal import Access, ActionRefused, action_for, complainant_email, send

VALID_FOR = timedelta(minutes=15)
MAX_TRIES = 5
MAX_CODES_PER_HOUR = 5
CODE_KIND = "portal_code"  # an outbox kind of its own: never listed as a letter
SCRUBBED = "(Deze code is gebruikt of verlopen en hier verwijderd.)"


@dataclass(frozen=True)
class CodeSent:
    code_id: int
    message: str


def _digest(secret: str, code_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(runtime: Runtime, access: Access, kind: str, text: str, secret: str,
                 subject: str, body: str) -> CodeSent:
    """Mail a new code for the action `kind`; `body` holds `{code}` where the code goes."""
    action, view = action_for(runtime, access, kind)
    address = complainant_email(view.data)
    if address is None:
        raise ActionRefused("Wij kennen geen e-mailadres van u, dus wij kunnen u geen code sturen. Neem "
                            "contact met ons op.")
    now = clock.now()
    code = f"{secrets.randbelow(10**6):06d}"
    with runtime.write_sessions.begin() as session:
        instance = session.get(Instance, access.instance_id)
        # Codes expired over an hour ago go, of every complaint; what they carried is not kept.
        session.execute(delete(PortalCode).where(PortalCode.expires_at < now - timedelta(hours=1)))
        recent = session.scalar(select(func.count()).select_from(PortalCode).where(
            PortalCode.instance_id == instance.id, PortalCode.created_at > now - timedelta(hours=1)))
        if recent >= MAX_CODES_PER_HOUR:
            raise ActionRefused("U heeft het afgelopen uur te vaak een code aangevraagd. Probeer het later opnieuw.")
        row = PortalCode(instance_id=instance.id, message=action.message, payload={"tekst": text},
                         code_hash="", created_at=now, expires_at=now + VALID_FOR, attempts=0)
        session.add(row)
        session.flush()
        row.code_hash = _digest(secret, row.id, code)
        mail = OutboxMessage(organisation_id=instance.organisation_id, instance_id=instance.id, kind=CODE_KIND,
                             recipient=address, subject=subject, body=body.replace("{code}", code), status="pending",
                             attempts=0, created_at=now, next_attempt_at=now)
        session.add(mail)
        session.flush()
        row.outbox_id = mail.id
        audit.append(session, [{"organisation_id": instance.organisation_id, "instance_id": instance.id,
                                "occurred_at": now, "actor": "klager (portaal)", "event_type": "portal_code_sent",
                                "data": {"message": action.message}}])
        return CodeSent(row.id, action.message)


def confirm_code(runtime: Runtime, access: Access, code_id: int, code: str, secret: str) -> str:
    """Check the code; when right, deliver the waiting action into the procedure. Returns the
    message delivered; ActionRefused (Dutch) when the code is wrong, used, expired or spent.
    A wrong try is counted even though the answer is a refusal (the transaction commits first)."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    with runtime.write_sessions.begin() as session:
        outcome = _check(session, runtime, access, code_id, code, secret)
    if isinstance(outcome, str):
        raise ActionRefused(outcome)
    message, text = outcome
    send(runtime, access, message, text)
    return message


def _check(session, runtime: Runtime, access: Access, code_id: int, code: str,
           secret: str) -> str | tuple[str, str]:
    """(message, text) for a right code, else the Dutch refusal; tries and spending are written."""
    now = clock.now()
    row = session.get(PortalCode, code_id, with_for_update=runtime.dialect == "postgresql")
    if row is None or row.instance_id != access.instance_id or row.used_at is not None:
        return "Deze code is niet (meer) geldig. Vraag een nieuwe code aan."
    if now >= row.expires_at:
        _spend(session, row, now)
        return "Deze code is verlopen: een code is 15 minuten geldig. Vraag een nieuwe code aan."
    row.attempts += 1
    if len(code) != 6 or not hmac.compare_digest(row.code_hash, _digest(secret, row.id, code)):
        left = MAX_TRIES - row.attempts
        if left <= 0:
            _spend(session, row, now)
            return "De code klopt niet, en u heeft te vaak een verkeerde code ingevuld. Vraag een nieuwe code aan."
        return f"De code klopt niet. U kunt het nog {left} keer proberen."
    outcome = (row.message, str((row.payload or {}).get("tekst", "")))
    _spend(session, row, now)
    return outcome


def _spend(session, row: PortalCode, now) -> None:
    """A code used, expired or tried out: it cannot be used again; what it carried and the mail's
    copy of the code are removed."""
    row.used_at, row.payload = now, {}
    if row.outbox_id is not None:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row.outbox_id)
                        .values(body=SCRUBBED))

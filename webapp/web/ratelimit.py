"""Rate limits on complaints from outside (the public form and the intake API): per client
address and per organisation, counted in the database (webapp.throttle) so that every web
process shares them. Limits come from the app config (INTAKE_LIMIT_PER_ADDRESS,
INTAKE_LIMIT_PER_ORGANISATION)."""

from __future__ import annotations

from flask import current_app, request

from webapp import throttle
from webapp.intake import IntakeRefused
from webapp.runtime import clock

from .auth import runtime


def _limit(name: str) -> throttle.Limit:
    return throttle.Limit.parse(current_app.config[name])


class IntakeLimited(IntakeRefused):
    """A submission refused by a rate limit (HTTP 429), the reason for the form as a whole."""

    http_status = 429

    def __init__(self, refusal: throttle.Refusal, org_name: str) -> None:
        super().__init__({"": message(refusal, org_name)})
        self.refusal = refusal


def check_intake_limit(org: str, org_name: str) -> None:
    """IntakeLimited when this client or this organisation has sent too many submissions."""
    refusal = intake_refusal(org)
    if refusal is not None:
        raise IntakeLimited(refusal, org_name)


def intake_refusal(org: str) -> throttle.Refusal | None:
    """Count a submission for `org` from this client, unless a limit is reached: then the
    refusal, and nothing counted. Every submission counts, accepted or not."""
    now = clock.now()
    address = request.remote_addr or ""
    per_address, per_org = _limit("INTAKE_LIMIT_PER_ADDRESS"), _limit("INTAKE_LIMIT_PER_ORGANISATION")
    with runtime().write_sessions.begin() as db:
        refusal = (throttle.refused(db, "intake-address", address, per_address, now)
                   or throttle.refused(db, "intake-organisation", org, per_org, now))
        if refusal is None:
            throttle.record(db, "intake-address", address, per_address, now)
            throttle.record(db, "intake-organisation", org, per_org, now)
    if refusal is not None:
        current_app.logger.warning("intake %s refused: %s limit reached", org, refusal.scope)
    return refusal


def message(refusal: throttle.Refusal, org_name: str) -> str:
    minutes = refusal.minutes
    wait = f"{minutes} {'minuut' if minutes == 1 else 'minuten'}"
    if refusal.scope == "intake-organisation":
        return (f"Er komen op dit moment erg veel meldingen binnen bij {org_name}. Uw melding is nog niet "
                f"verstuurd: probeer het over {wait} opnieuw.")
    return (f"Vanaf uw internetverbinding zijn kort na elkaar te veel meldingen verstuurd. Uw melding is nog "
            f"niet verstuurd: probeer het over {wait} opnieuw.")

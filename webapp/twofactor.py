"""Two-factor sign-in with TOTP (RFC 6238, an authenticator app): secrets, the QR code to
enrol, and checking a code once. Which accounts must use it is an organisation setting
(OrganisationSettings.two_factor_required) for the roles that read personal data."""

from __future__ import annotations

import pyotp
import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db.models import Organisation, OrganisationSettings, User, UserRole
from webapp.runtime import clock

ISSUER = "Klachtroute"
# Roles that open no complaint or task (webapp.web.queries): two-factor is not required for them.
NO_PERSONAL_DATA_ROLES = frozenset({"functioneel_beheerder"})


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_url(uri: str) -> str:
    """The QR code as an SVG data: URL (an <img>, no external resource, no inline style)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def accepted_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step of `code` when it is right now (one step of clock drift either way) and
    newer than the last one accepted (a code works once); else None."""
    code = "".join(code.split())
    if not (code.isdecimal() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now()
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if (last_step is None or step > last_step) and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def required_for(session: Session, user_id: int) -> bool:
    """Whether an organisation where the user holds a role that reads personal data requires it."""
    rows = session.execute(select(UserRole.role).join(Organisation, Organisation.id == UserRole.organisation_id)
                           .join(OrganisationSettings, OrganisationSettings.organisation_id == Organisation.id)
                           .where(UserRole.user_id == user_id,
                                  OrganisationSettings.two_factor_required.is_(True))).scalars()
    return any(role not in NO_PERSONAL_DATA_ROLES for role in rows)


def enrolled(user: User) -> bool:
    return user.totp_secret is not None and user.totp_enabled_at is not None

"""Users, their roles per organisation, and personal API tokens. Used by the CLI and the web app."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.db.models import ApiToken, Organisation, User, UserRole
from webapp.runtime import clock
from webapp.runtime.errors import KlachtrouteError
from webapp.runtime.organisations import OrganisationConfig

MIN_PASSWORD_LENGTH = 10


class AccountError(KlachtrouteError):
    pass


@dataclass(frozen=True)
class Membership:
    """What a user may do: roles per organisation slug."""

    user_id: int
    email: str
    name: str
    roles: dict[str, frozenset[str]]
    # Sessions carry it; a session with an older version has ended (logout, new password).
    session_version: int = 1
    # The locations a role covers, per organisation and role; a role not named covers all.
    locations: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    platform_admin: bool = False  # creates organisations; opens no complaint

    def roles_in(self, slug: str) -> frozenset[str]:
        return self.roles.get(slug, frozenset())

    def grants_in(self, slug: str) -> dict[str, tuple[str, ...]]:
        """{role: the locations it covers}; () covers every location."""
        limited = self.locations.get(slug, {})
        return {role: limited.get(role, ()) for role in self.roles_in(slug)}


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password)


def _parse_roles(session: Session, organisations: dict[str, OrganisationConfig],
                 assignments: list[str]) -> list[tuple[int, str]]:
    """'samen-kinderopvang:manager_ve' -> (organisation id, role), checked against the configuration."""
    parsed = []
    for item in assignments:
        slug, _, role = item.partition(":")
        config = organisations.get(slug)
        if config is None:
            raise AccountError(f"unknown organisation '{slug}' (known: {', '.join(sorted(organisations))})")
        if role not in config.all_roles:
            raise AccountError(f"'{role}' is no role of {config.name} (roles: {', '.join(sorted(config.all_roles))})")
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
        if org_id is None:
            raise AccountError(f"organisation '{slug}' is not in the database yet (run `klachtroute load`)")
        parsed.append((org_id, role))
    return parsed


def add_user(session: Session, organisations: dict[str, OrganisationConfig], email: str, name: str,
             password: str, roles: list[str]) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(f"'{email}' is not an email address")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user with email {email} exists already")
    user = User(email=email, name=name.strip() or email, password_hash=hash_password(password),
                active=True, created_at=clock.now())
    session.add(user)
    session.flush()
    for org_id, role in _parse_roles(session, organisations, roles):
        session.add(UserRole(user_id=user.id, organisation_id=org_id, role=role))
    return user


def set_roles(session: Session, organisations: dict[str, OrganisationConfig], email: str,
              roles: list[str]) -> None:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no user with email {email}")
    parsed = _parse_roles(session, organisations, roles)
    session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    for org_id, role in parsed:
        session.add(UserRole(user_id=user.id, organisation_id=org_id, role=role))


def membership(session: Session, user_id: int) -> Membership | None:
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    rows = session.execute(select(Organisation.slug, UserRole.role, UserRole.locations).join(UserRole)
                           .where(UserRole.user_id == user_id)).all()
    roles: dict[str, set[str]] = {}
    locations: dict[str, dict[str, tuple[str, ...]]] = {}
    for slug, role, covered in rows:
        roles.setdefault(slug, set()).add(role)
        if covered:
            locations.setdefault(slug, {})[role] = tuple(covered)
    return Membership(user.id, user.email, user.name, {k: frozenset(v) for k, v in roles.items()},
                      user.session_version, locations, bool(user.platform_admin))


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, else None. An unknown or inactive
    account costs one password hash verification as a known one does (against a dummy
    hash), so the response time does not tell which accounts exist."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    stored = user.password_hash if user is not None else _dummy_hash()
    matches = check_password_hash(stored, password)
    if user is None or not user.active or not matches:
        return None
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of the user (logout, a new password): their version no longer matches."""
    session.execute(update(User).where(User.id == user_id).values(session_version=User.session_version + 1))


def set_password(session: Session, email: str, password: str) -> None:
    """A new password; every session of the user ends."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no user with email {email}")
    user.password_hash = hash_password(password)
    session.flush()
    end_sessions(session, user.id)


def create_token(session: Session, email: str, name: str) -> str:
    """A new personal API token; shown once, stored as its sha256."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no user with email {email}")
    token = "kr_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_sha256=hashlib.sha256(token.encode()).hexdigest(),
                         created_at=clock.now()))
    return token


def user_for_token(session: Session, token: str) -> int | None:
    row = session.scalar(select(ApiToken).where(
        ApiToken.token_sha256 == hashlib.sha256(token.encode()).hexdigest(), ApiToken.revoked.is_(False)))
    if row is None:
        return None
    now = clock.now()
    # At most one write a minute per token: an API client should not take the write lock on every call.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return row.user_id


# -- managed per organisation by its functioneel beheerder (webapp.web.colleagues) ----------


def set_organisation_roles(session: Session, user_id: int, organisation_id: int,
                           grants: dict[str, list[str]]) -> None:
    """Replace the user's roles in one organisation: {role: locations it covers ([] all)}. Roles
    in other organisations stay. The user's sessions end, so the change holds at once."""
    session.execute(delete(UserRole).where(UserRole.user_id == user_id, UserRole.organisation_id == organisation_id))
    for role, locations in sorted(grants.items()):
        session.add(UserRole(user_id=user_id, organisation_id=organisation_id, role=role,
                             locations=sorted(set(locations)) or None))
    session.flush()
    end_sessions(session, user_id)


def set_active(session: Session, user_id: int, active: bool) -> None:
    """Deactivate (every session ends at once) or reactivate an account."""
    session.execute(update(User).where(User.id == user_id).values(active=active))
    end_sessions(session, user_id)


def new_account(session: Session, email: str, name: str, password: str) -> User:
    user = User(email=email.strip().lower(), name=name.strip() or email, password_hash=generate_password_hash(password),
                active=True, created_at=clock.now())
    session.add(user)
    session.flush()
    return user

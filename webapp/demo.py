"""Demo accounts for `make run`: one user for every role of every organisation."""

from __future__ import annotations

from sqlalchemy import select

from webapp.accounts import add_user
from webapp.db.models import User
from webapp.runtime.service import Runtime

DEMO_PASSWORD = "demo-wachtwoord"


def demo_email(slug: str, role: str) -> str:
    return f"{role.replace('_', '-')}@{slug}.demo"


def create_demo_users(runtime: Runtime) -> list[tuple[str, str, str]]:
    """Creates the missing demo users; returns (organisation, role label, email) for all of them."""
    created = []
    with runtime.write_sessions.begin() as session:
        for slug, config in sorted(runtime.organisations.items()):
            for role, label in config.all_roles.items():
                email = demo_email(slug, role)
                if session.scalar(select(User.id).where(User.email == email)) is None:
                    add_user(session, runtime.organisations, email, f"{label} ({config.name})", DEMO_PASSWORD,
                             [f"{slug}:{role}"])
                created.append((config.name, label, email))
    return created

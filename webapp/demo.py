"""Demo accounts for `make run`: two people for every role of every organisation, so that a task
can be handed over to a colleague; their names (not their addresses) appear on the pages."""

from __future__ import annotations

from sqlalchemy import select

from webapp.accounts import add_user
from webapp.db.models import User
from webapp.runtime.service import Runtime

DEMO_PASSWORD = "demo-wachtwoord"
PER_ROLE = 2
FIRST = ["Sanne", "Mark", "Fatma", "Joost", "Inge", "Rachid", "Marloes", "Pieter", "Ayşe", "Bas", "Lieke", "Tom",
         "Esther", "Koen", "Nadia", "Ruud", "Femke", "Hamza", "Judith", "Wim"]
LAST = ["de Vries", "Bakker", "Yilmaz", "Jansen", "Smit", "El Idrissi", "Meijer", "de Boer", "Mulder", "Bos",
        "Vos", "Peters", "Hendriks", "van Dijk", "Kok", "Dekker", "Brouwer", "Postma", "de Graaf", "Koster"]


def demo_email(slug: str, role: str, number: int = 1) -> str:
    suffix = "" if number == 1 else f"-{number}"
    return f"{role.replace('_', '-')}{suffix}@{slug}.demo"


def demo_name(index: int) -> str:
    """A person's name, the same one for the same index every time."""
    return f"{FIRST[index % len(FIRST)]} {LAST[(index * 7 + index // len(FIRST)) % len(LAST)]}"


PLATFORM_ADMIN = "platformbeheer@klachtroute.demo"


def create_demo_users(runtime: Runtime) -> list[tuple[str, str, str]]:
    """Creates the missing demo users; returns (organisation, role label, email) for all of them."""
    created = []
    index = 0
    with runtime.write_sessions.begin() as session:
        for slug, config in sorted(runtime.organisations.items()):
            for role, label in config.all_roles.items():
                for number in range(1, PER_ROLE + 1):
                    email = demo_email(slug, role, number)
                    if session.scalar(select(User.id).where(User.email == email)) is None:
                        add_user(session, runtime.organisations, email, demo_name(index), DEMO_PASSWORD,
                                 [f"{slug}:{role}"])
                    created.append((config.name, label, email))
                    index += 1
        # One platform administrator: creates new organisations from a template (/beheer/organisaties).
        if session.scalar(select(User.id).where(User.email == PLATFORM_ADMIN)) is None:
            add_user(session, runtime.organisations, PLATFORM_ADMIN, "Platformbeheer", DEMO_PASSWORD,
                     []).platform_admin = True
        created.append(("(alle organisaties)", "Platformbeheerder", PLATFORM_ADMIN))
    return created

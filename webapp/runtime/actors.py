"""Who acts on a complaint, and the hook through which an intake or a message adds its own rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from webapp.db.models import Instance

from .steps import SYSTEM


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (email and roles in the organisation) or the system."""

    identity: str
    organisation: str | None = None  # slug; None for the system
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls) -> Actor:
        return cls(SYSTEM)

    @property
    def is_system(self) -> bool:
        return self.identity == SYSTEM

    def may_work(self, role: str | None) -> bool:
        """The one rule for who may open and complete an inbox task: the system, or a user
        holding the task's role. (The organisation is checked where the task is looked up.)"""
        return self.is_system or (role is not None and role in self.roles)


# Adds rows that belong to a new complaint (its documents) in the intake's transaction.
RowsHook = Callable[[Session, Instance], None]

__all__ = ["Actor", "RowsHook"]

"""The runtime's two session factories and the one locking rule they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from webapp.db.session import writer_engine

Row = TypeVar("Row")


@dataclass
class Database:
    """`sessions` read; `write_sessions` write (on SQLite through the writer engine, whose
    BEGIN IMMEDIATE serialises writers); `dialect` names the backend. One instance is shared by
    the runtime's collaborators, so replacing a factory (a test's failing database) reaches all."""

    sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    dialect: str

    @classmethod
    def over(cls, sessions: sessionmaker[Session]) -> Database:
        bind = sessions.kw["bind"]
        return cls(sessions, sessionmaker(writer_engine(bind), expire_on_commit=False), bind.dialect.name)

    @property
    def row_locks(self) -> bool:
        """PostgreSQL locks the rows a step changes (SELECT ... FOR UPDATE): a second writer
        waits and then sees the new state. SQLite's BEGIN IMMEDIATE already did the same."""
        return self.dialect == "postgresql"

    def locked(self, session: Session, model: type[Row], key: int) -> Row | None:
        """The row by primary key, locked for the rest of the transaction."""
        return session.get(model, key, with_for_update=self.row_locks)


__all__ = ["Database"]

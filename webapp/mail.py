"""Sends the outbox: letters to complainants, notifications to the holders of a role.

Configured by SMTP_URL (smtp://user:password@host:port, smtps://... for TLS, or
?starttls=1). Without it, messages are kept ("held") for the Berichten page.
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from webapp.db.models import OutboxMessage, User, UserRole
from webapp.db.session import writer_engine
from webapp.runtime import clock

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    ssl: bool
    starttls: bool
    sender: str

    @classmethod
    def from_url(cls, url: str, sender: str) -> SmtpSettings:
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not '{parsed.scheme}://'")
        if not parsed.hostname:
            raise ValueError("SMTP_URL names no host")
        query = parse_qs(parsed.query)
        ssl = parsed.scheme == "smtps"
        return cls(host=parsed.hostname, port=parsed.port or (465 if ssl else 25),
                   username=unquote(parsed.username) if parsed.username else None,
                   password=unquote(parsed.password) if parsed.password else None,
                   ssl=ssl, starttls=query.get("starttls", ["0"])[0] in ("1", "true"), sender=sender)


def settings_from_env() -> SmtpSettings | None:
    url = os.environ.get("SMTP_URL")
    if not url:
        return None
    return SmtpSettings.from_url(url, os.environ.get("MAIL_FROM", "klachtroute@localhost"))


class OutboxSender:
    def __init__(self, sessions: sessionmaker[Session], smtp: SmtpSettings | None) -> None:
        bind = sessions.kw["bind"]
        self.sessions = sessionmaker(writer_engine(bind), expire_on_commit=False)
        self.postgres = bind.dialect.name == "postgresql"
        self.smtp = smtp

    def send_due(self, limit: int = 50) -> int:
        """Send (or hold) up to `limit` pending messages; returns how many were handled."""
        now = clock.now()
        with self.sessions.begin() as session:
            query = (select(OutboxMessage).where(OutboxMessage.status == "pending",
                                                 OutboxMessage.next_attempt_at <= now)
                     .order_by(OutboxMessage.id).limit(limit))
            if self.postgres:
                query = query.with_for_update(skip_locked=True)
            messages = session.scalars(query).all()
            if not messages:
                return 0
            if self.smtp is None or any(m.recipient == "post" for m in messages):
                for m in messages:
                    if self.smtp is None or m.recipient == "post":
                        m.status = "held"
            to_send = [m for m in messages if m.status == "pending"]
            if to_send:
                self._deliver(session, to_send)
            return len(messages)

    def _recipients(self, session: Session, message: OutboxMessage) -> list[str]:
        if not message.recipient.startswith("role:"):
            return [message.recipient]
        role = message.recipient.removeprefix("role:")
        return sorted(set(session.scalars(
            select(User.email).join(UserRole).where(UserRole.organisation_id == message.organisation_id,
                                                    UserRole.role == role, User.active.is_(True)))))

    def _deliver(self, session: Session, messages: list[OutboxMessage]) -> None:
        assert self.smtp is not None
        now = clock.now()
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            for m in messages:
                self._failed(m, f"cannot reach the mail server: {exc}", now)
            return
        with connection:
            for m in messages:
                recipients = self._recipients(session, m)
                if not recipients:
                    m.status, m.last_error = "held", "no one holds this role"
                    continue
                email = EmailMessage()
                email["From"] = self.smtp.sender
                email["To"] = ", ".join(recipients)
                email["Subject"] = m.subject
                email.set_content(m.body)
                try:
                    connection.send_message(email)
                except smtplib.SMTPException as exc:
                    self._failed(m, str(exc), now)
                    continue
                m.status, m.sent_at, m.attempts, m.last_error = "sent", now, m.attempts + 1, None
                if m.kind == "account":  # a one-time link is kept only until it is sent
                    m.body = "(Verzonden. De eenmalige link is niet bewaard.)"

    def _connect(self) -> smtplib.SMTP:
        s = self.smtp
        assert s is not None
        connection = smtplib.SMTP_SSL(s.host, s.port, timeout=20) if s.ssl else smtplib.SMTP(s.host, s.port, timeout=20)
        if s.starttls:
            connection.starttls()
        if s.username:
            connection.login(s.username, s.password or "")
        return connection

    def _failed(self, m: OutboxMessage, error: str, now) -> None:
        m.attempts += 1
        m.last_error = error
        if m.attempts >= MAX_ATTEMPTS:
            m.status = "failed"
        else:
            m.next_attempt_at = now + timedelta(minutes=2 ** m.attempts)

    def next_due(self):
        from sqlalchemy import func
        with self.sessions() as session:
            return session.scalar(select(func.min(OutboxMessage.next_attempt_at))
                                  .where(OutboxMessage.status == "pending"))

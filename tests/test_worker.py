"""The worker on the real clock: a deadline fires within seconds of its moment, the
letter reaches a real SMTP server on loopback, and SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from webapp.db.models import AuditEvent, OutboxMessage
from webapp.db.session import make_session_factory
from webapp.mail import OutboxSender, SmtpSettings
from webapp.runtime import clock
from webapp.runtime.organisations import load_config
from webapp.runtime.service import Runtime
from webapp.worker import Worker

from .conftest import AMS, FIXTURES


@pytest.fixture
def quick_runtime(db_engine) -> Runtime:
    config = load_config(FIXTURES / "quick")
    runtime = Runtime(make_session_factory(db_engine), {config.slug: config})
    runtime.ensure_organisations()
    runtime.deploy(config.slug)
    return runtime


def test_a_deadline_fires_within_seconds_and_the_letter_is_mailed(quick_runtime: Runtime, smtp_server):
    inbox, port = smtp_server
    sender = OutboxSender(quick_runtime.sessions, SmtpSettings("127.0.0.1", port, None, None, False, False,
                                                               "klachten@testorganisatie.nl"))
    worker = Worker(quick_runtime, sender, poll_interval=0.2)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    try:
        started = quick_runtime.start("quickorg", {"klager": {"naam": "C. Jansen", "email": "c.jansen@example.nl"}})
        due = quick_runtime.load(started.instance_id).next_wakeup()
        assert due is not None
        deadline = time.monotonic() + 15
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop_event.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == ["c.jansen@example.nl"]
    assert envelope.mail_from == "klachten@testorganisatie.nl"
    assert "Ontvangstbevestiging van uw klacht QUICK-" in envelope.content.decode()
    with quick_runtime.sessions() as s:
        fired_at = s.scalar(select(AuditEvent.occurred_at).where(AuditEvent.event_type == "timer_fired"))
        message = s.scalar(select(OutboxMessage))
    assert timedelta(0) <= fired_at - due < timedelta(seconds=3)
    assert (message.status, message.attempts) == ("sent", 1)


def test_without_smtp_letters_are_held_for_the_berichten_page(quick_runtime: Runtime, vclock):
    started = quick_runtime.start("quickorg", {"klager": {"email": "c@example.nl"}})
    worker = Worker(quick_runtime, OutboxSender(quick_runtime.sessions, None))
    vclock.advance(timedelta(seconds=3))
    stats = worker.sweep()
    assert (stats.timers, stats.messages) == (1, 1)
    with quick_runtime.sessions() as s:
        message = s.scalar(select(OutboxMessage).where(OutboxMessage.instance_id == started.instance_id))
    assert message.status == "held" and message.sent_at is None


def test_an_unreachable_mail_server_is_retried_later(quick_runtime: Runtime, vclock):
    quick_runtime.start("quickorg", {"klager": {"email": "c@example.nl"}})
    closed_port = 9  # discard: nothing listens on loopback here
    worker = Worker(quick_runtime, OutboxSender(quick_runtime.sessions, SmtpSettings(
        "127.0.0.1", closed_port, None, None, False, False, "x@y.nl")))
    vclock.advance(timedelta(seconds=3))
    worker.sweep()
    with quick_runtime.sessions() as s:
        message = s.scalar(select(OutboxMessage))
    assert message.status == "pending" and message.attempts == 1
    assert "cannot reach the mail server" in message.last_error
    assert message.next_attempt_at == vclock.now() + timedelta(minutes=2)


def test_worker_once_and_sigterm(database_url, db_engine, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url}
    once = subprocess.run([sys.executable, "-m", "webapp.cli", "worker", "--once"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert once.returncode == 0, once.stderr
    assert "fired 0 timer(s) on 0 complaint(s)" in once.stdout

    process = subprocess.Popen([sys.executable, "-m", "webapp.cli", "worker", "--poll-interval", "0.2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # SIGTERM once it runs (however long its start takes on a busy machine), not before.
        started = []
        for line in process.stdout:
            started.append(line)
            if "worker started" in line:
                break
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        output = "".join(started) + output
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert "stopping after the current transaction" in output and "worker stopped" in output


def test_smtp_url_is_read_with_clear_errors():
    s = SmtpSettings.from_url("smtps://klachten%40org.nl:geheim@mail.org.nl", "x@y.nl")
    assert (s.host, s.port, s.username, s.password, s.ssl) == ("mail.org.nl", 465, "klachten@org.nl", "geheim", True)
    with pytest.raises(ValueError, match="smtp:// or smtps://"):
        SmtpSettings.from_url("http://mail.org.nl", "x@y.nl")


def test_virtual_clock_rejects_naive_times():
    with pytest.raises(ValueError):
        clock.VirtualClock(datetime(2026, 1, 1))
    assert clock.to_local(datetime(2026, 7, 1, 10, tzinfo=AMS)).utcoffset() == timedelta(hours=2)

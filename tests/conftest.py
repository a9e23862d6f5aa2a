"""Shared fixtures: a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL
says so), the virtual clock, and a runtime with a small test organisation."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from webapp.db import migrate
from webapp.db.models import Base
from webapp.db.session import make_engine, make_session_factory
from webapp.runtime import clock
from webapp.runtime.organisations import load_config
from webapp.runtime.service import Runtime

FIXTURES = Path(__file__).parent / "fixtures"
AMS = clock.AMSTERDAM


def _is_postgres(url: str) -> bool:
    return url.startswith("postgres")


@pytest.fixture(scope="session")
def _pg_schema() -> Iterator[str | None]:
    """On PostgreSQL every test session gets a schema of its own, so that two runs on one
    database (a developer's and CI's, say) never touch each other's tables."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or not _is_postgres(url):
        yield None
        return
    schema = f"klachtroute_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, _pg_schema) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if _pg_schema:
        # In the URL, so that subprocesses (the worker, the CLI) use the same schema.
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}options=-csearch_path%3D{_pg_schema}"
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def _schema_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_engine(_schema_engine: Engine) -> Iterator[Engine]:
    """The migrated database, emptied after each test."""
    yield _schema_engine
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with _schema_engine.begin() as conn:
        if _schema_engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def is_postgres(db_engine: Engine) -> bool:
    return db_engine.dialect.name == "postgresql"


@pytest.fixture
def vclock() -> Iterator[clock.VirtualClock]:
    """Monday 2 March 2026, 09:00 in Amsterdam."""
    virtual = clock.VirtualClock(datetime(2026, 3, 2, 9, 0, tzinfo=AMS))
    with clock.use_clock(virtual):
        yield virtual


@pytest.fixture
def test_org():
    return load_config(FIXTURES / "timers")


@pytest.fixture
def runtime(db_engine: Engine, vclock, test_org) -> Runtime:
    # The test organisation's forms, and the real ones for tests that add a real organisation.
    rt = Runtime(make_session_factory(db_engine), {test_org.slug: test_org})
    rt.ensure_organisations()
    rt.deploy(test_org.slug)
    return rt


# -- web ------------------------------------------------------------------------------------

PASSWORD = "correct-paard-batterij"


@pytest.fixture
def make_user(runtime: Runtime):
    """Create a user with roles such as 'testorg:behandelaar'; returns the email."""
    from webapp.accounts import add_user

    def make(email: str, *roles: str, name: str = "") -> str:
        with runtime.write_sessions.begin() as session:
            add_user(session, runtime.organisations, email, name or email.split("@")[0].title(), PASSWORD,
                     list(roles))
        return email

    return make


@pytest.fixture
def app(runtime: Runtime):
    from webapp.web import create_app

    return create_app(runtime, SECRET_KEY="test-secret", TESTING=True)


class Browser:
    """Flask's test client with what a person does: read the CSRF token off the page, log in."""

    def __init__(self, client) -> None:
        self.client = client

    def csrf(self, url: str) -> str:
        import re

        page = self.client.get(url)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        assert match, f"no CSRF token on {url} ({page.status_code})"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD):
        token = self.csrf("/login")
        return self.client.post("/login", data={"email": email, "wachtwoord": password, "csrf_token": token})

    def post(self, url: str, data: dict | None = None, page: str | None = None, **kwargs):
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf(page or url)}, **kwargs)

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def publish_settings(runtime: Runtime):
    """Publish a new version of an organisation's package with some settings changed (as a
    process owner would): `publish_settings("testorg", intake={...})`."""
    from webapp.runtime import packages
    from webapp.runtime.organisations import config_from_files

    def publish(slug: str, **changes) -> int:
        current = runtime.organisation(slug)
        runtime.organisations[slug] = config_from_files(packages.with_settings(current.files, **changes),
                                                        slug=slug, folder=current.folder)
        return runtime.deploy(slug, note="andere instellingen")

    return publish


def open_draft(owner, org: str = "testorg") -> int:
    """As a process owner in the browser: a new draft of the current version; returns its id."""
    import re

    made = owner.post(f"/{org}/procesontwerp/pakket", {}, page=f"/{org}/procesontwerp/pakket")
    assert made.status_code == 302, made.get_data(as_text=True)
    return int(re.search(r"/concept/(\d+)/", made.headers["Location"]).group(1))


@pytest.fixture
def add_organisation(runtime: Runtime):
    """Add an organisation folder (a fixture's or a real one of bpmn/) to the runtime and deploy it."""

    def add(folder: Path):
        config = load_config(folder)
        runtime.organisations[config.slug] = config
        runtime.ensure_organisations()
        runtime.deploy(config.slug)
        return config

    return add


@pytest.fixture
def other_org(add_organisation):
    """A second organisation (the quick one) in the same database, to test isolation."""
    return add_organisation(FIXTURES / "quick")


# -- a live server and a real browser ---------------------------------------------------------


@pytest.fixture
def live_server(app):
    """The app served by waitress on a free loopback port, in a thread."""
    import socket
    import threading

    from waitress.server import create_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture
def chrome():
    from webapp.browser import available, headless_chromium

    if not available():
        pytest.fail("Debian's chromium and chromedriver are needed (make browser installs them)")
    with headless_chromium(1280, 1000) as driver:
        yield driver


# -- a real SMTP server on loopback -----------------------------------------------------------


class SmtpInbox:
    """What the loopback SMTP server received (aiosmtpd handler)."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    import socket

    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    with socket.socket() as probe:  # a free loopback port (aiosmtpd cannot take port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()

"""Login and sessions after OWASP ASVS level 2, security headers, rate limits on the public
intake, page numbers out of range, and the Dutch error page for every status code. On a real
database; the throttling state is in it, so two app instances share it."""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import abort
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.exceptions import default_exceptions
from werkzeug.security import generate_password_hash

from webapp import accounts, throttle
from webapp.cli import main
from webapp.db import migrate
from webapp.db.models import Instance, ThrottleCounter, User
from webapp.db.session import make_engine, make_session_factory
from webapp.runtime.service import Runtime
from webapp.web import create_app

from .conftest import PASSWORD, Browser

EMAIL = "els@testorg.nl"
WRONG = "fout-wachtwoord-123"
TEMPLATES = Path(__file__).resolve().parents[1] / "webapp" / "web" / "templates"
FORM = {"naam": "A. de Vries", "email": "a@example.nl", "relatie": "ouder",
        "omschrijving": "Mijn dochter kwam met natte kleren thuis.", "datum_gebeurtenis": "2026-02-27",
        "locatie": "De Boomhut", "toestemming": "ja"}
API_COMPLAINT = {**FORM, "toestemming": True}
LOCKED = "Te veel mislukte pogingen. Probeer het over 15 minuten opnieuw."


def login(client, email: str, password: str, address: str = "127.0.0.1"):
    return Browser(client).client.post("/login", data={"email": email, "wachtwoord": password},
                                       environ_base={"REMOTE_ADDR": address})


def logged_in(client) -> bool:
    response = client.get("/testorg/inbox")
    return response.status_code == 200


@pytest.fixture
def strict_app(runtime):
    """Low limits, CSRF off (the tests post many times; CSRF has its own tests)."""
    return create_app(runtime, SECRET_KEY="test-secret", TESTING=True, WTF_CSRF_ENABLED=False,
                      LOGIN_LIMIT_PER_ACCOUNT="3/15minutes", LOGIN_LIMIT_PER_ADDRESS="5/15minutes",
                      INTAKE_LIMIT_PER_ADDRESS="2/hour", INTAKE_LIMIT_PER_ORGANISATION="3/hour")


@pytest.fixture
def second_app(runtime, database_url):
    """Another web process: its own engine and runtime on the same database."""
    engine = make_engine(database_url)
    other = Runtime(make_session_factory(engine), dict(runtime.registry.templates))
    yield create_app(other, SECRET_KEY="test-secret", TESTING=True, WTF_CSRF_ENABLED=False,
                     LOGIN_LIMIT_PER_ACCOUNT="3/15minutes", LOGIN_LIMIT_PER_ADDRESS="5/15minutes")
    engine.dispose()


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The real hash verification, with a note of each call."""
    calls: list[str] = []
    real = accounts.check_password_hash

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return calls


# -- the throttle ----------------------------------------------------------------------------


def test_limits_are_read_from_their_settings():
    assert throttle.Limit.parse("10/hour") == throttle.Limit(10, timedelta(hours=1))
    assert throttle.Limit.parse("5/15minutes") == throttle.Limit(5, timedelta(minutes=15))
    assert throttle.Limit.parse("200 per day") == throttle.Limit(200, timedelta(days=1))
    for wrong in ("10", "tien/uur", "5/0minutes", "5/fortnight"):
        with pytest.raises(throttle.LimitSyntaxError):
            throttle.Limit.parse(wrong)
    with pytest.raises(throttle.LimitSyntaxError):
        create_app(None, SECRET_KEY="x", INTAKE_LIMIT_PER_ADDRESS="veel")


def test_a_counter_refuses_at_its_limit_until_its_window_has_passed(runtime, vclock):
    limit = throttle.Limit(2, timedelta(minutes=10))
    with runtime.write_sessions.begin() as db:
        assert throttle.consume(db, "test", "bron", limit, vclock.now()) is None
        assert throttle.consume(db, "test", "bron", limit, vclock.now()) is None
        refusal = throttle.consume(db, "test", "bron", limit, vclock.now())
        assert refusal is not None and refusal.minutes == 10
        assert throttle.consume(db, "test", "andere bron", limit, vclock.now()) is None
        # Neither an address nor an email is stored: only hashes.
        assert all(len(key) == 64 and "bron" not in key for key in db.scalars(select(ThrottleCounter.key)))
    vclock.advance(timedelta(minutes=10))
    with runtime.write_sessions.begin() as db:
        assert throttle.consume(db, "test", "bron", limit, vclock.now()) is None


# -- login throttling --------------------------------------------------------------------------


def test_failures_counted_by_one_web_process_lock_the_account_in_another(
        strict_app, second_app, make_user, vclock, password_checks):
    make_user(EMAIL, "testorg:behandelaar")
    first, second = strict_app.test_client(), second_app.test_client()
    for _ in range(3):
        assert login(first, EMAIL, WRONG).status_code == 401
    checks = len(password_checks)

    refused = login(second, EMAIL, PASSWORD)  # the right password, in the other process
    assert refused.status_code == 429 and LOCKED in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) == 15 * 60
    assert len(password_checks) == checks  # refused without looking at the password
    assert not logged_in(second)

    vclock.advance(timedelta(minutes=15))
    assert login(second, EMAIL, PASSWORD).status_code == 302 and logged_in(second)


def test_a_successful_login_resets_the_account_counter(strict_app, make_user):
    make_user(EMAIL, "testorg:behandelaar")
    client = strict_app.test_client()
    for _ in range(2):
        login(client, EMAIL, WRONG)
    assert login(client, EMAIL, PASSWORD).status_code == 302
    for _ in range(2):
        assert login(strict_app.test_client(), EMAIL, WRONG).status_code == 401
    assert login(strict_app.test_client(), EMAIL, PASSWORD).status_code == 302


def test_failures_from_one_address_lock_that_address_out_for_every_account(strict_app, make_user):
    make_user(EMAIL, "testorg:behandelaar")
    client = strict_app.test_client()
    for n in range(5):  # five accounts, one failure each: no account is locked
        assert login(client, f"gok{n}@testorg.nl", WRONG, "10.0.0.9").status_code == 401
    refused = login(client, EMAIL, PASSWORD, "10.0.0.9")
    assert refused.status_code == 429 and LOCKED in refused.get_data(as_text=True)
    assert login(client, EMAIL, PASSWORD, "10.0.0.10").status_code == 302  # another address


def test_an_unknown_account_costs_a_password_verification_too(strict_app, make_user, runtime, password_checks):
    make_user(EMAIL, "testorg:behandelaar")
    with runtime.write_sessions.begin() as db:
        db.execute(User.__table__.update().values(active=False))
    client = strict_app.test_client()
    for email in ("niemand@testorg.nl", EMAIL):  # unknown; known but inactive
        before = len(password_checks)
        response = login(client, email, WRONG)
        assert response.status_code == 401
        assert "Dit e-mailadres en wachtwoord horen niet bij elkaar." in response.get_data(as_text=True)
        assert len(password_checks) == before + 1 and password_checks[-1].startswith(("scrypt:", "pbkdf2:"))


# -- sessions --------------------------------------------------------------------------------


def copy_session(source, app):
    cookie = source.get_cookie("session")
    assert cookie is not None
    client = app.test_client()
    client.set_cookie("session", cookie.value)
    return client


def test_a_session_copied_before_logout_no_longer_works_after_it(strict_app, make_user):
    make_user(EMAIL, "testorg:behandelaar")
    client = strict_app.test_client()
    login(client, EMAIL, PASSWORD)
    thief = copy_session(client, strict_app)
    assert logged_in(thief)
    assert client.post("/logout").status_code == 302
    response = thief.get("/testorg/inbox")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert thief.get("/api/v1/tasks").status_code == 401


def test_a_new_password_ends_every_session(strict_app, make_user, database_url, monkeypatch):
    make_user(EMAIL, "testorg:behandelaar")
    client = strict_app.test_client()
    login(client, EMAIL, PASSWORD)
    assert logged_in(client)
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["users", "set-password", EMAIL, "--password", "nieuw-wachtwoord-456"])
    assert result.exit_code == 0, result.output
    assert client.get("/testorg/inbox").headers["Location"].startswith("/login")
    assert login(client, EMAIL, PASSWORD).status_code == 401
    assert login(client, EMAIL, "nieuw-wachtwoord-456").status_code == 302 and logged_in(client)


# -- headers ---------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(strict_app, make_user):
    make_user(EMAIL, "testorg:behandelaar")
    client = strict_app.test_client()
    login(client, EMAIL, PASSWORD)
    client.post("/testorg/klacht-indienen", data=FORM)
    personal = ["/testorg/inbox", "/testorg/klachten", "/testorg/berichten", "/api/v1/tasks",
                "/testorg/klacht-indienen/ontvangen", "/login", "/bestaat-niet"]
    for url in personal + ["/static/klachtroute.css"]:
        response = client.get(url)
        csp = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
        assert csp["script-src"] == csp["style-src"] == "'self'" and csp["frame-ancestors"] == "'none'", url
        assert csp["object-src"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        if url in personal:
            assert response.headers["Cache-Control"] == "no-store", url
    assert "no-store" not in client.get("/static/klachtroute.css").headers.get("Cache-Control", "")


def test_no_template_has_inline_scripts_handlers_or_styles():
    # The CSP would block them: the e2e tests (modeller, SAMEN) show the pages work under it.
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", source):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", source), template.name
        assert not re.search(r"\sstyle\s*=", source) and "<style" not in source, template.name


# -- rate limits on the public intake ----------------------------------------------------------


def complaints(runtime) -> int:
    with runtime.sessions() as db:
        return db.scalar(select(func.count()).select_from(Instance))


def test_the_public_form_refuses_too_many_complaints_from_one_address(strict_app, runtime, vclock):
    client = strict_app.test_client()
    for _ in range(2):
        assert client.post("/testorg/klacht-indienen", data=FORM).status_code == 303
    refused = client.post("/testorg/klacht-indienen", data=FORM)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "te veel meldingen verstuurd" in body and "probeer het over 60 minuten opnieuw" in body
    assert FORM["omschrijving"] in body  # what was typed is still there
    assert complaints(runtime) == 2
    vclock.advance(timedelta(hours=1))
    assert client.post("/testorg/klacht-indienen", data=FORM).status_code == 303


def test_the_form_and_the_api_share_the_limit_per_organisation(strict_app, runtime):
    client = strict_app.test_client()
    addresses = iter(f"10.1.0.{n}" for n in range(1, 10))
    assert client.post("/testorg/klacht-indienen", data=FORM,
                       environ_base={"REMOTE_ADDR": next(addresses)}).status_code == 303
    for _ in range(2):
        assert client.post("/api/v1/organisations/testorg/complaints", json=API_COMPLAINT,
                           environ_base={"REMOTE_ADDR": next(addresses)}).status_code == 201
    refused = client.post("/api/v1/organisations/testorg/complaints", json=API_COMPLAINT,
                          environ_base={"REMOTE_ADDR": next(addresses)})
    assert refused.status_code == 429 and refused.mimetype == "application/json"
    assert "erg veel meldingen binnen" in refused.get_json()["error"] and refused.headers["Retry-After"]
    page = client.post("/testorg/klacht-indienen", data=FORM, environ_base={"REMOTE_ADDR": next(addresses)})
    assert page.status_code == 429 and "erg veel meldingen binnen" in page.get_data(as_text=True)
    assert complaints(runtime) == 3


def test_the_api_refuses_too_many_complaints_from_one_address(strict_app, runtime):
    client = strict_app.test_client()
    for _ in range(2):
        assert client.post("/api/v1/organisations/testorg/complaints", json=API_COMPLAINT).status_code == 201
    refused = client.post("/api/v1/organisations/testorg/complaints", json=API_COMPLAINT)
    assert refused.status_code == 429 and "te veel meldingen verstuurd" in refused.get_json()["error"]
    assert complaints(runtime) == 2


# -- page numbers ----------------------------------------------------------------------------


def test_page_numbers_out_of_range_are_clamped_or_refused(strict_app, make_user, runtime):
    make_user(EMAIL, "testorg:behandelaar")
    started = runtime.start("testorg", {"omschrijving": "Test"})
    client = strict_app.test_client()
    login(client, EMAIL, PASSWORD)
    for page in ("99999999999999999999", "-5", "9" * 5000, "abc"):
        for url in ("/testorg/inbox", "/testorg/klachten", "/testorg/berichten"):
            assert client.get(f"{url}?pagina={page}").status_code == 200, (url, page[:20])
    # Past the end: the last page, with the one complaint on it.
    assert started.reference in client.get("/testorg/klachten?pagina=99999999999999999999").get_data(as_text=True)
    for page in ("9223372036854775808", "1000001"):
        response = client.get(f"/api/v1/tasks?page={page}")
        assert response.status_code == 400 and response.mimetype == "application/json"
        assert response.get_json()["errors"] == [{"field": "page", "message": "Vul een waarde van hoogstens 1000000 in."}]


# -- error pages -----------------------------------------------------------------------------


@pytest.fixture
def failing_app(runtime):
    """An app with a route per status code, as production runs it (exceptions not propagated)."""
    app = create_app(runtime, SECRET_KEY="test-secret", TESTING=True, PROPAGATE_EXCEPTIONS=False)

    def status(code: int):
        abort(code)

    def crash():
        raise RuntimeError("a bug")

    app.add_url_rule("/_fout/<int:code>", "fout", status)
    app.add_url_rule("/_kapot", "kapot", crash)
    app.add_url_rule("/api/v1/_kapot", "api_kapot", crash)
    return app


def is_dutch_error_page(response, status: int) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == status and response.mimetype == "text/html", status
    assert '<html lang="nl">' in body and "Naar de startpagina" in body, status
    for english in ("The requested URL", "The server", "Internal Server Error", "Not Found", "Bad Request"):
        assert english not in body, (status, english)
    return body


def test_every_status_code_is_the_dutch_error_page(failing_app):
    client = failing_app.test_client()
    for code in sorted(default_exceptions):
        is_dutch_error_page(client.get(f"/_fout/{code}"), code)
    assert "Er ging iets mis aan onze kant" in is_dutch_error_page(client.get("/_kapot"), 500)
    assert "Niet gevonden" in is_dutch_error_page(client.get("/bestaat/niet/hier"), 404)
    is_dutch_error_page(client.put("/login"), 405)
    assert "te groot" in is_dutch_error_page(client.post("/login", data={"x": "a" * (2 * 1024 * 1024)}), 413)
    assert "Formulier verlopen" in is_dutch_error_page(client.post("/login", data={"email": "a"}), 400)


def test_api_errors_stay_json(failing_app):
    client = failing_app.test_client()
    for url, status in (("/api/v1/_kapot", 500), ("/api/v1/bestaat-niet", 404), ("/api/v1/tasks", 401)):
        response = client.get(url)
        assert response.status_code == status and response.mimetype == "application/json", url
        assert response.get_json()["error"]
    assert client.delete("/api/v1/openapi.json").get_json()["error"] == "Deze methode is hier niet toegestaan."


def test_a_number_in_the_address_too_large_for_the_database_is_not_found(strict_app, make_user):
    make_user(EMAIL, "testorg:behandelaar")
    client = strict_app.test_client()
    login(client, EMAIL, PASSWORD)
    huge = "99999999999999999999"
    assert client.get(f"/api/v1/tasks/{huge}").status_code == 404
    assert client.get(f"/api/v1/tasks/{2**31}").status_code == 404
    is_dutch_error_page(client.get(f"/testorg/taken/{huge}"), 404)


@pytest.fixture
def empty_database(tmp_path):
    """A database of its own (a fresh PostgreSQL schema, or a SQLite file) to migrate step by step."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgres"):
        engine = make_engine(f"sqlite:///{tmp_path / 'upgrade.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"klachtroute_upgrade_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_existing_users_keep_their_password_across_the_upgrade(empty_database):
    migrate.upgrade(empty_database, "0006")
    with empty_database.begin() as conn:
        conn.execute(text("INSERT INTO users (email, name, password_hash, active, created_at) "
                          "VALUES (:email, 'Els', :hash, :active, :now)"),
                     {"email": EMAIL, "hash": generate_password_hash(PASSWORD), "active": True,
                      "now": datetime(2026, 1, 5, tzinfo=UTC)})
    migrate.upgrade(empty_database)
    with Session(empty_database) as db:
        user = accounts.authenticate(db, EMAIL, PASSWORD)
        assert user is not None and user.session_version == 1
        assert db.scalar(select(func.count()).select_from(ThrottleCounter)) == 0

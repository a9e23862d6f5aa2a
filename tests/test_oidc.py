"""Sign-in with the organisation's own identity provider: a real OpenID Connect provider (the
npm package oidc-provider, tests/oidc_provider.mjs) on loopback, the app served by waitress, and
an HTTP client that follows the provider's login and consent forms like a browser."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
from html import unescape
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from webapp.accounts import membership
from webapp.db.models import OrganisationSettings, User
from webapp.runtime.service import Runtime

from .conftest import Browser

ORG = "testorg"
CLIENT_ID, CLIENT_SECRET = "klachtroute-test", "geheim-van-de-client-123"
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
INPUT = re.compile(r"<input([^>]*)>")
ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def provider(live_server):
    """The provider on a free port, with one client whose redirect URI is the live server's."""
    port = _free_port()
    redirect = f"{live_server}/login/{ORG}/sso/terug"
    process = subprocess.Popen(["node", str(SCRIPT), str(port), redirect, CLIENT_ID, CLIENT_SECRET],
                               stdout=subprocess.PIPE, stderr=None, text=True,
                               cwd=SCRIPT.parents[1])
    ready = threading.Event()
    threading.Thread(target=lambda: process.stdout.readline().startswith("ready") and ready.set(),
                     daemon=True).start()
    try:
        if not ready.wait(30):
            pytest.fail("oidc-provider did not start (npm install installs it)")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def _submit(client: requests.Session, page: requests.Response, fields: dict[str, str]) -> requests.Response:
    """Submit the page's form as a browser would: its hidden fields plus `fields`."""
    action, body = FORM.search(page.text).groups()
    inputs = [dict(ATTRIBUTE.findall(attributes)) for attributes in INPUT.findall(body)]
    data = {i["name"]: unescape(i.get("value", "")) for i in inputs if "name" in i}
    return client.post(requests.compat.urljoin(page.url, unescape(action)), data={**data, **fields}, timeout=30)


def sign_in_through_provider(live_server: str) -> requests.Response:
    client = requests.Session()
    login_page = client.get(f"{live_server}/login", timeout=30)
    assert "Inloggen met Testorganisatie-account" in login_page.text
    page = client.get(f"{live_server}/login/{ORG}/sso", timeout=30)  # -> the provider's login form
    page = _submit(client, page, {"login": "noor", "password": "wat-dan-ook"})  # -> consent
    return _submit(client, page, {})  # -> back to Klachtroute, signed in


def configure(manager: Browser, issuer: str, mapping: str) -> None:
    answer = manager.post(f"/{ORG}/collegas/inloggen", {
        "naam": "Testorganisatie-account", "issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "groepen_claim": "groups", "rollen": mapping}, page=f"/{ORG}/collegas")
    assert answer.status_code == 302


def roles_of(runtime: Runtime, email: str) -> dict[str, frozenset[str]]:
    with runtime.sessions() as s:
        return membership(s, s.scalar(select(User.id).where(User.email == email))).roles


def test_sign_in_through_a_real_provider_creates_the_user_with_mapped_roles(runtime: Runtime, app, make_user,
                                                                            live_server, provider):
    make_user("beheer@testorg.nl", f"{ORG}:functioneel_beheerder")
    manager = Browser(app.test_client())
    manager.login("beheer@testorg.nl")
    configure(manager, provider, "klachten-behandelaars = behandelaar\nbestuur = directeur")
    with runtime.sessions() as s:
        stored = s.scalar(select(OrganisationSettings.oidc_client_secret))
    assert CLIENT_SECRET not in stored  # sealed

    landed = sign_in_through_provider(live_server)
    assert landed.status_code == 200 and landed.url == f"{live_server}/{ORG}/inbox"
    assert "Noor van de Provider" in landed.text
    assert roles_of(runtime, "noor@idp.test") == {ORG: frozenset({"behandelaar"})}

    # The roles follow the groups at every sign-in.
    configure(manager, provider, "klachten-behandelaars = directeur, auditor")
    sign_in_through_provider(live_server)
    assert roles_of(runtime, "noor@idp.test") == {ORG: frozenset({"directeur", "auditor"})}
    with runtime.sessions() as s:
        assert s.scalar(select(User.id).where(User.email == "noor@idp.test")) is not None
        assert len(s.scalars(select(User).where(User.email == "noor@idp.test")).all()) == 1

    # No group that gives access: refused in Dutch, and the roles here are gone.
    configure(manager, provider, "bestuur = directeur")
    refused = sign_in_through_provider(live_server)
    assert refused.status_code == 403 and "geen groep die toegang geeft" in refused.text
    assert roles_of(runtime, "noor@idp.test") == {}


def test_the_provider_is_set_on_the_command_line(runtime: Runtime, database_url, monkeypatch):
    from webapp.cli import main
    from webapp.runtime.organisations import BPMN_ROOT, load_config

    runtime.organisations["samen-kinderopvang"] = load_config(BPMN_ROOT / "samen-kinderopvang")
    runtime.ensure_organisations()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "cli-secret")
    result = CliRunner().invoke(main, ["sso", "set", "samen-kinderopvang", "--issuer", "https://login.example.nl",
                                       "--client-id", "kr", "--client-secret", "s3cret-s3cret",
                                       "--map", "kwaliteit=beleidsmedewerker_kwaliteit,auditor"])
    assert result.exit_code == 0, result.output
    with runtime.sessions() as s:
        row = s.scalar(select(OrganisationSettings))
    assert row.oidc_issuer == "https://login.example.nl"
    assert row.oidc_role_map == {"kwaliteit": ["beleidsmedewerker_kwaliteit", "auditor"]}
    bad = CliRunner().invoke(main, ["sso", "set", "samen-kinderopvang", "--issuer", "https://x", "--client-id", "kr",
                                    "--client-secret", "s", "--map", "groep=geen_rol"])
    assert bad.exit_code != 0 and "geen_rol" in bad.output

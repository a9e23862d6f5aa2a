"""Collega's: the functioneel beheerder invites a colleague (accepted in headless Chromium, the
mail sent over real SMTP on loopback), gives roles and locations, deactivates an account and
sends a password reset link; everyone changes their own password; two-factor sign-in with TOTP."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from webapp.accounts import membership
from webapp.db.models import AccountToken, OutboxMessage, User, UserRole
from webapp.mail import OutboxSender, SmtpSettings
from webapp.runtime import clock
from webapp.runtime.service import Runtime

from .conftest import PASSWORD, Browser

ORG = "testorg"
NEW_PASSWORD = "zeven blauwe fietsen"
LINK = re.compile(r"https?://[^/\s]+(/(?:uitnodiging|wachtwoord-herstellen)/[A-Za-z0-9_-]+)")


@pytest.fixture
def manager(app, make_user) -> Browser:
    make_user("beheer@testorg.nl", f"{ORG}:functioneel_beheerder", name="Fenna Beheer")
    browser = Browser(app.test_client())
    assert browser.login("beheer@testorg.nl").status_code == 302
    return browser


def logged_in(browser: Browser) -> bool:
    return browser.get(f"/{ORG}/inbox").status_code == 200


def outbox_link(runtime: Runtime, recipient: str) -> str:
    with runtime.sessions() as s:
        body = s.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == recipient)
                         .order_by(OutboxMessage.id.desc())).first()
    return LINK.search(body).group(1)


def test_an_invitation_accepted_in_chromium_gives_a_working_account(runtime: Runtime, manager, live_server,
                                                                     chrome, smtp_server):
    answer = manager.post(f"/{ORG}/collegas/uitnodigen", {"email": "Nieuw@TestOrg.nl", "rol": ["behandelaar"]},
                          page=f"/{ORG}/collegas")
    assert answer.status_code == 302
    assert "nieuw@testorg.nl" in manager.get(f"/{ORG}/collegas").get_data(as_text=True)  # pending
    with runtime.sessions() as s:
        stored = s.scalar(select(AccountToken))
    # Sent by the worker's sender over SMTP; the one-time link is not kept once sent.
    inbox, port = smtp_server
    OutboxSender(runtime.sessions, SmtpSettings("127.0.0.1", port, None, None, False, False,
                                                "klachtroute@testorg.nl")).send_due()
    mail = message_from_bytes(inbox.messages[0].content, policy=policy.default)
    assert mail["To"] == "nieuw@testorg.nl" and "Uitnodiging" in mail["Subject"]
    path = LINK.search(mail.get_content()).group(1)
    token = path.rsplit("/", 1)[1]
    assert stored.token_sha256 != token and token not in stored.token_sha256
    with runtime.sessions() as s:
        assert token not in s.scalar(select(OutboxMessage.body))

    wait = WebDriverWait(chrome, 15)
    chrome.get(live_server + path)
    assert "Welkom bij Testorganisatie" in chrome.find_element(By.TAG_NAME, "main").text
    chrome.find_element(By.ID, "naam").send_keys("Noor Nieuw")
    chrome.find_element(By.ID, "wachtwoord").send_keys(NEW_PASSWORD)
    chrome.find_element(By.ID, "herhaling").send_keys(NEW_PASSWORD)
    chrome.find_element(By.ID, "aannemen").click()
    wait.until(ec.url_contains("/login"))
    chrome.find_element(By.ID, "email").send_keys("nieuw@testorg.nl")
    chrome.find_element(By.ID, "wachtwoord").send_keys(NEW_PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.url_contains(f"/{ORG}/inbox"))
    assert "Noor Nieuw" in chrome.find_element(By.TAG_NAME, "header").text
    with runtime.sessions() as s:
        user = s.scalar(select(User).where(User.email == "nieuw@testorg.nl"))
        assert membership(s, user.id).roles == {ORG: frozenset({"behandelaar"})}
    # The link worked once.
    chrome.get(live_server + path)
    assert "Deze link werkt niet" in chrome.find_element(By.TAG_NAME, "main").text


def test_roles_and_locations_are_given_and_taken(runtime: Runtime, manager, make_user, app):
    runtime.start(ORG, {"locatie": "De Boomhut"}, location="De Boomhut")
    make_user("els@testorg.nl", f"{ORG}:behandelaar", name="Els")
    with runtime.sessions() as s:
        els = s.scalar(select(User.id).where(User.email == "els@testorg.nl"))
    colleague = Browser(app.test_client())
    assert colleague.login("els@testorg.nl").status_code == 302
    page = manager.get(f"/{ORG}/collegas/{els}").get_data(as_text=True)
    assert "De Boomhut" in page  # the organisation's locations to choose from
    manager.post(f"/{ORG}/collegas/{els}", {"rol": ["directeur", "auditor"], "locaties-directeur": ["De Boomhut"]})
    with runtime.sessions() as s:
        rows = {r.role: r.locations for r in s.scalars(select(UserRole).where(UserRole.user_id == els))}
    assert rows == {"directeur": ["De Boomhut"], "auditor": None}
    assert not logged_in(colleague)  # new roles hold at once: her session ended
    # A colleague of another organisation is not found here.
    assert manager.get(f"/{ORG}/collegas/999999").status_code == 404


def test_deactivating_ends_the_sessions_at_once(runtime: Runtime, manager, make_user, app):
    make_user("els@testorg.nl", f"{ORG}:behandelaar")
    colleague = Browser(app.test_client())
    assert colleague.login("els@testorg.nl").status_code == 302 and logged_in(colleague)
    with runtime.sessions() as s:
        els = s.scalar(select(User.id).where(User.email == "els@testorg.nl"))
    manager.post(f"/{ORG}/collegas/{els}/deactiveren", page=f"/{ORG}/collegas")
    assert not logged_in(colleague)
    assert colleague.login("els@testorg.nl").status_code == 401
    assert "gedeactiveerd" in manager.get(f"/{ORG}/collegas").get_data(as_text=True)
    manager.post(f"/{ORG}/collegas/{els}/activeren", page=f"/{ORG}/collegas")
    assert colleague.login("els@testorg.nl").status_code == 302


def test_a_reset_link_works_once_and_expires(runtime: Runtime, manager, make_user, app, vclock):
    make_user("els@testorg.nl", f"{ORG}:behandelaar")
    with runtime.sessions() as s:
        els = s.scalar(select(User.id).where(User.email == "els@testorg.nl"))
    manager.post(f"/{ORG}/collegas/{els}/wachtwoordlink", page=f"/{ORG}/collegas")
    path = outbox_link(runtime, "els@testorg.nl")
    reader = Browser(app.test_client())
    reader.login("els@testorg.nl")
    assert "wachtwoord-herstellen" not in reader.get(f"/{ORG}/berichten").get_data(as_text=True)  # never listed
    person = Browser(app.test_client())
    assert person.get(path).status_code == 200
    assert person.post(path, {"wachtwoord": NEW_PASSWORD, "herhaling": NEW_PASSWORD}).status_code == 302
    assert person.login("els@testorg.nl", NEW_PASSWORD).status_code == 302
    assert Browser(app.test_client()).login("els@testorg.nl", PASSWORD).status_code == 401
    again = person.get(path)
    assert again.status_code == 404 and "al gebruikt of verlopen" in again.get_data(as_text=True)
    # A new link, used three hours later: expired.
    manager.post(f"/{ORG}/collegas/{els}/wachtwoordlink", page=f"/{ORG}/collegas")
    late = outbox_link(runtime, "els@testorg.nl")
    assert late != path
    vclock.advance(timedelta(hours=3))
    assert person.get(late).status_code == 404


@pytest.mark.parametrize(("password", "message"), [
    ("qwerty123456", "te vaak gebruikt"),
    ("Welkom2026!!!", "te vaak gebruikt"),
    ("kort-wacht", "minstens 12 tekens"),
])
def test_an_own_new_password_is_refused_in_dutch(browser, make_user, password, message):
    make_user("els@testorg.nl", f"{ORG}:behandelaar")
    browser.login("els@testorg.nl")
    answer = browser.post("/account/wachtwoord", {"huidig": PASSWORD, "nieuw": password, "herhaling": password})
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)


def test_an_own_password_change_asks_the_current_one_and_ends_other_sessions(app, browser, make_user):
    make_user("els@testorg.nl", f"{ORG}:behandelaar")
    other = Browser(app.test_client())
    browser.login("els@testorg.nl")
    other.login("els@testorg.nl")
    wrong = browser.post("/account/wachtwoord", {"huidig": "niet-het-wachtwoord", "nieuw": NEW_PASSWORD,
                                                 "herhaling": NEW_PASSWORD})
    assert wrong.status_code == 422 and "huidige wachtwoord klopt niet" in wrong.get_data(as_text=True)
    done = browser.post("/account/wachtwoord", {"huidig": PASSWORD, "nieuw": NEW_PASSWORD, "herhaling": NEW_PASSWORD})
    assert done.status_code == 302
    assert logged_in(browser) and not logged_in(other)
    assert other.login("els@testorg.nl", NEW_PASSWORD).status_code == 302


def test_two_factor_enrolment_and_sign_in_with_a_code(runtime: Runtime, manager, make_user, app, vclock):
    make_user("els@testorg.nl", f"{ORG}:behandelaar")
    manager.post(f"/{ORG}/collegas/tweestaps", {"verplicht": "1"}, page=f"/{ORG}/collegas")
    person = Browser(app.test_client())
    answer = person.login("els@testorg.nl")
    assert answer.headers["Location"].endswith("/login/tweestaps-instellen")
    assert not logged_in(person)  # the password alone is not enough
    page = person.get("/login/tweestaps-instellen").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code, no external resource
    secret = re.search(r'<code id="sleutel">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    wrong = person.post("/login/tweestaps-instellen", {"code": "000000" if totp.at(clock.now()) != "000000"
                                                       else "111111"})
    assert wrong.status_code == 401 and "Deze code klopt niet" in wrong.get_data(as_text=True)
    assert person.post("/login/tweestaps-instellen", {"code": totp.at(clock.now())}).status_code == 302
    assert logged_in(person)
    with runtime.sessions() as s:
        stored = s.scalar(select(User.totp_secret).where(User.email == "els@testorg.nl"))
    assert stored.startswith("f1:") and secret not in stored  # sealed

    # Next time: password, then the code of the moment; a code works once.
    person.post("/logout", page=f"/{ORG}/inbox")
    assert person.login("els@testorg.nl").headers["Location"].endswith("/login/code")
    used = totp.at(clock.now())
    assert person.post("/login/code", {"code": used}).status_code == 401
    vclock.advance(timedelta(seconds=30))
    assert person.post("/login/code", {"code": totp.at(clock.now())}).status_code == 302
    assert logged_in(person)
    # The secret is never shown again.
    assert person.get("/login/tweestaps-instellen").status_code == 302


def test_two_factor_is_not_asked_of_roles_that_read_no_personal_data(runtime: Runtime, manager, app):
    manager.post(f"/{ORG}/collegas/tweestaps", {"verplicht": "1"}, page=f"/{ORG}/collegas")
    again = Browser(app.test_client())
    assert again.login("beheer@testorg.nl").headers["Location"].endswith("/")

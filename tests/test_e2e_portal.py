"""End to end in headless Chromium: the complainant's own page. A SAMEN parent submits the public
form, the manager VE confirms receipt, the worker mails the acknowledgement to a real SMTP server on
loopback; the parent opens the link from that email, sees the deadlines, withdraws with the emailed
code, and the manager's inbox no longer has the task. A Kwartier client asks for step 2. Expired,
revoked and forged links get a clear page and no data. axe-core checks every page."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from webapp import portal
from webapp.db.models import Instance
from webapp.mail import OutboxSender, SmtpSettings
from webapp.runtime import portal_links
from webapp.runtime.organisations import BPMN_ROOT
from webapp.runtime.service import Actor, Runtime
from webapp.worker import Worker

from .conftest import PASSWORD

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def worker(runtime: Runtime, smtp_server, live_server):
    inbox, port = smtp_server
    runtime.portal = portal_links.PortalSettings(live_server, 90)
    sender = OutboxSender(runtime.sessions, SmtpSettings("127.0.0.1", port, None, None, False, False,
                                                         "klachten@samen.example"))
    return Worker(runtime, sender), inbox


def mails_to(inbox, address: str) -> list[str]:
    """The plain text of every mail the loopback server received for `address`."""
    texts = []
    for envelope in inbox.messages:
        if address in envelope.rcpt_tos:
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            texts.append(message.get_body(("plain",)).get_content())
    return texts


def axe_serious(driver) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations of impact serious or critical on the current page."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length])))"
        ".catch(e => done([['axe-error', String(e), 0]]));")
    return [f"{rule} ({impact}, {count}x)" for rule, impact, count in found
            if impact in ("serious", "critical") or rule == "axe-error"]


def fits_a_phone(driver) -> bool:
    driver.set_window_size(375, 800)
    try:
        return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        driver.set_window_size(1280, 1000)


def fill(driver, field_id: str, text: str) -> None:
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)


def test_a_samen_parent_withdraws_from_the_link_in_the_acknowledgement(live_server, chrome, worker, add_organisation,
                                                                       make_user, runtime: Runtime):
    add_organisation(BPMN_ROOT / "samen-kinderopvang")
    make_user("manager.ve@samen.nl", "samen-kinderopvang:manager_ve", name="Marieke de Boer")
    sweeper, inbox = worker
    wait = WebDriverWait(chrome, 15)

    chrome.get(f"{live_server}/samen-kinderopvang/klacht-indienen")
    fill(chrome, "veld-naam", "Fatima el Amrani")
    fill(chrome, "veld-email", "fatima@example.nl")
    Select(chrome.find_element(By.ID, "veld-relatie")).select_by_value("ouder")
    fill(chrome, "veld-locatie", "KDV De Vlinder, Zwolle")
    fill(chrome, "veld-omschrijving", "Mijn dochter kwam met een schaafwond thuis en niemand had het ons verteld.")
    chrome.find_element(By.ID, "veld-toestemming").click()
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.url_contains("/klacht-indienen/ontvangen"))
    reference = re.search(r"SAMEN-\d{4}-\d{4}", chrome.find_element(By.TAG_NAME, "main").text).group(0)

    # The manager VE confirms receipt; the worker mails the acknowledgement.
    with runtime.sessions() as session:
        instance_id = session.scalar(select(Instance.id).where(Instance.reference == reference))
    manager = Actor("manager.ve@samen.nl", "samen-kinderopvang", frozenset({"manager_ve"}))
    [task] = [t for t in runtime.load(instance_id).ready_tasks() if t.bpmn_id == "Task_ontvangst_bevestigen"]
    runtime.complete_task(instance_id, task.task_id, manager, {"aard_klacht": "veiligheid en gezondheid",
                                                               "medewerker_betrokken": False})
    sweeper.sweep()
    [acknowledgement] = mails_to(inbox, "fatima@example.nl")
    link = re.search(rf"{re.escape(live_server)}/mijn-klacht/[A-Za-z0-9_-]+", acknowledgement).group(0)

    # The parent opens the link: where the complaint stands and by when.
    chrome.get(link)
    main = chrome.find_element(By.TAG_NAME, "main").text
    assert reference in main
    assert "De manager VE neemt persoonlijk, telefonisch of schriftelijk contact met u op." in main
    assert "De manager VE neemt contact met u op\nuiterlijk" in main
    assert "U ontvangt een schriftelijk en met redenen omkleed oordeel\nuiterlijk" in main
    assert "Wettelijke termijn" in main and "Ontvangstbevestiging van uw klacht" in main
    assert axe_serious(chrome) == []
    assert fits_a_phone(chrome)

    # Withdraw: the reason, then the code from the email.
    chrome.find_element(By.LINK_TEXT, "Mijn klacht intrekken").click()
    wait.until(ec.presence_of_element_located((By.ID, "veld-tekst")))
    assert axe_serious(chrome) == []
    fill(chrome, "veld-tekst", "Het is opgelost met de pedagogisch medewerker.")
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "veld-code")))
    assert axe_serious(chrome) == []
    sweeper.sweep()
    code_mail = mails_to(inbox, "fatima@example.nl")[-1]
    code = re.search(r"^\s+(\d{6})\s*$", code_mail, re.M).group(1)
    fill(chrome, "veld-code", code)
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "Uw klacht is ingetrokken"))
    assert "Mijn klacht intrekken" not in chrome.find_element(By.TAG_NAME, "main").text
    assert axe_serious(chrome) == []

    # The manager VE's inbox no longer has the task.
    chrome.get(f"{live_server}/login")
    fill(chrome, "email", "manager.ve@samen.nl")
    fill(chrome, "wachtwoord", PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.url_contains("/samen-kinderopvang/inbox"))
    assert reference not in chrome.find_element(By.TAG_NAME, "main").text

    # The procedure confirms the withdrawal in writing (with a link of its own).
    sweeper.sweep()
    confirmation = mails_to(inbox, "fatima@example.nl")[-1]
    assert "de behandeling van uw klacht is gestopt" in confirmation and f"{live_server}/mijn-klacht/" in confirmation


def test_a_kwartier_client_asks_for_the_leidinggevende(live_server, chrome, worker, add_organisation,
                                                       runtime: Runtime):
    add_organisation(BPMN_ROOT / "kwartier")
    sweeper, inbox = worker
    wait = WebDriverWait(chrome, 15)
    started = runtime.start("kwartier", {
        "klager": {"naam": "P. Jansen", "email": "p.jansen@example.nl", "relatie": "client"}, "anoniem": False,
        "soort": "klacht", "locatie": "Wijkcentrum De Kroon", "omschrijving": "Afspraak twee keer afgezegd.",
        "kanaal": "website"}, complaint_type="klacht")
    chrome.get(portal.new_link(runtime, started.instance_id))
    assert "Stap 1: een medewerker bespreekt uw klacht" in chrome.find_element(By.TAG_NAME, "main").text
    assert axe_serious(chrome) == []

    chrome.find_element(By.PARTIAL_LINK_TEXT, "volgende stap vragen").click()
    wait.until(ec.presence_of_element_located((By.ID, "veld-tekst")))
    fill(chrome, "veld-tekst", "Het gesprek met de medewerker loste niets op.")
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "veld-code")))
    sweeper.sweep()
    code = re.search(r"^\s+(\d{6})\s*$", mails_to(inbox, "p.jansen@example.nl")[-1], re.M).group(1)
    fill(chrome, "veld-code", code)
    chrome.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "Stap 2: uw klacht ligt bij de leidinggevende"))
    assert "Uw verzoek om de volgende stap is ontvangen" in chrome.find_element(By.TAG_NAME, "main").text
    assert axe_serious(chrome) == []
    tasks = [t.bpmn_id for t in runtime.load(started.instance_id).ready_tasks()]
    assert tasks == ["Task_ontvangst_bevestigen"]


def test_expired_revoked_and_forged_links_show_a_clear_page(live_server, chrome, worker, add_organisation,
                                                           runtime: Runtime, vclock):
    add_organisation(BPMN_ROOT / "samen-kinderopvang")
    data = {"klager": {"naam": "A. de Vries", "email": "a@example.nl", "relatie": "ouder"}, "soort": "klacht",
            "anoniem": False, "locatie": "BSO De Boomhut", "omschrijving": "Geen bericht bij een ongeluk."}
    first = runtime.start("samen-kinderopvang", dict(data), complaint_type="klacht")
    second = runtime.start("samen-kinderopvang", dict(data), complaint_type="klacht")
    revoked = portal.new_link(runtime, first.instance_id)
    portal.revoke(runtime, first.instance_id, "manager@samen.nl")
    expired = portal.new_link(runtime, second.instance_id)
    runtime.cancel_complaint(second.instance_id, Actor("manager@samen.nl", "samen-kinderopvang"), "dubbel")
    vclock.advance(timedelta(days=91))

    for url, heading in ((revoked, "Deze link is ingetrokken"), (expired, "Deze link is verlopen"),
                         (f"{live_server}/mijn-klacht/{'x' * 43}", "Deze link werkt niet")):
        chrome.get(url)
        main = chrome.find_element(By.TAG_NAME, "main").text
        assert chrome.find_element(By.TAG_NAME, "h1").text == heading
        assert "SAMEN-" not in main and "Boomhut" not in main
        assert axe_serious(chrome) == []

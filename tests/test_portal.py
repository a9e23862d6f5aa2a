"""The complainant's own page (/mijn-klacht/<token>): links in letters, what the page shows,
actions into the running procedure, one-time codes, and links that no longer work."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp import portal
from webapp.db.models import AuditEvent, HumanTask, Instance, OutboxMessage, PortalCode, PortalLink
from webapp.portal_codes import CODE_KIND
from webapp.runtime import portal_links
from webapp.runtime.organisations import BPMN_ROOT
from webapp.runtime.readmodel import snapshot
from webapp.runtime.service import Actor, Runtime

LINK = re.compile(r"http://portaal\.test/mijn-klacht/([A-Za-z0-9_-]+)")
PARENT = {"klager": {"naam": "Fatima el Amrani", "email": "fatima@example.nl", "relatie": "ouder"},
          "anoniem": False, "soort": "klacht", "locatie": "KDV De Vlinder", "datum_gebeurtenis": "2026-02-26",
          "omschrijving": "Mijn dochter kwam met een schaafwond thuis.", "kanaal": "website"}


@pytest.fixture
def samen(runtime: Runtime, add_organisation):
    runtime.portal = portal_links.PortalSettings("http://portaal.test", 90)
    return add_organisation(BPMN_ROOT / "samen-kinderopvang")


@pytest.fixture
def kwartier(runtime: Runtime, add_organisation):
    runtime.portal = portal_links.PortalSettings("http://portaal.test", 90)
    return add_organisation(BPMN_ROOT / "kwartier")


def acknowledged(runtime: Runtime) -> tuple[int, str]:
    """A SAMEN complaint whose receipt the manager VE confirmed: (instance id, link token of that letter)."""
    started = runtime.start("samen-kinderopvang", dict(PARENT), complaint_type="klacht")
    manager = Actor("manager@samen.nl", "samen-kinderopvang", frozenset({"manager_ve"}))
    [task] = [t for t in runtime.load(started.instance_id).ready_tasks() if t.bpmn_id == "Task_ontvangst_bevestigen"]
    runtime.complete_task(started.instance_id, task.task_id, manager,
                          {"aard_klacht": "veiligheid en gezondheid", "medewerker_betrokken": False})
    with runtime.sessions() as s:
        [letter] = s.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == started.instance_id,
                                                         OutboxMessage.kind == "letter")).all()
    return started.instance_id, LINK.search(letter.body).group(1)


def in_handling(runtime: Runtime) -> tuple[int, str]:
    """A SAMEN complaint the manager VE has contacted the complainant about: it now waits for
    the complainant's reaction (instance id, link token)."""
    instance_id, token = acknowledged(runtime)
    manager = Actor("manager@samen.nl", "samen-kinderopvang", frozenset({"manager_ve"}))
    [task] = runtime.load(instance_id).ready_tasks()
    runtime.complete_task(instance_id, task.task_id, manager, {
        "datum_contact": "2026-03-03", "wijze_contact": "telefonisch", "verslag_contact": "Gebeld.",
        "onderzoek_nodig": False, "overleg_regiomanager_nodig": False, "gesprek_nodig": True})
    return instance_id, token


def codes_mailed(runtime: Runtime, instance_id: int) -> list[str]:
    with runtime.sessions() as s:
        bodies = s.scalars(select(OutboxMessage.body).where(OutboxMessage.instance_id == instance_id,
                                                            OutboxMessage.kind == CODE_KIND)
                           .order_by(OutboxMessage.id)).all()
    return [m.group(1) for b in bodies if (m := re.search(r"^\s+(\d{6})$", b, re.M))]


def test_the_acknowledgement_letter_carries_a_link_whose_hash_alone_is_stored(runtime, samen):
    instance_id, token = acknowledged(runtime)
    with runtime.sessions() as s:
        [link] = s.scalars(select(PortalLink).where(PortalLink.instance_id == instance_id)).all()
        letter = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "letter"))
    assert len(token) >= 43
    assert link.token_sha256 == portal_links.token_hash(token) and token not in link.token_sha256
    # The link paragraph stands before the closing greeting.
    assert letter.body.index("/mijn-klacht/") < letter.body.index("Met vriendelijke groet")
    # Notifications to staff carry no link.
    with runtime.sessions() as s:
        staff = s.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == "notification")).all()
    assert staff and not any("/mijn-klacht/" in b for b in staff)


def test_the_page_shows_where_the_complaint_stands_and_the_deadlines(runtime, samen, browser):
    _, token = acknowledged(runtime)
    page = browser.get(f"/mijn-klacht/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<html lang="nl">' in html and "SAMEN-2026-0001" in html and "02-03-2026" in html
    # In the organisation's words, not the task's name for staff.
    assert "De manager VE neemt persoonlijk, telefonisch of schriftelijk contact met u op." in html
    assert "Contact opnemen</" not in html
    # Promised dates (received Monday 2 March 2026): contact within 5 working days, the oordeel in 6 weeks.
    assert "De manager VE neemt contact met u op" in html and "9 maart 2026" in html
    assert "schriftelijk en met redenen omkleed oordeel" in html and "13 april 2026" in html
    assert "Wettelijke termijn" in html and "De Geschillencommissie Kinderopvang" in html
    # The letter received, its link not repeated; the actions the diagram waits for now.
    assert "Ontvangstbevestiging van uw klacht SAMEN-2026-0001" in html
    assert "(de link naar deze pagina)" in html and "portaal.test" not in html
    assert "Mijn klacht intrekken" in html
    assert "<script" not in html and "style=" not in html and "http" not in html.replace("http://localhost", "")


def test_withdrawing_takes_a_mailed_code_and_ends_the_procedure(runtime, samen, browser):
    instance_id, token = acknowledged(runtime)
    form = browser.get(f"/mijn-klacht/{token}/intrekken").get_data(as_text=True)
    assert "Waarom trekt u uw klacht in?" in form
    csrf = browser.csrf(f"/mijn-klacht/{token}/intrekken")
    sent = browser.post(f"/mijn-klacht/{token}/intrekken", {"tekst": "Opgelost met de pedagogisch medewerker."})
    assert sent.status_code == 200 and "Vul de code in" in sent.get_data(as_text=True)
    code_id = re.search(r'name="code_id" value="(\d+)"', sent.get_data(as_text=True)).group(1)
    [code] = codes_mailed(runtime, instance_id)
    with runtime.sessions() as s:
        stored = s.scalar(select(PortalCode))
    assert code not in stored.code_hash and stored.expires_at - stored.created_at == timedelta(minutes=15)
    # Nothing happens before the code is given.
    assert snapshot(runtime, instance_id).waits_for("klacht_ingetrokken")
    wrong = "000000" if code != "000000" else "111111"
    refused = browser.post(f"/mijn-klacht/{token}/intrekken/code", {"code_id": code_id, "code": wrong},
                           page=f"/mijn-klacht/{token}/intrekken")
    assert refused.status_code == 422 and "nog 4 keer" in refused.get_data(as_text=True)
    done = browser.post(f"/mijn-klacht/{token}/intrekken/code", {"code_id": code_id, "code": code},
                        page=f"/mijn-klacht/{token}/intrekken")
    assert done.status_code == 303
    page = browser.get(done.headers["Location"]).get_data(as_text=True)
    assert "Uw klacht is ingetrokken" in page and "Mijn klacht intrekken" not in page
    with runtime.sessions() as s:
        instance = s.get(Instance, instance_id)
        open_tasks = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.state == "ready")).all()
        actors = s.scalars(select(AuditEvent.actor).where(AuditEvent.event_type == "message_received")).all()
        mailed = s.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == CODE_KIND)).all()
        letters = s.scalars(select(OutboxMessage.template).where(OutboxMessage.kind == "letter")).all()
    assert instance.status == "completed" and not open_tasks
    assert "klager (portaal)" in actors
    assert "bevestiging_intrekking" in letters  # the procedure's confirmation letter
    assert all(code not in body for body in mailed)  # the mailed copy of a used code is removed
    # A used code cannot be used again.
    again = browser.client.post(f"/mijn-klacht/{token}/intrekken/code",
                                data={"code_id": code_id, "code": code, "csrf_token": csrf})
    assert again.status_code == 422


def test_a_code_allows_five_tries_and_expires_after_fifteen_minutes(runtime, samen, browser, vclock):
    instance_id, token = acknowledged(runtime)
    sent = browser.post(f"/mijn-klacht/{token}/intrekken", {"tekst": ""})
    code_id = re.search(r'name="code_id" value="(\d+)"', sent.get_data(as_text=True)).group(1)
    [code] = codes_mailed(runtime, instance_id)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        answer = browser.post(f"/mijn-klacht/{token}/intrekken/code", {"code_id": code_id, "code": wrong},
                              page=f"/mijn-klacht/{token}/intrekken")
    assert "te vaak" in answer.get_data(as_text=True)
    late = browser.post(f"/mijn-klacht/{token}/intrekken/code", {"code_id": code_id, "code": code},
                        page=f"/mijn-klacht/{token}/intrekken")
    assert late.status_code == 422
    # A new code, given too late.
    sent = browser.post(f"/mijn-klacht/{token}/intrekken", {"tekst": ""})
    code_id = re.search(r'name="code_id" value="(\d+)"', sent.get_data(as_text=True)).group(1)
    code = codes_mailed(runtime, instance_id)[-1]
    vclock.advance(timedelta(minutes=16))
    expired = browser.post(f"/mijn-klacht/{token}/intrekken/code", {"code_id": code_id, "code": code},
                           page=f"/mijn-klacht/{token}/intrekken")
    assert "verlopen" in expired.get_data(as_text=True)
    assert snapshot(runtime, instance_id).waits_for("klacht_ingetrokken")


def test_revoked_expired_and_forged_links_show_a_clear_page_and_no_data(runtime, samen, browser, make_user, vclock):
    instance_id, token = acknowledged(runtime)
    forged = browser.get("/mijn-klacht/" + "A" * 43)
    assert forged.status_code == 404 and "Deze link werkt niet" in forged.get_data(as_text=True)
    assert browser.get("/mijn-klacht/kort").status_code == 404
    # Staff revoke the links on the complaint page; the next letter carries a new one.
    make_user("manager@samen.nl", "samen-kinderopvang:manager_ve")
    browser.login("manager@samen.nl")
    browser.post("/samen-kinderopvang/klachten/SAMEN-2026-0001/link-intrekken",
                 page="/samen-kinderopvang/klachten/SAMEN-2026-0001")
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/samen-kinderopvang/inbox")})
    revoked = browser.get(f"/mijn-klacht/{token}")
    text = revoked.get_data(as_text=True)
    assert revoked.status_code == 410 and "ingetrokken" in text and "SAMEN-2026-0001" not in text
    assert browser.get(f"/mijn-klacht/{token}/intrekken").status_code == 410
    fresh = portal.new_link(runtime, instance_id)
    assert browser.get(fresh.removeprefix("http://portaal.test")).status_code == 200
    # Closed: the link works 90 days more, then it has expired.
    runtime.cancel_complaint(instance_id, Actor("manager@samen.nl", "samen-kinderopvang"), "dubbel ingediend")
    vclock.advance(timedelta(days=89))
    assert browser.get(fresh.removeprefix("http://portaal.test")).status_code == 200
    vclock.advance(timedelta(days=2))
    expired = browser.get(fresh.removeprefix("http://portaal.test"))
    assert expired.status_code == 410 and "verlopen" in expired.get_data(as_text=True)
    assert "SAMEN-2026-0001" not in expired.get_data(as_text=True)


def test_no_log_line_prints_the_token(runtime, samen, browser, caplog):
    _, token = acknowledged(runtime)
    with caplog.at_level(logging.DEBUG):
        browser.get(f"/mijn-klacht/{token}")
        browser.get(f"/mijn-klacht/{token}/intrekken")
        browser.post(f"/mijn-klacht/{token}/intrekken", {"tekst": "x"})
        browser.get(f"/mijn-klacht/{token}/onzin")
    assert caplog.records is not None
    assert not any(token in r.getMessage() for r in caplog.records)


def test_a_kwartier_complainant_asks_for_step_two(runtime, kwartier, browser):
    started = runtime.start("kwartier", {**PARENT, "klager": {**PARENT["klager"], "relatie": "client"}},
                            complaint_type="klacht")
    url = portal.new_link(runtime, started.instance_id)
    path = url.removeprefix("http://portaal.test")
    html = browser.get(path).get_data(as_text=True)
    assert "Stap 1: een medewerker bespreekt uw klacht met u" in html
    assert "Ik ben niet tevreden: volgende stap vragen" in html and "Mijn klacht intrekken" in html
    sent = browser.post(f"{path}/vervolgstap", {"tekst": "Het gesprek loste niets op."})
    code_id = re.search(r'name="code_id" value="(\d+)"', sent.get_data(as_text=True)).group(1)
    [code] = codes_mailed(runtime, started.instance_id)
    done = browser.post(f"{path}/vervolgstap/code", {"code_id": code_id, "code": code}, page=f"{path}/vervolgstap")
    assert done.status_code == 303
    with runtime.sessions() as s:
        ready = s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == started.instance_id,
                                                          HumanTask.state == "ready")).all()
    assert ready == ["Task_ontvangst_bevestigen"]
    page = browser.get(path).get_data(as_text=True)
    assert "Stap 2: uw klacht ligt bij de leidinggevende" in page
    assert "volgende stap vragen" not in page  # the diagram no longer waits for it


def test_an_action_the_procedure_does_not_wait_for_is_refused(runtime, samen, browser):
    _, token = acknowledged(runtime)
    answer = browser.get(f"/mijn-klacht/{token}/vervolgstap")
    assert answer.status_code == 409 and "kan op dit moment niet" in answer.get_data(as_text=True)


def test_skar_says_je_throughout(runtime, add_organisation, browser):
    runtime.portal = portal_links.PortalSettings("http://portaal.test", 90)
    add_organisation(BPMN_ROOT / "skar")
    started = runtime.start("skar", dict(PARENT), complaint_type="klacht")
    html = browser.get(portal.new_link(runtime, started.instance_id).removeprefix("http://portaal.test"))
    text = re.sub(r"<[^>]+>", " ", html.get_data(as_text=True))
    assert "Je klacht" in text
    assert not re.search(r"\b[Uu]w?\b", text), re.findall(r".{30}\b[Uu]w?\b.{30}", text)


def test_during_the_handling_the_complainant_sends_information(runtime, samen, browser):
    instance_id, token = in_handling(runtime)
    page = browser.get(f"/mijn-klacht/{token}").get_data(as_text=True)
    assert "Reageren of informatie sturen" in page
    empty = browser.post(f"/mijn-klacht/{token}/reageren", {"tekst": "  "})
    assert empty.status_code == 422 and "Schrijf hier uw reactie" in empty.get_data(as_text=True)
    sent = browser.post(f"/mijn-klacht/{token}/reageren", {"tekst": "Een andere ouder heeft het ook gezien."})
    assert sent.status_code == 303
    assert "Uw reactie is ontvangen" in browser.get(sent.headers["Location"]).get_data(as_text=True)
    with runtime.sessions() as s:
        notice = s.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "role:manager_ve",
                                                      OutboxMessage.subject.like("%heeft gereageerd")))
        actors = s.scalars(select(AuditEvent.actor).where(AuditEvent.event_type == "message_received")).all()
    assert "Een andere ouder heeft het ook gezien." in notice.body and "klager (portaal)" in actors
    assert "Reageren of informatie sturen" not in browser.get(f"/mijn-klacht/{token}").get_data(as_text=True)


def test_only_the_messages_a_complainant_may_send_become_actions():
    from webapp.runtime.readmodel import ComplaintSnapshot, WaitingMessage

    mos_waiting = ComplaintSnapshot({}, (
        WaitingMessage("klacht_ingetrokken", "Message_ingetrokken_voorlegging", "Klacht ingetrokken", "Receive_voorlegging"),
        WaitingMessage("klacht_voorgelegd", "Receive_voorlegging", "Wachten op voorlegging door klager"),
        WaitingMessage("geschil_ingediend", "Receive_geschil", "Geschil afwachten")))
    actions = portal.available_actions(mos_waiting)
    assert [(a.kind.kind, a.message, a.kind.confirm_by_code) for a in actions] == [
        ("vervolgstap", "klacht_voorgelegd", True), ("intrekken", "klacht_ingetrokken", True)]


def test_only_staff_who_write_may_revoke_links(runtime, samen, browser, make_user):
    _, token = acknowledged(runtime)
    make_user("auditor@samen.nl", "samen-kinderopvang:auditor")
    browser.login("auditor@samen.nl")
    page = browser.get("/samen-kinderopvang/klachten/SAMEN-2026-0001").get_data(as_text=True)
    assert "Links van de klager intrekken" not in page
    refused = browser.client.post("/samen-kinderopvang/klachten/SAMEN-2026-0001/link-intrekken",
                                  data={"csrf_token": browser.csrf("/samen-kinderopvang/klachten")})
    assert refused.status_code == 403
    assert browser.get(f"/mijn-klacht/{token}").status_code == 200


def test_an_unexpected_error_is_logged_without_the_token(runtime, samen, browser, caplog, monkeypatch):
    _, token = acknowledged(runtime)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the page could not be built")

    monkeypatch.setattr(portal, "build_page", broken)
    with caplog.at_level(logging.DEBUG):
        answer = browser.get(f"/mijn-klacht/{token}")
    assert answer.status_code == 500 and "Er ging iets mis" in answer.get_data(as_text=True)
    assert any("complainant's page failed" in r.getMessage() for r in caplog.records)
    assert not any(token in r.getMessage() or token in (r.exc_text or "") for r in caplog.records)


def test_an_answer_brings_documents_checked_on_their_content_in_the_same_step(runtime, samen, browser):
    import hashlib
    import io

    from webapp.db.models import Document

    instance_id, token = in_handling(runtime)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    disguised = browser.post(f"/mijn-klacht/{token}/reageren",
                             {"tekst": "Zie de foto.", "bijlagen": [(io.BytesIO(b"gewoon tekst"), "foto.pdf")]},
                             content_type="multipart/form-data")
    assert disguised.status_code == 422 and "geen PDF" in disguised.get_data(as_text=True)
    assert snapshot(runtime, instance_id).waits_for("klager_reageert")  # nothing was sent

    sent = browser.post(f"/mijn-klacht/{token}/reageren",
                        {"tekst": "De verklaring van de huisarts.", "bijlagen": [(io.BytesIO(pdf), "huisarts.pdf")]},
                        content_type="multipart/form-data")

    assert sent.status_code == 303
    with runtime.sessions() as s:
        [document] = s.scalars(select(Document).where(Document.instance_id == instance_id)).all()
        added = s.scalar(select(AuditEvent).where(AuditEvent.event_type == "document_added"))
    assert (document.content, document.side, document.added_by) == (pdf, "klager", "klager (portaal)")
    assert added.data["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert not snapshot(runtime, instance_id).waits_for("klager_reageert")

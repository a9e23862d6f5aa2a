"""Storingen in the browser: process owners and quality officers see a complaint whose step
failed and act on it; the complaint page and the inbox mark it; a public intake whose
procedure fails still gives the complainant a reference."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import html
from sqlalchemy import select

from handlers import operators
from webapp.db.models import AuditEvent, Instance
from webapp.runtime.service import Runtime

from .conftest import FIXTURES
from .test_incidents import HEALTHY, ORG, _fault


@pytest.fixture
def poisoned(runtime: Runtime, add_organisation, vclock, monkeypatch):
    add_organisation(FIXTURES / "poison")
    monkeypatch.setitem(operators.OPERATORS, "send_letter", _fault(ValueError("sjabloon kapot")))
    bad = runtime.start(ORG, {**HEALTHY, "gif": True})
    runtime.start(ORG, HEALTHY)
    vclock.advance(timedelta(hours=2))
    runtime.fire_due_timers()
    return bad


def text(response) -> str:
    return " ".join(html.fromstring(response.get_data(as_text=True)).text_content().split())


def test_the_process_owner_sees_the_incident_and_retries_it(browser, make_user, poisoned, monkeypatch, runtime):
    make_user("pb@storing.nl", f"{ORG}:procesbeheerder")
    browser.login("pb@storing.nl")
    page = browser.get(f"/{ORG}/storingen")
    assert page.status_code == 200
    shown = text(page)
    assert "1 klacht in storing" in shown and poisoned.reference in shown
    assert "Ontvangst bevestigen (Service_brief)" in shown and "sjabloon kapot" in shown
    assert "Storingen" in text(browser.get(f"/{ORG}/klachten"))  # in the menu

    monkeypatch.undo()  # the process owner fixed the letter
    done = browser.post(f"/{ORG}/storingen/{poisoned.reference}/opnieuw", page=f"/{ORG}/storingen",
                        follow_redirects=True)
    assert f"Klacht {poisoned.reference} loopt weer." in text(done)
    assert "Geen klachten in storing" in text(done)


def test_cancelling_from_the_page_needs_a_reason(browser, make_user, poisoned, runtime):
    make_user("pb@storing.nl", f"{ORG}:procesbeheerder")
    browser.login("pb@storing.nl")
    refused = browser.post(f"/{ORG}/storingen/{poisoned.reference}/afbreken", {"reden": " "},
                           page=f"/{ORG}/storingen", follow_redirects=True)
    assert "Niet afgebroken: geef een reden op" in text(refused)
    done = browser.post(f"/{ORG}/storingen/{poisoned.reference}/afbreken", {"reden": "Dubbele melding"},
                        page=f"/{ORG}/storingen", follow_redirects=True)
    assert f"Klacht {poisoned.reference} is afgebroken." in text(done)
    complaint = text(browser.get(f"/{ORG}/klachten/{poisoned.reference}"))
    assert "afgebroken" in complaint and "Storing sinds" not in complaint
    with runtime.sessions() as s:
        assert s.scalar(select(AuditEvent.data).where(AuditEvent.event_type == "complaint_cancelled")) == {
            "reason": "Dubbele melding"}


def test_auditors_read_but_do_not_act_and_handlers_do_not_see_it(browser, make_user, poisoned):
    make_user("audit@storing.nl", f"{ORG}:auditor")
    browser.login("audit@storing.nl")
    assert poisoned.reference in text(browser.get(f"/{ORG}/storingen"))
    assert "Nu opnieuw proberen" not in text(browser.get(f"/{ORG}/storingen"))
    assert browser.post(f"/{ORG}/storingen/{poisoned.reference}/opnieuw", page=f"/{ORG}/storingen").status_code == 403
    browser.client.post("/logout", data={"csrf_token": browser.csrf(f"/{ORG}/klachten")})
    make_user("beh@storing.nl", f"{ORG}:behandelaar")
    browser.login("beh@storing.nl")
    assert browser.get(f"/{ORG}/storingen").status_code == 403
    assert browser.get("/testorg/storingen").status_code == 404  # another organisation


def test_the_complaint_page_and_the_inbox_mark_the_incident(browser, make_user, runtime, add_organisation,
                                                            vclock, monkeypatch):
    add_organisation(FIXTURES / "poison")
    started = runtime.start(ORG, HEALTHY)
    for wait in (timedelta(hours=2), timedelta(days=2)):
        vclock.advance(wait)
        runtime.fire_due_timers()
    monkeypatch.setitem(operators.OPERATORS, "notify_role", _fault(SystemExit(1)))
    make_user("beh@storing.nl", f"{ORG}:behandelaar")
    browser.login("beh@storing.nl")
    inbox = browser.get(f"/{ORG}/inbox")
    task_link = html.fromstring(inbox.get_data(as_text=True)).xpath("//a[text()='Klacht afhandelen']/@href")[0]
    assert "storing" not in text(inbox)
    response = browser.post(task_link, {"gif": "true"}, follow_redirects=True)
    assert response.status_code in (200, 409, 422, 500) and "Traceback" not in response.get_data(as_text=True)
    with runtime.sessions() as s:
        instance = s.get(Instance, started.instance_id)
    assert instance.incident_kind == "task"
    assert "storing" in text(browser.get(f"/{ORG}/inbox"))
    assert "Storing sinds" in text(browser.get(f"/{ORG}/klachten/{started.reference}"))


def test_a_public_intake_whose_procedure_fails_still_gives_a_reference(browser, runtime, add_organisation, vclock,
                                                                       monkeypatch):
    from .test_web_intake import VALID

    add_organisation(FIXTURES / "poison")  # its first step notifies the handlers

    def out_of_range(step, data, **params):
        raise OverflowError("date value out of range")
    monkeypatch.setitem(operators.OPERATORS, "notify_role", out_of_range)

    done = browser.post(f"/{ORG}/klacht-indienen", VALID, follow_redirects=True)

    assert done.status_code == 200
    assert "Uw referentienummer is POISON-2026-0001." in text(done)
    with runtime.sessions() as s:
        [instance] = s.scalars(select(Instance)).all()
    assert instance.reference == "POISON-2026-0001" and instance.incident_kind == "intake"
    assert instance.start_data["omschrijving"] == VALID["omschrijving"]
    assert instance.incident_element == "Service_intake"


def test_staff_pages_of_a_complaint_stored_at_a_failed_intake_work(browser, make_user, runtime, add_organisation,
                                                                   vclock, monkeypatch):
    from webapp.runtime.retention import purge_instance

    add_organisation(FIXTURES / "poison")
    monkeypatch.setitem(operators.OPERATORS, "notify_role", _fault(OverflowError("date value out of range")))
    started = runtime.start(ORG, {**HEALTHY, "gif": True, "omschrijving": "Niemand belde terug."})
    make_user("pb@storing.nl", f"{ORG}:procesbeheerder")
    browser.login("pb@storing.nl")
    complaint = browser.get(f"/{ORG}/klachten/{started.reference}")
    assert complaint.status_code == 200
    assert "Niemand belde terug." in text(complaint) and "de procedure start zodra" in text(complaint)
    assert browser.get(f"/{ORG}/klachten/{started.reference}/spoor").status_code == 200
    # Retention scrubs the kept intake data too.
    with runtime.write_sessions.begin() as s:
        purge_instance(runtime, s, s.get(Instance, started.instance_id), vclock.now())
    with runtime.sessions() as s:
        assert "Niemand belde terug." not in str(s.get(Instance, started.instance_id).start_data)

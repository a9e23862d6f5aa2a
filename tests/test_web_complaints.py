"""The complaint page (data, deadlines met/open/missed, timeline, letters, recording the
complainant's withdrawal) and the Berichten page."""

from __future__ import annotations

from datetime import datetime

from lxml import html
from sqlalchemy import select

from webapp.db.models import HumanTask, Instance
from webapp.mail import OutboxSender
from webapp.runtime.service import Actor, Runtime

from .conftest import AMS

ELS = Actor("els@test.nl", "testorg", frozenset({"behandelaar"}))


def text(response) -> str:
    return " ".join(html.fromstring(response.get_data(as_text=True)).text_content().split())


def deadline_rows(response) -> list[list[str]]:
    doc = html.fromstring(response.get_data(as_text=True))
    table = doc.xpath("//h2[.='Termijnen']/following-sibling::table[1]")[0]
    return [[" ".join(td.text_content().split()) for td in tr.xpath("td")] for tr in table.xpath("tbody/tr")]


def test_complaint_page_shows_data_deadlines_timeline_and_letters(browser, make_user, runtime: Runtime, vclock):
    make_user("els@test.nl", "testorg:behandelaar")
    make_user("dirk@test.nl", "testorg:directeur")
    started = runtime.start("testorg", {"klager": {"naam": "A. de Vries", "email": "a@example.nl", "relatie": "ouder"},
                                        "omschrijving": "De opvang belde niet toen mijn zoon viel."},
                            complaint_type="klacht", location="De Boomhut")
    vclock.set(datetime(2026, 3, 10, 9, 0, tzinfo=AMS))
    runtime.fire_due_timers()  # reminder and escalation: the first task's deadline is missed
    with runtime.sessions() as s:
        escalation = s.scalar(select(HumanTask).where(HumanTask.state == "ready"))
    vclock.set(datetime(2026, 3, 11, 9, 0, tzinfo=AMS))

    browser.login("els@test.nl")
    url = f"/testorg/klachten/{started.reference}"
    shown = browser.get(url)
    assert shown.status_code == 200
    page_text = text(shown)
    assert "A. de Vries (ouder)" in page_text and "zoon viel" in page_text and "De Boomhut" in page_text
    rows = deadline_rows(shown)
    assert rows == [["Klacht behandelen", "09-03-2026 23:59", "10-03-2026 09:00", "gemist"]]  # cut off by the escalation
    assert "Open taken Escalatie behandelen (Directeur)" in page_text
    assert "Termijn verstreken: 3 werkdagen verstreken" in page_text
    assert "Herinnering: klacht " + started.reference in page_text  # the reminder notification

    runtime.complete_task(started.instance_id, escalation.task_id,
                          Actor("dirk@test.nl", "testorg", frozenset({"directeur"})), {"opgelost": True})
    finished = browser.get(url)
    assert "afgesloten" in text(finished)
    assert "Taak afgerond: Escalatie behandelen Dirk" in text(finished)  # the name, not the address
    assert "Geen open taken." in text(finished)


def test_a_met_deadline_is_shown_as_met(browser, make_user, runtime: Runtime):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {"klager": {"email": "a@example.nl"}})
    with runtime.sessions() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id))
    runtime.complete_task(started.instance_id, task.task_id, ELS, {"opgelost": True})
    browser.login("els@test.nl")
    shown = browser.get(f"/testorg/klachten/{started.reference}")
    assert deadline_rows(shown)[0][-1] == "gehaald"
    assert "Ontvangstbevestiging van uw klacht" in text(shown)  # the letter, with its text


def test_staff_record_a_withdrawal_which_ends_the_procedure(browser, make_user, runtime: Runtime):
    make_user("els@test.nl", "testorg:behandelaar")
    make_user("aud@test.nl", "testorg:auditor")
    started = runtime.start("testorg", {})
    url = f"/testorg/klachten/{started.reference}"

    browser.login("aud@test.nl")
    assert "Reactie van de klager vastleggen" not in text(browser.get(url))
    assert browser.post(f"{url}/bericht", {"bericht": "klacht_ingetrokken"}, page=url).status_code == 403
    browser.client.post("/logout", data={"csrf_token": browser.csrf(url)})

    browser.login("els@test.nl")
    assert "De klager trekt de klacht in" in text(browser.get(url))
    done = browser.post(f"{url}/bericht", {"bericht": "klacht_ingetrokken", "toelichting": "telefonisch"}, page=url,
                        follow_redirects=True)
    assert "Vastgelegd: De klager trekt de klacht in." in text(done)
    with runtime.sessions() as s:
        assert s.get(Instance, started.instance_id).status == "completed"
    assert runtime.load(started.instance_id).workflow.last_task.data["intrekking"]["toelichting"] == "telefonisch"
    again = browser.post(f"{url}/bericht", {"bericht": "klacht_ingetrokken"}, page=url, follow_redirects=True)
    assert "Niet vastgelegd" in text(again)


def test_another_organisations_complaint_is_a_404(browser, make_user, runtime: Runtime, other_org):
    make_user("quinn@quick.nl", f"{other_org.slug}:behandelaar")
    started = runtime.start("testorg", {})
    browser.login("quinn@quick.nl")
    assert browser.get(f"/testorg/klachten/{started.reference}").status_code == 404
    assert browser.get(f"/{other_org.slug}/klachten/{started.reference}").status_code == 404


def test_berichten_page_keeps_letters_without_smtp(browser, make_user, runtime: Runtime):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {"klager": {"naam": "B. Smit", "email": "b@example.nl"}})
    with runtime.sessions() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id))
    runtime.complete_task(started.instance_id, task.task_id, ELS, {"opgelost": True})
    OutboxSender(runtime.sessions, None).send_due()
    browser.login("els@test.nl")
    shown = text(browser.get("/testorg/berichten?soort=letter&status=held"))
    assert "1 bericht" in shown and "Beste B. Smit" in shown and "(bewaard)" in shown
    assert "0 berichten" in text(browser.get("/testorg/berichten?status=sent"))
    assert started.reference in text(browser.get("/testorg/klachten?zoek=" + started.reference))


def test_a_withdrawal_before_the_deadline_lapses_the_deadline_rather_than_meeting_it(browser, make_user, runtime):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {})
    runtime.send_message(started.instance_id, "klacht_ingetrokken", {}, ELS)
    browser.login("els@test.nl")
    [row] = deadline_rows(browser.get(f"/testorg/klachten/{started.reference}"))
    assert row[0] == "Klacht behandelen" and row[-1] == "vervallen"

"""Staff pages through Flask's test client on a real database and the real engine:
login, inbox, task page with its form, claiming, rights and isolation."""

from __future__ import annotations

from datetime import datetime

from lxml import html
from sqlalchemy import select

from webapp.db.models import AuditEvent, HumanTask, Instance, User
from webapp.runtime.service import Runtime

from .conftest import AMS


def page(response):
    return html.fromstring(response.get_data(as_text=True))


def text(response) -> str:
    return " ".join(page(response).text_content().split())


def textarea(doc, name: str) -> str:
    """A textarea's value as a browser reads it (one leading newline is dropped by HTML)."""
    value = doc.xpath(f"//textarea[@name='{name}']")[0].text or ""
    return value[1:] if value.startswith("\n") else value


def open_task(runtime: Runtime, instance_id: int) -> HumanTask:
    with runtime.sessions() as s:
        return s.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready"))


def test_login_with_a_wrong_password_fails_and_pages_need_a_login(browser, make_user):
    make_user("els@test.nl", "testorg:behandelaar")
    assert browser.get("/testorg/inbox").status_code == 302
    wrong = browser.login("els@test.nl", "verkeerd-wachtwoord")
    assert wrong.status_code == 401 and "horen niet bij elkaar" in text(wrong)
    assert browser.login("els@test.nl").status_code == 302
    assert browser.get("/testorg/inbox").status_code == 200


def test_session_cookie_is_httponly_and_samesite(browser, make_user):
    make_user("els@test.nl", "testorg:behandelaar")
    response = browser.login("els@test.nl")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_form_without_csrf_token_is_refused(browser, make_user):
    make_user("els@test.nl", "testorg:behandelaar")
    response = browser.client.post("/login", data={"email": "els@test.nl", "wachtwoord": "x"})
    assert response.status_code == 400 and "Formulier verlopen" in text(response)


def test_inbox_shows_my_roles_tasks_with_deadline_reference_and_age(browser, make_user, runtime, vclock):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {"klager": {"naam": "A. de Vries"}}, complaint_type="klacht",
                            location="De Boomhut")
    browser.login("els@test.nl")
    vclock.set(datetime(2026, 3, 8, 12, 0, tzinfo=AMS))  # due Monday 9 March: due soon
    inbox = browser.get("/testorg/inbox")
    row = page(inbox).xpath("//table//tbody/tr")[0]
    cells = [" ".join(c.text_content().split()) for c in row.xpath("td")]
    assert cells[0].startswith("Klacht behandelen") and cells[1] == started.reference
    assert cells[2:5] == ["klacht", "De Boomhut", "6 dagen"]
    assert "09-03-2026 23:59" in cells[5] and "bijna" in cells[5]
    vclock.set(datetime(2026, 3, 9, 23, 0, tzinfo=AMS))
    runtime.fire_due_timers()  # the reminder fires; the task stays
    vclock.set(datetime(2026, 3, 10, 0, 30, tzinfo=AMS))
    assert "te laat" in text(browser.get("/testorg/inbox?te_laat=1"))
    assert "Geen taken" in text(browser.get("/testorg/inbox?zoek=TEST-2026-9999"))
    assert started.reference in text(browser.get(f"/testorg/inbox?zoek={started.reference}"))


def test_inbox_pages_and_counts_per_role(app, browser, make_user, runtime):
    app.config["PAGE_SIZE"] = 2
    make_user("els@test.nl", "testorg:behandelaar")
    for _ in range(5):
        runtime.start("testorg", {})
    browser.login("els@test.nl")
    first = browser.get("/testorg/inbox")
    assert "Behandelaar: 5" in text(first) and "Pagina 1 van 3" in text(first)
    assert len(page(first).xpath("//tbody/tr")) == 2
    assert len(page(browser.get("/testorg/inbox?pagina=3")).xpath("//tbody/tr")) == 1


def test_the_directeur_does_not_see_the_behandelaars_task(browser, make_user, runtime):
    make_user("dirk@test.nl", "testorg:directeur")
    started = runtime.start("testorg", {})
    browser.login("dirk@test.nl")
    assert started.reference not in text(browser.get("/testorg/inbox"))
    task = open_task(runtime, started.instance_id)
    assert browser.get(f"/testorg/taken/{task.id}").status_code == 404


def test_task_page_invalid_then_valid_completion(browser, make_user, runtime):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {"klager": {"naam": "A. de Vries", "email": "a@example.nl"},
                                        "omschrijving": "Mijn dochter kwam met natte kleren thuis."})
    task = open_task(runtime, started.instance_id)
    browser.login("els@test.nl")
    url = f"/testorg/taken/{task.id}"
    shown = browser.get(url)
    assert f"Behandel klacht {started.reference}." in text(shown)  # instructions rendered with task data
    assert "natte kleren" in text(shown) and "A. de Vries" in text(shown)

    refused = browser.post(url, {"actie": "afronden", "toelichting": "eerste opzet", "uitkomst": "misschien"})
    assert refused.status_code == 422
    doc = page(refused)
    assert "Dit veld is verplicht." in doc.xpath("string(//*[@id='veld-opgelost']/ancestor::*[contains(@class,'veld')][1])")
    assert textarea(doc, "toelichting") == "eerste opzet"  # kept
    with runtime.sessions() as s:
        assert s.get(Instance, started.instance_id).status == "running"

    done = browser.post(url, {"actie": "afronden", "opgelost": "ja", "uitkomst": "gegrond"})
    assert done.status_code == 302
    with runtime.sessions() as s:
        assert s.get(Instance, started.instance_id).status == "completed"
        assert s.get(HumanTask, task.id).completed_by == "els@test.nl"
    # The same form sent again (a second tab) gets a clear message, not a stack trace.
    again = browser.post(url, {"actie": "afronden", "opgelost": "ja"}, page="/testorg/inbox", follow_redirects=True)
    assert "niet meer open" in text(again)


def test_a_draft_is_kept(browser, make_user, runtime):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {})
    task = open_task(runtime, started.instance_id)
    browser.login("els@test.nl")
    url = f"/testorg/taken/{task.id}"
    assert browser.post(url, {"actie": "opslaan", "toelichting": "nog bellen met moeder"}).status_code == 302
    assert textarea(page(browser.get(url)), "toelichting") == "nog bellen met moeder"


def test_a_task_cancelled_by_its_deadline_meanwhile_gives_a_clear_message(browser, make_user, runtime, vclock):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {})
    task = open_task(runtime, started.instance_id)
    browser.login("els@test.nl")
    url = f"/testorg/taken/{task.id}"
    token = browser.csrf(url)
    vclock.set(datetime(2026, 3, 12, 9, 0, tzinfo=AMS))
    runtime.fire_due_timers()  # escalated: the task is cancelled
    response = browser.client.post(url, data={"actie": "afronden", "opgelost": "ja", "csrf_token": token},
                                   follow_redirects=True)
    assert response.status_code == 200 and "niet meer open" in text(response)


def test_claim_release_and_hand_over_are_audited(browser, make_user, runtime):
    make_user("els@test.nl", "testorg:behandelaar", name="Els")
    make_user("bram@test.nl", "testorg:behandelaar", name="Bram")
    started = runtime.start("testorg", {})
    task = open_task(runtime, started.instance_id)
    browser.login("els@test.nl")
    url = f"/testorg/taken/{task.id}"
    browser.post(f"{url}/oppakken", page=url)
    assert "Els" in text(browser.get("/testorg/inbox?status=mine"))
    browser.post(f"{url}/vrijgeven", page=url)
    assert "Geen taken" in text(browser.get("/testorg/inbox?status=mine"))
    with runtime.sessions() as s:
        bram_id = s.scalar(select(User.id).where(User.email == "bram@test.nl"))
    browser.post(f"{url}/overdragen", {"collega": str(bram_id)}, page=url)
    with runtime.sessions() as s:
        assert s.get(HumanTask, task.id).claimed_by == bram_id
        events = s.scalars(select(AuditEvent.event_type).where(AuditEvent.event_type.like("task_%ed%"),
                                                               AuditEvent.instance_id == started.instance_id))
        assert {"task_claimed", "task_released", "task_handed_over"} <= set(events)


def test_another_organisations_task_is_a_404_and_an_auditor_cannot_write(browser, make_user, runtime, other_org):
    make_user("quinn@quick.nl", f"{other_org.slug}:behandelaar")
    make_user("aud@test.nl", "testorg:auditor")
    started = runtime.start("testorg", {})
    task = open_task(runtime, started.instance_id)
    browser.login("quinn@quick.nl")
    assert browser.get("/testorg/inbox").status_code == 404
    assert browser.get(f"/testorg/taken/{task.id}").status_code == 404
    assert browser.get(f"/{other_org.slug}/taken/{task.id}").status_code == 404
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/quickorg/inbox")})

    browser.login("aud@test.nl")
    url = f"/testorg/taken/{task.id}"
    assert browser.get(url).status_code == 200
    assert browser.post(url, {"actie": "afronden", "opgelost": "ja"}).status_code == 403
    assert browser.post(f"{url}/oppakken", page=url).status_code == 403
    with runtime.sessions() as s:
        assert s.get(Instance, started.instance_id).status == "running"
        assert s.get(HumanTask, task.id).claimed_by is None

"""Daily use of the staff pages (issue 13): deadlines in working days, sortable inbox columns,
a timeline that names people, contact links, notification links, Dutch plurals."""

from __future__ import annotations

from datetime import datetime

from lxml import html
from sqlalchemy import select

from handlers.dutch import meervoud
from handlers.working_days import WorkingDayCalendar
from webapp.db.models import HumanTask, OutboxMessage, User
from webapp.mail import OutboxSender
from webapp.runtime.service import Actor, Runtime
from webapp.web.staff import countdown

from .conftest import AMS


def page(response):
    return html.fromstring(response.get_data(as_text=True))


def text(response) -> str:
    return " ".join(page(response).text_content().split())


def open_task(runtime: Runtime, instance_id: int) -> HumanTask:
    with runtime.sessions() as s:
        return s.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready"))


def deadline_cell(response) -> str:
    return " ".join(page(response).xpath("string(//tbody/tr[1]/td[contains(@class,'kolom-termijn')])").split())


def test_inbox_shows_working_days_left_today_and_late(browser, make_user, runtime, vclock):
    make_user("els@test.nl", "testorg:behandelaar")
    runtime.start("testorg", {})  # Monday 2 March 09:00, due Monday 9 March 23:59
    browser.login("els@test.nl")
    assert deadline_cell(browser.get("/testorg/inbox")).startswith("nog 5 werkdagen")
    vclock.set(datetime(2026, 3, 6, 16, 0, tzinfo=AMS))  # Friday: the weekend does not count
    assert deadline_cell(browser.get("/testorg/inbox")).startswith("nog 1 werkdag ")
    vclock.set(datetime(2026, 3, 9, 12, 0, tzinfo=AMS))
    assert deadline_cell(browser.get("/testorg/inbox")).startswith("vandaag")
    vclock.set(datetime(2026, 3, 11, 10, 0, tzinfo=AMS))  # no worker ran: the task is still open
    late = deadline_cell(browser.get("/testorg/inbox"))
    assert late.startswith("2 werkdagen te laat") and "09-03-2026 23:59" in late


def test_countdown_skips_holidays_of_the_calendar():
    calendar = WorkingDayCalendar()
    # Friday 24 April 2026 to Tuesday 28 April: Koningsdag (Monday 27 April) is no working day.
    now, due = datetime(2026, 4, 24, 9, 0, tzinfo=AMS), datetime(2026, 4, 28, 23, 59, tzinfo=AMS)
    assert countdown(due, now, calendar) == "nog 1 werkdag"
    assert countdown(now, due, calendar) == "1 werkdag te laat"


def _three_complaints(runtime: Runtime, vclock) -> list[str]:
    references = []
    for day, location in ((2, "Bolderburen"), (3, "Aventurijn"), (4, "Citroenvlinder")):
        vclock.set(datetime(2026, 3, day, 9, 0, tzinfo=AMS))
        references.append(runtime.start("testorg", {}, complaint_type="klacht", location=location).reference)
    return references


def test_inbox_columns_sort_on_the_server_with_aria_sort(browser, make_user, runtime, vclock):
    make_user("els@test.nl", "testorg:behandelaar")
    first, second, third = _three_complaints(runtime, vclock)
    browser.login("els@test.nl")

    def order(url: str) -> list[str]:
        doc = page(browser.get(url))
        return [" ".join(td.text_content().split()) for td in doc.xpath("//tbody/tr/td[contains(@class,'kolom-klacht')]")]

    assert order("/testorg/inbox") == [first, second, third]  # by deadline, the most urgent first
    assert order("/testorg/inbox?sorteer=-termijn") == [third, second, first]
    assert order("/testorg/inbox?sorteer=locatie") == [second, first, third]
    assert order("/testorg/inbox?sorteer=-locatie") == [third, first, second]
    assert order("/testorg/inbox?sorteer=onzin") == [first, second, third]
    assert order("/testorg/inbox?sorteer=leeftijd") == [third, second, first]  # the youngest first
    assert order("/testorg/inbox?sorteer=-leeftijd") == [first, second, third]
    # The filter form keeps the order and offers it on a phone, where the headers are hidden.
    chosen = page(browser.get("/testorg/inbox?sorteer=-locatie")).xpath("//select[@id='sorteer']/option[@selected]/@value")
    assert chosen == ["-locatie"]
    doc = page(browser.get("/testorg/inbox?sorteer=locatie"))
    header = doc.xpath("//th[@aria-sort]")
    assert len(header) == 1 and header[0].get("aria-sort") == "ascending" and "Locatie" in header[0].text_content()
    # The active column's link turns the order round; the other columns sort ascending.
    assert header[0].xpath("a/@href")[0].endswith("sorteer=-locatie")
    assert doc.xpath("//th[contains(@class,'kolom-termijn')]/a/@href")[0].endswith("sorteer=termijn")


def test_timeline_names_people_and_roles_not_addresses_or_codes(browser, make_user, runtime, vclock):
    make_user("els@test.nl", "testorg:behandelaar", name="Els van Dijk")
    make_user("bart@test.nl", "testorg:behandelaar", name="Bart Smit")
    started = runtime.start("testorg", {"klager": {"naam": "A. de Vries"}})
    task = open_task(runtime, started.instance_id)
    actor = Actor("els@test.nl", "testorg", frozenset({"behandelaar"}))
    with runtime.sessions() as s:
        bart = s.scalar(select(User.id).where(User.email == "bart@test.nl"))
    runtime.assign_task(task.id, actor, (bart, "bart@test.nl"))
    OutboxSender(runtime.sessions, None).send_due()  # no mail server: the messages are held
    browser.login("els@test.nl")
    shown = text(browser.get(f"/testorg/klachten/{started.reference}"))
    assert "Taak overgedragen: Klacht behandelen (aan Bart Smit) Els van Dijk" in shown
    assert "@test.nl" not in shown.split("Verloop", 1)[1]
    assert "role:" not in shown and "(bewaard)" not in shown
    assert "melding aan Behandelaar" in shown  # the new-task notification, by the role's label
    assert "geen mailserver ingesteld" in shown  # a held message says why


def test_task_page_links_phone_and_email(browser, make_user, runtime):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {"klager": {"naam": "A. de Vries", "email": "a@example.nl",
                                                   "telefoon": "06 - 123 456 78"}})
    task = open_task(runtime, started.instance_id)
    browser.login("els@test.nl")
    doc = page(browser.get(f"/testorg/taken/{task.id}"))
    assert doc.xpath("//a[@href='tel:0612345678']/text()") == ["06 - 123 456 78"]
    assert doc.xpath("//a[@href='mailto:a@example.nl']/text()") == ["a@example.nl"]
    bare = runtime.start("testorg", {"klager": {"naam": "B. Bakker"}})
    doc = page(browser.get(f"/testorg/taken/{open_task(runtime, bare.instance_id).id}"))
    assert not doc.xpath("//a[starts-with(@href,'tel:')]") and not doc.xpath("//a[starts-with(@href,'mailto:')]")


def test_a_notification_links_straight_to_the_task(browser, make_user, runtime, monkeypatch):
    monkeypatch.setenv("BASE_URL", "https://klachten.example.nl/")
    make_user("els@test.nl", "testorg:behandelaar")
    make_user("dirk@test.nl", "testorg:directeur")
    started = runtime.start("testorg", {})
    task = open_task(runtime, started.instance_id)
    with runtime.sessions() as s:
        body = s.scalar(select(OutboxMessage.body).where(OutboxMessage.template == "taak_klaar"))
    link = f"https://klachten.example.nl/taak/{task.task_id}"
    assert link in body
    browser.login("els@test.nl")
    opened = browser.get(link.removeprefix("https://klachten.example.nl"))
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/testorg/taken/{task.id}")
    browser.get("/logout")
    browser.login("dirk@test.nl")  # same organisation, but not his task's role: still redirected, then 404
    assert browser.get(f"/taak/{task.task_id}").status_code == 302
    assert browser.get("/taak/00000000-0000-0000-0000-000000000000").status_code == 404


def test_counts_use_dutch_plurals(browser, make_user, runtime):
    assert [meervoud(n, "taak") for n in (0, 1, 2)] == ["0 taken", "1 taak", "2 taken"]
    assert meervoud(3, "probleem") == "3 problemen" and meervoud(1, "week") == "1 week"
    make_user("els@test.nl", "testorg:behandelaar")
    browser.login("els@test.nl")
    assert "0 taken" in text(browser.get("/testorg/inbox"))
    runtime.start("testorg", {})
    assert "1 taak" in text(browser.get("/testorg/inbox"))


def test_a_contact_date_in_the_future_is_refused_in_dutch(browser, make_user, runtime, add_organisation, vclock):
    from webapp.runtime.organisations import BPMN_ROOT

    add_organisation(BPMN_ROOT / "samen-kinderopvang")
    make_user("mve@samen.nl", "samen-kinderopvang:manager_ve")
    actor = Actor("mve@samen.nl", "samen-kinderopvang", frozenset({"manager_ve"}))
    started = runtime.start("samen-kinderopvang", {"klager": {"naam": "A. de Vries", "email": "a@example.nl"}})
    runtime.complete_task(started.instance_id, open_task(runtime, started.instance_id).task_id, actor,
                          {"aard_klacht": "overig", "medewerker_betrokken": False})
    task = open_task(runtime, started.instance_id)
    assert task.name == "Contact opnemen"
    browser.login("mve@samen.nl")
    url = f"/samen-kinderopvang/taken/{task.id}"
    shown = browser.get(url)
    assert page(shown).xpath("//input[@name='datum_contact']/@max") == ["2026-03-02"]
    # No phone number: the instructions read "A. de Vries (a@example.nl)", never "(, a@example.nl)".
    assert "contact op met A. de Vries (a@example.nl) over" in text(shown) and "(," not in text(shown)
    answers = {"actie": "afronden", "wijze_contact": "telefonisch", "verslag_contact": "Gebeld.",
               "onderzoek_nodig": "nee", "overleg_regiomanager_nodig": "nee", "gesprek_nodig": "nee"}
    refused = browser.post(url, {**answers, "datum_contact": "2026-03-03"})
    assert refused.status_code == 422
    message = page(refused).xpath("string(//*[@id='veld-datum_contact']/ancestor::*[contains(@class,'veld')][1])")
    assert "Deze datum ligt in de toekomst" in message and "02-03-2026" in message
    assert open_task(runtime, started.instance_id).id == task.id  # nothing completed
    assert browser.post(url, {**answers, "datum_contact": "2026-03-02"}).status_code == 302


def test_the_auditor_browses_and_filters_the_log(app, browser, make_user, runtime, vclock, monkeypatch):
    from webapp.web import logbook

    make_user("aud@test.nl", "testorg:auditor", name="Anna Auditor")
    make_user("els@test.nl", "testorg:behandelaar", name="Els van Dijk")
    first = runtime.start("testorg", {})
    vclock.set(datetime(2026, 3, 4, 9, 0, tzinfo=AMS))
    second = runtime.start("testorg", {})
    actor = Actor("els@test.nl", "testorg", frozenset({"behandelaar"}))
    with runtime.sessions() as s:
        els = s.scalar(select(User.id).where(User.email == "els@test.nl"))
    runtime.assign_task(open_task(runtime, second.instance_id).id, actor, (els, "els@test.nl"))
    browser.login("aud@test.nl")
    everything = browser.get("/testorg/logboek")
    assert everything.status_code == 200 and first.reference in text(everything)
    assert "Taak opgepakt: Klacht behandelen Els van Dijk" in text(everything)

    def references(url: str) -> set[str]:
        return {a.text for a in page(browser.get(url)).xpath("//tbody/tr/td[2]/a")}

    assert references(f"/testorg/logboek?kenmerk={second.reference}") == {second.reference}
    assert references("/testorg/logboek?van=2026-03-03&tot=2026-03-31") == {second.reference}
    assert references("/testorg/logboek?tot=2026-03-02") == {first.reference}
    only = page(browser.get("/testorg/logboek?soort=task_claimed"))
    assert len(only.xpath("//tbody/tr")) == 1
    assert references("/testorg/logboek?wie=Els") == {second.reference}
    by_system = page(browser.get("/testorg/logboek?wie=systeem")).xpath("string(//tbody)")
    assert "Klacht ontvangen" in by_system and "Taak opgepakt" not in by_system
    monkeypatch.setattr(logbook, "PAGE_SIZE", 3)
    paged = browser.get("/testorg/logboek?kenmerk=TEST")
    assert "Pagina 1 van" in text(paged) and len(page(paged).xpath("//tbody/tr")) == 3
    assert "kenmerk=TEST" in page(paged).xpath("//a[text()='Volgende']/@href")[0]  # the filter is kept
    bad = browser.get("/testorg/logboek?van=2026-02-30")
    assert bad.status_code == 400 and "bestaat niet" in text(bad)


def test_a_behandelaar_cannot_read_the_log(browser, make_user):
    make_user("els@test.nl", "testorg:behandelaar")
    browser.login("els@test.nl")
    assert browser.get("/testorg/logboek").status_code == 403


def test_a_bad_date_in_a_report_url_gives_the_dutch_error_page(browser, make_user):
    make_user("aud@test.nl", "testorg:auditor")
    browser.login("aud@test.nl")
    for query in ("van=2026-02-30", "van=0001-01-01&tot=0001-01-02", "van=9999-12-31", "jaar=twintig"):
        for path in ("/testorg/rapportages", "/testorg/rapportages/gebeurtenissen.csv"):
            shown = browser.get(f"{path}?{query}")
            assert shown.status_code == 400, (path, query)
            assert "jjjj-mm-dd" in text(shown) or "1990" in text(shown)


def test_the_csv_download_opens_in_dutch_excel(browser, make_user, runtime):
    make_user("aud@test.nl", "testorg:auditor")
    runtime.start("testorg", {}, complaint_type="klacht", location="Cliëntenraad")
    browser.login("aud@test.nl")
    body = browser.get("/testorg/rapportages/gebeurtenissen.csv?van=2026-03-01&tot=2026-03-31").data
    assert body.startswith(b"\xef\xbb\xbf")  # the UTF-8 byte order mark Excel needs
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0].split(";")[:3] == ["case_id", "activity", "timestamp"]
    assert any("Cliëntenraad" in line and ";2026-03-02 09:00:00;" in line for line in lines[1:])


def test_a_letter_never_has_a_double_full_stop():
    from types import SimpleNamespace

    from handlers.letters import LETTERS_ROOT, LetterBook

    step = SimpleNamespace(organisation_name="Testorganisatie", reference="TEST-2026-0001")
    book = LetterBook({"wie_behandelt.txt": (LETTERS_ROOT / "wie_behandelt.txt").read_text(encoding="utf-8")})
    _, body = book.render("wie_behandelt", {"behandelaar_naam": "mevrouw De Vries."}, step)
    assert "door mevrouw De Vries." in body and ".." not in body

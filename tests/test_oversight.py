"""Oversight: the quality officer the procedure makes the overseer sees every open deadline of
the organisation, whoever holds the task, and is mailed once when a deadline passes unmet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import html
from sqlalchemy import select

from webapp.db.models import HumanTask, OutboxMessage, User
from webapp.intake import submit_complaint
from webapp.mail import OutboxSender, SmtpSettings
from webapp.oversight import overseer_roles
from webapp.runtime import clock
from webapp.runtime.notifications import warn_overdue
from webapp.runtime.organisations import BPMN_ROOT, discover
from webapp.runtime.service import Actor, Runtime
from webapp.worker import Worker

SAMEN = "samen-kinderopvang"
COMPLAINT = {"naam": "Anna de Vries", "email": "anna@example.nl", "relatie": "ouder", "locatie": "De Boomhut",
             "datum_gebeurtenis": "2026-02-26", "omschrijving": "Tim kwam met natte kleren thuis.",
             "toestemming": "ja"}


@pytest.fixture
def samen(runtime: Runtime, add_organisation, make_user):
    config = add_organisation(BPMN_ROOT / SAMEN)
    make_user("bea@samen.nl", f"{SAMEN}:beleidsmedewerker_kwaliteit", name="Bea Kwaliteit")
    make_user("mira@samen.nl", f"{SAMEN}:manager_ve", name="Mira Manager")
    return config


def claimed_complaint(runtime: Runtime) -> HumanTask:
    """A complaint whose first task (Ontvangst bevestigen, 3 working days) Mira has claimed."""
    submit_complaint(runtime, SAMEN, COMPLAINT, clock.to_local(clock.now()).date())
    with runtime.sessions() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.state == "ready"))
        mira = s.scalar(select(User.id).where(User.email == "mira@samen.nl"))
    runtime.assign_task(task.id, Actor("mira@samen.nl", SAMEN, frozenset({"manager_ve"})), (mira, "mira@samen.nl"))
    return task


def rows(response, table: str) -> list[list[str]]:
    found = html.fromstring(response.get_data(as_text=True)).xpath(f"//table[@id='{table}']/tbody/tr")
    return [[" ".join(td.text_content().split()) for td in tr.xpath("./td")] for tr in found]


def test_the_overseers_are_the_roles_the_procedures_name():
    configs = discover()
    assert overseer_roles(configs[SAMEN]) == {"beleidsmedewerker_kwaliteit"}  # "ziet erop toe"
    assert overseer_roles(configs["kwartier"]) == {"klachtenfunctionaris"}  # "bewaakt de procedure"
    assert overseer_roles(configs["mos"]) == {"secretaris_klachten"}  # keeps the central register


def test_the_overseer_sees_a_colleagues_overdue_task(runtime, samen, vclock, browser):
    task = claimed_complaint(runtime)
    submit_complaint(runtime, SAMEN, {**COMPLAINT, "naam": "Bram"}, clock.to_local(clock.now()).date())
    vclock.advance(timedelta(days=4))  # Friday 6 March: the first complaint's three working days have passed
    browser.login("bea@samen.nl")
    page = browser.get(f"/{SAMEN}/toezicht")
    assert page.status_code == 200
    deadlines = rows(page, "open-termijnen")
    due, name, reference, role, holder = deadlines[0]
    assert due == "05-03-2026 23:59 verstreken"  # submitted Monday 2 March: three working days
    assert (name, reference, role, holder) == ("Ontvangst bevestigen", "SAMEN-2026-0001", "Manager VE",
                                               "Mira Manager")
    assert deadlines[1][4] == "niemand (wacht op de rol)"
    assert [r[0] for r in rows(page, "open-klachten")][:2] == ["SAMEN-2026-0001 (klacht)", "SAMEN-2026-0002 (klacht)"]
    assert task.role == "manager_ve"


def test_others_are_refused_the_oversight_page(samen, browser):
    browser.login("mira@samen.nl")
    assert browser.get(f"/{SAMEN}/toezicht").status_code == 403


def test_the_overseer_is_mailed_once_when_a_deadline_passes_unmet(runtime, samen, vclock, smtp_server):
    inbox, port = smtp_server
    claimed_complaint(runtime)
    worker = Worker(runtime, OutboxSender(runtime.sessions, SmtpSettings("127.0.0.1", port, None, None, False,
                                                                         False, "klachtroute@samen.nl")))
    worker.sweep()
    assert warn_overdue(runtime) == 0  # nothing overdue yet
    vclock.advance(timedelta(days=3, hours=15))  # Friday 6 March 00:00: the term ended at midnight
    worker.sweep()
    worker.sweep()
    vclock.advance(timedelta(hours=1))
    worker.sweep()
    told = [m for m in inbox.messages if "Termijn verstreken" in m.content.decode()]
    assert len(told) == 1
    assert told[0].rcpt_tos == ["bea@samen.nl"]
    assert "Ontvangst bevestigen (SAMEN-2026-0001)" in told[0].content.decode()
    with runtime.sessions() as s:
        notices = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "termijn_verstreken")).all()
    assert [(n.recipient, n.status) for n in notices] == [("role:beleidsmedewerker_kwaliteit", "sent")]

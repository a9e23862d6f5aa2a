"""Registering a complaint received by phone, email, letter, in person or through someone else:
the deadlines count from the moment of receipt, a late registration is marked, a future
moment is refused. Real organisations (bpmn/), the real engine, a real database."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from lxml import html
from sqlalchemy import func, select

from webapp.accounts import create_token
from webapp.db.models import AuditEvent, Document, HumanTask, Instance
from webapp.intake import IntakeRefused
from webapp.registration import register_complaint
from webapp.runtime import clock
from webapp.runtime.organisations import BPMN_ROOT
from webapp.runtime.service import Actor, Runtime

from .conftest import AMS
from .test_upgrade import empty_database  # noqa: F401 - the fixture

SAMEN = "samen-kinderopvang"
PHONE_CALL = {  # Thursday 26 February 2026, 14:30; registered Monday 2 March, 09:00 (the vclock)
    "kanaal": "telefoon", "ontvangen_datum": "2026-02-26", "ontvangen_tijd": "14:30",
    "naam": "Anna de Vries", "telefoon": "06 12345678", "relatie": "ouder", "namens": "haar zoon Tim",
    "locatie": "De Boomhut", "datum_gebeurtenis": "2026-02-25",
    "omschrijving": "Tim kwam twee keer met natte kleren thuis.", "toestemming": "ja",
}


@pytest.fixture
def samen(runtime: Runtime, add_organisation):
    return add_organisation(BPMN_ROOT / SAMEN)


def text(response) -> str:
    return " ".join(html.fromstring(response.get_data(as_text=True)).text_content().split())


def definition(response, term: str) -> str:
    """The text of the <dd> after the <dt> `term` on a page."""
    found = html.fromstring(response.get_data(as_text=True)).xpath(
        f"//dt[normalize-space()='{term}']/following-sibling::dd[1]")
    return " ".join(found[0].text_content().split()) if found else ""


def ready_tasks(runtime: Runtime, instance_id: int) -> list[HumanTask]:
    with runtime.sessions() as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.state == "ready")))


def count_complaints(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Instance))


def test_a_phone_complaint_registered_three_days_late_counts_its_deadlines_from_receipt(
        runtime, samen, make_user, browser):
    make_user("bea@samen.nl", f"{SAMEN}:beleidsmedewerker_kwaliteit")
    browser.login("bea@samen.nl")
    form = browser.get(f"/{SAMEN}/klachten/registreren")
    assert form.status_code == 200 and "Hoe kwam de klacht binnen?" in text(form)

    letter = b"From: anna@example.nl\r\nSubject: Natte kleren\r\nDate: Thu, 26 Feb 2026 14:40:00 +0100\r\n\r\nZie het gesprek.\r\n"
    response = browser.post(f"/{SAMEN}/klachten/registreren",
                            {**PHONE_CALL, "bestanden": [(io.BytesIO(letter), "nagezonden.eml")]},
                            content_type="multipart/form-data", follow_redirects=True)

    assert response.status_code == 200
    assert "SAMEN-2026-0001 is geregistreerd (te laat" in text(response)
    assert definition(response, "Ontvangen") == "26-02-2026 14:30 via Telefoon"
    assert definition(response, "Geregistreerd") == "02-03-2026 09:00 te laat geregistreerd"
    assert definition(response, "Namens") == "haar zoon Tim"
    with runtime.sessions() as s:
        instance = s.scalar(select(Instance))
        entered = s.scalar(select(AuditEvent).where(AuditEvent.event_type == "complaint_entered"))
        kept = s.scalar(select(Document))
    received = datetime(2026, 2, 26, 14, 30, tzinfo=AMS)
    assert instance.received_at == received and instance.created_at == clock.now()
    assert instance.channel == "telefoon" and instance.registered_late is True
    assert entered.actor == "bea@samen.nl" and entered.data["late"] is True
    assert (kept.instance_id, kept.content, kept.side) == (instance.id, letter, "klager")  # in the intake's step
    # The procedure's ontvangen_op is the moment of receipt ...
    data = runtime.load(instance.id).workflow.last_task.data
    assert data["ontvangen_op"] == received.astimezone(UTC).isoformat() and data["namens"] == "haar zoon Tim"
    # ... so "ontvangst bevestigd binnen 3 werkdagen" ends on Tuesday 3 March, not Thursday 5 March.
    (task,) = ready_tasks(runtime, instance.id)
    assert task.name == "Ontvangst bevestigen"
    assert clock.to_local(task.due_at) == datetime(2026, 3, 3, 23, 59, 59, tzinfo=AMS)
    assert task.due_at == datetime.fromisoformat(samen.calendar.working_days_after(3, received))
    # The statutory six weeks on the complaint page count from receipt too: Thursday 9 April, not 13 April.
    page = text(browser.get(f"/{SAMEN}/klachten/{instance.reference}"))
    assert "binnen zes weken na indiening (Wet kinderopvang)09-04-2026 23:59" in page


def test_a_complaint_registered_the_next_working_day_is_not_late(runtime, samen):
    actor = Actor("bea@samen.nl", SAMEN, frozenset({"beleidsmedewerker_kwaliteit"}))
    # Received Friday 27 February at 16:00; Monday 2 March 09:00 is within one working day.
    done = register_complaint(runtime, SAMEN, {**PHONE_CALL, "ontvangen_datum": "27-02-2026",
                                               "ontvangen_tijd": "16:00", "kanaal": "brief"}, actor)
    assert done.late is False
    with runtime.sessions() as s:
        assert s.get(Instance, done.instance_id).registered_late is False


@pytest.mark.parametrize("day, hour", [("2026-03-03", "08:00"), ("2026-03-02", "09:30")])
def test_a_moment_in_the_future_is_refused(runtime, samen, make_user, browser, day, hour):
    make_user("bea@samen.nl", f"{SAMEN}:beleidsmedewerker_kwaliteit")
    browser.login("bea@samen.nl")
    response = browser.post(f"/{SAMEN}/klachten/registreren",
                            {**PHONE_CALL, "ontvangen_datum": day, "ontvangen_tijd": hour})
    assert response.status_code == 422
    assert "Het moment van ontvangst kan niet in de toekomst liggen." in text(response)
    assert count_complaints(runtime) == 0


def test_the_channel_and_the_intake_rules_are_checked(runtime, samen):
    actor = Actor("bea@samen.nl", SAMEN, frozenset({"beleidsmedewerker_kwaliteit"}))
    with pytest.raises(IntakeRefused) as refused:
        register_complaint(runtime, SAMEN, {**PHONE_CALL, "kanaal": "website", "anoniem": "ja"}, actor)
    assert "Kies hoe de klacht binnenkwam" in refused.value.errors["kanaal"]
    assert "geen anonieme klachten" in refused.value.errors["anoniem"]  # SAMEN refuses anonymous complaints
    assert count_complaints(runtime) == 0


def test_an_auditor_cannot_register(runtime, samen, make_user, browser):
    make_user("audit@samen.nl", f"{SAMEN}:auditor")
    browser.login("audit@samen.nl")
    assert browser.get(f"/{SAMEN}/klachten/registreren").status_code == 403


def test_deadlines_that_passed_before_the_registration_fire_at_once(runtime, samen):
    """Received four weeks ago: the reminders of the 3- and 5-working-day terms go out with the
    registration itself (or, were the engine to leave them waiting, on the worker's next sweep)."""
    actor = Actor("bea@samen.nl", SAMEN, frozenset({"beleidsmedewerker_kwaliteit"}))
    done = register_complaint(runtime, SAMEN, {**PHONE_CALL, "ontvangen_datum": "2026-02-02",
                                               "datum_gebeurtenis": "2026-01-30"}, actor)
    runtime.fire_due_timers()
    with runtime.sessions() as s:
        instance = s.get(Instance, done.instance_id)
        fired = set(s.scalars(select(AuditEvent.bpmn_id).where(
            AuditEvent.instance_id == done.instance_id, AuditEvent.event_type == "timer_fired")))
    assert {"Timer_ontvangst_3_werkdagen", "Timer_aanmelding_5_werkdagen"} <= fired
    assert instance.next_wakeup_at is None or instance.next_wakeup_at > clock.now()
    (task,) = ready_tasks(runtime, done.instance_id)
    assert clock.to_local(task.due_at) == datetime(2026, 2, 5, 23, 59, 59, tzinfo=AMS)


def test_the_api_registers_with_the_moment_of_receipt(runtime, samen, make_user, app):
    make_user("bea@samen.nl", f"{SAMEN}:beleidsmedewerker_kwaliteit")
    with runtime.write_sessions.begin() as session:
        headers = {"Authorization": f"Bearer {create_token(session, 'bea@samen.nl', 'test')}"}
    client = app.test_client()
    body = {k: v for k, v in PHONE_CALL.items() if k not in ("ontvangen_datum", "ontvangen_tijd")}
    response = client.post(f"/api/v1/organisations/{SAMEN}/registrations", headers=headers,
                           json={**body, "ontvangen_op": "2026-02-26T14:30:00+01:00", "toestemming": True})
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["received_at"] == "2026-02-26T13:30:00+00:00" and answer["registered_late"] is True
    future = client.post(f"/api/v1/organisations/{SAMEN}/registrations", headers=headers,
                         json={**body, "ontvangen_op": "2026-03-02T10:00:00+01:00", "toestemming": True})
    assert future.status_code == 422
    assert "toekomst" in future.get_json()["errors"][0]["message"]
    assert client.post(f"/api/v1/organisations/{SAMEN}/registrations",
                       json={**body, "ontvangen_op": "2026-02-26T14:30:00+01:00"}).status_code == 401


def test_kwartier_the_employee_who_had_the_conversation_gets_its_first_step(
        runtime, add_organisation, make_user, browser):
    add_organisation(BPMN_ROOT / "kwartier")
    make_user("mo@kwartier.nl", "kwartier:medewerker")
    browser.login("mo@kwartier.nl")
    response = browser.post("/kwartier/klachten/registreren",
                            {**PHONE_CALL, "kanaal": "mondeling", "locatie": "Wijkteam Centrum"})
    assert response.status_code == 303
    with runtime.sessions() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.state == "ready"))
    assert response.headers["Location"].endswith(f"/kwartier/taken/{task.id}")
    assert task.name == "Gesprek voeren en klacht registreren" and task.claimed_by is not None
    page = browser.get(f"/kwartier/taken/{task.id}")
    assert definition(page, "Opgepakt door") == "Mo"


def test_mos_counts_the_lapse_from_when_the_complainant_knew(runtime, add_organisation):
    add_organisation(BPMN_ROOT / "mos")
    actor = Actor("sec@mos.nl", "mos", frozenset({"secretaris_klachten"}))
    old_event = {**PHONE_CALL, "datum_gebeurtenis": "2025-06-01",  # nine months before receipt
                 "locatie": "Buurtwerk Oost", "aard_klacht": "bejegening"}
    with pytest.raises(IntakeRefused) as refused:
        register_complaint(runtime, "mos", old_event, actor)
    assert refused.value.rule == "lapse"
    done = register_complaint(runtime, "mos", {**old_event, "datum_kennisname": "2026-01-10"}, actor)
    data = runtime.load(done.instance_id).workflow.last_task.data
    assert data["datum_kennisname"] == "2026-01-10"
    anonymous = register_complaint(runtime, "mos", {**old_event, "datum_gebeurtenis": "2026-02-25",
                                                    "anoniem": "ja", "naam": ""}, actor)
    with runtime.sessions() as s:
        assert s.get(Instance, anonymous.instance_id).complaint_type == "signaal"


def test_the_upgrade_carries_receipt_and_channel_forward(empty_database):  # noqa: F811 - the fixture
    """Complaints of the previous release: received when they were registered, their channel
    from their data's `kanaal`."""
    from sqlalchemy import text as sql

    from webapp.db import migrate
    from webapp.db.session import make_engine

    from .test_upgrade import _install_previous_release

    before = _install_previous_release(empty_database)
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sql("SELECT channel, received_at = created_at FROM instances")).all()
    finally:
        engine.dispose()
    assert len(rows) == len(before["instances"])
    assert all(same for _, same in rows)
    assert {channel for channel, _ in rows} == {"website", "telefoon", "email", "mondeling"}

"""Need-to-know (AVG): a role limited to locations sees only those locations' complaints and
tasks; a medewerker sees only the tasks they are involved in and no complaint page; opening a
complaint's personal data is logged, and the auditor reads that log on Inzage. On the real
Kwartier procedure (its first task is the medewerker's conversation)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.accounts import create_token, set_organisation_roles
from webapp.db.models import AccessLogEntry, HumanTask, User
from webapp.runtime.organisations import BPMN_ROOT
from webapp.runtime.service import Actor, Runtime

from .conftest import Browser

ORG = "kwartier"


@pytest.fixture
def complaints(runtime: Runtime, add_organisation) -> dict[str, tuple[str, int]]:
    """Three complaints: two at Oost, one at West -> {name: (reference, first task id)}."""
    add_organisation(BPMN_ROOT / ORG)
    made = {}
    for name, location in (("oost1", "Oost"), ("west", "West"), ("oost2", "Oost")):
        started = runtime.start(ORG, {"klager": {"naam": f"Klager {name}", "email": "k@example.nl", "relatie": "client"},
                                      "soort": "klacht", "omschrijving": "Niet goed geholpen.", "locatie": location,
                                      "anoniem": False, "kanaal": "website", "datum_gebeurtenis": "2026-02-20"},
                                complaint_type="klacht", location=location)
        with runtime.sessions() as s:
            task = s.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                    HumanTask.state == "ready"))
        assert task.role == "medewerker"
        made[name] = (started.reference, task.id)
    return made


@pytest.fixture
def person(runtime: Runtime, make_user, app):
    """A logged-in person with {role: locations} in Kwartier, and their API token."""

    def make(email: str, grants: dict[str, list[str]]):
        make_user(email)
        with runtime.write_sessions.begin() as s:
            user = s.scalar(select(User).where(User.email == email))
            oid = s.scalar(select(HumanTask.organisation_id).limit(1))
            set_organisation_roles(s, user.id, oid, grants)
            token = create_token(s, email, "test")
        browser = Browser(app.test_client())
        assert browser.login(email).status_code == 302
        return browser, {"Authorization": f"Bearer {token}"}

    return make


def statuses(browser: Browser, api: dict, reference: str, task_id: int) -> dict[str, int]:
    return {
        "klacht": browser.get(f"/{ORG}/klachten/{reference}").status_code,
        "spoor": browser.get(f"/{ORG}/klachten/{reference}/spoor").status_code,
        "taak": browser.get(f"/{ORG}/taken/{task_id}").status_code,
        "api klacht": browser.get(f"/api/v1/complaints/{reference}", headers=api).status_code,
        "api taak": browser.get(f"/api/v1/tasks/{task_id}", headers=api).status_code,
    }


def api_tasks(browser: Browser, api: dict) -> set[str]:
    body = browser.get(f"/api/v1/tasks?organisation={ORG}", headers=api).get_json()
    return {item["complaint"]["reference"] for item in body["items"]}


def test_a_role_limited_to_locations_sees_only_their_complaints(person, complaints):
    browser, api = person("leiding-oost@kwartier.test", {"leidinggevende": ["Oost"]})
    (oost, oost_task), (west, west_task) = complaints["oost1"], complaints["west"]
    assert statuses(browser, api, oost, oost_task) == {"klacht": 200, "spoor": 200, "taak": 404,
                                                        "api klacht": 200, "api taak": 404}
    assert statuses(browser, api, west, west_task) == {"klacht": 404, "spoor": 404, "taak": 404,
                                                        "api klacht": 404, "api taak": 404}
    listed = browser.get(f"/{ORG}/klachten").get_data(as_text=True)
    assert oost in listed and complaints["oost2"][0] in listed and west not in listed
    # Recording what the complainant said needs the complaint too.
    assert browser.post(f"/{ORG}/klachten/{west}/bericht", {"bericht": "klacht_ingetrokken"},
                        page=f"/{ORG}/inbox").status_code == 404


def test_a_location_limited_auditor_reads_only_their_locations(person, complaints):
    browser, api = person("auditor-west@kwartier.test", {"auditor": ["West"]})
    (oost, oost_task), (west, west_task) = complaints["oost1"], complaints["west"]
    assert set(statuses(browser, api, west, west_task).values()) == {200}
    assert set(statuses(browser, api, oost, oost_task).values()) == {404}
    inbox = browser.get(f"/{ORG}/inbox").get_data(as_text=True)
    assert f"/{ORG}/taken/{west_task}" in inbox and f"/{ORG}/taken/{oost_task}" not in inbox


def test_a_medewerker_sees_only_the_tasks_they_are_involved_in(runtime: Runtime, person, complaints):
    anna, anna_api = person("anna@kwartier.test", {"medewerker": ["Oost"]})
    bram, bram_api = person("bram@kwartier.test", {"medewerker": []})
    (oost, oost_task), (west, west_task) = complaints["oost1"], complaints["west"]
    # Offered to the role at her location: the task, never the complaint page.
    assert statuses(anna, anna_api, oost, oost_task) == {"klacht": 404, "spoor": 404, "taak": 200,
                                                          "api klacht": 404, "api taak": 200}
    assert set(statuses(anna, anna_api, west, west_task).values()) == {404}
    assert api_tasks(anna, anna_api) == {oost, complaints["oost2"][0]}
    # Bram takes the first Oost complaint: from then on it is his, not Anna's.
    assert bram.post(f"/{ORG}/taken/{oost_task}/oppakken", page=f"/{ORG}/inbox").status_code == 302
    assert anna.get(f"/{ORG}/taken/{oost_task}").status_code == 404
    assert anna.get(f"/api/v1/tasks/{oost_task}", headers=anna_api).status_code == 404
    assert api_tasks(anna, anna_api) == {complaints["oost2"][0]}
    assert f"/{ORG}/taken/{oost_task}" not in anna.get(f"/{ORG}/inbox").get_data(as_text=True)
    assert bram.get(f"/{ORG}/taken/{oost_task}").status_code == 200
    assert bram.get(f"/{ORG}/klachten/{oost}").status_code == 404
    # Handed to Anna and back: she was involved, so she still opens the task.
    runtime.assign_task(oost_task, Actor("bram@kwartier.test", ORG, frozenset({"medewerker"})),
                        (_user_id(runtime, "anna@kwartier.test"), "anna@kwartier.test"))
    runtime.assign_task(oost_task, Actor("anna@kwartier.test", ORG, frozenset({"medewerker"})),
                        (_user_id(runtime, "bram@kwartier.test"), "bram@kwartier.test"))
    assert anna.get(f"/{ORG}/taken/{oost_task}").status_code == 200


def _user_id(runtime: Runtime, email: str) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(User.id).where(User.email == email))


def test_opening_a_complaint_is_logged_and_the_auditor_reads_it(runtime: Runtime, person, complaints):
    reader, reader_api = person("lotte@kwartier.test", {"leidinggevende": []})
    auditor, _ = person("audit@kwartier.test", {"auditor": []})
    reference, task_id = complaints["west"]
    other = complaints["oost1"][0]
    assert reader.get(f"/{ORG}/klachten/{reference}").status_code == 200
    assert reader.get(f"/api/v1/complaints/{reference}", headers=reader_api).status_code == 200
    assert reader.get(f"/{ORG}/klachten/{other}/spoor").status_code == 200
    with runtime.sessions() as s:
        lines = s.execute(select(AccessLogEntry.actor, AccessLogEntry.view).order_by(AccessLogEntry.id)).all()
    assert lines == [("lotte@kwartier.test", "klacht"), ("lotte@kwartier.test", "api-klacht"),
                     ("lotte@kwartier.test", "spoor")]
    page = auditor.get(f"/{ORG}/inzage?klacht={reference}").get_data(as_text=True)
    assert page.count("Lotte") == 2 and "Klachtpagina" in page and "API: klacht" in page and other not in page
    by_person = auditor.get(f"/{ORG}/inzage?persoon=lotte").get_data(as_text=True)
    assert "3 keer geopend" in by_person
    assert "0 keer geopend" in auditor.get(f"/{ORG}/inzage?persoon=iemand-anders").get_data(as_text=True)
    # Only the auditor reads the log.
    assert reader.get(f"/{ORG}/inzage").status_code == 403

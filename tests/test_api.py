"""The JSON API under /api/v1 through Flask's test client, on a real database and the real engine:
tokens and sessions, every endpoint's answers and errors, organisation isolation, auditors,
and the OpenAPI document (valid, complete, and the answers conform to its schemas)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import select, update

from webapp.accounts import create_token
from webapp.db.models import ApiToken, AuditEvent, HumanTask, Instance
from webapp.runtime.service import Runtime
from webapp.web.openapi import openapi_document

from .conftest import AMS

API = "/api/v1"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")
COMPLAINT = {"klager": {"naam": "A. de Vries", "email": "a@example.nl", "relatie": "ouder"},
             "omschrijving": "Mijn dochter kwam met natte kleren thuis."}
SUBMISSION = {"naam": "A. de Vries", "email": "a@example.nl", "relatie": "ouder",
              "omschrijving": "Mijn dochter kwam met natte kleren thuis.", "datum_gebeurtenis": "2026-02-27",
              "locatie": "De Boomhut", "toestemming": True}


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def client(app):
    return app.test_client()


def token_for(runtime: Runtime, email: str, name: str = "test") -> str:
    with runtime.write_sessions.begin() as session:
        return create_token(session, email, name)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_with_token(runtime: Runtime, make_user, email: str, *roles: str) -> dict[str, str]:
    make_user(email, *roles)
    return bearer(token_for(runtime, email))


def open_task(runtime: Runtime, instance_id: int) -> HumanTask:
    with runtime.sessions() as s:
        return s.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready"))


def instance(runtime: Runtime, instance_id: int) -> Instance:
    with runtime.sessions() as s:
        return s.get(Instance, instance_id)


def complete(client, task_id: int, data: dict, headers: dict, **extra):
    return client.post(f"{API}/tasks/{task_id}/complete", json={"data": data, **extra}, headers=headers)


_DOCUMENT = openapi_document()


def conforms(schema_name: str, body) -> None:
    """The body validates against a component schema of the OpenAPI document."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _DOCUMENT["components"]}
    errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(body), key=str)
    assert not errors, f"{schema_name}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def is_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    conforms("Error", body)
    assert body["error"] and "Traceback" not in body["error"]
    return body


def fields(body: dict) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


# -- the OpenAPI document ----------------------------------------------------------------------


def test_openapi_document_is_valid_and_describes_every_route(app, client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "sessionCookie"}
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    routes = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]
    assert len(routes) == 7  # + POST /organisations/{org}/registrations
    for rule in routes:
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix(API))
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path].get(method.lower())
            assert operation is not None, f"{method} {path}"
            assert operation["responses"], f"{method} {path}"
    # Every documented operation is a route too.
    documented = {(p, m) for p, ops in document["paths"].items() for m in ops}
    assert len(documented) == len(routes)


# -- authentication ---------------------------------------------------------------------------


def test_without_authentication_every_private_endpoint_is_a_401_with_a_bearer_challenge(client, runtime):
    started = runtime.start("testorg", {})
    task = open_task(runtime, started.instance_id)
    for response in (client.get(f"{API}/tasks"), client.get(f"{API}/tasks/{task.id}"),
                     client.get(f"{API}/complaints/{started.reference}"),
                     client.post(f"{API}/tasks/{task.id}/complete", json={"data": {"opgelost": True}})):
        is_json_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert instance(runtime, started.instance_id).status == "running"


def test_a_token_authenticates_and_is_marked_used(client, runtime, make_user):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    assert client.get(f"{API}/tasks", headers=headers).status_code == 200
    with runtime.sessions() as s:
        assert s.scalar(select(ApiToken.last_used_at)) is not None


def test_an_unknown_revoked_or_malformed_token_is_a_401(client, runtime, make_user):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    unknown = client.get(f"{API}/tasks", headers=bearer("kr_niet-bestaand"))
    assert "onbekend of ingetrokken" in is_json_error(unknown, 401)["error"]
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    for header in ("Basic ZWxzOnd3", "Bearer", "Bearer   "):
        response = client.get(f"{API}/tasks", headers={"Authorization": header})
        is_json_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with runtime.write_sessions.begin() as s:
        s.execute(update(ApiToken).values(revoked=True))
    is_json_error(client.get(f"{API}/tasks", headers=headers), 401)


def test_a_token_of_a_deactivated_user_is_a_401(client, runtime, make_user):
    from webapp.db.models import User

    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    with runtime.write_sessions.begin() as s:
        s.execute(update(User).values(active=False))
    is_json_error(client.get(f"{API}/tasks", headers=headers), 401)


def test_the_session_reads_and_writes_with_the_csrf_header(browser, runtime, make_user):
    make_user("els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT)
    task = open_task(runtime, started.instance_id)
    browser.login("els@test.nl")
    listed = browser.get(f"{API}/tasks")
    assert listed.status_code == 200 and [t["id"] for t in listed.get_json()["items"]] == [task.id]

    url = f"{API}/tasks/{task.id}/complete"
    without = browser.client.post(url, json={"data": {"opgelost": True}})
    assert "CSRF" in is_json_error(without, 400)["error"]
    wrong = browser.client.post(url, json={"data": {"opgelost": True}}, headers={"X-CSRFToken": "nep"})
    is_json_error(wrong, 400)
    assert instance(runtime, started.instance_id).status == "running"

    token = browser.csrf("/testorg/inbox")
    done = browser.client.post(url, json={"data": {"opgelost": True}}, headers={"X-CSRFToken": token})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["complaint"]["status"] == "completed"


def test_a_token_write_needs_no_csrf_header(client, runtime, make_user):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT)
    task = open_task(runtime, started.instance_id)
    assert complete(client, task.id, {"opgelost": True}, headers).status_code == 200


# -- GET /tasks -------------------------------------------------------------------------------


def test_my_tasks_with_their_fields(client, runtime, make_user, vclock):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT, complaint_type="klacht", location="De Boomhut")
    task = open_task(runtime, started.instance_id)
    response = client.get(f"{API}/tasks", headers=headers)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    conforms("TaskList", body)
    assert (body["total"], body["page"], body["pages"], body["page_size"]) == (1, 1, 1, 25)
    [item] = body["items"]
    assert item == {
        "id": task.id, "organisation": "testorg", "name": "Klacht behandelen", "role": "behandelaar",
        "state": "ready", "due_at": "2026-03-09T22:59:59+00:00", "overdue": False,
        "complaint": {"reference": started.reference, "type": "klacht"}, "claimed_by": None,
    }
    assert ISO_UTC.match(item["due_at"])

    vclock.set(datetime(2026, 3, 10, 0, 30, tzinfo=AMS))  # past due; the escalation timer has not run yet
    assert client.get(f"{API}/tasks", headers=headers).get_json()["items"][0]["overdue"] is True


def test_claimed_by_names_the_colleague(client, runtime, make_user):
    from webapp.runtime.service import Actor

    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", {})
    task = open_task(runtime, started.instance_id)
    me = client.get(f"{API}/tasks", headers=headers)
    assert me.get_json()["items"][0]["claimed_by"] is None
    with runtime.sessions() as s:
        from webapp.db.models import User

        els = s.scalar(select(User).where(User.email == "els@test.nl"))
    runtime.assign_task(task.id, Actor("els@test.nl", "testorg", frozenset({"behandelaar"})), (els.id, els.email))
    item = client.get(f"{API}/tasks", headers=headers).get_json()["items"][0]
    assert item["claimed_by"] == {"id": els.id, "name": "Els", "email": "els@test.nl"}


def test_tasks_filter_by_role_overdue_and_organisation_and_page(client, runtime, make_user, vclock, other_org):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar", "testorg:directeur",
                              f"{other_org.slug}:behandelaar")
    first = runtime.start("testorg", {})
    vclock.set(datetime(2026, 3, 4, 9, 0, tzinfo=AMS))
    for _ in range(4):
        runtime.start("testorg", {})
    # The first complaint's task is due Monday 9 March, the others Wednesday 11 March.
    vclock.set(datetime(2026, 3, 10, 9, 0, tzinfo=AMS))
    get = lambda query: client.get(f"{API}/tasks{query}", headers=headers)  # noqa: E731

    assert get("").get_json()["total"] == 5
    overdue = get("?overdue=true").get_json()
    assert [t["complaint"]["reference"] for t in overdue["items"]] == [first.reference]
    assert overdue["items"][0]["overdue"] is True
    assert get("?overdue=false").get_json()["total"] == 4
    assert get("?role=directeur").get_json()["total"] == 0
    assert get("?role=behandelaar").get_json()["total"] == 5
    assert get("?organisation=testorg").get_json()["total"] == 5
    assert get(f"?organisation={other_org.slug}").get_json()["total"] == 0

    page1, page3 = get("?page_size=2").get_json(), get("?page_size=2&page=3").get_json()
    assert (page1["pages"], len(page1["items"]), len(page3["items"])) == (3, 2, 1)
    assert page1["items"][0]["complaint"]["reference"] == first.reference  # earliest due first
    assert get("?page_size=2&page=9").get_json()["items"] == []
    conforms("TaskList", page3)

    too_big = is_json_error(get("?page_size=101"), 400)
    assert fields(too_big) == {"page_size": "Vul een waarde van hoogstens 100 in."}
    assert set(fields(is_json_error(get("?page=nul&overdue=misschien"), 400))) == {"page", "overdue"}
    is_json_error(get("?organisation=onbekend"), 404)


def test_tasks_are_isolated_per_organisation(client, runtime, make_user, other_org):
    quinn = user_with_token(runtime, make_user, "quinn@quick.nl", f"{other_org.slug}:behandelaar")
    runtime.start("testorg", {})
    runtime.start(other_org.slug, {})
    body = client.get(f"{API}/tasks", headers=quinn).get_json()
    assert body["items"] == [] and body["total"] == 0
    is_json_error(client.get(f"{API}/tasks?organisation=testorg", headers=quinn), 404)


def test_the_directeur_does_not_list_the_behandelaars_task_but_an_auditor_does(client, runtime, make_user):
    dirk = user_with_token(runtime, make_user, "dirk@test.nl", "testorg:directeur")
    aud = user_with_token(runtime, make_user, "aud@test.nl", "testorg:auditor")
    runtime.start("testorg", {})
    assert client.get(f"{API}/tasks", headers=dirk).get_json()["total"] == 0
    assert client.get(f"{API}/tasks", headers=aud).get_json()["total"] == 1


# -- GET /tasks/{id} ----------------------------------------------------------------------------


def test_a_task_with_its_form_instructions_and_summary(client, runtime, make_user):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT, complaint_type="klacht", location="De Boomhut")
    task = open_task(runtime, started.instance_id)
    from webapp.runtime.service import Actor

    runtime.save_draft(task.id, Actor("els@test.nl", "testorg", frozenset({"behandelaar"})),
                       {"toelichting": "nog bellen"})
    response = client.get(f"{API}/tasks/{task.id}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    conforms("TaskDetail", body)
    assert body["id"] == task.id and body["state"] == "ready" and body["can_complete"] is True
    assert body["instructions"] == f"Behandel klacht {started.reference}."
    assert body["form"]["name"] == "test-behandelen-schema.json"
    assert body["form"]["schema"]["required"] == ["opgelost"]
    assert body["form"]["ui_schema"] == {"toelichting": {"ui:widget": "textarea"}}
    assert body["values"] == {"toelichting": "nog bellen"}
    assert body["complaint"] == {"reference": started.reference, "type": "klacht", "location": "De Boomhut",
                                 "status": "running", "created_at": "2026-03-02T08:00:00+00:00",
                                 "lock_version": instance(runtime, started.instance_id).lock_version}
    assert body["data"]["omschrijving"] == COMPLAINT["omschrijving"]
    assert body["data"]["klager"] == {"naam": "A. de Vries", "relatie": "ouder"}  # no contact details
    assert body["data"]["referentie"] == started.reference
    assert "a@example.nl" not in json.dumps(body)


def test_a_task_i_may_not_see_is_a_404_and_an_auditor_reads_it(client, runtime, make_user, other_org):
    dirk = user_with_token(runtime, make_user, "dirk@test.nl", "testorg:directeur")
    quinn = user_with_token(runtime, make_user, "quinn@quick.nl", f"{other_org.slug}:behandelaar")
    aud = user_with_token(runtime, make_user, "aud@test.nl", "testorg:auditor")
    started = runtime.start("testorg", {})
    task = open_task(runtime, started.instance_id)
    is_json_error(client.get(f"{API}/tasks/{task.id}", headers=dirk), 404)
    is_json_error(client.get(f"{API}/tasks/{task.id}", headers=quinn), 404)
    is_json_error(client.get(f"{API}/tasks/999999", headers=aud), 404)
    read = client.get(f"{API}/tasks/{task.id}", headers=aud)
    assert read.status_code == 200 and read.get_json()["can_complete"] is False


# -- POST /tasks/{id}/complete -------------------------------------------------------------------


def test_complete_invalid_then_valid_then_again(client, runtime, make_user):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT)
    task = open_task(runtime, started.instance_id)

    refused = complete(client, task.id, {"toelichting": "eerste opzet", "uitkomst": "misschien"}, headers)
    body = is_json_error(refused, 422)
    assert fields(body) == {"opgelost": "Dit veld is verplicht.", "uitkomst": "Kies een van de mogelijkheden."}
    assert instance(runtime, started.instance_id).status == "running"

    done = complete(client, task.id, {"opgelost": True, "uitkomst": "gegrond"}, headers)
    assert done.status_code == 200
    body = done.get_json()
    conforms("CompleteResult", body)
    assert body["task"] == {"id": task.id, "state": "completed", "completed_at": "2026-03-02T08:00:00+00:00",
                            "completed_by": "els@test.nl"}
    assert body["complaint"]["status"] == "completed" and body["complaint"]["closed_at"]
    assert body["next_tasks"] == []

    again = complete(client, task.id, {"opgelost": True}, headers)
    assert "niet meer open" in is_json_error(again, 409)["error"]


def test_complete_gives_the_next_tasks(client, runtime, make_user):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT)
    task = open_task(runtime, started.instance_id)
    body = complete(client, task.id, {"opgelost": False}, headers).get_json()
    assert body["complaint"]["status"] == "running"
    [following] = body["next_tasks"]
    assert (following["name"], following["role"], following["state"]) == ("Escalatie behandelen", "directeur", "ready")
    conforms("CompleteResult", body)


def test_a_stale_lock_version_is_a_409_and_changes_nothing(client, runtime, make_user):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT)
    task = open_task(runtime, started.instance_id)
    read = client.get(f"{API}/tasks/{task.id}", headers=headers).get_json()["complaint"]["lock_version"]
    stale = complete(client, task.id, {"opgelost": True}, headers, lock_version=read + 1)
    assert "gewijzigd" in is_json_error(stale, 409)["error"]
    assert instance(runtime, started.instance_id).status == "running"
    assert complete(client, task.id, {"opgelost": True}, headers, lock_version=read).status_code == 200


def test_complete_rights_auditor_role_and_organisation(client, runtime, make_user, other_org):
    aud = user_with_token(runtime, make_user, "aud@test.nl", "testorg:auditor")
    dirk = user_with_token(runtime, make_user, "dirk@test.nl", "testorg:directeur")
    both = user_with_token(runtime, make_user, "anna@test.nl", "testorg:directeur", "testorg:auditor")
    quinn = user_with_token(runtime, make_user, "quinn@quick.nl", f"{other_org.slug}:behandelaar")
    started = runtime.start("testorg", COMPLAINT)
    task = open_task(runtime, started.instance_id)
    assert "auditor" in is_json_error(complete(client, task.id, {"opgelost": True}, aud), 403)["error"]
    # A role I do not hold on a task I cannot see: 404; one I can see (as auditor): 403.
    is_json_error(complete(client, task.id, {"opgelost": True}, dirk), 404)
    assert "behandelaar" in is_json_error(complete(client, task.id, {"opgelost": True}, both), 403)["error"]
    is_json_error(complete(client, task.id, {"opgelost": True}, quinn), 404)
    with runtime.sessions() as s:
        assert s.get(Instance, started.instance_id).status == "running"
        assert s.get(HumanTask, task.id).state == "ready"


def test_complete_refuses_bodies_that_are_not_json_objects(client, runtime, make_user):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT)
    task = open_task(runtime, started.instance_id)
    url = f"{API}/tasks/{task.id}/complete"
    is_json_error(client.post(url, data={"data": "x"}, headers=headers), 415)
    malformed = client.post(url, data='{"data": {', content_type="application/json", headers=headers)
    assert "geen geldige JSON" in is_json_error(malformed, 400)["error"]
    is_json_error(client.post(url, data="", content_type="application/json", headers=headers), 400)
    is_json_error(client.post(url, data='{"data": NaN}', content_type="application/json", headers=headers), 400)
    assert set(fields(is_json_error(client.post(url, json={"data": [1], "lock_version": "x", "extra": 1},
                                                headers=headers), 422))) == {"data", "lock_version", "extra"}
    is_json_error(client.post(url, json=[1, 2], headers=headers), 422)
    huge = client.post(url, json={"data": {"toelichting": "x" * 300_000}}, headers=headers)
    is_json_error(huge, 413)
    assert instance(runtime, started.instance_id).status == "running"


# -- GET /complaints/{reference} -------------------------------------------------------------------


def test_a_complaint_with_its_tasks_letters_and_trace(client, runtime, make_user, vclock):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    started = runtime.start("testorg", COMPLAINT, complaint_type="klacht", location="De Boomhut")
    task = open_task(runtime, started.instance_id)
    vclock.set(datetime(2026, 3, 6, 9, 0, tzinfo=AMS))
    runtime.fire_due_timers()  # the reminder to the behandelaars
    running = client.get(f"{API}/complaints/{started.reference}", headers=headers).get_json()
    conforms("Complaint", running)
    assert [t["id"] for t in running["tasks"]["open"]] == [task.id] and running["tasks"]["finished"] == []
    # The notice that the task arrived, then the diagram's reminder.
    assert [(m["kind"], m["recipient_kind"], m["recipient_role"]) for m in running["messages"]] == [
        ("notification", "role", "behandelaar"), ("notification", "role", "behandelaar")]

    complete(client, task.id, {"opgelost": True, "uitkomst": "gegrond"}, headers)
    response = client.get(f"{API}/complaints/{started.reference.lower()}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    conforms("Complaint", body)
    assert body["reference"] == started.reference and body["organisation"] == {"slug": "testorg",
                                                                                "name": "Testorganisatie"}
    assert (body["status"], body["type"], body["location"]) == ("completed", "klacht", "De Boomhut")
    assert body["created_at"] == "2026-03-02T08:00:00+00:00" and body["closed_at"] == "2026-03-06T08:00:00+00:00"
    assert body["tasks"]["open"] == []
    [finished] = body["tasks"]["finished"]
    assert (finished["id"], finished["state"], finished["completed_by"]) == (task.id, "completed", "els@test.nl")
    assert finished["due_at"] == "2026-03-09T22:59:59+00:00"
    letter = body["messages"][-1]
    assert (letter["kind"], letter["recipient_kind"], letter["status"]) == ("letter", "address", "pending")
    assert letter["subject"] and "a@example.nl" not in json.dumps(body["messages"])
    types = [e["event_type"] for e in body["trace"]]
    assert types[0] == "complaint_received" and "timer_fired" in types and types[-1] == "process_completed"
    done = next(e for e in body["trace"] if e["event_type"] == "task_completed")
    assert (done["actor"], done["bpmn_id"], done["bpmn_name"], done["label"]) == (
        "els@test.nl", "Task_behandelen", "Klacht behandelen", "Taak afgerond")
    assert done["data"]["decisions"] == {"opgelost": True, "uitkomst": "gegrond"}
    with runtime.sessions() as s:
        assert len(body["trace"]) == len(s.scalars(select(AuditEvent.id).where(
            AuditEvent.instance_id == started.instance_id)).all())


def test_a_complaint_is_for_its_organisation_only_and_auditors_read_it(client, runtime, make_user, other_org):
    aud = user_with_token(runtime, make_user, "aud@test.nl", "testorg:auditor")
    dirk = user_with_token(runtime, make_user, "dirk@test.nl", "testorg:directeur")
    quinn = user_with_token(runtime, make_user, "quinn@quick.nl", f"{other_org.slug}:behandelaar")
    nobody = user_with_token(runtime, make_user, "niemand@test.nl")
    ours = runtime.start("testorg", {})
    theirs = runtime.start(other_org.slug, {})
    assert client.get(f"{API}/complaints/{ours.reference}", headers=aud).status_code == 200
    assert client.get(f"{API}/complaints/{ours.reference}", headers=dirk).status_code == 200
    is_json_error(client.get(f"{API}/complaints/{ours.reference}", headers=quinn), 404)
    is_json_error(client.get(f"{API}/complaints/{ours.reference}", headers=nobody), 404)
    is_json_error(client.get(f"{API}/complaints/{theirs.reference}", headers=aud), 404)
    assert client.get(f"{API}/complaints/{theirs.reference}", headers=quinn).status_code == 200
    is_json_error(client.get(f"{API}/complaints/TEST-2026-9999", headers=aud), 404)


# -- POST /organisations/{org}/complaints (public) -----------------------------------------------


def test_submit_a_complaint_without_login(client, runtime):
    response = client.post(f"{API}/organisations/testorg/complaints", json=SUBMISSION)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    conforms("SubmissionResult", body)
    assert body == {"reference": "TEST-2026-0001", "status": "running", "type": "klacht"}
    assert response.headers["Location"].endswith(f"{API}/complaints/TEST-2026-0001")
    with runtime.sessions() as s:
        row = s.scalar(select(Instance).where(Instance.reference == "TEST-2026-0001"))
        assert (row.complaint_type, row.location) == ("klacht", "De Boomhut")
        actor = s.scalar(select(AuditEvent.actor).where(AuditEvent.event_type == "complaint_received"))
        assert actor == "klager (webformulier)"
    assert open_task(runtime, row.id).name == "Klacht behandelen"


def test_submit_refuses_invalid_input_per_field_in_dutch(client, runtime):
    url = f"{API}/organisations/testorg/complaints"
    body = is_json_error(client.post(url, json={"email": "geen-adres", "datum_gebeurtenis": "2099-01-01"}), 422)
    problems = fields(body)
    assert problems["naam"] == "Vul uw naam in."
    assert problems["email"].startswith("Vul een geldig e-mailadres in")
    assert problems["omschrijving"] == "Beschrijf wat er is gebeurd."
    assert "toekomst" in problems["datum_gebeurtenis"]
    assert {"relatie", "toestemming"} <= set(problems)
    is_json_error(client.post(url, json=["geen", "object"]), 422)
    with runtime.sessions() as s:
        assert s.scalar(select(Instance.id)) is None


def test_submit_refuses_an_anonymous_complaint_where_the_organisation_does(client, publish_settings):
    publish_settings("testorg", intake={"anonymous": "refuse",
                                        "anonymous_explanation": "Wij nemen geen anonieme klachten aan."})
    anonymous = {k: v for k, v in SUBMISSION.items() if k not in ("naam", "email")} | {"anoniem": True}
    body = is_json_error(client.post(f"{API}/organisations/testorg/complaints", json=anonymous), 422)
    assert fields(body)["anoniem"] == "Wij nemen geen anonieme klachten aan."


def test_submit_errors_unknown_organisation_media_type_malformed_and_size(client, runtime):
    url = f"{API}/organisations/testorg/complaints"
    is_json_error(client.post(f"{API}/organisations/bestaat-niet/complaints", json=SUBMISSION), 404)
    is_json_error(client.post(url, data=SUBMISSION), 415)
    is_json_error(client.post(url, data=json.dumps(SUBMISSION), content_type="text/plain"), 415)
    malformed = is_json_error(client.post(url, data="{'naam': 'x'}", content_type="application/json"), 400)
    assert "geen geldige JSON" in malformed["error"] and "regel 1" in malformed["error"]
    latin1 = client.post(url, data='{"naam": "Jos\xe9"}'.encode("latin-1"), content_type="application/json")
    is_json_error(latin1, 400)
    is_json_error(client.post(url, json={**SUBMISSION, "omschrijving": "x" * 70_000}), 413)
    with runtime.sessions() as s:
        assert s.scalar(select(Instance.id)) is None


# -- errors are JSON everywhere under /api/v1 --------------------------------------------------------


def test_unknown_paths_wrong_methods_and_server_errors_are_json(app, client, runtime, make_user, monkeypatch):
    headers = user_with_token(runtime, make_user, "els@test.nl", "testorg:behandelaar")
    is_json_error(client.get(f"{API}/bestaat-niet"), 404)
    is_json_error(client.get(f"{API}/tasks/niet-een-getal", headers=headers), 404)
    wrong = client.delete(f"{API}/tasks", headers=headers)
    is_json_error(wrong, 405)
    assert "GET" in wrong.headers["Allow"]
    is_json_error(client.get(f"{API}/organisations/testorg/complaints"), 405)
    # Outside the API the staff pages keep their HTML error page.
    assert client.get("/bestaat-niet").mimetype == "text/html"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(runtime, "sessions", lambda: (_ for _ in ()).throw(RuntimeError("database weg")))
    crashed = client.get(f"{API}/complaints/TEST-2026-0001", headers=headers)
    body = is_json_error(crashed, 500)
    assert "database weg" not in crashed.get_data(as_text=True) and "Traceback" not in json.dumps(body)

"""Who may do what, table-driven: every role of every organisation against every page and
call, in its own organisation and in another one. Another organisation's things are a 404
(their existence is not revealed); auditors read, never write."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.accounts import create_token
from webapp.db.models import HumanTask
from webapp.runtime.organisations import discover
from webapp.runtime.service import Runtime

from .conftest import Browser

ORGS = discover()
CASES = [(slug, role) for slug, config in sorted(ORGS.items()) for role in sorted(config.all_roles)]


@pytest.fixture
def world(runtime: Runtime):
    """All five organisations deployed, each with one complaint and its first task."""
    things = {}
    for slug, config in ORGS.items():
        runtime.organisations[slug] = config
    runtime.ensure_organisations()
    for slug in ORGS:
        runtime.deploy(slug)
        started = runtime.start(slug, {"klager": {"naam": "Test", "email": "t@example.nl", "relatie": "ouder"},
                                       "soort": "klacht", "omschrijving": "Test", "locatie": "Hoofdlocatie",
                                       "anoniem": False, "kanaal": "website", "datum_gebeurtenis": "2026-02-20"},
                                complaint_type="klacht", location="Hoofdlocatie")
        with runtime.sessions() as s:
            task = s.scalar(select(HumanTask).where(HumanTask.instance_id == started.instance_id,
                                                    HumanTask.state == "ready").order_by(HumanTask.id))
        things[slug] = (started.reference, task.id, task.role)
    return things


# Need-to-know (webapp.web.queries): these roles open no complaint page, trace or API complaint.
NO_COMPLAINT = {"medewerker", "functioneel_beheerder"}


def expected(kind: str, own: bool, role: str, task_role: str) -> int:
    if not own:
        return 404
    reader = role == "auditor"
    if kind == "read":
        return 200
    if kind == "complaint":
        return 404 if role in NO_COMPLAINT else 200
    if kind == "manage":
        return 200 if role == "functioneel_beheerder" else 403
    if kind == "access-log":
        return 200 if reader else 403
    if kind == "audit":
        return 200 if role in ("auditor", "procesbeheerder") else 403
    if kind == "task-read":
        return 200 if role == task_role or reader else 404
    if kind == "task-write":  # an empty form: the right role gets the form errors back
        return 422 if role == task_role else (403 if reader else 404)
    if kind == "claim":
        return 302 if role == task_role else (403 if reader else 404)
    if kind == "message":  # staff record what the complainant said
        return 403 if reader else (404 if role in NO_COMPLAINT else 302)
    raise AssertionError(kind)


@pytest.mark.parametrize(("slug", "role"), CASES, ids=[f"{s}:{r}" for s, r in CASES])
def test_role_against_every_page_and_call(app, runtime: Runtime, world, make_user, slug, role):
    other = next(s for s in sorted(ORGS) if s != slug)
    email = make_user(f"{role.replace('_', '-')}@{slug}.test", f"{slug}:{role}")
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    with runtime.write_sessions.begin() as s:
        token = create_token(s, email, "rights")
    api = {"Authorization": f"Bearer {token}"}

    outcomes, wanted = {}, {}
    inbox = f"/{slug}/inbox"  # a page that carries a CSRF token for this user
    for target in (slug, other):
        own = target == slug
        reference, task_id, task_role = world[target]
        page = f"/{target}/klachten/{reference}"
        calls = {
            "inbox": ("read", lambda t=target: browser.get(f"/{t}/inbox")),
            "klachten": ("read", lambda t=target: browser.get(f"/{t}/klachten")),
            "klacht": ("complaint", lambda p=page: browser.get(p)),
            "spoor": ("complaint", lambda p=page: browser.get(f"{p}/spoor")),
            "collega's": ("manage", lambda t=target: browser.get(f"/{t}/collegas")),
            "inzage": ("access-log", lambda t=target: browser.get(f"/{t}/inzage")),
            "berichten": ("read", lambda t=target: browser.get(f"/{t}/berichten")),
            "logboek": ("audit", lambda t=target: browser.get(f"/{t}/audit")),
            "taak": ("task-read", lambda t=target, i=task_id: browser.get(f"/{t}/taken/{i}")),
            "taak afronden": ("task-write", lambda t=target, i=task_id: browser.post(
                f"/{t}/taken/{i}", {"actie": "afronden"}, page=inbox)),
            "taak oppakken": ("claim", lambda t=target, i=task_id: browser.post(
                f"/{t}/taken/{i}/oppakken", page=inbox)),
            "bericht vastleggen": ("message", lambda p=page: browser.post(
                f"{p}/bericht", {"bericht": "bestaat_niet"}, page=inbox)),
            "api taken": ("read", lambda t=target: browser.get(f"/api/v1/tasks?organisation={t}", headers=api)),
            "api klacht": ("complaint", lambda r=reference: browser.get(f"/api/v1/complaints/{r}", headers=api)),
            "api taak": ("task-read", lambda i=task_id: browser.get(f"/api/v1/tasks/{i}", headers=api)),
            "api afronden": ("task-write", lambda i=task_id: browser.client.post(
                f"/api/v1/tasks/{i}/complete", json={"data": {}}, headers=api)),
        }
        for name, (kind, call) in calls.items():
            key = f"{'eigen' if own else 'andere'} organisatie: {name}"
            outcomes[key] = call().status_code
            wanted[key] = expected(kind, own, role, task_role)
    assert outcomes == wanted

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


# -- need-to-know: location limits and the medewerker ---------------------------------------------

LIMITED = [(slug, role) for slug, role in CASES if role != "functioneel_beheerder"]
MEDEWERKERS = sorted(slug for slug, config in ORGS.items() if "medewerker" in config.roles)


def _refused_everywhere(browser: Browser, api: dict, slug: str, reference: str, task_id: int) -> dict[str, int]:
    page = f"/{slug}/klachten/{reference}"
    return {
        "klacht": browser.get(page).status_code,
        "spoor": browser.get(f"{page}/spoor").status_code,
        "taak": browser.get(f"/{slug}/taken/{task_id}").status_code,
        "api klacht": browser.get(f"/api/v1/complaints/{reference}", headers=api).status_code,
        "api taak": browser.get(f"/api/v1/tasks/{task_id}", headers=api).status_code,
        "in de inbox": 404 if f"/{slug}/taken/{task_id}\"" not in browser.get(f"/{slug}/inbox").get_data(
            as_text=True) else 200,
    }


def _limited_user(runtime: Runtime, make_user, email: str, slug: str, grants: dict[str, list[str]]) -> str:
    from webapp.accounts import set_organisation_roles
    from webapp.db.models import Organisation, User

    make_user(email)
    with runtime.write_sessions.begin() as s:
        user_id = s.scalar(select(User.id).where(User.email == email))
        oid = s.scalar(select(Organisation.id).where(Organisation.slug == slug))
        set_organisation_roles(s, user_id, oid, grants)
    return email


@pytest.mark.parametrize(("slug", "role"), LIMITED, ids=[f"{s}:{r}" for s, r in LIMITED])
def test_a_role_limited_to_other_locations_gets_404(app, runtime: Runtime, world, make_user, slug, role):
    """The world's complaints are at Hoofdlocatie; this role covers only Elders."""
    email = _limited_user(runtime, make_user, f"elders-{role.replace('_', '-')}@{slug}.test", slug,
                          {role: ["Elders"]})
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    with runtime.write_sessions.begin() as s:
        api = {"Authorization": f"Bearer {create_token(s, email, 'rights')}"}
    reference, task_id, _ = world[slug]
    assert set(_refused_everywhere(browser, api, slug, reference, task_id).values()) == {404}


@pytest.mark.parametrize("slug", MEDEWERKERS)
def test_a_medewerker_gets_404_on_complaints_they_are_not_involved_in(app, runtime: Runtime, world, make_user,
                                                                      slug):
    from webapp.runtime.service import Actor

    email = make_user(f"medewerker@{slug}.test", f"{slug}:medewerker")
    reference, task_id, task_role = world[slug]
    if task_role == "medewerker":  # a colleague has taken it: no longer offered to the role
        colleague = make_user(f"collega@{slug}.test", f"{slug}:medewerker")
        with runtime.sessions() as s:
            from webapp.db.models import User
            colleague_id = s.scalar(select(User.id).where(User.email == colleague))
        runtime.assign_task(task_id, Actor(colleague, slug, frozenset({"medewerker"})), (colleague_id, colleague))
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    with runtime.write_sessions.begin() as s:
        api = {"Authorization": f"Bearer {create_token(s, email, 'rights')}"}
    assert set(_refused_everywhere(browser, api, slug, reference, task_id).values()) == {404}

"""Platform administration without a browser: who may create organisations, and a request that
is wrong in any way stores nothing and says why in Dutch."""

from __future__ import annotations

from sqlalchemy import func, select, update

from webapp.db.models import Organisation, User


def _admin(browser, make_user, runtime):
    make_user("beheer@klachtroute.test")
    with runtime.write_sessions.begin() as s:
        s.execute(update(User).where(User.email == "beheer@klachtroute.test").values(platform_admin=True))
    browser.login("beheer@klachtroute.test")
    return browser


def _count(runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Organisation))


def test_only_a_platform_administrator_creates_organisations(browser, make_user):
    make_user("pieter@test.nl", "testorg:procesbeheerder")
    browser.login("pieter@test.nl")
    assert browser.get("/beheer/organisaties").status_code == 403
    assert "Organisaties beheren" not in browser.get("/").get_data(as_text=True)


def test_wrong_fields_are_refused_in_dutch_and_nothing_is_stored(browser, make_user, runtime):
    admin = _admin(browser, make_user, runtime)
    before = _count(runtime)
    page = admin.get("/").get_data(as_text=True)
    assert "Organisaties beheren" in page
    refused = admin.post("/beheer/organisaties", {"naam": "", "slug": "testorg", "kenmerk": "TEST",
                                                  "sjabloon": "sjabloon:testorg", "email": "geen-adres"},
                         page="/beheer/organisaties")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Vul het e-mailadres van de eerste procesbeheerder in." in text
    refused = admin.post("/beheer/organisaties", {"naam": "", "slug": "testorg", "kenmerk": "TEST",
                                                  "sjabloon": "sjabloon:testorg", "email": "a@b.nl"},
                         page="/beheer/organisaties")
    text = refused.get_data(as_text=True)
    assert "Er is al een organisatie met het adres &#39;testorg&#39;." in text
    assert "Vul de naam van de organisatie in" in text
    assert "Het kenmerk TEST is al in gebruik" in text
    assert _count(runtime) == before


def test_a_template_that_fails_the_gate_leaves_no_organisation_behind(browser, make_user, runtime):
    admin = _admin(browser, make_user, runtime)
    before = _count(runtime)
    # The test organisation's diagram has no drawing: the gate refuses its copy.
    refused = admin.post("/beheer/organisaties", {"naam": "Nieuw", "slug": "nieuw", "kenmerk": "NIEUW",
                                                  "sjabloon": "kopie:testorg", "email": "a@b.nl"},
                         page="/beheer/organisaties")
    assert refused.status_code == 422
    assert "komt niet door de controle" in refused.get_data(as_text=True)
    assert _count(runtime) == before
    assert "nieuw" not in runtime.organisations

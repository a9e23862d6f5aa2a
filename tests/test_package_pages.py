"""The process owner edits a draft package in the browser (without JavaScript): letters with a
preview on a real complaint and their placeholders, settings, scenarios (run one), and the whole
package's gate before publishing."""

from __future__ import annotations

import pytest
from lxml import html

from webapp.runtime.deploy import load_draft

from .conftest import open_draft


@pytest.fixture
def owner(browser, make_user):
    make_user("pieter@test.nl", "testorg:procesbeheerder")
    browser.login("pieter@test.nl")
    return browser


def text(response) -> str:
    return " ".join(html.fromstring(response.get_data(as_text=True)).text_content().split())


def test_a_letter_is_previewed_on_a_real_complaint_and_an_unknown_name_is_refused(owner, runtime):
    runtime.start("testorg", {"klager": {"naam": "Johanna Smit", "email": "j@example.org"}})
    draft = open_draft(owner)
    url = f"/testorg/procesontwerp/concept/{draft}/brieven/ontvangstbevestiging"
    page = owner.get(url)
    assert page.status_code == 200
    shown = text(page)
    assert "Johanna Smit" in shown and "TEST-2026-0001" in shown  # the preview, with that complaint's data
    original = load_draft(runtime, "testorg", draft).files["letters/ontvangstbevestiging.txt"]

    typo = original.replace("{{ referentie }}", "{{ referentei }}", 1)
    refused = owner.post(url, {"tekst": typo, "actie": "opslaan"}, page=url)
    assert refused.status_code == 422
    assert "De brief gebruikt 'referentei', dat geen formulier, intake of stap van de procedure invult." in text(refused)
    assert load_draft(runtime, "testorg", draft).files["letters/ontvangstbevestiging.txt"] == original

    changed = original.replace("\n", "\nWij nemen uw klacht serieus.\n", 1)
    saved = owner.post(url, {"tekst": changed, "actie": "opslaan"}, page=url, follow_redirects=True)
    assert "is opgeslagen in concept" in text(saved) and "Wij nemen uw klacht serieus." in text(saved)
    assert load_draft(runtime, "testorg", draft).files["letters/ontvangstbevestiging.txt"] == changed


def test_a_new_letter_is_made_under_its_name_and_saved_in_the_draft(owner, runtime):
    draft = open_draft(owner)
    made = owner.get(f"/testorg/procesontwerp/concept/{draft}/nieuw?soort=brief&naam=uitnodiging_gesprek")
    assert made.status_code == 302 and made.headers["Location"].endswith("/brieven/uitnodiging_gesprek?nieuw=1")
    url = made.headers["Location"]
    assert owner.get(url).status_code == 200
    letter = "Uitnodiging voor een gesprek over {{ referentie }}\nBeste {{ klager.naam }},\n\nMet vriendelijke groet,\n"
    saved = owner.post(url, {"tekst": letter, "actie": "opslaan"}, page=url)
    assert saved.status_code == 302
    assert load_draft(runtime, "testorg", draft).files["letters/uitnodiging_gesprek.txt"] == letter
    refused = owner.get(f"/testorg/procesontwerp/concept/{draft}/nieuw?soort=brief&naam=../boos", follow_redirects=True)
    assert "Geef een naam van kleine letters" in text(refused)


def test_settings_that_are_not_valid_are_refused_with_the_reason(owner, runtime):
    draft = open_draft(owner)
    url = f"/testorg/procesontwerp/concept/{draft}/instellingen"
    current = load_draft(runtime, "testorg", draft).files["organisation.yaml"]
    refused = owner.post(url, {"instellingen": current.replace("reference_prefix: TEST", "reference_prefix: te st")},
                         page=url)
    assert refused.status_code == 422 and "De instellingen kloppen niet" in text(refused)
    broken = owner.post(url, {"instellingen": "name: [niet af"}, page=url)
    assert broken.status_code == 422 and "geen geldige YAML" in text(broken)
    aliases = owner.post(url, {"instellingen": current + "extra: &a [x, x]\nmeer: [*a, *a]\n"}, page=url)
    assert aliases.status_code == 422 and "verwijzingen (*...) zijn niet toegestaan" in text(aliases)
    renamed = owner.post(url, {"instellingen": current.replace("name: Testorganisatie", "name: Testorganisatie Noord")},
                         page=url)
    assert renamed.status_code == 302
    assert "Testorganisatie Noord" in load_draft(runtime, "testorg", draft).files["organisation.yaml"]
    assert runtime.organisation("testorg").name == "Testorganisatie"  # the version in use is unchanged


def test_one_scenario_runs_against_the_draft_from_the_browser(owner, runtime):
    draft = open_draft(owner)
    url = f"/testorg/procesontwerp/concept/{draft}/scenarios/basis.yaml"
    scenario = load_draft(runtime, "testorg", draft).files["scenarios/basis.yaml"]
    ran = owner.post(url, {"tekst": scenario, "actie": "uitvoeren"}, page=url)
    assert ran.status_code == 200 and "geslaagd" in text(ran)
    wrong = scenario.replace("Klacht behandelen", "Klacht oppakken", 1)
    failed = owner.post(url, {"tekst": wrong, "actie": "uitvoeren"}, page=url)
    assert "mislukt" in text(failed)
    assert load_draft(runtime, "testorg", draft).files["scenarios/basis.yaml"] == scenario  # running saves nothing
    bad = owner.post(url, {"tekst": "name: [", "actie": "opslaan"}, page=url)
    assert bad.status_code == 422


def test_the_package_page_checks_the_whole_package(owner, runtime):
    draft = open_draft(owner)
    files = load_draft(runtime, "testorg", draft).files
    from webapp.runtime.deploy import update_draft_files

    update_draft_files(runtime, "testorg", draft, {"letters/ontvangstbevestiging.txt":
                                                   files["letters/ontvangstbevestiging.txt"] + "{{ onbekend_veld }}\n"},
                       "pieter@test.nl")
    url = f"/testorg/procesontwerp/concept/{draft}/pakket"
    checked = owner.post(url, {"actie": "controleren"}, page=url)
    shown = text(checked)
    assert "letters/ontvangstbevestiging.txt" in shown and "'onbekend_veld'" in shown
    refused = owner.post(url, {"actie": "publiceren", "notitie": "probeer"}, page=url)
    assert "onbekend_veld" in text(refused)
    from webapp.db.models import DiagramVersion

    with runtime.sessions() as s:  # nothing was published: still version 1
        assert s.query(DiagramVersion).filter(DiagramVersion.id == runtime.current_version_id("testorg")).one().version == 1

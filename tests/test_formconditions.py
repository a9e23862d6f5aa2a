"""Fields shown only when another answer says so: the form checks name what is wrong, answers
to hidden fields are dropped before validation, a field required only when shown is asked for
exactly then, and the renderer's help text says when to fill it in."""

from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import MultiDict

from webapp.runtime.deploy import load_draft
from webapp.runtime.forms import FormCatalog, FormValidationError
from webapp.web import formconditions
from webapp.web.formrender import build_fields, parse_submission

from .conftest import open_draft

# What the field builder writes for: a choice, a text shown (and then required) for "anders",
# and a yes/no question shown for "anders" whose follow-up is shown for "ja".
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "title": "Gesprek",
    "required": ["soort"],
    "properties": {
        "soort": {"type": "string", "title": "Soort melding",
                  "oneOf": [{"const": "klacht", "title": "Klacht"}, {"const": "anders", "title": "Iets anders"}]},
        "omschrijving": {"type": "string", "title": "Wat is het dan?"},
        "terugbellen": {"type": "boolean", "title": "Terugbellen?"},
        "telefoon": {"type": "string", "title": "Telefoonnummer"},
    },
    "allOf": [{"if": {"properties": {"soort": {"const": "anders"}}, "required": ["soort"]},
               "then": {"required": ["omschrijving"]}}],
}
UI = {
    "omschrijving": {"ui:widget": "textarea", "ui:toonAls": {"veld": "soort", "waarde": "anders"}},
    "terugbellen": {"ui:options": {"toonAls": {"veld": "soort", "waarde": "anders"}}},
    "telefoon": {"ui:toonAls": {"veld": "terugbellen", "waarde": True}},
}


def test_a_well_formed_form_has_no_problems():
    assert formconditions.problems(SCHEMA, UI) == []
    assert set(formconditions.conditions(SCHEMA, UI)) == {"omschrijving", "terugbellen", "telefoon"}


@pytest.mark.parametrize(("condition", "expected"), [
    ({"veld": "bestaat_niet", "waarde": "x"}, "hangt af van 'bestaat_niet', maar dat veld bestaat niet"),
    ({"veld": "omschrijving", "waarde": "x"}, "kan niet van zijn eigen antwoord afhangen"),
    ({"veld": "telefoon", "waarde": "x"}, "'telefoon', maar dat is geen keuzeveld of ja/nee-vraag"),
    ({"veld": "soort", "waarde": "overig"}, "'soort' = 'overig', maar dat is geen van de antwoorden"),
    ({"veld": "terugbellen", "waarde": "ja"}, "'terugbellen' = 'ja', maar dat is geen van de antwoorden"),
    ({"veld": "soort"}, "moet ui:toonAls de vorm"),
])
def test_a_condition_that_cannot_work_is_named(condition, expected):
    ui = {**UI, "omschrijving": {"ui:toonAls": condition}}
    found = formconditions.problems(SCHEMA, ui)
    assert len(found) == 1 and expected in found[0] and "'omschrijving'" in found[0]


def test_loops_required_fields_and_groups_are_named():
    looped = {**UI, "soort": {"ui:toonAls": {"veld": "terugbellen", "waarde": False}}}
    assert any("in een kring" in p and "'soort'" in p and "'terugbellen'" in p
               for p in formconditions.problems(SCHEMA, looped))
    always = {**SCHEMA, "required": ["soort", "telefoon"]}
    assert formconditions.problems(always, UI) == [
        "het veld 'telefoon' wordt alleen soms getoond maar staat in 'required'; maak het verplicht alleen als "
        "het getoond wordt (allOf met if/then, zoals de veldenbouwer doet)"]
    grouped = {"type": "object", "properties": {"adres": {"type": "object", "properties": {
        "straat": {"type": "string"}}}}}
    assert formconditions.problems(grouped, {"adres": {"straat": {"ui:toonAls": {"veld": "x", "waarde": "y"}}}}) \
        == ["het veld 'adres.straat' staat in een groep; 'alleen tonen als' kan alleen bij velden op het hoogste "
            "niveau"]


def test_answers_to_hidden_fields_are_dropped_along_the_chain():
    data = {"soort": "klacht", "omschrijving": "oud", "terugbellen": True, "telefoon": "06"}
    assert formconditions.drop_hidden(SCHEMA, UI, data) == {"soort": "klacht"}
    data["soort"] = "anders"
    assert formconditions.drop_hidden(SCHEMA, UI, data) == data
    assert formconditions.drop_hidden(SCHEMA, UI, {**data, "terugbellen": False}) == {
        "soort": "anders", "omschrijving": "oud", "terugbellen": False}


@pytest.fixture
def catalog(tmp_path) -> FormCatalog:
    (tmp_path / "gesprek-schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    return FormCatalog(tmp_path)


def submit(catalog: FormCatalog, *pairs: tuple[str, str]) -> dict:
    """What a task view does: parse the post, drop hidden answers, validate."""
    data = formconditions.drop_hidden(SCHEMA, UI, parse_submission(SCHEMA, UI, MultiDict(pairs)))
    catalog.validate("gesprek-schema.json", data)
    return data


def test_a_field_required_when_shown_is_asked_for_exactly_then(catalog):
    with pytest.raises(FormValidationError) as caught:
        submit(catalog, ("soort", "anders"), ("omschrijving", ""))
    assert [(e.path, e.message) for e in caught.value.errors] == [("omschrijving", "Dit veld is verplicht.")]
    # Hidden: not asked for, and what was typed before the choice changed is not kept.
    assert submit(catalog, ("soort", "klacht"), ("omschrijving", "oud"), ("terugbellen", "ja")) == {"soort": "klacht"}
    assert submit(catalog, ("soort", "anders"), ("omschrijving", "Een vraag"), ("terugbellen", "ja"),
                  ("telefoon", "06-1234")) == {"soort": "anders", "omschrijving": "Een vraag",
                                               "terugbellen": True, "telefoon": "06-1234"}


def test_the_rendered_field_says_when_to_fill_it_in():
    fields = formconditions.annotate(build_fields(SCHEMA, UI, {}), SCHEMA, UI)
    helps = {f.name: f.help for f in fields}
    assert helps["omschrijving"] == "Alleen invullen als bij 'Soort melding' is gekozen voor 'Iets anders'."
    assert helps["telefoon"] == "Alleen invullen als bij 'Terugbellen?' is gekozen voor 'Ja'."
    assert helps["soort"] == ""
    assert formconditions.attributes(SCHEMA, UI)["telefoon"] == {
        "data-toon-als": "terugbellen", "data-toon-als-id": "veld-terugbellen", "data-toon-als-waarde": "ja"}


def test_the_editor_accepts_what_the_builder_writes(browser, make_user, runtime, tmp_path):
    """Through the form editor on the database: the builder's JSON passes the checks, saves, and
    the preview shows the conditional field."""
    make_user("pieter@test.nl", "testorg:procesbeheerder")
    browser.login("pieter@test.nl")
    owner = browser
    draft_id = open_draft(owner)
    url = f"/testorg/procesontwerp/concept/{draft_id}/formulieren/testorg-gesprek-schema.json"
    body = {"schema": json.dumps(SCHEMA), "ui_schema": json.dumps(UI)}
    preview = owner.client.post(url + "/voorbeeld", data=body, headers={"X-CSRFToken": owner.csrf(url)})
    assert preview.get_json()["problems"] == []
    assert 'name="omschrijving"' in preview.get_json()["html"]
    saved = owner.post(url, {**body, "actie": "opslaan"}, page=url)
    assert saved.status_code == 302
    saved_files = load_draft(runtime, "testorg", draft_id).files
    assert json.loads(saved_files["forms/testorg-gesprek-uischema.json"])["telefoon"] == UI["telefoon"]

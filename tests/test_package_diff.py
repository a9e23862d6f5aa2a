"""What changed in a procedure package besides the diagram (webapp.runtime.package_diff):
settings, letters and scenarios as a text diff, forms field by field."""

from __future__ import annotations

import json

from webapp.runtime.organisations import REPO_ROOT
from webapp.runtime.package_diff import FieldChange, package_changes

FORMS = REPO_ROOT / "forms"
SCHEMA = "forms/kwartier-bemiddeling-schema.json"
UISCHEMA = "forms/kwartier-bemiddeling-uischema.json"


def real(path: str) -> str:
    return (REPO_ROOT / path).read_text(encoding="utf-8")


def dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def by_name(change: FieldChange) -> str:
    return change.name


def package() -> dict[str, str]:
    return {
        "organisation.yaml": real("bpmn/kwartier/organisation.yaml"),
        SCHEMA: real(SCHEMA),
        UISCHEMA: real(UISCHEMA),
        "letters/ontvangstbevestiging.txt": "Geachte {{ klager.naam }},\n\nWij hebben uw klacht ontvangen.\n",
        "scenarios/01-stap1.yaml": "naam: stap 1\nstappen: []\n",
    }


def test_the_same_package_has_no_changes():
    assert package_changes(package(), package()) == []
    assert package_changes({}, {}) == []


def test_files_added_removed_and_changed_come_in_order_with_a_text_diff():
    old, new = package(), package()
    new["organisation.yaml"] = new["organisation.yaml"].replace("name: Kwartier Zorg & Welzijn",
                                                                "name: Kwartier Zorg en Welzijn")
    new["letters/ontvangstbevestiging.txt"] = new["letters/ontvangstbevestiging.txt"].replace(
        "ontvangen.", "ontvangen en nemen binnen een week contact met u op.")
    new["letters/verlenging.txt"] = "De termijn wordt verlengd.\n"
    del new["scenarios/01-stap1.yaml"]

    changes = package_changes(old, new)

    assert [(c.path, c.kind, c.status) for c in changes] == [
        ("organisation.yaml", "settings", "changed"),
        ("letters/ontvangstbevestiging.txt", "letter", "changed"),
        ("letters/verlenging.txt", "letter", "added"),
        ("scenarios/01-stap1.yaml", "scenario", "removed"),
    ]
    settings, letter, added, removed = changes
    assert "-name: Kwartier Zorg & Welzijn\n+name: Kwartier Zorg en Welzijn" in settings.diff
    assert "-Wij hebben uw klacht ontvangen.\n+Wij hebben uw klacht ontvangen en nemen binnen een week" in letter.diff
    assert "+De termijn wordt verlengd." in added.diff
    assert "-stappen: []" in removed.diff
    assert not any(c.truncated for c in changes)


def test_a_form_says_which_fields_changed_and_how():
    old, new = package(), package()
    schema = json.loads(old[SCHEMA])
    schema["properties"]["bemiddeling_aanwezigen"]["title"] = "Wie waren erbij"
    schema["required"].append("bemiddeling_datum")
    del schema["properties"]["verdere_acties_bemiddeling"]
    schema["properties"]["uitkomst_soort"] = {"type": "string", "title": "Soort uitkomst",
                                              "enum": ["opgelost", "niet opgelost"]}
    new[SCHEMA] = dump(schema)
    changed_choice = json.loads(dump(schema))
    changed_choice["properties"]["uitkomst_soort"]["enum"] = ["opgelost", "deels opgelost"]
    newer = {**new, SCHEMA: dump(changed_choice)}

    [form] = package_changes(old, new)
    assert (form.path, form.kind, form.status, form.diff) == (SCHEMA, "form", "changed", "")
    assert sorted(form.fields, key=by_name) == sorted([
        FieldChange("uitkomst_soort", "Soort uitkomst", "added"),
        FieldChange("verdere_acties_bemiddeling", "Verdere acties om de klacht op te lossen", "removed"),
        FieldChange("bemiddeling_aanwezigen", "Wie waren erbij", "changed", ("label",),
                    {"label": ("Met wie (aanwezige gesprekspartners)", "Wie waren erbij")}),
        FieldChange("bemiddeling_datum", "Wanneer is de bemiddeling gevoerd", "changed", ("required",),
                    {"required": ("onder voorwaarde", "ja")}),  # it was required once the talk happened
    ], key=by_name)
    [form] = package_changes(new, newer)
    assert form.fields == (FieldChange("uitkomst_soort", "Soort uitkomst", "changed", ("options",),
                                       {"options": ("niet opgelost", "deels opgelost")}),)


def test_a_ui_schema_change_is_named_by_the_label_in_the_schema_beside_it():
    old, new = package(), package()
    ui = json.loads(old[UISCHEMA])
    ui["bemiddeling_aanwezigen"] = {"ui:widget": "textarea", "ui:help": "Namen en functies."}
    new[UISCHEMA] = dump(ui)

    [form] = package_changes(old, new)

    assert form.path == UISCHEMA
    assert form.fields == (FieldChange("bemiddeling_aanwezigen", "Met wie (aanwezige gesprekspartners)", "changed",
                                       ("help", "display"), {"help": ("", "Namen en functies."),
                                                             "display": ("", "textarea")}),)


def test_a_new_form_lists_its_fields_and_a_broken_one_gets_a_text_diff():
    old = package()
    new = {**old, "forms/nieuw.json": dump({"schema": {"type": "object", "required": ["a"], "properties": {
        "a": {"type": "string", "title": "Vraag A"}}}, "uischema": {}})}
    [form] = package_changes(old, new)
    assert (form.status, form.fields) == ("added", (FieldChange("a", "Vraag A", "added"),))

    broken = {**old, SCHEMA: old[SCHEMA].replace("{", "", 1)}
    [form] = package_changes(old, broken)
    assert (form.kind, form.fields) == ("form", ())
    assert form.diff.startswith(f"--- oud/{SCHEMA}\n+++ nieuw/{SCHEMA}")


def test_conditional_fields_count_and_a_long_diff_is_cut():
    conditional = {"type": "object", "properties": {"x": {"type": "boolean", "title": "X?"}},
                   "if": {"properties": {"x": {"const": True}}},
                   "then": {"required": ["y"], "properties": {"y": {"type": "string", "title": "Waarom?"}}}}
    made_required = json.loads(dump(conditional))
    made_required["required"] = ["y"]
    [form] = package_changes({"forms/c.json": dump(conditional)}, {"forms/c.json": dump(made_required)})
    assert form.fields == (FieldChange("y", "Waarom?", "changed", ("required",),
                                       {"required": ("onder voorwaarde", "ja")}),)

    [letter] = package_changes({}, {"letters/lang.txt": "regel\n" * 1000})
    assert letter.truncated and len(letter.diff.splitlines()) == 400

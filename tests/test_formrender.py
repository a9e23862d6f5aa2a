"""Server-rendered task forms: the view model, the HTML a user sees, and the way back from
posted strings to typed JSON that the form schema validates in Dutch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from lxml import html
from werkzeug.datastructures import MultiDict

from webapp.runtime.errors import FieldError, FormValidationError
from webapp.runtime.forms import FormCatalog
from webapp.web.formrender import build_fields, parse_submission, raw_values, unsupported

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "webapp" / "web" / "templates"
FIXTURE_FORMS = Path(__file__).parent / "fixtures" / "forms"

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["naam", "datum", "soort", "opgelost", "aantal", "contact"],
    "properties": {
        "toelichting": {"type": "string", "title": "Toelichting", "maxLength": 2000},
        "naam": {"type": "string", "title": "Naam", "maxLength": 80, "description": "Voor- en achternaam."},
        "email": {"type": "string", "format": "email", "title": "E-mailadres"},
        "datum": {"type": "string", "format": "date", "title": "Datum gesprek"},
        "aantal": {"type": "integer", "title": "Aantal kinderen", "minimum": 0, "maximum": 20},
        "bedrag": {"type": "number", "title": "Bedrag", "minimum": 0},
        "soort": {"type": "string", "title": "Soort klacht",
                  "enum": ["bejegening", "veiligheid", "communicatie", "financieel", "overig"]},
        "uitkomst": {"type": "string", "title": "Uitkomst", "oneOf": [
            {"const": "gegrond", "title": "Gegrond"}, {"const": "ongegrond", "title": "Ongegrond"}]},
        "opgelost": {"type": "boolean", "title": "Is de klacht opgelost?", "default": False},
        "nazorg": {"type": "boolean", "title": "Nazorg nodig?", "default": True},
        "betrokkenen": {"type": "array", "title": "Betrokkenen", "uniqueItems": True,
                        "items": {"type": "string", "enum": ["leiding", "ouder", "kind"]}},
        "afspraken": {"type": "array", "title": "Afspraken", "items": {"type": "string", "minLength": 1}},
        "referentie": {"type": "string"},
        "behandelaar": {"type": "string", "title": "Behandelaar", "readOnly": True},
        "contact": {"type": "object", "title": "Contactpersoon", "required": ["naam"], "properties": {
            "naam": {"type": "string", "title": "Naam contactpersoon"},
            "telefoon_nummer": {"type": "string"},
            "gesproken_op": {"type": "string", "format": "date", "title": "Gesproken op"},
        }},
    },
    "additionalProperties": False,
}
UI = {
    "ui:order": ["naam", "*", "contact", "toelichting"],
    "naam": {"ui:help": "Zoals in het dossier.", "ui:placeholder": "Bijv. Jan Jansen"},
    "toelichting": {"ui:widget": "textarea"},
    "referentie": {"ui:widget": "hidden"},
    "opgelost": {"ui:widget": "radio"},
}
ORDER = ["naam", "email", "datum", "aantal", "bedrag", "soort", "uitkomst", "opgelost", "nazorg",
         "betrokkenen", "afspraken", "referentie", "behandelaar", "contact", "toelichting"]


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


def render(env: Environment, fields, errors=None, with_fields: bool = True) -> html.HtmlElement:
    template = env.from_string(
        '{% from "_form.html" import render_form, error_summary %}'
        "<form method='post' novalidate>{{ error_summary(errors, fields if with_fields else none) }}"
        "{{ render_form(fields) }}</form>")
    return html.fromstring(template.render(fields=fields, errors=errors or [], with_fields=with_fields))


def by_id(page: html.HtmlElement, element_id: str) -> html.HtmlElement:
    found = page.xpath("//*[@id=$i]", i=element_id)
    assert len(found) == 1, f"expected one element #{element_id}, found {len(found)}"
    return found[0]


def label_for(page: html.HtmlElement, element_id: str) -> str:
    labels = page.xpath("//label[@for=$i]", i=element_id)
    assert len(labels) == 1, f"no single <label for={element_id}>"
    return labels[0].text_content().strip()


def legend_of(element: html.HtmlElement) -> str:
    return element.xpath("ancestor::fieldset[1]/legend")[0].text_content().strip()


def textarea_value(element: html.HtmlElement) -> str:
    """What a browser shows: HTML drops one newline right after <textarea> (libxml2 does not)."""
    text = element.text_content()
    return text[1:] if text.startswith("\n") else text


def described_text(page: html.HtmlElement, element: html.HtmlElement) -> str:
    ids = (element.get("aria-describedby") or "").split()
    return " ".join(by_id(page, i).text_content().strip() for i in ids)


# ---------------------------------------------------------------- view model


def test_fields_follow_ui_order_with_wildcard_and_pick_widgets():
    fields = build_fields(SCHEMA, UI)
    assert [f.name for f in fields] == ORDER
    widgets = {f.name: f.widget for f in fields}
    assert widgets == {
        "naam": "text", "email": "email", "datum": "date", "aantal": "integer", "bedrag": "number",
        "soort": "select", "uitkomst": "radio", "opgelost": "yesno", "nazorg": "yesno",
        "betrokkenen": "checkboxes", "afspraken": "lines", "referentie": "hidden", "behandelaar": "text",
        "contact": "group", "toelichting": "textarea"}
    contact = fields[ORDER.index("contact")]
    assert [(c.name, c.widget, c.label, c.required) for c in contact.children] == [
        ("contact.naam", "text", "Naam contactpersoon", True),
        ("contact.telefoon_nummer", "text", "Telefoon nummer", False),
        ("contact.gesproken_op", "date", "Gesproken op", False)]
    uitkomst = fields[ORDER.index("uitkomst")]
    assert uitkomst.choices == [("gegrond", "Gegrond"), ("ongegrond", "Ongegrond")]
    assert fields[ORDER.index("behandelaar")].disabled


def test_ui_widget_overrides_and_choice_count():
    schema = {"type": "object", "properties": {
        "vier": {"type": "string", "enum": ["a", "b", "c", "d"]},
        "vijf_als_radio": {"type": "string", "enum": ["a", "b", "c", "d", "e"]},
        "twee_als_select": {"type": "string", "enum": ["a", "b"]},
        "ja_nee_select": {"type": "boolean"},
        "onbekende_widget": {"type": "string"},
    }}
    ui = {"vijf_als_radio": {"ui:widget": "radio"}, "twee_als_select": {"ui:widget": "select"},
          "ja_nee_select": {"ui:widget": "select"}, "onbekende_widget": {"ui:widget": "kleurkiezer"}}
    widgets = {f.name: f.widget for f in build_fields(schema, ui)}
    assert widgets == {"vier": "radio", "vijf_als_radio": "radio", "twee_als_select": "select",
                       "ja_nee_select": "select", "onbekende_widget": "text"}
    assert unsupported(schema, ui) == [
        "onbekende_widget: ui:widget 'kleurkiezer' is not supported; the default widget is used"]


# ---------------------------------------------------------------- the HTML a user sees


def test_every_input_has_a_label_and_the_right_type(env):
    page = render(env, build_fields(SCHEMA, UI))
    controls = page.xpath("//input[not(@type='hidden')] | //select | //textarea")
    assert controls
    for control in controls:
        assert label_for(page, control.get("id"))
    assert len(set(page.xpath("//@id"))) == len(page.xpath("//@id")), "element ids must be unique"

    naam = by_id(page, "veld-naam")
    assert (naam.tag, naam.get("type"), naam.get("maxlength"), naam.get("placeholder")) == (
        "input", "text", "80", "Bijv. Jan Jansen")
    assert by_id(page, "veld-email").get("type") == "email"
    assert by_id(page, "veld-datum").get("type") == "date"
    aantal = by_id(page, "veld-aantal")
    assert (aantal.get("type"), aantal.get("step"), aantal.get("min"), aantal.get("max")) == ("number", "1", "0", "20")
    bedrag = by_id(page, "veld-bedrag")
    assert (bedrag.get("type"), bedrag.get("step"), bedrag.get("min"), bedrag.get("max")) == ("number", "any", "0", None)
    assert by_id(page, "veld-toelichting").tag == "textarea"
    assert by_id(page, "veld-afspraken").tag == "textarea"
    referentie = page.xpath("//input[@name='referentie']")[0]
    assert referentie.get("type") == "hidden"
    assert by_id(page, "veld-behandelaar").get("readonly") is not None
    assert not page.xpath("//script")


def test_labels_show_required_marker_and_help(env):
    page = render(env, build_fields(SCHEMA, UI))
    assert label_for(page, "veld-naam") == "Naam (verplicht)"
    assert by_id(page, "veld-naam").get("required") is not None
    assert label_for(page, "veld-email") == "E-mailadres"
    assert by_id(page, "veld-email").get("required") is None
    assert label_for(page, "veld-contact-naam") == "Naam contactpersoon (verplicht)"
    assert described_text(page, by_id(page, "veld-naam")) == "Voor- en achternaam. Zoals in het dossier."
    assert "eigen regel" in described_text(page, by_id(page, "veld-afspraken"))
    assert by_id(page, "veld-email").get("aria-describedby") is None


def test_choices_render_as_select_radios_and_checkboxes_in_fieldsets(env):
    page = render(env, build_fields(SCHEMA, UI))
    soort = by_id(page, "veld-soort")
    assert soort.tag == "select"
    options = [(o.get("value"), o.text_content()) for o in soort.xpath("option")]
    assert options[0] == ("", "Maak een keuze")
    assert [v for v, _ in options[1:]] == SCHEMA["properties"]["soort"]["enum"]
    assert not soort.xpath("option[@selected]")

    radios = page.xpath("//input[@name='uitkomst']")
    assert [(r.get("type"), r.get("value"), label_for(page, r.get("id"))) for r in radios] == [
        ("radio", "gegrond", "Gegrond"), ("radio", "ongegrond", "Ongegrond")]
    assert legend_of(radios[0]) == "Uitkomst"

    boxes = page.xpath("//input[@name='betrokkenen'][@type='checkbox']")
    assert [label_for(page, b.get("id")) for b in boxes] == ["leiding", "ouder", "kind"]
    assert legend_of(boxes[0]) == "Betrokkenen"
    assert page.xpath("//input[@name='betrokkenen'][@type='hidden'][@value='']"), "marker for 'nothing ticked'"

    contact = by_id(page, "veld-contact")
    assert contact.tag == "fieldset" and contact.xpath("legend")[0].text_content().strip() == "Contactpersoon (verplicht)"
    assert contact.xpath(".//input[@name='contact.gesproken_op'][@type='date']")


def test_yes_no_has_no_preselection_when_required(env):
    page = render(env, build_fields(SCHEMA, UI))
    opgelost = page.xpath("//input[@name='opgelost']")
    assert [(r.get("type"), r.get("value"), label_for(page, r.get("id"))) for r in opgelost] == [
        ("radio", "ja", "Ja"), ("radio", "nee", "Nee")]
    assert legend_of(opgelost[0]) == "Is de klacht opgelost? (verplicht)"
    assert all(r.get("checked") is None and r.get("required") is not None for r in opgelost)
    # An optional question may show its default.
    nazorg = page.xpath("//input[@name='nazorg'][@checked]")
    assert [r.get("value") for r in nazorg] == ["ja"]


def test_errors_beside_their_fields_and_in_the_summary(env):
    post = MultiDict([("naam", ""), ("aantal", "drie"), ("contact.naam", ""), ("datum", "31-02-2024"),
                      ("betrokkenen", ""), ("betrokkenen", "leiding"), ("betrokkenen", "opa")])
    errors = [
        FieldError("", "Dit formulier kent een of meer van deze velden niet.", "additionalProperties"),
        FieldError("aantal", "Vul een geheel getal in.", "type"),
        FieldError("betrokkenen.1", "Kies een van de mogelijkheden.", "enum"),
        FieldError("contact.naam", "Dit veld is verplicht.", "required"),
        FieldError("datum", "Vul een geldige datum in (jjjj-mm-dd).", "format"),
        FieldError("naam", "Dit veld is verplicht.", "required"),
    ]
    fields = build_fields(SCHEMA, UI, raw_values(post), errors)
    page = render(env, fields, errors)

    for element_id, message in [("veld-naam", "Dit veld is verplicht."), ("veld-aantal", "Vul een geheel getal in."),
                                ("veld-contact-naam", "Dit veld is verplicht."),
                                ("veld-datum", "Vul een geldige datum in (jjjj-mm-dd).")]:
        control = by_id(page, element_id)
        assert control.get("aria-invalid") == "true"
        error = by_id(page, f"{element_id}-fout")
        assert error.get("class") == "veld-fout"
        assert error.text_content() == f"Fout: {message}"
        assert f"{element_id}-fout" in control.get("aria-describedby").split()
        assert error.getparent() is control.getparent(), "the error sits right beside its input"

    # An error on an item of a list lands on the list; its fieldset names it.
    checkbox_fieldset = by_id(page, "veld-betrokkenen").xpath("ancestor::fieldset[1]")[0]
    assert "veld-betrokkenen-fout" in checkbox_fieldset.get("aria-describedby")
    assert by_id(page, "veld-betrokkenen-fout").text_content() == "Fout: Kies een van de mogelijkheden."

    marked = {c.get("name") for c in page.xpath("//*[@aria-invalid]")}
    assert marked == {"naam", "aantal", "contact.naam", "datum", "betrokkenen"}, "only the invalid fields"

    summary = page.xpath("//div[@class='fout-samenvatting']")[0]
    assert summary.xpath("h2")[0].text_content() == "Er zijn problemen"
    items = summary.xpath(".//li")
    assert items[0].text_content() == "Dit formulier kent een of meer van deze velden niet."
    assert not items[0].xpath("a")
    links = [(a.get("href"), a.text_content()) for a in summary.xpath(".//a")]
    assert links == [  # in the form's order, naming each field
        ("#veld-naam", "Naam: Dit veld is verplicht."),
        ("#veld-datum", "Datum gesprek: Vul een geldige datum in (jjjj-mm-dd)."),
        ("#veld-aantal", "Aantal kinderen: Vul een geheel getal in."),
        ("#veld-betrokkenen", "Betrokkenen: Kies een van de mogelijkheden."),
        ("#veld-contact-naam", "Naam contactpersoon: Dit veld is verplicht."),
    ]
    for href, _ in links:
        by_id(page, href[1:])


def test_summary_without_fields_links_by_path(env):
    errors = [FieldError("contact.naam", "Dit veld is verplicht.", "required")]
    page = render(env, build_fields(SCHEMA, UI, {}, errors), errors, with_fields=False)
    links = page.xpath("//div[@class='fout-samenvatting']//a")
    assert [(a.get("href"), a.text_content()) for a in links] == [("#veld-contact-naam", "Dit veld is verplicht.")]
    assert page.xpath("//div[@class='fout-samenvatting']//h2")[0].text_content() == "Er is een probleem"


def test_no_summary_without_errors(env):
    page = render(env, build_fields(SCHEMA, UI))
    assert not page.xpath("//div[@class='fout-samenvatting']")


def test_values_are_kept_including_invalid_ones_as_typed(env):
    post = MultiDict([
        ("naam", "Jan <Jansen>"), ("email", "jan@example.nl"), ("datum", "2024-03-01"), ("aantal", "drie"),
        ("bedrag", "12.5"), ("soort", "veiligheid"), ("uitkomst", "ongegrond"), ("opgelost", "nee"),
        ("nazorg", "nee"), ("betrokkenen", ""), ("betrokkenen", "ouder"), ("betrokkenen", "kind"),
        ("afspraken", "Bellen\r\nMailen"), ("contact.naam", "Piet"), ("toelichting", "Regel 1\r\nRegel 2"),
    ])
    page = render(env, build_fields(SCHEMA, UI, raw_values(post)))
    assert by_id(page, "veld-naam").get("value") == "Jan <Jansen>"
    assert by_id(page, "veld-email").get("value") == "jan@example.nl"
    assert by_id(page, "veld-datum").get("value") == "2024-03-01"
    aantal = by_id(page, "veld-aantal")
    # Shown as typed; a number input would be blanked by the browser, so it falls back to text.
    assert (aantal.get("value"), aantal.get("type"), aantal.get("inputmode")) == ("drie", "text", "numeric")
    assert by_id(page, "veld-bedrag").get("value") == "12.5"
    assert [o.get("value") for o in by_id(page, "veld-soort").xpath("option[@selected]")] == ["veiligheid"]
    assert [r.get("value") for r in page.xpath("//input[@name='uitkomst'][@checked]")] == ["ongegrond"]
    assert [r.get("value") for r in page.xpath("//input[@name='opgelost'][@checked]")] == ["nee"]
    assert [r.get("value") for r in page.xpath("//input[@name='nazorg'][@checked]")] == ["nee"]
    assert [b.get("value") for b in page.xpath("//input[@name='betrokkenen'][@checked]")] == ["ouder", "kind"]
    assert textarea_value(by_id(page, "veld-afspraken")).replace("\r\n", "\n") == "Bellen\nMailen"
    assert by_id(page, "veld-contact-naam").get("value") == "Piet"
    assert textarea_value(by_id(page, "veld-toelichting")).replace("\r\n", "\n") == "Regel 1\nRegel 2"


def test_current_values_and_defaults(env):
    current = {"naam": "Els", "aantal": 3, "bedrag": 2.0, "opgelost": True, "betrokkenen": ["leiding"],
               "afspraken": ["Eén", "Twee"], "contact": {"naam": "Kees", "gesproken_op": "2024-01-31"},
               "behandelaar": "M. de Vries"}
    # Typed values (flat keys) win over the current (nested) ones.
    fields = build_fields(SCHEMA, UI, {**current, "contact.naam": "Karel"})
    page = render(env, fields)
    assert by_id(page, "veld-naam").get("value") == "Els"
    assert by_id(page, "veld-aantal").get("value") == "3"
    assert by_id(page, "veld-bedrag").get("value") == "2"
    assert [r.get("value") for r in page.xpath("//input[@name='opgelost'][@checked]")] == ["ja"]
    assert [b.get("value") for b in page.xpath("//input[@name='betrokkenen'][@checked]")] == ["leiding"]
    assert textarea_value(by_id(page, "veld-afspraken")) == "Eén\nTwee"
    assert by_id(page, "veld-contact-naam").get("value") == "Karel"
    assert by_id(page, "veld-contact-gesproken_op").get("value") == "2024-01-31"
    assert by_id(page, "veld-behandelaar").get("value") == "M. de Vries"


def test_unsupported_constructs_render_as_a_clear_text_field(env):
    schema = {"type": "object", "$defs": {"adres": {"type": "object", "properties": {"straat": {"type": "string"}}}},
              "properties": {
                  "adres": {"$ref": "#/$defs/adres", "title": "Adres"},
                  "melder": {"title": "Melder", "oneOf": [
                      {"type": "object", "properties": {"naam": {"type": "string"}}},
                      {"type": "object", "properties": {"organisatie": {"type": "string"}}}]},
                  "personen": {"type": "array", "items": {"type": "object", "properties": {"naam": {"type": "string"}}}},
                  "gewoon": {"type": "string"},
              },
              "if": {"properties": {"gewoon": {"const": "x"}}},
              "then": {"properties": {"extra": {"type": "string"}}, "required": ["extra"]}}
    assert unsupported(schema) == [
        "(form): property 'extra' is only declared inside a conditional (allOf/if/then/...) and is never shown",
        "adres: $ref is not supported",
        "melder: oneOf with alternatives other than const+title is not supported",
        "personen: only arrays of strings (free text or enum) are supported",
    ]
    fields = build_fields(schema, {}, {"melder": {"naam": "Ans"}})
    assert [f.widget for f in fields] == ["unsupported", "unsupported", "unsupported", "text"]
    page = render(env, fields)
    adres = by_id(page, "veld-adres")
    assert adres.get("disabled") is not None and adres.get("name") is None
    assert "wordt niet ondersteund" in described_text(page, adres)
    assert by_id(page, "veld-melder").get("value") == '{"naam": "Ans"}'
    # The unsupported fields are never read from a post: they keep the current value.
    post = {"adres": "Dorpsstraat 1", "melder": "x", "gewoon": "ja"}
    assert parse_submission(schema, {}, post, current={"melder": {"naam": "Ans"}}) == {
        "melder": {"naam": "Ans"}, "gewoon": "ja"}


def test_real_forms_render_with_labels(env):
    for path in sorted((ROOT / "forms").glob("*-schema.json")) + sorted(FIXTURE_FORMS.glob("*-schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        ui_path = path.with_name(path.name.replace("-schema.json", "-uischema.json"))
        ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.exists() else {}
        page = render(env, build_fields(schema, ui))
        for control in page.xpath("//input[not(@type='hidden')] | //select | //textarea"):
            assert label_for(page, control.get("id")), path.name
        assert parse_submission(schema, ui, MultiDict()) == {}, path.name


# ---------------------------------------------------------------- parsing posted data


def test_parse_submission_round_trip():
    post = MultiDict([
        ("naam", "  Jan Jansen "), ("email", "jan@example.nl"), ("datum", "2024-03-01"), ("aantal", "3"),
        ("bedrag", "12,50"), ("soort", "veiligheid"), ("uitkomst", "gegrond"), ("opgelost", "ja"),
        ("nazorg", "false"), ("betrokkenen", ""), ("betrokkenen", "ouder"), ("betrokkenen", "kind"),
        ("afspraken", " Bellen \r\n\r\nMailen\r\n"), ("referentie", "K-12"), ("behandelaar", "ik zelf"),
        ("contact.naam", "Piet"), ("contact.telefoon_nummer", ""), ("contact.gesproken_op", "2024-02-29"),
        ("toelichting", "Regel 1\r\nRegel 2\r\n"), ("csrf_token", "abc"), ("actie", "afronden"),
    ])
    data = parse_submission(SCHEMA, UI, post, current={"behandelaar": "M. de Vries"})
    assert data == {
        "naam": "Jan Jansen", "email": "jan@example.nl", "datum": "2024-03-01", "aantal": 3, "bedrag": 12.5,
        "soort": "veiligheid", "uitkomst": "gegrond", "opgelost": True, "nazorg": False,
        "betrokkenen": ["ouder", "kind"], "afspraken": ["Bellen", "Mailen"], "referentie": "K-12",
        "behandelaar": "M. de Vries",  # read-only: from the current data, never from the post
        "contact": {"naam": "Piet", "gesproken_op": "2024-02-29"},
        "toelichting": "Regel 1\nRegel 2",
    }
    assert type(data["aantal"]) is int


def test_parse_submission_plain_dict_and_conversions():
    schema = {"type": "object", "properties": {
        "heel": {"type": "integer"}, "getal": {"type": "number"}, "rond": {"type": "number"},
        "ja": {"type": "boolean"}, "nee": {"type": "boolean"}, "datum": {"type": "string", "format": "date"},
        "cijfer": {"type": "integer", "enum": [1, 2, 3]}, "lijst": {"type": "array", "items": {"type": "string"}},
    }}
    post = {"heel": "-42", "getal": "0.25", "rond": "7", "ja": "true", "nee": "nee", "datum": "5-3-2024",
            "cijfer": "2", "lijst": ["a\nb"]}
    assert parse_submission(schema, {}, post) == {
        "heel": -42, "getal": 0.25, "rond": 7, "ja": True, "nee": False, "datum": "2024-03-05", "cijfer": 2,
        "lijst": ["a", "b"]}


def test_parse_submission_keeps_garbage_as_typed_and_omits_empties():
    schema = {"type": "object", "properties": {
        "heel": {"type": "integer"}, "getal": {"type": "number"}, "komma": {"type": "integer"},
        "oneindig": {"type": "number"}, "keuze": {"type": "boolean"}, "datum": {"type": "string", "format": "date"},
        "leeg": {"type": "string"}, "spaties": {"type": "string"}, "vinkjes": {"type": "array", "items": {"enum": ["a"]}},
        "regels": {"type": "array", "items": {"type": "string"}},
        "groep": {"type": "object", "properties": {"x": {"type": "string"}}},
    }}
    post = MultiDict([("heel", "drie"), ("getal", "1,2,3"), ("komma", "2,5"), ("oneindig", "inf"), ("keuze", "misschien"),
                      ("datum", "31-02-2024"), ("leeg", ""), ("spaties", "   "), ("vinkjes", ""), ("regels", "\r\n  \r\n"),
                      ("groep.x", "")])
    assert parse_submission(schema, {}, post) == {
        "heel": "drie", "getal": "1,2,3", "komma": "2,5", "oneindig": "inf", "keuze": "misschien",
        "datum": "31-02-2024"}


@pytest.mark.parametrize("form", [MultiDict(), {}, {"heel": None}, {"heel": 3}, {"heel": ["", "4"]}, {"x.y.z": "1"}])
def test_parse_submission_never_raises(form):
    schema = {"type": "object", "properties": {"heel": {"type": "integer"}}}
    parsed = parse_submission(schema, {}, form)
    # Only the schema's own fields come back, and only what can be read as a value.
    assert isinstance(parsed, dict) and set(parsed) <= {"heel"}
    assert parsed.get("heel") in (None, 3, 4, "4")
    assert parse_submission({"not": "an object form"}, {}, form) == {}


def test_raw_values_keep_what_was_typed():
    post = MultiDict([("naam", " Jan "), ("betrokkenen", ""), ("betrokkenen", "ouder"), ("aantal", "drie")])
    assert raw_values(post) == {"naam": " Jan ", "betrokkenen": ["", "ouder"], "aantal": "drie"}
    assert raw_values({"a": "1", "b": ["x", "y"]}) == {"a": "1", "b": ["x", "y"]}


# ---------------------------------------------------------------- with the form catalog


def test_parse_then_validate_the_fixture_form():
    catalog = FormCatalog(FIXTURE_FORMS)
    schema = catalog.load("test-behandelen-schema.json")
    ui = catalog.ui_schema("test-behandelen-schema.json")
    good = parse_submission(schema, ui, MultiDict([("opgelost", "nee"), ("toelichting", ""), ("uitkomst", "gegrond")]))
    assert good == {"opgelost": False, "uitkomst": "gegrond"}
    catalog.validate("test-behandelen-schema.json", good)

    empty = parse_submission(schema, ui, MultiDict([("toelichting", "  "), ("uitkomst", "")]))
    with pytest.raises(FormValidationError) as caught:
        catalog.validate("test-behandelen-schema.json", empty)
    assert caught.value.errors == [FieldError("opgelost", "Dit veld is verplicht.", "required")]


def test_parse_then_validate_gives_dutch_field_errors(tmp_path):
    (tmp_path / "proef-schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    catalog = FormCatalog(tmp_path)
    post = MultiDict([("naam", ""), ("datum", "31-02-2024"), ("aantal", "drie"), ("bedrag", "-1"),
                      ("soort", "anders"), ("opgelost", "misschien"), ("email", "geen-adres"),
                      ("betrokkenen", "ouder"), ("betrokkenen", "opa"), ("contact.telefoon_nummer", "06"),
                      ("toelichting", "x" * 2001)])
    data = parse_submission(SCHEMA, UI, post)
    with pytest.raises(FormValidationError) as caught:
        catalog.validate("proef-schema.json", data)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("aantal", "Vul een geheel getal in."),
        ("bedrag", "Vul een waarde van minstens 0 in."),
        ("betrokkenen.1", "Kies een van de mogelijkheden."),
        ("contact.naam", "Dit veld is verplicht."),
        ("datum", "Vul een geldige datum in (jjjj-mm-dd)."),
        ("email", "Vul een geldig e-mailadres in."),
        ("naam", "Dit veld is verplicht."),
        ("opgelost", "Vul ja of nee in."),
        ("soort", "Kies een van de mogelijkheden."),
        ("toelichting", "Gebruik hoogstens 2000 tekens."),
    ]
    # Every error lands on a field the user can see.
    fields = build_fields(SCHEMA, UI, raw_values(post), caught.value.errors)
    flat = [f for f in fields for f in [f, *f.children]]
    shown = {f.name: f.error for f in flat if f.error}
    assert set(shown) == {"aantal", "bedrag", "betrokkenen", "contact.naam", "datum", "email", "naam", "opgelost",
                          "soort", "toelichting"}


def test_a_complete_post_validates(tmp_path):
    (tmp_path / "proef-schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    post = MultiDict([("naam", "Jan"), ("datum", "1-3-2024"), ("aantal", "0"), ("soort", "overig"),
                      ("opgelost", "ja"), ("contact.naam", "Piet"), ("bedrag", "")])
    parsed = parse_submission(SCHEMA, UI, post)
    assert parsed["datum"] == "2024-03-01" and parsed["aantal"] == 0 and parsed["opgelost"] is True
    assert parsed["contact"] == {"naam": "Piet"} and "bedrag" not in parsed
    FormCatalog(tmp_path).validate("proef-schema.json", parsed)  # raises FormValidationError if not

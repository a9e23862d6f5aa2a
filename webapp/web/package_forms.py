"""The forms of a draft package: list, edit (field builder and JSON view), live preview.

A form belongs to the package it is edited in: saving writes the draft's `forms/<name>`, never a
file, and reaches complaints only when the draft is published (running complaints keep the form
of their own version)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.runtime import deploy as deployment
from webapp.runtime import packages
from webapp.runtime.errors import KlachtrouteError
from webapp.runtime.forms import FormCatalog

from . import formconditions, formrender
from .auth import runtime
from .modeller_views import _draft, _used_forms, bp, process_owner

FORM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*-schema\.json$")
NEW_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "", "type": "object",
            "required": [], "properties": {}}


def _editable(org: str, draft: deployment.Draft, name: str) -> dict[str, Any]:
    """The form `name` of the draft: one its diagram uses, or one the package holds (or a new
    one named after the organisation); otherwise a 404."""
    if not FORM_NAME.match(name):
        abort(404)
    usage = _used_forms(draft.bpmn_xml).get(name)
    catalog = FormCatalog.of_package(draft.files)
    if usage is None and not catalog.exists(name) and not name.startswith(f"{org}-"):
        abort(404)
    ui = (usage or {}).get("ui") or name.replace("-schema.json", "-uischema.json")
    return {"name": name, "ui": ui, "tasks": (usage or {}).get("tasks", [])}


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/formulieren", methods=["GET", "POST"])
@process_owner
def forms(org: str, draft_id: int):
    draft = _draft(org, draft_id)
    if request.method == "POST":  # a new form: the editor opens it empty
        slug = re.sub(r"[^a-z0-9]+", "-", request.form.get("naam", "").strip().lower()).strip("-")
        if not slug:
            flash("Geef het nieuwe formulier een naam, bijvoorbeeld 'tweede-gesprek'.")
            return redirect(url_for("modeller.forms", org=org, draft_id=draft_id))
        name = f"{slug}-schema.json" if slug.startswith(f"{org}-") else f"{org}-{slug}-schema.json"
        return redirect(url_for("modeller.form_edit", org=org, draft_id=draft_id, name=name))
    usage = _used_forms(draft.bpmn_xml)
    catalog = FormCatalog.of_package(draft.files)
    names = sorted(set(usage) | {n for n in catalog.names() if n.endswith("-schema.json")
                                 and not n.endswith("-uischema.json")})
    rows = []
    for name in names:
        entry = usage.get(name, {"ui": name.replace("-schema.json", "-uischema.json"), "tasks": []})
        try:
            title = str(catalog.load(name).get("title", ""))
        except (KlachtrouteError, AttributeError):
            title = ""
        rows.append({"name": name, "ui": entry["ui"], "tasks": entry["tasks"], "title": title,
                     "exists": catalog.exists(name)})
    return render_template("modeller_formulieren.html", rows=rows, draft=draft)


def _json_error(what: str, exc: json.JSONDecodeError) -> str:
    return f"{what}: geen geldige JSON: {exc.msg} (regel {exc.lineno}, kolom {exc.colno})."


def form_problems(schema_text: str, ui_text: str) -> tuple[Any, Any, list[str]]:
    """Parse and check a form before it is saved: valid JSON, a valid JSON Schema (Draft
    2020-12), nothing the server-side renderer cannot show, every field the UI schema names
    exists, and conditions ("alleen tonen als") that can hold. Returns (schema or None, UI
    schema or None, problems in Dutch)."""
    problems: list[str] = []
    schema = ui = None
    try:
        schema = json.loads(schema_text)
    except json.JSONDecodeError as exc:
        problems.append(_json_error("JSON Schema", exc))
    try:
        ui = json.loads(ui_text) if ui_text.strip() else {}
    except json.JSONDecodeError as exc:
        problems.append(_json_error("UI-schema", exc))
    if ui is not None and not isinstance(ui, dict):
        problems.append("UI-schema: moet een object zijn ({ ... }).")
        ui = None
    if schema is None:
        return None, ui, problems
    if not isinstance(schema, dict):
        return None, ui, [*problems, "JSON Schema: moet een object zijn ({ ... })."]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        problems.append(f"Geen geldig JSON Schema (Draft 2020-12): {exc.message}" + (f" (bij {where})" if where else "")
                        + ".")
        return None, ui, problems
    if schema.get("type", "object") != "object" or not isinstance(schema.get("properties"), dict):
        problems.append("Een formulier is een object met velden: \"type\": \"object\" en \"properties\".")
    for line in formrender.unsupported(schema, ui or {}):
        problems.append(f"Kan niet worden getoond: {line}.")
    if ui is not None:
        problems += [f"UI-schema: {p}." for p in _ui_references(schema, ui, "")]
        problems += [f"Alleen tonen als: {p}." for p in formconditions.problems(schema, ui)]
    return schema, ui, problems


def _ui_references(schema: dict[str, Any], ui: dict[str, Any], prefix: str) -> list[str]:
    """Fields the UI schema names that the JSON Schema does not have."""
    problems = []
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    order = ui.get("ui:order")
    if isinstance(order, list):
        for name in order:
            if name != "*" and name not in properties:
                problems.append(f"ui:order noemt '{prefix}{name}', maar dat veld bestaat niet")
    for key, node in ui.items():
        if key.startswith("ui:"):
            continue
        if key not in properties:
            problems.append(f"het veld '{prefix}{key}' bestaat niet in het JSON Schema")
            continue
        sub = properties[key] if isinstance(properties[key], dict) else {}
        if isinstance(node, dict):
            if sub.get("type") == "array" and isinstance(node.get("items"), dict) and isinstance(sub.get("items"), dict):
                problems += _ui_references(sub["items"], node["items"], f"{prefix}{key}.")
            elif "properties" in sub:
                problems += _ui_references(sub, node, f"{prefix}{key}.")
    return problems


def preview_html(schema: Any, ui: Any) -> str:
    if not isinstance(schema, dict):
        return render_template("modeller_voorbeeld.html", fields=None)
    ui = ui if isinstance(ui, dict) else {}
    fields = formconditions.annotate(formrender.build_fields(schema, ui, {}), schema, ui)
    return render_template("modeller_voorbeeld.html", fields=fields, title=schema.get("title"),
                           description=schema.get("description"))


def form_texts(schema: dict[str, Any], ui_schema: dict[str, Any]) -> tuple[str, str]:
    return (json.dumps(schema, ensure_ascii=False, indent=2) + "\n",
            json.dumps(ui_schema, ensure_ascii=False, indent=2) + "\n")


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/formulieren/<name>", methods=["GET", "POST"])
@process_owner
def form_edit(org: str, draft_id: int, name: str):
    draft = _draft(org, draft_id)
    form = _editable(org, draft, name)
    catalog = FormCatalog.of_package(draft.files)
    status = 200
    problems: list[str] = []
    if request.method == "POST":
        schema_text = request.form.get("schema", "")
        ui_text = request.form.get("ui_schema", "")
        schema, ui, problems = form_problems(schema_text, ui_text)
        if request.form.get("actie") == "opslaan":
            if not problems:
                texts = form_texts(schema, ui)
                deployment.update_draft_files(runtime(), org, draft_id, {
                    packages.FORMS + name: texts[0], packages.FORMS + form["ui"]: texts[1]}, current_user.email)
                flash(f"Formulier {name} is opgeslagen in concept {draft_id}. Lopende klachten houden het formulier "
                      "van hun eigen versie; publiceer het concept om het in gebruik te nemen.")
                return redirect(url_for("modeller.form_edit", org=org, draft_id=draft_id, name=name))
            status = 422
    else:
        existing = catalog.text(name)
        schema_text = existing if existing is not None else json.dumps(
            {**NEW_FORM, "title": name.removesuffix("-schema.json")}, ensure_ascii=False, indent=2)
        ui_text = catalog.text(form["ui"]) or "{}"
        schema, ui, problems = form_problems(schema_text, ui_text)
    return render_template("modeller_formulier.html", form=form, draft=draft, schema_text=schema_text,
                           ui_text=ui_text, problems=problems, preview=preview_html(schema, ui),
                           is_new=not catalog.exists(name)), status


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/formulieren/<name>/voorbeeld", methods=["POST"])
@process_owner
def form_preview(org: str, draft_id: int, name: str):
    _editable(org, _draft(org, draft_id), name)
    schema, ui, problems = form_problems(request.form.get("schema", ""), request.form.get("ui_schema", ""))
    return jsonify(html=preview_html(schema, ui), problems=problems,
                   problems_html=render_template("modeller_formproblemen.html", problems=problems))

"""Procesontwerp: process owners edit, check, test and deploy their organisation's diagram
in the browser, see its versions, move running complaints to a new version, and edit the
forms its user tasks use. Every page needs the role `procesbeheerder` of the organisation
(another organisation's pages are a 404, as everywhere; the own organisation without the
role a 403).

The modeller itself is bpmn-js with our side panel (webapp/web/assets, built by esbuild
into static/build). It posts the diagram as JSON with the session's CSRF token in the
X-CSRFToken header; imports are a normal multipart form. Drafts, checks, deployment and
migration are the runtime's (webapp.runtime.deploy, webapp.runtime.migration).
"""

from __future__ import annotations

import contextlib
import inspect
import re
from functools import wraps
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from lxml import etree

from handlers.operators import OPERATOR_PARAMETERS, OPERATORS
from handlers.working_days import diagram_functions
from webapp.db.models import DiagramVersion
from webapp.runtime import deploy as deployment
from webapp.runtime.check_runner import ChecksBusy
from webapp.runtime.diagrams import MAX_DIAGRAM_BYTES
from webapp.runtime.errors import ConflictError, DiagramError, DiagramProblem, KlachtrouteError, NotFound
from webapp.scenarios import publish as publishing

from .auth import organisation_page, runtime
from .modeller_layout import add_layout, needs_layout
from .modeller_problems import element_names as _element_names
from .modeller_problems import problem_json as _problem_json
from .queries import procedures

bp = Blueprint("modeller", __name__)

ROLE = "procesbeheerder"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*-schema\.json$")
PLAIN_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.json$")
# A JSON body holds the diagram once, escaped: leave room for the escaping.
MAX_DIAGRAM_REQUEST = 2 * MAX_DIAGRAM_BYTES + 64 * 1024

OPERATOR_TEXT = {
    "send_letter": ("Brief sturen", "Stuurt een brief uit handlers/letters/ naar de klager (of het adres in 'to')."),
    "notify_role": ("Melding aan een rol", "Stuurt een melding aan iedereen met de rol."),
    "register_complaint": ("Klacht registreren", "Registreert de klacht bij de rol (bijv. kwaliteit) met een melding."),
}
PARAMETER_HELP = {
    "template": "De brief, tussen aanhalingstekens: 'ontvangstbevestiging', of een eigen brief 'organisatie/naam'.",
    "to": "Leeg: de klager. Anders een e-mailadres tussen aanhalingstekens.",
    "role": "De rol tussen aanhalingstekens, bijvoorbeeld 'behandelaar'.",
    "subject": "Het onderwerp; tekst tussen aanhalingstekens, eventueel + referentie.",
    "message": "De tekst van de melding (mag leeg).",
    "note": "Een toelichting bij de registratie (mag leeg).",
}
CALENDAR_TEXT = {  # name -> (label in the picker, unit), picker functions first
    "working_days_after": ("werkdagen na", "werkdagen"),
    "weeks_after": ("weken na", "weken"),
    "months_after": ("maanden na", "maanden"),
    "days_after": ("kalenderdagen na", "kalenderdagen"),
    "now_iso": ("nu (het begin van de stap)", ""),
    "is_past": ("is voorbij (voor voorwaarden)", ""),
}
MOMENTS = [
    {"value": "ontvangen_op", "label": "ontvangst van de klacht"},
    {"value": "now_iso()", "label": "begin van deze stap"},
]


# -- access -----------------------------------------------------------------------------------


def process_owner(view):
    """An organisation page (404 for another organisation) that needs the role procesbeheerder (403)."""

    @wraps(view)
    def wrapper(org: str, *args, **kwargs):
        if ROLE not in g.roles:
            abort(403, description="Alleen een procesbeheerder van deze organisatie kan het procesontwerp bekijken "
                                   "en wijzigen.")
        return view(org, *args, **kwargs)

    return organisation_page(wrapper)


@bp.before_request
def _allow_diagram_bodies() -> None:
    # A diagram may be up to MAX_DIAGRAM_BYTES; the application's default limit is for forms.
    if request.method == "POST" and request.endpoint in ("modeller.save", "modeller.check", "modeller.publish",
                                                         "modeller.upload"):
        request.max_content_length = MAX_DIAGRAM_REQUEST


# -- helpers ----------------------------------------------------------------------------------


def _org_id(org: str) -> int:
    return runtime().organisation_id(org)


def _versions(org: str) -> list[DiagramVersion]:
    return procedures.versions(runtime(), _org_id(org))


def _version(org: str, version_id: int) -> DiagramVersion:
    version = procedures.version_by_id(runtime(), _org_id(org), version_id)
    if version is None:
        abort(404)
    return version


def _current(org: str) -> DiagramVersion | None:
    return procedures.current_version(runtime(), _org_id(org))


def _draft(org: str, draft_id: int) -> deployment.Draft:
    try:
        return deployment.load_draft(runtime(), org, draft_id)
    except NotFound:
        abort(404)


def _json_xml() -> tuple[dict[str, Any], str]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        abort(400, description="Stuur het diagram als JSON: {\"xml\": \"...\"}.")
    return body, body["xml"]


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _draft_files(org: str, body: dict[str, Any]) -> dict[str, str] | None:
    """The forms, letters, settings and scenarios of the draft the modeller works on (None: the
    current version's)."""
    draft_id = _int_or_none(body.get("concept"))
    return _draft(org, draft_id).files if draft_id is not None else None


def draft_config(org: str, draft: deployment.Draft):
    """The configuration of a draft's package (its settings may not be valid yet: then the
    current one, so the page still opens and the gate names the problem)."""
    try:
        return g.org.with_files({**draft.files, g.org.process_file: draft.bpmn_xml})
    except KlachtrouteError:
        return g.org


def _download_name(org: str, label: str) -> str:
    return f"{org}-{label}.bpmn"


# -- what the side panel needs ------------------------------------------------------------------


def _forms_for_panel(package) -> tuple[list[dict[str, Any]], list[str]]:
    """The forms of the package being edited: the panel offers them at a user task."""
    catalog = package.forms
    names = catalog.names()
    forms = []
    for name in names:
        if not name.endswith("-schema.json") or name.endswith("-uischema.json"):
            continue
        try:
            title = catalog.load(name).get("title", "")
        except (KlachtrouteError, AttributeError):
            title = ""
        ui = name.replace("-schema.json", "-uischema.json")
        forms.append({"schema": name, "ui": ui if ui in names else "", "title": str(title or ""), "own": True})
    return forms, [n for n in names if n.endswith("-uischema.json")]


def _operators() -> list[dict[str, Any]]:
    result = []
    for name in OPERATORS:
        label, doc = OPERATOR_TEXT.get(name, (name, (inspect.getdoc(OPERATORS[name]) or "").split("\n")[0]))
        params = [{"name": p, "required": required, "help": PARAMETER_HELP.get(p, "")}
                  for p, required in OPERATOR_PARAMETERS.get(name, {}).items()]
        result.append({"name": name, "label": label, "doc": doc, "parameters": params})
    return result


def _calendar(config) -> list[dict[str, Any]]:
    functions = diagram_functions(config.calendar)
    result = []
    for name, function in functions.items():
        label, unit = CALENDAR_TEXT.get(name, (name, ""))
        params = list(inspect.signature(function).parameters)
        result.append({"name": name, "label": label, "unit": unit, "params": params,
                       "picker": bool(params[:2] == ["n", "moment"])})
    return result


def _used_forms(xml: str) -> dict[str, dict[str, Any]]:
    """The forms a diagram's user tasks use: schema file -> {ui, tasks}."""
    try:
        root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return {}
    used: dict[str, dict[str, Any]] = {}
    for task in root.iter(f"{{{BPMN}}}userTask"):
        props = {p.get("name"): p.get("value") for p in task.iter(f"{{{SPIFF}}}property")}
        schema = props.get("formJsonSchemaFilename")
        if schema:
            entry = used.setdefault(schema, {"ui": "", "tasks": []})
            entry["ui"] = entry["ui"] or props.get("formUiSchemaFilename") or ""
            entry["tasks"].append(task.get("name") or task.get("id"))
    return used


def _page_data(org: str, xml: str, source: dict[str, Any], layout_generated: bool, package) -> dict[str, Any]:
    """What the modeller page needs; `package`: the configuration of the draft or version shown."""
    config = package
    forms, ui_schemas = _forms_for_panel(package)
    draft_id = source["id"] if source["kind"] == "concept" else None
    return {
        "xml": xml,
        "source": source,
        "layout_generated": layout_generated,
        "download_name": _download_name(org, "ontwerp"),
        "organisation": {"slug": org, "name": config.name, "process_id": config.process_id},
        "forms": forms,
        "ui_schemas": ui_schemas,
        "roles": [{"id": role, "label": label} for role, label in config.roles.items()],
        "lanes": dict(config.lanes),
        "operators": _operators(),
        "calendar": _calendar(config),
        "moments": MOMENTS,
        "letters": package.letters.names(),
        "running_complaints": _running_complaints(org),
        "urls": {
            "page": url_for("modeller.index", org=org),
            "save": url_for("modeller.save", org=org),
            "check": url_for("modeller.check", org=org),
            "deploy": url_for("modeller.publish", org=org),
            "download": url_for("modeller.download", org=org),
            "versions": url_for("modeller.versions", org=org),
            "form_edit": url_for("modeller.form_edit", org=org, draft_id=draft_id, name="__naam__") if draft_id else None,
            "package": url_for("modeller.package", org=org, draft_id=draft_id) if draft_id else None,
        },
    }


def _running_complaints(org: str) -> int:
    """How many complaints are running (the publish dialog says they stay on their version)."""
    return procedures.running_count(runtime(), _org_id(org))


# -- the modeller -----------------------------------------------------------------------------


@bp.route("/<org>/procesontwerp")
@process_owner
def index(org: str):
    concept = request.args.get("concept", type=int)
    version_id = request.args.get("versie", type=int)
    current = _current(org)
    package = g.org
    if concept is not None:
        draft = _draft(org, concept)
        xml = draft.bpmn_xml
        package = draft_config(org, draft)
        source = {"kind": "concept", "id": draft.id, "label": f"Concept {draft.id}",
                  "saved_text": f"Concept {draft.id}, opgeslagen door {draft.saved_by}",
                  "download": url_for("modeller.download", org=org, concept=draft.id)}
    elif version_id is not None or current is not None:
        version = _version(org, version_id) if version_id is not None else current
        is_current = current is not None and version.id == current.id
        xml = version.bpmn_xml
        package = runtime().config_for_version(version.id)
        source = {"kind": "versie", "id": version.id, "version": version.version,
                  "label": f"Versie {version.version}" + (" (in gebruik)" if is_current else " (oudere versie)"),
                  "saved_text": "", "download": url_for("modeller.download", org=org, versie=version.id)}
    else:  # nothing deployed yet: start from the configured file
        xml, _ = g.org.read_diagram_files()
        source = {"kind": "bestand", "id": None, "label": g.org.process_file, "saved_text": "",
                  "download": url_for("modeller.download", org=org)}
    layout_generated = False
    try:
        if needs_layout(xml):
            xml, layout_generated = add_layout(xml, g.org.name), True
    except DiagramError:
        pass  # the modeller reports what it cannot open
    data = _page_data(org, xml, source, layout_generated, package)
    drafts = deployment.list_drafts(runtime(), org)
    return render_template("modeller.html", data=data, source=source, drafts=drafts[:5], current=current,
                           import_problems=None)


@bp.route("/<org>/procesontwerp/concept", methods=["POST"])
@process_owner
def save(org: str):
    body, xml = _json_xml()
    draft_id = _int_or_none(body.get("concept"))
    note = str(body.get("note") or "")[:500]
    try:
        saved = deployment.save_draft(runtime(), org, xml, current_user.email, note, draft_id=draft_id)
    except NotFound:
        abort(404)
    except DiagramError as exc:
        return jsonify(message="Het concept is niet opgeslagen.", problems=[_problem_json(p) for p in exc.problems]), 422
    return jsonify(concept_id=saved, url=url_for("modeller.index", org=org, concept=saved),
                   download_url=url_for("modeller.download", org=org, concept=saved),
                   message=f"Concept {saved} is opgeslagen.")


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/verwijderen", methods=["POST"])
@process_owner
def delete(org: str, draft_id: int):
    try:
        deployment.delete_draft(runtime(), org, draft_id)
    except NotFound:
        abort(404)
    flash(f"Concept {draft_id} is verwijderd.")
    return redirect(url_for("modeller.versions", org=org))


@bp.route("/<org>/procesontwerp/importeren", methods=["POST"])
@process_owner
def upload(org: str):
    file = request.files.get("bestand")
    if file is None or not file.filename:
        return _import_refused(org, [DiagramProblem("kies een .bpmn-bestand om te importeren")])
    filename = Path(file.filename).name
    data = file.read(MAX_DIAGRAM_BYTES + 1)
    try:
        draft_id = deployment.import_bpmn(runtime(), org, data, current_user.email, filename=filename)
    except DiagramError as exc:
        return _import_refused(org, exc.problems, filename)
    flash(f"'{filename}' is geïmporteerd als concept {draft_id}. Controleer het en publiceer het als het klaar is.")
    return redirect(url_for("modeller.index", org=org, concept=draft_id))


def _import_refused(org: str, problems: list[DiagramProblem], filename: str = ""):
    return render_template("modeller_import.html", problems=[_problem_json(p) for p in problems],
                           filename=filename), 422


@bp.route("/<org>/procesontwerp/download")
@process_owner
def download(org: str):
    concept = request.args.get("concept", type=int)
    version_id = request.args.get("versie", type=int)
    if concept is not None:
        xml, label = _draft(org, concept).bpmn_xml, f"concept-{concept}"
    else:
        version = _version(org, version_id) if version_id is not None else _current(org)
        if version is None:
            abort(404)
        xml, label = version.bpmn_xml, f"versie-{version.version}"
    return Response(xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{_download_name(org, label)}"',
        "X-Content-Type-Options": "nosniff"})


@bp.route("/<org>/procesontwerp/controleren", methods=["POST"])
@process_owner
def check(org: str):
    body, xml = _json_xml()
    try:
        problems = publishing.check_draft(runtime(), org, xml, files=_draft_files(org, body))
    except ChecksBusy as exc:
        return _busy(exc)
    names = _element_names(xml) if problems else {}
    return jsonify(problems=[_problem_json(p, names) for p in problems])


def _busy(exc: ChecksBusy):
    """Too many checks running in this process: answer at once rather than queue the thread."""
    response = jsonify(message=str(exc), busy=True)
    response.status_code = 503
    response.headers["Retry-After"] = "60"
    return response


@bp.route("/<org>/procesontwerp/publiceren", methods=["POST"])
@process_owner
def publish(org: str):
    body, xml = _json_xml()
    note = str(body.get("note") or "").strip()[:500]
    if not note:
        return jsonify(message="Schrijf kort op wat er verandert; dat komt in de versiegeschiedenis."), 400
    try:
        done = publishing.deploy(runtime(), org, xml, current_user.email, note, files=_draft_files(org, body))
    except DiagramError as exc:
        return jsonify(message="Niet gepubliceerd: los eerst de problemen op.",
                       problems=[_problem_json(p, _element_names(xml)) for p in exc.problems]), 422
    except ConflictError as exc:
        return jsonify(message=f"Niet gepubliceerd: {exc}."), 409
    except ChecksBusy as exc:
        return _busy(exc)
    draft_id = _int_or_none(body.get("concept"))
    if draft_id is not None and done.created:
        with contextlib.suppress(NotFound):  # the draft is a version now
            deployment.delete_draft(runtime(), org, draft_id)
    return jsonify(version=done.version, version_id=done.version_id, changes=done.changes,
                   unchanged=not done.created,
                   migration_url=url_for("modeller.migration", org=org, version_id=done.version_id))


# Pages on this blueprint in modules of their own: the rest of the package, comparing versions.
from . import modeller_versions, package_forms, package_views, version_views  # noqa: E402,F401

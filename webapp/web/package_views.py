"""A draft package in the browser, beside the diagram: its letters (with a preview on a real
complaint's data and the placeholders listed), its settings, its scenarios (run one), and the
gate and publishing of the whole package. Forms have their own module (`package_forms`)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from handlers.letters import LetterBook, TemplateSyntaxError
from webapp.db.models import Instance
from webapp.runtime import deploy as deployment
from webapp.runtime import packages
from webapp.runtime.check_runner import ChecksBusy
from webapp.runtime.errors import ConflictError, DiagramError, KlachtrouteError, NotFound
from webapp.runtime.package_checks import known_placeholders
from webapp.runtime.problem_texts import in_dutch
from webapp.scenarios import publish as publishing
from webapp.scenarios.model import ScenarioFormatError, parse_scenarios

from .access import log_access
from .auth import runtime
from .modeller_layout import add_layout, needs_layout
from .modeller_views import _draft, bp, draft_config, process_owner
from .package_scenarios import run_one_scenario
from .queries import procedures

LETTER_NAME = re.compile(r"^(?:[a-z0-9-]+/)?[a-z0-9_]+$")
SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.yaml$")


@bp.route("/<org>/procesontwerp/pakket", methods=["GET", "POST"])
@process_owner
def package_start(org: str):
    """The package of the newest draft; with POST, a new draft of the current version first."""
    drafts = deployment.list_drafts(runtime(), org)
    if request.method == "POST" or not drafts:
        if request.method != "POST":
            return render_template("pakket_start.html")
        current = runtime().organisation(org)
        xml, deps = current.read_diagram_files()
        if needs_layout(xml):  # a diagram loaded without a drawing gets one, as the modeller shows it
            xml = add_layout(xml, current.name)
        draft_id = deployment.save_draft(runtime(), org, xml, current_user.email, "nieuw concept", dependencies=deps)
        flash(f"Concept {draft_id} is gemaakt van de versie in gebruik.")
        return redirect(url_for("modeller.package", org=org, draft_id=draft_id))
    return redirect(url_for("modeller.package", org=org, draft_id=drafts[0].id))


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/pakket", methods=["GET", "POST"])
@process_owner
def package(org: str, draft_id: int):
    draft = _draft(org, draft_id)
    problems = None
    if request.method == "POST":
        deps = draft.dependencies
        try:
            if request.form.get("actie") == "publiceren":
                note = request.form.get("notitie", "").strip()[:500]
                if not note:
                    flash("Schrijf kort op wat er verandert; dat komt in de versiegeschiedenis.")
                    return redirect(url_for("modeller.package", org=org, draft_id=draft_id))
                done = publishing.deploy(runtime(), org, draft.bpmn_xml, current_user.email, note, deps, draft.files)
                if done.created:
                    deployment.delete_draft(runtime(), org, draft_id)
                    flash(f"Versie {done.version} is gepubliceerd. Nieuwe klachten volgen haar; lopende klachten "
                          "blijven op hun versie tot u ze verplaatst.")
                else:
                    flash(f"Het concept is gelijk aan versie {done.version}; er is niets gepubliceerd.")
                return redirect(url_for("modeller.versions", org=org))
            problems = [in_dutch(p) for p in publishing.check_draft(runtime(), org, draft.bpmn_xml, deps, draft.files)]
        except DiagramError as exc:
            problems = [in_dutch(p) for p in exc.problems]
        except (ConflictError, ChecksBusy) as exc:
            flash(f"Niet gelukt: {exc}")
    files = draft.files
    return render_template(
        "pakket.html", draft=draft, problems=problems,
        forms=sorted(n for n in packages.of(packages.FORMS, files) if not n.endswith("-uischema.json")),
        letters=sorted(n.removesuffix(".txt") for n in packages.of(packages.LETTERS, files)),
        scenarios=sorted(packages.of(packages.SCENARIOS, files)))


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/nieuw")
@process_owner
def package_new(org: str, draft_id: int):
    """A new letter or scenario: its editor opens empty under the name given."""
    _draft(org, draft_id)
    kind = request.args.get("soort")
    name = request.args.get("naam", "").strip().lower()
    if kind == "brief" and LETTER_NAME.match(name):
        return redirect(url_for("modeller.letter", org=org, draft_id=draft_id, name=name, nieuw=1))
    name = name if name.endswith(".yaml") else f"{name}.yaml"
    if kind == "scenario" and SCENARIO_NAME.match(name):
        return redirect(url_for("modeller.scenario", org=org, draft_id=draft_id, name=name, nieuw=1))
    flash("Geef een naam van kleine letters, cijfers en liggende streepjes, bijvoorbeeld uitnodiging_gesprek.")
    return redirect(url_for("modeller.package", org=org, draft_id=draft_id))


# -- letters -------------------------------------------------------------------------------------


def _letter_file(name: str) -> str:
    if not LETTER_NAME.match(name):
        abort(404)
    return f"{packages.LETTERS}{name}.txt"


def _preview_complaints(org: str) -> list[Instance]:
    return procedures.letter_preview_complaints(runtime(), runtime().organisation_id(org))


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/brieven/<path:name>", methods=["GET", "POST"])
@process_owner
def letter(org: str, draft_id: int, name: str):
    draft = _draft(org, draft_id)
    file = _letter_file(name)
    text = request.form.get("tekst", draft.files.get(file, "")) if request.method == "POST" else draft.files.get(file)
    if text is None:
        if request.args.get("nieuw") != "1":
            abort(404)
        text = "Onderwerp van de brief\nBeste {{ klager.naam | default('heer/mevrouw') }},\n\n\nMet vriendelijke groet,\n{{ organisatie }}\n"
    text = text.replace("\r\n", "\n")
    config = draft_config(org, draft)
    book = LetterBook({**config.letters.texts, name: text})
    problems, placeholders = [], set()
    try:
        placeholders = book.placeholders(name)
    except TemplateSyntaxError as exc:  # the user's to fix: shown, not raised
        problems.append(f"De brief klopt niet: {exc.message} (regel {exc.lineno}).")
    known = known_placeholders(config, [t for n, t in config.files.items() if n.endswith(".bpmn")])
    problems += [f"De brief gebruikt '{p}', dat geen formulier, intake of stap van de procedure invult."
                 for p in sorted(placeholders - known)]
    if request.method == "POST" and request.form.get("actie") == "opslaan":
        if not problems and text.split("\n", 1)[0].strip():
            deployment.update_draft_files(runtime(), org, draft_id, {file: text}, current_user.email)
            flash(f"Brief {name} is opgeslagen in concept {draft_id}.")
            return redirect(url_for("modeller.letter", org=org, draft_id=draft_id, name=name))
        problems = problems or ["De eerste regel is het onderwerp van de brief; vul hem in."]
    preview, complaints = None, _preview_complaints(org)
    chosen = request.values.get("klacht", type=int)
    instance = next((c for c in complaints if c.id == chosen), complaints[0] if complaints else None)
    if instance is not None and not problems:
        log_access(instance.organisation_id, instance.id, current_user.id, current_user.email, "briefvoorbeeld")
        data = runtime().load(instance.id).data
        step = _Sender(config.name, instance.reference)
        try:  # bounded: no loops, no letter beyond MAX_LETTER_CHARS (handlers.letters)
            preview = book.render(name, data, step, portal_link="https://…/mijn-klacht/voorbeeld")
        except Exception as exc:  # noqa: BLE001 - whatever the template does wrong is shown as its problem
            problems.append(f"Het voorbeeld lukt niet: {exc}")
    return render_template("pakket_brief.html", draft=draft, name=name, text=text, problems=problems,
                           placeholders=sorted(placeholders), known=sorted(known), preview=preview,
                           complaints=complaints, instance=instance), 422 if problems and request.method == "POST" else 200


class _Sender:
    def __init__(self, organisation_name: str, reference: str) -> None:
        self.organisation_name, self.reference = organisation_name, reference


# -- settings ------------------------------------------------------------------------------------


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/instellingen", methods=["GET", "POST"])
@process_owner
def settings(org: str, draft_id: int):
    draft = _draft(org, draft_id)
    text = draft.files.get(packages.SETTINGS, "")
    problems: list[str] = []
    if request.method == "POST":
        text = request.form.get("instellingen", "").replace("\r\n", "\n")
        try:
            g.org.with_files({**draft.files, packages.SETTINGS: text})
        except KlachtrouteError as exc:
            problems.append(f"De instellingen kloppen niet: {exc}")
        if not problems:
            deployment.update_draft_files(runtime(), org, draft_id, {packages.SETTINGS: text}, current_user.email)
            flash(f"De instellingen zijn opgeslagen in concept {draft_id}.")
            return redirect(url_for("modeller.settings", org=org, draft_id=draft_id))
    return render_template("pakket_instellingen.html", draft=draft, text=text, problems=problems), \
        422 if problems else 200


# -- scenarios -----------------------------------------------------------------------------------


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/scenarios/<name>", methods=["GET", "POST"])
@process_owner
def scenario(org: str, draft_id: int, name: str):
    draft = _draft(org, draft_id)
    if not SCENARIO_NAME.match(name):
        abort(404)
    file = packages.SCENARIOS + name
    text = draft.files.get(file)
    if text is None and request.args.get("nieuw") != "1" and request.method == "GET":
        abort(404)
    text = (request.form.get("tekst", "") if request.method == "POST" else text or "").replace("\r\n", "\n")
    problems, results = [], None
    try:
        parsed = parse_scenarios(text, Path(file)) if text.strip() else []
    except ScenarioFormatError as exc:
        parsed, problems = [], [str(exc)]
    action = request.form.get("actie")
    if request.method == "POST" and action == "opslaan" and not problems:
        deployment.update_draft_files(runtime(), org, draft_id, {file: text}, current_user.email)
        flash(f"Scenario {name} is opgeslagen in concept {draft_id}.")
        return redirect(url_for("modeller.scenario", org=org, draft_id=draft_id, name=name))
    if request.method == "POST" and action == "uitvoeren" and not problems:
        chosen = request.form.get("scenario", "")
        picked = [s for s in parsed if s.name == chosen] or parsed[:1]
        try:
            results = run_one_scenario(draft_config(org, draft), picked, draft.bpmn_xml, draft.dependencies)
        except ChecksBusy as exc:
            problems.append(str(exc))
    return render_template("pakket_scenario.html", draft=draft, name=name, text=text, problems=problems,
                           scenarios=parsed, results=results), 422 if problems and request.method == "POST" else 200


@bp.route("/<org>/procesontwerp/concept/<int:draft_id>/verwijder-bestand", methods=["POST"])
@process_owner
def remove_file(org: str, draft_id: int):
    name = request.form.get("bestand", "")
    if not (name.startswith(packages.LETTERS) or name.startswith(packages.SCENARIOS) or
            name.startswith(packages.FORMS)):
        abort(400)
    try:
        deployment.update_draft_files(runtime(), org, draft_id, {name: None}, current_user.email)
    except (NotFound, KlachtrouteError) as exc:
        abort(400, description=str(exc))
    flash(f"{name} is uit concept {draft_id} verwijderd.")
    return redirect(url_for("modeller.package", org=org, draft_id=draft_id))

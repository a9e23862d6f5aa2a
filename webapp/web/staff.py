"""Staff pages: the inbox, the task page, claiming and handing over."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from handlers.dutch import meervoud
from handlers.working_days import WorkingDayCalendar
from webapp.db.models import HumanTask, Instance
from webapp.intake import RELATIONS
from webapp.runtime import clock
from webapp.runtime.errors import (
    ConflictError,
    FormValidationError,
    KlachtrouteError,
    NotFound,
    PermissionDenied,
)
from webapp.runtime.instructions import render_instructions

from . import formconditions, queries, timeline
from .access import current_viewer, log_page
from .auth import organisation_page, runtime, writer_required
from .formparse import parse_submission, raw_values, reads_current
from .formrender import build_fields, past_date_errors

bp = Blueprint("staff", __name__)

EVENT_LABELS = {
    "complaint_received": "Klacht ontvangen", "task_ready": "Taak klaargezet", "task_completed": "Taak afgerond",
    "task_cancelled": "Taak vervallen", "timer_fired": "Termijn verstreken", "message_sent": "Bericht verstuurd",
    "message_received": "Bericht ontvangen", "process_completed": "Klacht afgesloten", "gateway_passed": "Besluit",
    "element_completed": "Stap uitgevoerd", "end_event": "Einde bereikt", "task_claimed": "Taak opgepakt",
    "task_released": "Taak vrijgegeven", "task_handed_over": "Taak overgedragen", "error": "Fout",
    "complaint_registered": "Klacht geregistreerd",
    "complaint_entered": "Klacht ingevoerd door een medewerker", "document_added": "Document toegevoegd",
    "document_marked": "Document gemarkeerd",
}


@bp.app_context_processor
def labels() -> dict[str, Any]:
    return {"event_labels": EVENT_LABELS}


bp.add_app_template_filter(meervoud, "meervoud")
bp.add_app_template_global(timeline.build, "tijdlijn")
# What an outbox status means to a reader; "held" needs the why.
MESSAGE_STATUS = {"pending": "wacht op verzending", "sent": "verzonden", "failed": "verzenden mislukt",
                  "held": "niet verstuurd: er is geen mailserver ingesteld, het bericht staat op de pagina Berichten"}


@bp.app_template_filter("ontvanger")
def recipient(value: str) -> str:
    return timeline.recipient_label(value or "", g.org.all_roles if getattr(g, "org", None) else {})


@bp.app_template_filter("relatie")
def relation(value: str) -> str:
    """'client' -> 'cliënt': the relation as a word in a sentence."""
    label = RELATIONS.get(str(value), str(value))
    return label[:1].lower() + label[1:]


@bp.app_template_filter("telefoonlink")
def phone_link(value: str) -> str:
    """'06 - 123 456 78' -> '0612345678' for a tel: link."""
    return "".join(c for c in str(value) if c.isdigit() or c == "+")


@bp.app_template_filter("berichtstatus")
def message_status(value: str) -> str:
    return MESSAGE_STATUS.get(value, value)


@bp.app_template_filter("resterend")
def remaining(due_at: datetime | None) -> str:
    """What is left of a deadline in the organisation's working days: 'nog 3 werkdagen',
    'vandaag', '2 werkdagen te laat'."""
    if due_at is None:
        return ""
    calendar = g.org.calendar if getattr(g, "org", None) else WorkingDayCalendar()
    return countdown(due_at, clock.now(), calendar)


def countdown(due_at: datetime, now: datetime, calendar: WorkingDayCalendar) -> str:
    due_day, today = clock.to_local(due_at).date(), clock.to_local(now).date()
    if due_day == today:
        return "vandaag te laat" if due_at < now else "vandaag"
    if due_at > now:
        left = calendar.working_days_between(now, due_at)
        return f"nog {meervoud(left, 'werkdag')}" if left else "vóór de volgende werkdag"
    late = calendar.working_days_between(due_at, now)
    return f"{meervoud(late, 'werkdag')} te laat" if late else "te laat"


@bp.route("/")
@login_required
def home():
    orgs = current_user.organisations
    if len(orgs) == 1 and not current_user.platform_admin:
        return redirect(url_for("staff.inbox", org=orgs[0]))
    configs = [runtime().organisations[o] for o in orgs if o in runtime().organisations]
    return render_template("home.html", organisations=configs)


@bp.route("/taak/<uuid:engine_task_id>")
@login_required
def task_link(engine_task_id):
    """The link in a notification email: the task's page in its organisation. A task of an
    organisation where the user holds no role is a 404, like every other page."""
    with runtime().sessions() as session:
        found = queries.task_by_engine_id(session, str(engine_task_id))
    if found is None or not current_user.roles_in(found[1]):
        abort(404)
    return redirect(url_for("staff.task", org=found[1], task_id=found[0]))


@bp.route("/<org>/")
@organisation_page
def org_home(org: str):
    return redirect(url_for("staff.inbox", org=org))


@bp.route("/<org>/inbox")
@organisation_page
def inbox(org: str):
    flt = queries.InboxFilter(
        role=request.args.get("rol", ""), status=request.args.get("status", "open"),
        location=request.args.get("locatie", ""), overdue=request.args.get("te_laat") == "1",
        reference=request.args.get("zoek", "")[:40], page=request.args.get("pagina", 1, type=int) or 1,
        sort=request.args.get("sorteer", "termijn")[:20])
    with runtime().sessions() as session:
        page = queries.inbox(session, current_viewer(), flt, page_size=_page_size())
    return render_template("inbox.html", page=page, flt=flt, roles=sorted(g.roles))


def _page_size() -> int:
    from flask import current_app
    return current_app.config["PAGE_SIZE"]


def _opened(org: str, task_id: int, *, with_view: bool = True) -> queries.OpenedTask:
    """The task, if the current user may open it (the one rule: queries.open_task); else 404."""
    opened = queries.task_for_viewer(runtime(), current_viewer(), org, task_id, with_view=with_view)
    if opened is None:
        abort(404)
    return opened


def task_context(opened: queries.OpenedTask) -> dict[str, Any]:
    """What task.html shows: the row, its complaint, and the read model's view of the task
    (read now when the task was opened without it)."""
    view = opened.view or queries.task_view(runtime(), opened)
    instructions = ""
    if view.instructions:
        try:
            instructions = render_instructions(view.instructions, view.data)
        except Exception:  # noqa: BLE001 - a broken instruction must not hide the task
            instructions = view.instructions
    return {"row": opened.row, "instance": opened.instance, "data": view.data, "instructions": instructions,
            "events": view.events, "colleagues": view.colleagues, "completed_by_name": view.completed_by_name,
            "can_open_complaint": view.can_open_complaint}


def current_values(row: HumanTask, data: dict[str, Any], schema: dict) -> dict[str, Any]:
    """The form's current values: the task data its schema names, with the saved draft over them."""
    return {**{k: v for k, v in data.items() if k in schema.get("properties", {})}, **(row.draft or {})}


def task_forms(instance: Instance):
    """The forms of the package the complaint runs on (a newer version's form never reaches it)."""
    return runtime().config_for_version(instance.diagram_version_id).forms


def form_parts(row: HumanTask, instance: Instance) -> tuple[dict, dict]:
    if not row.form:
        return {"type": "object", "properties": {}}, {}
    forms = task_forms(instance)
    return forms.load(row.form), forms.ui_schema(row.form)


@bp.route("/<org>/taken/<int:task_id>", methods=["GET", "POST"])
@organisation_page
def task(org: str, task_id: int):
    # A post reads the task row only: the workflow is restored once, in the step's transaction,
    # unless the form keeps current values or the page must be shown again.
    opened = _opened(org, task_id, with_view=request.method == "GET")
    row, instance = opened.row, opened.instance
    log_page(instance, "taak")
    schema, ui_schema = form_parts(row, instance)
    errors: list = []
    status = 200
    if request.method == "POST":
        writer_required()
        if row.state != "ready":
            flash("Deze taak is niet meer open.")
            return redirect(url_for("staff.task", org=org, task_id=task_id))
        if reads_current(schema, ui_schema):
            opened = replace(opened, view=queries.task_view(runtime(), opened))
        current = current_values(row, opened.view.data if opened.view else {}, schema)
        submitted = parse_submission(schema, ui_schema, request.form, current=current)
        # An answer to a question that is not shown ("alleen tonen als") is neither checked nor kept.
        submitted = formconditions.drop_hidden(schema, ui_schema, submitted)
        if request.form.get("actie") == "opslaan":
            return _save_draft(org, row, submitted)
        try:
            _check_past_dates(row, instance, schema, ui_schema, submitted)
            runtime().complete_task(instance.id, row.task_id, g.actor, submitted)
        except FormValidationError as exc:
            errors, status = exc.errors, 422
        except (ConflictError, NotFound, PermissionDenied) as exc:
            return _refused(org, exc)
        except KlachtrouteError as exc:
            flash(f"De taak kon niet worden afgerond: {exc}")
            status = 500
        else:
            flash(f"Taak '{row.name}' is afgerond voor klacht {instance.reference}.")
            return redirect(url_for("staff.inbox", org=org))
    context = task_context(opened)
    values = current_values(row, context["data"], schema)
    if request.method == "POST":  # what was typed wins; read-only fields keep their current value
        values = {**values, **raw_values(request.form)}
    fields = formconditions.annotate(build_fields(schema, ui_schema, values, errors), schema, ui_schema)
    return render_template("task.html", fields=fields, errors=errors, schema=schema,
                           conditions=formconditions.attributes(schema, ui_schema), **context), status


def _save_draft(org: str, row: HumanTask, submitted: dict[str, Any]):
    try:
        runtime().save_draft(row.id, g.actor, submitted)
    except (ConflictError, NotFound, PermissionDenied) as exc:
        return _refused(org, exc)
    flash("Uw concept is opgeslagen.")
    return redirect(url_for("staff.task", org=org, task_id=row.id))


def _check_past_dates(row: HumanTask, instance: Instance, schema: dict, ui_schema: dict,
                      submitted: dict[str, Any]) -> None:
    """A contact date in the future is refused, together with whatever else the form's schema refuses."""
    errors = past_date_errors(schema, ui_schema, submitted, clock.to_local(clock.now()).date())
    if not errors:
        return
    try:
        if row.form:
            task_forms(instance).validate(row.form, submitted)
    except FormValidationError as exc:
        errors += [e for e in exc.errors if e.path not in {x.path for x in errors}]
    raise FormValidationError(row.form or "", sorted(errors, key=lambda e: e.path))


def _refused(org: str, exc: Exception):
    if isinstance(exc, PermissionDenied):
        abort(403, description=str(exc))
    if isinstance(exc, NotFound):
        abort(404)
    flash(f"{str(exc)[0].upper()}{str(exc)[1:]}.")
    return redirect(url_for("staff.inbox", org=org)), 303


@bp.route("/<org>/taken/<int:task_id>/<actie>", methods=["POST"])
@organisation_page
def assign(org: str, task_id: int, actie: str):
    writer_required()
    row = _opened(org, task_id, with_view=False).row
    if actie == "oppakken":
        assignee = (int(current_user.id), current_user.email)
        message = "U heeft de taak opgepakt."
    elif actie == "vrijgeven":
        assignee, message = None, "De taak is vrijgegeven."
    elif actie == "overdragen":
        wanted = request.form.get("collega", type=int)
        with runtime().sessions() as session:
            options = {uid: email for uid, _name, email in queries.colleagues(session, org, row.role or "")}
        if wanted not in options:
            flash("Kies een collega met dezelfde rol.")
            return redirect(url_for("staff.task", org=org, task_id=task_id))
        assignee, message = (wanted, options[wanted]), f"De taak is overgedragen aan {options[wanted]}."
    else:
        abort(404)
    try:
        runtime().assign_task(row.id, g.actor, assignee)
    except (ConflictError, NotFound, PermissionDenied) as exc:
        return _refused(org, exc)
    flash(message)
    return redirect(request.form.get("terug") == "inbox" and url_for("staff.inbox", org=org)
                    or url_for("staff.task", org=org, task_id=task_id))

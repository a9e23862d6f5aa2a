"""Complaint pages for staff: the list, one complaint with its deadlines, timeline and
letters, recording what the complainant said (the diagram's message events), and the
Berichten page with every letter and notification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from webapp.db.models import HumanTask, Instance
from webapp.deadlines import complaint_terms, deadline_state
from webapp.runtime import clock, readmodel
from webapp.runtime.errors import ConflictError, KlachtrouteError

from . import queries
from .access import current_viewer, log_page
from .auth import organisation_page, runtime, writer_required

bp = Blueprint("complaints", __name__)
AUDIT_READERS = {"auditor", "procesbeheerder"}

MESSAGE_LABELS = {
    "klacht_ingetrokken": "De klager trekt de klacht in",
    "klager_reageert": "De klager heeft gereageerd",
}


def message_label(name: str) -> str:
    return MESSAGE_LABELS.get(name, name.replace("_", " ").capitalize())


@dataclass
class Deadline:
    what: str
    due_at: datetime
    done_at: datetime | None
    state: str  # gehaald, open, gemist, vervallen

    @property
    def label(self) -> str:
        return self.state


def deadlines(tasks: list[HumanTask], events) -> list[Deadline]:
    now = clock.now()
    cancelled = {}  # bpmn id -> the moments its tasks were cut off, in order
    for e in events:
        if e.event_type == "task_cancelled":
            cancelled.setdefault(e.bpmn_id, []).append(e.occurred_at)
    result = []
    for t in tasks:
        if t.due_at is None:
            continue
        cut_at = cancelled.get(t.bpmn_id, []).pop(0) if t.state == "cancelled" and cancelled.get(t.bpmn_id) else None
        completed_at = t.completed_at if t.state == "completed" else None
        state = deadline_state(t.due_at, completed_at=completed_at, cancelled_at=cut_at, now=now)
        result.append(Deadline(t.name, t.due_at, completed_at or cut_at, state))
    return sorted(result, key=lambda d: d.due_at)


def instance_of(org: str, reference: str) -> Instance:
    """The complaint with this reference in this organisation that the user may open
    (need-to-know, webapp.web.queries), else a 404."""
    return _instance(org, reference)


def _instance(org: str, reference: str) -> Instance:
    with runtime().sessions() as session:
        instance = queries.open_complaint(session, current_viewer(), reference)
    if instance is None:
        abort(404)
    return instance


@bp.route("/<org>/klachten")
@organisation_page
def index(org: str):
    search = request.args.get("zoek", "")[:40].strip()
    status = request.args.get("status", "")
    page_no = max(1, request.args.get("pagina", 1, type=int) or 1)
    size = 25
    with runtime().sessions() as session:
        found = queries.complaint_list(session, current_viewer(), search, status, page_no, size)
    return render_template("complaints.html", rows=found.rows, total=found.total, page=found.page, pages=found.pages,
                           search=search, status=status)


@bp.route("/<org>/klachten/<reference>")
@organisation_page
def show(org: str, reference: str):
    instance = _instance(org, reference)
    log_page(instance, "klacht")
    snapshot = readmodel.snapshot(runtime(), instance.id)  # data, and the messages it waits for now
    data, waiting = snapshot.data, sorted({w.name for w in snapshot.waiting})
    with runtime().sessions() as session:
        records = queries.complaint_records(session, instance.id)
    tasks, events, messages = records.tasks, records.events, records.messages
    return render_template("complaint.html", instance=instance, data=data, tasks=tasks, events=events,
                           messages=messages, deadlines=sorted(
                               deadlines(tasks, events) + complaint_terms(
                                   g.org, data, instance.received_at or instance.created_at, instance.closed_at,
                                   clock.now()),
                               key=lambda d: d.due_at),
                           waiting=[(name, message_label(name)) for name in waiting])


@bp.route("/<org>/klachten/<reference>/bericht", methods=["POST"])
@organisation_page
def record_message(org: str, reference: str):
    writer_required()
    instance = _instance(org, reference)
    name = request.form.get("bericht", "")
    note = request.form.get("toelichting", "").strip()[:2000]
    try:
        runtime().send_message(instance.id, name, {"toelichting": note, "vastgelegd_door": g.actor.identity,
                                                   "vastgelegd_op": clock.now().isoformat()}, g.actor)
    except ConflictError as exc:
        flash(f"Niet vastgelegd: {exc}.")
    except KlachtrouteError as exc:
        flash(f"Niet vastgelegd: {exc}")
    else:
        flash(f"Vastgelegd: {message_label(name)}.")
    return redirect(url_for("complaints.show", org=org, reference=reference))


@bp.route("/<org>/klachten/<reference>/link-intrekken", methods=["POST"])
@organisation_page
def revoke_portal_link(org: str, reference: str):
    """Revoke the complainant's personal links (the next letter carries a new one)."""
    from webapp.portal import revoke

    writer_required()
    instance = _instance(org, reference)
    count = revoke(runtime(), instance.id, g.actor.identity)
    flash(f"{count} persoonlijke link(s) van de klager ingetrokken. De volgende brief krijgt een nieuwe link."
          if count else "Er was geen geldige persoonlijke link om in te trekken.")
    return redirect(url_for("complaints.show", org=org, reference=reference))


@bp.route("/<org>/audit")
@organisation_page
def audit_check(org: str):
    """The auditors' check of the organisation's hash chain."""
    if not g.roles & AUDIT_READERS:
        abort(403, description="Het logboek controleren is voor auditors en procesbeheerders.")
    with runtime().sessions() as session:
        checked, problems, head = queries.chain_check(session, runtime().organisation_id(org))
    return render_template("audit.html", checked=checked, problems=problems, head=head)


@bp.route("/<org>/berichten")
@organisation_page
def outbox(org: str):
    status = request.args.get("status", "")
    kind = request.args.get("soort", "")
    page_no = max(1, request.args.get("pagina", 1, type=int) or 1)
    size = 25
    with runtime().sessions() as session:
        found = queries.outbox_page(session, current_viewer(), status, kind, page_no, size)
    return render_template("berichten.html", rows=found.rows, total=found.total, page=found.page,
                           pages=found.pages, status=status, kind=kind)

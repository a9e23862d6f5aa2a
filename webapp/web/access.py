"""Need-to-know on the staff pages: the viewer of the current request (the rule itself is in
webapp.web.queries), the access log of opened personal data, and Inzage, where the auditor
reads that log."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request
from flask_login import current_user

from webapp.db.models import AccessLogEntry, Instance
from webapp.runtime import clock

from . import queries
from .auth import organisation_page, runtime

bp = Blueprint("access", __name__)
PAGE_SIZE = 50
VIEW_LABELS = {"klacht": "Klachtpagina", "taak": "Taak", "spoor": "Spoor", "api-klacht": "API: klacht",
               "api-taak": "API: taak"}


def current_viewer() -> queries.Viewer:
    """The logged-in user in the organisation of this page (g.org), once per request."""
    if "viewer" not in g:
        member = current_user.member
        g.viewer = queries.Viewer(runtime().organisation_id(g.org.slug), member.user_id, member.email,
                                  member.grants_in(g.org.slug))
    return g.viewer


def log_access(organisation_id: int, instance_id: int, user_id: int | None, actor: str, view: str) -> None:
    """One line in the access log: who opened which complaint's personal data, when, where."""
    with runtime().write_sessions.begin() as session:
        session.add(AccessLogEntry(organisation_id=organisation_id, instance_id=instance_id, user_id=user_id,
                                   actor=actor, view=view, occurred_at=clock.now()))


def log_page(instance: Instance, view: str) -> None:
    log_access(instance.organisation_id, instance.id, current_user.member.user_id, current_user.email, view)


@bp.route("/<org>/inzage")
@organisation_page
def index(org: str):
    """The access log, newest first; filter by complaint reference and by person."""
    if "auditor" not in g.roles:
        abort(403, description="Het inzagelogboek is voor auditors.")
    reference = request.args.get("klacht", "")[:40].strip()
    person = request.args.get("persoon", "")[:254].strip()
    page_no = max(1, request.args.get("pagina", 1, type=int) or 1)
    with runtime().sessions() as session:
        found = queries.access_log_page(session, current_viewer(), reference, person, page_no, PAGE_SIZE)
    return render_template("inzage.html", rows=found.rows, total=found.total, page=found.page,
                           pages=found.pages, reference=reference, person=person, labels=VIEW_LABELS)

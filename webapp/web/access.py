"""Need-to-know on the staff pages: the viewer of the current request (the rule itself is in
webapp.web.queries), the access log of opened personal data, and Inzage, where the auditor
reads that log."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from webapp.db.models import AccessLogEntry, Instance, User
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
        with runtime().sessions() as session:
            g.viewer = queries.viewer_for(session, current_user.member, g.org.slug)
    return g.viewer


def complaint_or_404(instance: Instance) -> Instance:
    """The complaint, if the current user may open it; else a 404 (its existence stays hidden)."""
    with runtime().sessions() as session:
        if not queries.may_open_complaint(session, current_viewer(), instance.id):
            abort(404)
    return instance


def task_or_404(task_id: int) -> None:
    with runtime().sessions() as session:
        if not queries.may_open_task(session, current_viewer(), task_id):
            abort(404)


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
        query = (select(AccessLogEntry, Instance.reference, User.name)
                 .join(Instance, Instance.id == AccessLogEntry.instance_id)
                 .outerjoin(User, User.id == AccessLogEntry.user_id)
                 .where(AccessLogEntry.organisation_id == queries.org_id(session, org),
                        queries.visible_complaints(current_viewer())))  # an auditor's locations hold here too
        if reference:
            query = query.where(Instance.reference.ilike(f"%{reference}%"))
        if person:
            pattern = f"%{person.lower()}%"
            query = query.where(func.lower(AccessLogEntry.actor).like(pattern) | func.lower(User.name).like(pattern))
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        pages = max(1, -(-total // PAGE_SIZE))
        page_no = min(page_no, pages)
        rows = session.execute(query.order_by(AccessLogEntry.occurred_at.desc(), AccessLogEntry.id.desc())
                               .limit(PAGE_SIZE).offset((page_no - 1) * PAGE_SIZE)).all()
    return render_template("inzage.html", rows=rows, total=total, page=page_no, pages=pages,
                           reference=reference, person=person, labels=VIEW_LABELS)

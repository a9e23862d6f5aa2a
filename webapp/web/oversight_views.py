"""Toezicht: /<org>/toezicht, for the organisation's overseer (webapp.oversight) and auditors:
every open complaint and every open deadline of the organisation, overdue first, whoever holds
the task."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template

from webapp.oversight import open_work, overseer_roles

from .auth import organisation_page, runtime

bp = Blueprint("oversight", __name__)
READERS = {"auditor"}


def may_oversee(roles: frozenset[str]) -> bool:
    org = getattr(g, "org", None)
    return bool(org and roles & (overseer_roles(org) | READERS))


@bp.app_context_processor
def nav() -> dict[str, object]:
    roles = getattr(g, "roles", None)
    return {"show_oversight": bool(roles and may_oversee(roles))}


@bp.route("/<org>/toezicht")
@organisation_page
def index(org: str):
    if not may_oversee(g.roles):
        names = ", ".join(g.org.roles.get(r, r) for r in sorted(overseer_roles(g.org))) or "de kwaliteitsfunctionaris"
        abort(403, description=f"Toezicht is voor {names} en auditors.")
    with runtime().sessions() as session:
        tasks, complaints = open_work(session, g.org, runtime().organisation_id(org))
    return render_template("oversight.html", tasks=tasks, complaints=complaints,
                           overdue=sum(t.overdue for t in tasks))

"""Tasks through the API: the list, one task, completing it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g, jsonify, request
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from webapp.accounts import Membership
from webapp.db.models import HumanTask, Instance, Organisation, User
from webapp.runtime import clock
from webapp.runtime.errors import (
    ConflictError,
    FormValidationError,
    KlachtrouteError,
)
from webapp.runtime.errors import (
    NotFound as RuntimeNotFound,
)
from webapp.runtime.errors import (
    PermissionDenied as RuntimePermissionDenied,
)

from .. import access, queries, staff
from ..auth import runtime
from .base import (
    COMPLAINANT_KEYS,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    READ_ONLY_ROLES,
    SUMMARY_KEYS,
    WRITE_BODY_LIMIT,
    ApiError,
    actor,
    authenticated,
    bool_arg,
    bp,
    int_arg,
    iso,
    json_body,
    jsonable,
    task_summary,
)

# -- tasks -------------------------------------------------------------------------------


def _org_ids(session: Session, slugs: list[str]) -> dict[str, int]:
    rows = session.execute(select(Organisation.slug, Organisation.id).where(Organisation.slug.in_(slugs)))
    return {slug: oid for slug, oid in rows}


def _visible(member: Membership, org_ids: dict[str, int]):
    """Which open tasks a caller sees: the inbox's rule (queries.visible_tasks) per organisation."""
    conditions = [queries.visible_tasks(queries.Viewer(oid, member.user_id, member.email, member.grants_in(slug)))
                  for slug, oid in org_ids.items()]
    return or_(*conditions) if conditions else false()


@bp.get("/tasks")
@authenticated
def tasks():
    member: Membership = g.member
    problems = []
    page, problem = int_arg("page", 1, 1, MAX_PAGE)
    problems.append(problem)
    page_size, problem = int_arg("page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    problems.append(problem)
    overdue, problem = bool_arg("overdue")
    problems.append(problem)
    if any(problems):
        raise ApiError(400, "Een of meer parameters zijn ongeldig.", errors=[p for p in problems if p])
    slugs = sorted(s for s in member.roles if s in runtime().organisations)
    wanted = request.args.get("organisation")
    if wanted:
        if wanted not in slugs:
            raise ApiError(404, "Deze organisatie is onbekend, of u heeft er geen rol.")
        slugs = [wanted]
    with runtime().sessions() as session:
        org_ids = _org_ids(session, slugs)
        slug_of = {oid: slug for slug, oid in org_ids.items()}
        base = (select(HumanTask, Instance.reference, Instance.complaint_type, User.id, User.name, User.email)
                .join(Instance, Instance.id == HumanTask.instance_id)
                .outerjoin(User, User.id == HumanTask.claimed_by)
                .where(HumanTask.state == "ready", _visible(member, org_ids)))
        if request.args.get("role"):
            base = base.where(HumanTask.role == request.args["role"])
        if overdue is True:
            base = base.where(HumanTask.due_at < clock.now())
        elif overdue is False:
            base = base.where(or_(HumanTask.due_at.is_(None), HumanTask.due_at >= clock.now()))
        total = session.scalar(select(func.count()).select_from(base.subquery()))
        rows = session.execute(base.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
                               .limit(page_size).offset((page - 1) * page_size)).all()
        items = [task_summary(row, slug_of[row.organisation_id], reference, kind,
                              (uid, name, email) if uid is not None else None)
                 for row, reference, kind, uid, name, email in rows]
    return jsonify({"items": items, "total": total, "page": page, "page_size": page_size,
                    "pages": max(1, -(-total // page_size))})


def _task_for(member: Membership, task_id: int) -> tuple[HumanTask, Instance, str]:
    """The task and its complaint, if the caller may see it (as on the staff task page:
    a role in its organisation, and the task's role or auditor); else 404."""
    with runtime().sessions() as session:
        found = session.execute(select(HumanTask, Instance, Organisation.slug)
                                .join(Instance, Instance.id == HumanTask.instance_id)
                                .join(Organisation, Organisation.id == HumanTask.organisation_id)
                                .where(HumanTask.id == task_id)).first()
    if found is None:
        raise ApiError(404, "Deze taak bestaat niet, of u heeft er geen toegang toe.")
    row, instance, slug = found
    if slug not in runtime().organisations or not may(member, slug, lambda s, v: queries.may_open_task(s, v, row.id)):
        raise ApiError(404, "Deze taak bestaat niet, of u heeft er geen toegang toe.")
    return row, instance, slug


def may(member: Membership, slug: str, check: Callable) -> bool:
    """Need-to-know (webapp.web.queries): `check(session, viewer)` for the caller in `slug`."""
    if not member.roles_in(slug):
        return False
    with runtime().sessions() as session:
        return check(session, queries.viewer_for(session, member, slug))


def _use_organisation(member: Membership, slug: str) -> None:
    """What the staff page helpers read from `g`."""
    g.org = runtime().organisations[slug]
    g.roles = member.roles_in(slug)
    g.actor = actor(member, slug)


def _data_summary(data: dict[str, Any]) -> dict[str, Any]:
    summary = {k: data[k] for k in SUMMARY_KEYS if data.get(k) not in (None, "")}
    complainant = data.get("klager")
    if isinstance(complainant, dict):
        summary["klager"] = {k: complainant[k] for k in COMPLAINANT_KEYS if complainant.get(k) not in (None, "")}
    return jsonable(summary)


def _may_write(row: HumanTask, roles: frozenset[str]) -> bool:
    return not roles <= READ_ONLY_ROLES and row.role in roles


@bp.get("/tasks/<int:task_id>")
@authenticated
def task(task_id: int):
    member: Membership = g.member
    row, instance, slug = _task_for(member, task_id)
    access.log_access(instance.organisation_id, instance.id, member.user_id, member.email, "api-taak")
    _use_organisation(member, slug)
    schema, ui_schema = staff.form_parts(row, instance)
    context = staff.task_context(row, instance)
    data = context["data"]
    names = {uid: (uid, name, email) for uid, name, email in context["colleagues"]}
    claimer = names.get(row.claimed_by) if row.claimed_by else None
    if row.claimed_by and claimer is None:
        with runtime().sessions() as session:
            user = session.get(User, row.claimed_by)
            claimer = (user.id, user.name, user.email) if user else None
    values = {**{k: v for k, v in data.items() if k in schema.get("properties", {})}, **(row.draft or {})}
    body = task_summary(row, slug, instance.reference, instance.complaint_type, claimer)
    body.update({
        "bpmn_id": row.bpmn_id,
        "created_at": iso(row.created_at),
        "completed_at": iso(row.completed_at),
        "completed_by": row.completed_by,
        "instructions": str(context["instructions"] or ""),
        "form": {"name": row.form, "schema": schema, "ui_schema": ui_schema} if row.form else None,
        "values": jsonable(values),
        "data": _data_summary(data),
        "complaint": {"reference": instance.reference, "type": instance.complaint_type,
                      "location": instance.location, "status": instance.status,
                      "created_at": iso(instance.created_at), "lock_version": instance.lock_version},
        "can_complete": row.state == "ready" and _may_write(row, g.roles),
    })
    return jsonify(body)


@bp.post("/tasks/<int:task_id>/complete")
@authenticated
def complete(task_id: int):
    member: Membership = g.member
    body = json_body(WRITE_BODY_LIMIT)
    row, instance, slug = _task_for(member, task_id)
    roles = member.roles_in(slug)
    if roles <= READ_ONLY_ROLES:
        raise ApiError(403, "Als auditor kunt u meekijken, maar niets wijzigen.")
    if row.role not in roles:
        raise ApiError(403, f"Voor deze taak is de rol '{row.role}' nodig.")
    problems = []
    if not isinstance(body, dict):
        raise ApiError(422, errors=[{"field": "", "message": "Stuur een JSON-object met 'data'."}])
    data = body.get("data")
    if not isinstance(data, dict):
        problems.append({"field": "data", "message": "Stuur de formuliergegevens als object in 'data'."})
    lock_version = body.get("lock_version")
    if lock_version is not None and (isinstance(lock_version, bool) or not isinstance(lock_version, int)
                                     or lock_version < 1):
        problems.append({"field": "lock_version", "message": "Vul een geheel getal van minstens 1 in."})
    unknown = sorted(set(body) - {"data", "lock_version"})
    problems += [{"field": key, "message": "Dit veld is onbekend."} for key in unknown]
    if problems:
        raise ApiError(422, errors=problems)
    if row.state != "ready":
        raise ApiError(409, "Deze taak is niet meer open: een collega of een termijn was u voor.")
    try:
        runtime().complete_task(instance.id, row.task_id, actor(member, slug), data,
                                expected_lock_version=lock_version)
    except FormValidationError as exc:
        raise ApiError(422, errors=[{"field": e.path, "message": e.message} for e in exc.errors]) from None
    except ConflictError as exc:
        raise ApiError(409, _sentence(str(exc))) from None
    except RuntimePermissionDenied as exc:
        raise ApiError(403, _sentence(str(exc))) from None
    except RuntimeNotFound:
        raise ApiError(404) from None
    except KlachtrouteError as exc:
        current_app.logger.warning("completing task %s failed: %s", task_id, exc)
        raise ApiError(500, f"De taak kon niet worden afgerond: {exc}") from None
    with runtime().sessions() as session:
        instance = session.get(Instance, instance.id)
        done = session.get(HumanTask, row.id)
        open_rows = session.execute(
            select(HumanTask, User.id, User.name, User.email)
            .outerjoin(User, User.id == HumanTask.claimed_by)
            .where(HumanTask.instance_id == instance.id, HumanTask.state == "ready")
            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)).all()
        next_tasks = [task_summary(t, slug, instance.reference, instance.complaint_type,
                                   (uid, name, email) if uid is not None else None)
                      for t, uid, name, email in open_rows]
        return jsonify({
            "task": {"id": done.id, "state": done.state, "completed_at": iso(done.completed_at),
                     "completed_by": done.completed_by},
            "complaint": {"reference": instance.reference, "status": instance.status,
                          "lock_version": instance.lock_version, "closed_at": iso(instance.closed_at)},
            "next_tasks": next_tasks,
        })


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."

"""Tasks through the API: the list, one task, completing it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g, jsonify, request

from webapp.accounts import Membership
from webapp.db.models import HumanTask
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
        org_ids = queries.organisation_ids(session, slugs)
        found, total = queries.open_tasks(session, queries.viewers_of(member, org_ids),
                                          {oid: slug for slug, oid in org_ids.items()},
                                          role=request.args.get("role", ""), overdue=overdue, page=page,
                                          page_size=page_size)
    items = [task_summary(t.task, t.slug, t.reference, t.complaint_type, t.claimer) for t in found]
    return jsonify({"items": items, "total": total, "page": page, "page_size": page_size,
                    "pages": max(1, -(-total // page_size))})


def _task_for(member: Membership, task_id: int, *, with_view: bool = True) -> queries.OpenedTask:
    """The task and its complaint, if the caller may see it: the staff task page's rule
    (queries.open_task) in the task's organisation; else 404."""
    opened = queries.task_for_member(runtime(), member, task_id, with_view=with_view)
    if opened is None:
        raise ApiError(404, "Deze taak bestaat niet, of u heeft er geen toegang toe.")
    return opened


def may(member: Membership, slug: str, check: Callable) -> bool:
    """Need-to-know (webapp.web.queries): `check(session, viewer)` for the caller in `slug`."""
    if not member.roles_in(slug):
        return False
    viewer = queries.Viewer(runtime().organisation_id(slug), member.user_id, member.email, member.grants_in(slug))
    with runtime().sessions() as session:
        return check(session, viewer)


def _data_summary(data: dict[str, Any]) -> dict[str, Any]:
    summary = {k: data[k] for k in SUMMARY_KEYS if data.get(k) not in (None, "")}
    complainant = data.get("klager")
    if isinstance(complainant, dict):
        summary["klager"] = {k: complainant[k] for k in COMPLAINANT_KEYS if complainant.get(k) not in (None, "")}
    return jsonable(summary)


def _may_write(row: HumanTask, member: Membership, slug: str) -> bool:
    """Actor.may_work, the rule the runtime applies when the task is completed; an auditor never writes."""
    return not member.roles_in(slug) <= READ_ONLY_ROLES and actor(member, slug).may_work(row.role)


@bp.get("/tasks/<int:task_id>")
@authenticated
def task(task_id: int):
    member: Membership = g.member
    opened = _task_for(member, task_id)
    row, instance, slug = opened.row, opened.instance, opened.slug
    access.log_access(instance.organisation_id, instance.id, member.user_id, member.email, "api-taak")
    schema, ui_schema = staff.form_parts(row, instance)
    context = staff.task_context(opened)
    data = context["data"]
    claimer = opened.view.claimer if opened.view else None
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
        "can_complete": row.state == "ready" and _may_write(row, member, slug),
    })
    return jsonify(body)


@bp.post("/tasks/<int:task_id>/complete")
@authenticated
def complete(task_id: int):
    member: Membership = g.member
    body = json_body(WRITE_BODY_LIMIT)
    opened = _task_for(member, task_id, with_view=False)
    row, instance, slug = opened.row, opened.instance, opened.slug
    roles = member.roles_in(slug)
    if roles <= READ_ONLY_ROLES:
        raise ApiError(403, "Als auditor kunt u meekijken, maar niets wijzigen.")
    if not actor(member, slug).may_work(row.role):
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
        after = queries.after_completion(session, instance.id, row.id)
    done, instance = after.task, after.instance
    return jsonify({
        "task": {"id": done.id, "state": done.state, "completed_at": iso(done.completed_at),
                 "completed_by": done.completed_by},
        "complaint": {"reference": instance.reference, "status": instance.status,
                      "lock_version": instance.lock_version, "closed_at": iso(instance.closed_at)},
        "next_tasks": [task_summary(t, slug, instance.reference, instance.complaint_type, claimer)
                       for t, claimer in after.next_tasks],
    })


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."

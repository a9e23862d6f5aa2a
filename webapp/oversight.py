"""Oversight: the quality officer whom the procedure makes the overseer (SAMEN's
beleidsmedewerker kwaliteit "ziet erop toe", Kwartier's klachtenfunctionaris "bewaakt de
procedure", M.O.S.'s secretaris klachten, who keeps the central complaint register) sees every
open complaint and deadline of the organisation, and is told when a deadline passes unmet.

Who that is: the roles under `oversight:` in organisation.yaml when given (a role or a list),
else the roles whose description says they oversee the procedure or keep the register.
No Flask here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db.models import HumanTask, Instance, User
from webapp.runtime import clock
from webapp.runtime.organisations import OrganisationConfig

# "ziet erop toe", "toezicht", "bewaakt de procedure", "houdt de (centrale) klachtenregistratie bij"
_OVERSEES = re.compile(r"ziet\s+(er\s*)?op\s+toe|toezicht|bewaakt|klachtenregistratie\s+bij", re.IGNORECASE)
def _raw(config: OrganisationConfig) -> dict[str, Any]:
    """organisation.yaml as written (the parsed config keeps only what the runtime needs)."""
    return config.settings if isinstance(config.settings, dict) else {}


def overseer_roles(config: OrganisationConfig) -> frozenset[str]:
    raw = _raw(config)
    explicit = raw.get("oversight")
    if explicit:
        names = [explicit] if isinstance(explicit, str) else [str(r) for r in explicit]
        return frozenset(r for r in names if r in config.roles)
    roles = raw.get("roles") if isinstance(raw.get("roles"), Mapping) else {}
    found = set()
    for role in config.roles:
        spec = roles.get(role)
        description = str(spec.get("description", "")) if isinstance(spec, Mapping) else ""
        if _OVERSEES.search(description):
            found.add(role)
    return frozenset(found)


@dataclass(frozen=True)
class OpenDeadline:
    task_id: int
    name: str
    role: str | None
    role_label: str
    due_at: datetime | None
    holder: str | None  # who claimed it (name), None when it waits for anyone with the role
    reference: str
    overdue: bool


@dataclass(frozen=True)
class OpenComplaint:
    reference: str
    received_at: datetime
    channel: str | None
    location: str | None
    complaint_type: str | None
    registered_late: bool
    incident: bool
    next_due: datetime | None
    overdue: int


def open_work(session: Session, config: OrganisationConfig, org_id: int,
              limit: int = 500) -> tuple[list[OpenDeadline], list[OpenComplaint]]:
    """Every open task with a deadline or not (overdue first, then by due date) and every open
    complaint (the one with the most pressing deadline first)."""
    now = clock.now()
    rows = session.execute(
        select(HumanTask, Instance.reference, User.name)
        .join(Instance, Instance.id == HumanTask.instance_id)
        .outerjoin(User, User.id == HumanTask.claimed_by)
        .where(HumanTask.organisation_id == org_id, HumanTask.state == "ready", Instance.status == "running")
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id).limit(limit)).all()
    tasks = [OpenDeadline(t.id, t.name, t.role, config.roles.get(t.role or "", t.role or "geen rol"), t.due_at,
                          holder, reference, bool(t.due_at and t.due_at < now)) for t, reference, holder in rows]
    by_reference: dict[str, list[OpenDeadline]] = {}
    for task in tasks:
        by_reference.setdefault(task.reference, []).append(task)
    complaints = []
    for inst in session.scalars(select(Instance).where(Instance.organisation_id == org_id,
                                                       Instance.status == "running")
                                .order_by(Instance.received_at).limit(limit)):
        own = by_reference.get(inst.reference, [])
        dues = [t.due_at for t in own if t.due_at]
        complaints.append(OpenComplaint(inst.reference, inst.received_at, inst.channel, inst.location,
                                        inst.complaint_type, inst.registered_late, inst.incident_since is not None,
                                        min(dues) if dues else None, sum(t.overdue for t in own)))
    complaints.sort(key=lambda c: (-c.overdue, c.next_due is None, c.next_due or c.received_at))
    return tasks, complaints

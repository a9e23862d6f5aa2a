"""What the process owner's pages read: an organisation's versions, one version by id or number,
how many complaints run on each, and recent complaints whose data can fill a letter preview."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.db.models import DiagramVersion, Instance
from webapp.vocabulary import InstanceStatus


def versions(runtime, org_id: int) -> list[DiagramVersion]:
    """Newest first."""
    with runtime.sessions() as session:
        return list(session.scalars(select(DiagramVersion).where(DiagramVersion.organisation_id == org_id)
                                    .order_by(DiagramVersion.version.desc())))


def version_by_id(runtime, org_id: int, version_id: int) -> DiagramVersion | None:
    with runtime.sessions() as session:
        version = session.get(DiagramVersion, version_id)
    return version if version is not None and version.organisation_id == org_id else None


def version_by_number(runtime, org_id: int, number: int) -> DiagramVersion | None:
    with runtime.sessions() as session:
        return session.scalars(select(DiagramVersion).where(DiagramVersion.organisation_id == org_id,
                                                            DiagramVersion.version == number)).first()


def current_version(runtime, org_id: int) -> DiagramVersion | None:
    with runtime.sessions() as session:
        return session.scalars(select(DiagramVersion).where(DiagramVersion.organisation_id == org_id)
                               .order_by(DiagramVersion.version.desc()).limit(1)).first()


def running_per_version(runtime, org_id: int) -> dict[int, int]:
    with runtime.sessions() as session:
        return dict(session.execute(
            select(Instance.diagram_version_id, func.count())
            .where(Instance.organisation_id == org_id, Instance.status == InstanceStatus.RUNNING)
            .group_by(Instance.diagram_version_id)).all())


def running_count(runtime, org_id: int) -> int:
    return sum(running_per_version(runtime, org_id).values())


def letter_preview_complaints(runtime, org_id: int, limit: int = 20) -> list[Instance]:
    """Recent complaints whose data can fill a letter (not yet scrubbed under retention)."""
    with runtime.sessions() as session:
        return list(session.scalars(
            select(Instance).where(Instance.organisation_id == org_id, Instance.purged_at.is_(None),
                                   Instance.state != "").order_by(Instance.created_at.desc()).limit(limit)))

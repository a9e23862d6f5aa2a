"""`make run`'s demo is a living organisation (issue 13): relative to today, open complaints in
several states beside a closed history, two demo users per role, and dates that agree."""

from __future__ import annotations

from datetime import UTC

from click.testing import CliRunner
from sqlalchemy import func, select

from webapp.cli import main
from webapp.db.models import AuditEvent, DiagramVersion, HumanTask, Instance, Organisation, User, UserRole
from webapp.runtime import clock


def test_the_demo_is_alive_today_with_dates_that_agree(db_engine, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["load", "--demo-complaints", "9"])
    assert result.exit_code == 0, result.output
    now = clock.now()
    with db_engine.connect() as conn:
        instances = conn.execute(select(Instance.id, Instance.organisation_id, Instance.created_at,
                                        Instance.status)).all()
        first_version = conn.scalar(select(func.max(DiagramVersion.deployed_at)))
        open_tasks = conn.execute(select(HumanTask.due_at, HumanTask.created_at, HumanTask.organisation_id)
                                  .where(HumanTask.state == "ready")).all()
        per_role = conn.execute(select(UserRole.organisation_id, UserRole.role, func.count())
                                .group_by(UserRole.organisation_id, UserRole.role)).all()
        names = conn.scalars(select(User.name)).all()
        emails = set(conn.scalars(select(User.email)).all())
        actors = set(conn.scalars(select(AuditEvent.actor).distinct()).all())
        organisations = conn.scalar(select(func.count()).select_from(Organisation))

    def aware(moment):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    # A diagram version is older than every complaint that ran on it; no complaint lies in the future.
    assert all(aware(first_version) < aware(i.created_at) <= now for i in instances)
    # Every organisation: open complaints and closed ones; some arrived today or yesterday.
    for org_id in {i.organisation_id for i in instances}:
        mine = [i for i in instances if i.organisation_id == org_id]
        assert {i.status for i in mine} == {"running", "completed"}, org_id
        assert any((now - aware(i.created_at)).days <= 2 for i in mine), org_id
    assert len({i.organisation_id for i in instances}) == organisations == 5
    # Deadlines relative to today: some open tasks are overdue, some still to come.
    dues = [aware(t.due_at) for t in open_tasks if t.due_at]
    assert any(d < now for d in dues) and any(d > now for d in dues)
    # Two people per role, with names rather than addresses.
    assert per_role and all(count >= 2 for _, _, count in per_role)
    assert all("@" not in name and "(" not in name for name in names)
    # The demo's steps were taken by its demo users, whose names the timeline shows.
    assert actors - {"system"} and actors - {"system"} <= emails


def test_dates_in_a_scenario_move_with_the_complaint():
    from webapp.generate import _shift_dates

    data = {"datum_gebeurtenis": "2026-02-26", "klager": {"naam": "A"}, "steps": [{"datum_contact": "2026-03-03"}],
            "advance_to": "2026-03-09T09:00:00+01:00", "omschrijving": "Op 2026-02-26 viel hij."}
    assert _shift_dates(data, 10) == {"datum_gebeurtenis": "2026-03-08", "klager": {"naam": "A"},
                                      "steps": [{"datum_contact": "2026-03-13"}],
                                      "advance_to": "2026-03-09T09:00:00+01:00", "omschrijving": "Op 2026-02-26 viel hij."}

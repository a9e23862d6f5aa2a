"""An installation of the previous release, upgraded with `klachtroute db upgrade`, keeps
every complaint, version, draft and form in use, and goes on working.

The fixture is the database of release 0.1 (commit 5a4b0ab, Alembic revision 0006), filled
by that release's own code: `klachtroute load --demo-complaints 3`, ten complaints from
the public form, a diagram draft, a half-filled task form and a complaint whose timer
failed. It is stored as rows (tests/fixtures/release_0_1/database.json.gz) so that it
loads into SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, func, select, text

from webapp.cli import main
from webapp.db import migrate
from webapp.db.models import AuditEvent, DiagramDraft, DiagramVersion, HumanTask, Instance
from webapp.db.session import make_engine, make_session_factory
from webapp.runtime import audit, clock
from webapp.runtime.organisations import discover
from webapp.runtime.service import Runtime

from .conftest import FIXTURES

PREVIOUS = FIXTURES / "release_0_1" / "database.json.gz"


def _decode(value):
    if isinstance(value, dict) and set(value) == {"$datetime"}:
        return datetime.fromisoformat(value["$datetime"])
    return value


@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    """A database of its own (a file, or a PostgreSQL schema), not the suite's migrated one."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'previous.db'}"
        return
    schema = f"klachtroute_upgrade_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _install_previous_release(url: str) -> dict[str, list[dict]]:
    """The schema of revision 0006 with the previous release's rows in it."""
    engine = make_engine(url)
    migrate.upgrade(engine, "0006")
    tables = json.loads(gzip.decompress(PREVIOUS.read_bytes()))["tables"]
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as conn:
        for name, rows in tables.items():
            if rows:
                conn.execute(metadata.tables[name].insert(), [{k: _decode(v) for k, v in r.items()} for r in rows])
        if engine.dialect.name == "postgresql":  # as the release's own inserts would have left them
            for name, rows in tables.items():
                if rows and "id" in rows[0]:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                      f"(SELECT max(id) FROM {name}))"))
    engine.dispose()
    return tables


def test_the_previous_release_upgrades_and_keeps_everything(empty_database: str, monkeypatch):
    before = _install_previous_release(empty_database)
    monkeypatch.setenv("DATABASE_URL", empty_database)

    result = CliRunner().invoke(main, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    engine = make_engine(empty_database)
    try:
        sessions = make_session_factory(engine)
        with sessions() as s:
            for table, rows in before.items():
                assert s.scalar(text(f"SELECT count(*) FROM {table}")) == len(rows), table
            complaints = {i.reference: i for i in s.scalars(select(Instance))}
            old = {r["reference"]: r for r in before["instances"]}
            assert set(complaints) == set(old)
            for reference, row in old.items():
                assert (complaints[reference].state, complaints[reference].status) == (row["state"], row["status"])
            [draft] = s.scalars(select(DiagramDraft)).all()
            assert 'name="Klacht grondig onderzoeken"' in draft.bpmn_xml
            assert [d for d in s.scalars(select(HumanTask.draft)) if d] == [{"toelichting": "half ingevuld"}]
            # The complaint whose timer failed before the upgrade is an incident now.
            [failed] = [i for i in complaints.values() if i.last_error]
            assert failed.incident_since is not None and failed.incident_attempts == 1
            assert all(i.incident_since is None for i in complaints.values() if not i.last_error)
            for org_id in {r["organisation_id"] for r in before["audit_events"]}:
                checked, problems = audit.verify(s, org_id)
                assert problems == [] and checked > 0
            versions = s.scalars(select(DiagramVersion.id)).all()
            # Forms, letters and settings, read from the repository by the previous release, now travel
            # with every stored version and draft (migration 0013): the forms in use are among them.
            packaged = {v.id: v.files for v in s.scalars(select(DiagramVersion))}
            assert all(files and "organisation.yaml" in files for files in packaged.values())
            assert draft.files and "organisation.yaml" in draft.files
            open_forms = {(t.instance_id, t.form) for t in s.scalars(select(HumanTask).where(
                HumanTask.state == "ready", HumanTask.form.is_not(None)))}
            assert open_forms
            by_id = {i.id: i for i in complaints.values()}
            for instance_id, form in open_forms:
                assert f"forms/{form}" in packaged[by_id[instance_id].diagram_version_id]
            assert any(name.startswith("letters/") for files in packaged.values() for name in files)
        # The new runtime reads every version and every running complaint, and steps them on.
        runtime = Runtime(sessions, discover())
        for version_id in versions:
            assert runtime.diagram(version_id).process_id
            assert runtime.config_for_version(version_id).forms.names()
        running = [i for i in complaints.values() if i.status == "running"]
        assert running
        for instance in running:
            assert runtime.load(instance.id).ready_tasks() is not None
        latest = max(i.created_at for i in complaints.values())
        with clock.use_clock(clock.VirtualClock(latest + timedelta(days=400))):
            for _ in range(5):
                if runtime.fire_due_timers(limit=500).instances == 0:
                    break
        with sessions() as s:
            assert s.scalar(select(func.count()).where(AuditEvent.event_type == "timer_fired")) > sum(
                1 for e in before["audit_events"] if e["event_type"] == "timer_fired")
            new_ids = {i.id for i in s.scalars(select(Instance))}
        assert new_ids == {r["id"] for r in before["instances"]}
    finally:
        engine.dispose()

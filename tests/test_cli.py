"""The command line as `make run` uses it: load the organisations, demo users and demo
complaints into a database; a second load adds nothing."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select

from webapp.cli import main
from webapp.db.models import DiagramVersion, Instance, Organisation, User


def test_load_with_demo_users_and_complaints(db_engine, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    first = runner.invoke(main, ["load", "--demo-complaints", "2"])
    assert first.exit_code == 0, first.output
    assert "demo complaints: 10 added" in first.output
    assert "behandelaar@korein.demo" in first.output and "demo-wachtwoord" in first.output

    again = runner.invoke(main, ["load", "--demo-complaints", "2"])
    assert again.exit_code == 0 and "none added" in again.output
    with db_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Organisation)) == 5
        assert conn.scalar(select(func.count()).select_from(DiagramVersion)) == 5  # unchanged diagrams: no new version
        assert conn.scalar(select(func.count()).select_from(Instance)) == 10
        assert conn.scalar(select(func.count()).select_from(User)) >= 5 * 4

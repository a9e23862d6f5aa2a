"""The command line as `make run` uses it: load the organisations, demo users and demo
complaints into a database; a second load adds nothing. `klachtroute check` on files that
cannot be read answers in one Dutch line with an exit code."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from webapp.cli import main
from webapp.db.models import DiagramVersion, Instance, Organisation, User
from webapp.runtime.organisations import BPMN_ROOT

from .conftest import FIXTURES


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


@pytest.mark.parametrize(("damage", "message"), [
    (lambda text: text.replace("Klacht behandelen", "Klacht behandelen \xe9").encode("latin-1"),
     "het bestand is geen geldige UTF-8 (byte 0xE9 op regel"),
    (lambda text: (text + "<nog-een-wortel/>").encode("utf-8"), "het bestand is geen geldige XML: "),
    (lambda text: b"geen xml", "het bestand is geen geldige XML: "),
], ids=["latin-1", "two-roots", "not-xml"])
def test_check_of_an_unreadable_diagram_is_one_dutch_line_and_an_exit_code(tmp_path, damage, message):
    folder = tmp_path / "timers"
    shutil.copytree(FIXTURES / "timers", folder)
    diagram = folder / "timers.bpmn"
    diagram.write_bytes(damage(diagram.read_text(encoding="utf-8")))
    result = CliRunner().invoke(main, ["check", str(folder), "--forms", str(FIXTURES / "forms")])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # not a traceback
    [line] = result.output.splitlines()
    assert line.startswith(f"fout: {diagram}") and message in line


def test_check_of_an_organisation_file_that_is_not_utf8_is_a_dutch_line(tmp_path):
    folder = tmp_path / "timers"
    shutil.copytree(FIXTURES / "timers", folder)
    config = folder / "organisation.yaml"
    config.write_bytes(config.read_bytes() + "# Geëscaleerd\n".encode("latin-1"))
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.output.strip().startswith(f"fout: {config}: het bestand is geen geldige UTF-8")


def test_check_passes_the_organisations_as_they_are():
    result = CliRunner().invoke(main, ["check", str(BPMN_ROOT / "mos")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{BPMN_ROOT / 'mos'}: geen problemen"

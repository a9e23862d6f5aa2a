"""Procedure packages: a complaint runs on the forms, letters and settings of the version it started
on; every process reads versions from the database; export and import round-trip byte for byte;
the gate refuses a letter that names data the procedure never has. Real database, real engine."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html
from sqlalchemy import select

from webapp.cli import main as cli
from webapp.db.models import DiagramDraft, HumanTask, Instance, OutboxMessage
from webapp.db.session import make_session_factory
from webapp.runtime import package_io, packages
from webapp.runtime.actors import Actor
from webapp.runtime.errors import FormValidationError
from webapp.runtime.organisations import config_from_files, load_config
from webapp.runtime.service import Runtime
from webapp.scenarios import publish

from .conftest import PASSWORD, Browser

FIXTURE = Path(__file__).parent / "fixtures" / "package_org"
SLUG = "pakketorg"
FORM = "forms/pakket-behandelen-schema.json"
ELS = Actor("els@test.nl", SLUG, frozenset({"behandelaar"}))


@pytest.fixture
def pakket(runtime: Runtime):
    config = load_config(FIXTURE)
    runtime.organisations[SLUG] = config
    runtime.ensure_organisations()
    runtime.deploy(SLUG)
    return config


def version_two(config) -> dict[str, str]:
    """The same diagram; the form asks one more question and allows a shorter explanation; the
    letter is worded anew."""
    schema = json.loads(config.files[FORM])
    schema["properties"]["vervolg"] = {"type": "string", "title": "Welk vervolg is afgesproken?"}
    schema["properties"]["toelichting"]["maxLength"] = 12
    letter = config.files["letters/uitkomst.txt"].replace("Wij hebben uw klacht behandeld.",
                                                          "Versie twee: wij hebben uw klacht behandeld.")
    return {**config.files, FORM: json.dumps(schema, indent=2) + "\n", "letters/uitkomst.txt": letter}


def ready_task(runtime: Runtime, instance_id: int) -> HumanTask:
    with runtime.sessions() as s:
        return s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                 HumanTask.state == "ready")).one()


def letter_of(runtime: Runtime, instance_id: int) -> str:
    with runtime.sessions() as s:
        return s.scalars(select(OutboxMessage.body).where(OutboxMessage.instance_id == instance_id,
                                                          OutboxMessage.template == "uitkomst")).one()


def test_a_complaint_keeps_the_form_and_letters_of_the_version_it_started_on(runtime, pakket, app, make_user):
    old = runtime.start(SLUG, {"klager": {"naam": "A. de Vries", "email": "a@example.org"}})
    files = version_two(pakket)
    diagrams, rest = packages.split(files)
    done = publish.deploy(runtime, SLUG, diagrams["pakket.bpmn"], "pieter@test.nl", "vervolg gevraagd", {}, rest)
    assert done.created and done.version == 2
    assert {c["file"] for c in done.changes["files"]} == {FORM, "letters/uitkomst.txt"}
    new = runtime.start(SLUG, {"klager": {"naam": "B. Jansen", "email": "b@example.org"}})

    # The task page: the complaint on version 1 shows version 1's form.
    make_user("els@test.nl", f"{SLUG}:behandelaar")
    browser = Browser(app.test_client())
    browser.login("els@test.nl", PASSWORD)
    old_page = html.fromstring(browser.get(f"/{SLUG}/taken/{ready_task(runtime, old.instance_id).id}").get_data())
    new_page = html.fromstring(browser.get(f"/{SLUG}/taken/{ready_task(runtime, new.instance_id).id}").get_data())
    assert not old_page.xpath("//textarea[@name='vervolg']|//input[@name='vervolg']")
    assert new_page.xpath("//textarea[@name='vervolg']|//input[@name='vervolg']")

    # Validation: version 2's shorter limit does not reach the complaint on version 1.
    long_text = "Opgelost in een lang gesprek."
    with pytest.raises(FormValidationError):
        runtime.complete_task(new.instance_id, ready_task(runtime, new.instance_id).task_id, ELS,
                              {"opgelost": True, "toelichting": long_text})
    runtime.complete_task(old.instance_id, ready_task(runtime, old.instance_id).task_id, ELS,
                          {"opgelost": True, "toelichting": long_text})
    runtime.complete_task(new.instance_id, ready_task(runtime, new.instance_id).task_id, ELS,
                          {"opgelost": True, "toelichting": "Opgelost.", "vervolg": "Bellen"})

    # Letters: each complaint gets its own version's wording.
    assert "Versie twee" not in letter_of(runtime, old.instance_id)
    assert "Wij hebben uw klacht behandeld. Opgelost in een lang gesprek." in letter_of(runtime, old.instance_id)
    assert "Versie twee: wij hebben uw klacht behandeld." in letter_of(runtime, new.instance_id)


def test_a_second_app_instance_sees_a_version_the_first_published(runtime, pakket, db_engine):
    other = Runtime(make_session_factory(db_engine), {})  # another web process: no templates at all
    assert other.organisation(SLUG).forms.load("pakket-behandelen-schema.json")["properties"].keys() == \
        {"opgelost", "toelichting"}
    diagrams, rest = packages.split(version_two(pakket))
    publish.deploy(runtime, SLUG, diagrams["pakket.bpmn"], "pieter@test.nl", "vervolg gevraagd", {}, rest)
    deadline = time.monotonic() + 10  # a process trusts its idea of the current version for a second
    while "vervolg" not in other.organisation(SLUG).forms.load("pakket-behandelen-schema.json")["properties"]:
        assert time.monotonic() < deadline, "the other process never saw version 2"
        time.sleep(0.2)
    started = other.start(SLUG, {"klager": {"naam": "C"}})
    with other.sessions() as s:
        assert s.scalars(select(HumanTask.form).where(HumanTask.instance_id == started.instance_id)).one() == \
            "pakket-behandelen-schema.json"
    assert other.config_for_version(runtime.current_version_id(SLUG)).letters.texts["uitkomst"].startswith(
        "De uitkomst")


def test_export_then_import_round_trips_byte_identical(runtime, pakket, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KLACHTROUTE_ORGANISATION_DIRS", str(FIXTURE))
    runner = CliRunner()
    exported = runner.invoke(cli, ["package", "export", SLUG, str(tmp_path / "uit")])
    assert exported.exit_code == 0, exported.output
    first = packages.read_folder(tmp_path / "uit")
    assert first == pakket.files  # the stored version is the package as it was read
    imported = runner.invoke(cli, ["package", "import", str(tmp_path / "uit")])
    assert imported.exit_code == 0, imported.output
    assert "geen problemen gevonden" in imported.output
    with runtime.sessions() as s:
        draft_id = s.scalars(select(DiagramDraft.id).order_by(DiagramDraft.id.desc())).first()
    again = runner.invoke(cli, ["package", "export", SLUG, str(tmp_path / "weer"), "--draft", str(draft_id)])
    assert again.exit_code == 0, again.output
    one = {p.relative_to(tmp_path / "uit"): p.read_bytes() for p in (tmp_path / "uit").rglob("*") if p.is_file()}
    two = {p.relative_to(tmp_path / "weer"): p.read_bytes() for p in (tmp_path / "weer").rglob("*") if p.is_file()}
    assert one == two and len(one) == len(pakket.files)
    # Publishing what is already the current version stores nothing new.
    published = runner.invoke(cli, ["package", "import", str(tmp_path / "weer"), "--publish"])
    assert published.exit_code == 0 and "gelijk aan versie 1" in published.output


def test_an_export_folder_that_is_not_empty_is_refused(runtime, pakket, tmp_path):
    (tmp_path / "iets.txt").write_text("al hier")
    with pytest.raises(packages.PackageError, match="niet leeg"):
        packages.write_folder(package_io.version_files(runtime, SLUG), tmp_path)


def test_a_letter_naming_data_the_procedure_never_has_is_refused(runtime, pakket):
    files = dict(pakket.files)
    files["letters/uitkomst.txt"] = files["letters/uitkomst.txt"].replace("{{ toelichting }}",
                                                                        "{{ toelichtng }}")
    diagrams, rest = packages.split(files)
    problems = publish.check_draft(runtime, SLUG, diagrams["pakket.bpmn"], {}, rest)
    assert [(p.file, p.line) for p in problems] == [("letters/uitkomst.txt", 4)]
    assert "brief 'uitkomst'" in problems[0].message and "'toelichtng'" in problems[0].message
    with pytest.raises(Exception, match="toelichtng"):
        publish.deploy(runtime, SLUG, diagrams["pakket.bpmn"], "pieter@test.nl", "typfout", {}, rest)
    from webapp.db.models import DiagramVersion

    with runtime.sessions() as s:  # nothing was published: still version 1
        assert s.query(DiagramVersion).filter(DiagramVersion.id == runtime.current_version_id(SLUG)).one().version == 1
    assert config_from_files(files, slug=SLUG).letters.placeholders("uitkomst") >= {"toelichtng"}


def test_package_names_and_sizes_are_checked():
    for bad in ("../organisation.yaml", "/etc/passwd", "forms/a/b.json", "letters/x.exe", "notes.txt"):
        with pytest.raises(packages.PackageError):
            packages.check_name(bad)
    packages.check_name("letters/skar/voortgang.txt")
    with pytest.raises(packages.PackageError, match="geen organisation.yaml"):
        packages.check_files({"pakket.bpmn": "<x/>"})


def test_a_migrated_complaint_moves_to_the_whole_package_and_the_audit_says_what_else_changed(runtime, pakket):
    from webapp.db.models import AuditEvent
    from webapp.runtime import migration

    old = runtime.start(SLUG, {"klager": {"naam": "A. de Vries", "email": "a@example.org"}})
    diagrams, rest = packages.split(version_two(pakket))
    done = publish.deploy(runtime, SLUG, diagrams["pakket.bpmn"], "pieter@test.nl", "vervolg gevraagd", {}, rest)
    [result] = migration.migrate(runtime, [old.instance_id], done.version_id, "pieter@test.nl")
    assert result.moved, result.reasons
    with runtime.sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == old.instance_id,
                                                   AuditEvent.event_type == "migrated")).one()
    assert event.data["files"] == [f"changed: {FORM}", "changed: letters/uitkomst.txt"]
    # From now on the complaint is checked against version 2's form, and gets version 2's letter.
    with pytest.raises(FormValidationError):
        runtime.complete_task(old.instance_id, ready_task(runtime, old.instance_id).task_id, ELS,
                              {"opgelost": True, "toelichting": "Opgelost in een lang gesprek."})
    runtime.complete_task(old.instance_id, ready_task(runtime, old.instance_id).task_id, ELS, {"opgelost": True})
    assert "Versie twee" in letter_of(runtime, old.instance_id)


def test_a_letter_cannot_loop_or_grow_without_bound(runtime, pakket):
    files = dict(pakket.files)
    files["letters/uitkomst.txt"] += "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\n"
    diagrams, rest = packages.split(files)
    problems = publish.check_draft(runtime, SLUG, diagrams["pakket.bpmn"], {}, rest)
    assert [(p.file, p.line) for p in problems] == [("letters/uitkomst.txt", 8)]
    assert "een brief kan geen herhaling" in problems[0].message

    # A letter that would grow to gigabytes, slipped past the gate: the step fails for that one complaint.
    files = dict(pakket.files)
    files["letters/uitkomst.txt"] += "{{ (toelichting or '') * 100000000 }}\n"
    runtime.organisations[SLUG] = config_from_files(files, slug=SLUG)
    runtime.deploy(SLUG)
    started = runtime.start(SLUG, {"klager": {"naam": "A", "email": "a@example.org"}})
    healthy = runtime.start(SLUG, {"klager": {"naam": "B", "email": "b@example.org"}})
    with pytest.raises(Exception, match="te lang"):
        runtime.complete_task(started.instance_id, ready_task(runtime, started.instance_id).task_id, ELS,
                              {"opgelost": True, "toelichting": "lang"})
    with runtime.sessions() as s:
        assert not s.scalars(select(OutboxMessage).where(OutboxMessage.template == "uitkomst")).all()
        failed = s.get(Instance, started.instance_id)
        assert failed.incident_element == "Service_uitkomst" and "te lang" in failed.last_error
        assert s.get(Instance, healthy.instance_id).incident_kind is None
    runtime.complete_task(healthy.instance_id, ready_task(runtime, healthy.instance_id).task_id, ELS,
                          {"opgelost": True})  # no toelichting: the letter is short
    assert "Wij hebben uw klacht behandeld." in letter_of(runtime, healthy.instance_id)


def test_settings_with_yaml_aliases_are_refused():
    bomb = "slug: x\nname: &a [x, x]\nroles: &b [*a, *a]\n"
    with pytest.raises(packages.PackageError, match="verwijzingen"):
        packages.settings_of({"organisation.yaml": bomb})


def test_a_reference_prefix_of_another_organisation_is_refused(runtime, pakket, other_org):
    files = packages.with_identity(dict(pakket.files), reference_prefix=other_org.reference_prefix)
    diagrams, rest = packages.split(files)
    problems = publish.check_draft(runtime, SLUG, diagrams["pakket.bpmn"], {}, rest)
    assert [p.message for p in problems] == [
        f"het kenmerk {other_org.reference_prefix} is al in gebruik bij quickorg; klachtnummers moeten uniek zijn"]

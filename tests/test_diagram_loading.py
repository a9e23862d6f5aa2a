"""Diagrams from outside are rejected with the file, element id and line, before anything runs."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from webapp.db.models import AuditEvent, Base, Instance
from webapp.runtime.diagrams import parse_diagram
from webapp.runtime.errors import DiagramError
from webapp.runtime.service import Runtime

from .conftest import AMS, FIXTURES

GOOD = (FIXTURES / "timers" / "timers.bpmn").read_text()


def problems(xml: str, process_id: str = "test_timers"):
    with pytest.raises(DiagramError) as exc:
        parse_diagram(xml, "upload.bpmn", process_id)
    return exc.value.problems


def test_malformed_xml_names_file_and_line():
    broken = GOOD.replace('<bpmn:endEvent id="End_opgelost" name="Opgelost">',
                          '<bpmn:endEvent id="End_opgelost" name="Opgelost"', 1)
    [p] = problems(broken)
    assert p.file == "upload.bpmn" and "not well-formed" in p.message
    assert p.line == GOOD.splitlines().index('    <bpmn:endEvent id="End_opgelost" name="Opgelost">') + 2


def test_a_flow_to_a_missing_element_names_the_element_and_its_line():
    bad = GOOD.replace('<bpmn:sequenceFlow id="Flow_3" sourceRef="Service_oordeel" targetRef="End_opgelost"/>',
                       '<bpmn:sequenceFlow id="Flow_3" sourceRef="Service_oordeel" targetRef="Bestaat_niet"/>')
    [p] = problems(bad)
    line = next(i for i, text in enumerate(bad.splitlines(), 1) if 'id="Flow_3"' in text)
    assert (p.file, p.line, p.element_id) == ("upload.bpmn", line, "Flow_3")
    assert p.message == "targetRef points to 'Bestaat_niet', which does not exist"


def test_schema_violation_is_reported_with_its_line():
    bad = GOOD.replace('<bpmn:userTask id="Task_escalatie" name="Escalatie behandelen">',
                       '<bpmn:userTask id="Task_escalatie" name="Escalatie behandelen" onbekend="ja">')
    [p] = problems(bad)
    assert p.line == next(i for i, t in enumerate(bad.splitlines(), 1) if 'onbekend="ja"' in t)
    assert "onbekend" in p.message


def test_a_semantic_error_names_the_element_id_and_line():
    # A boundary event attached to nothing: only SpiffWorkflow's parser notices.
    bad = GOOD.replace('attachedToRef="Task_behandelen">\n      <bpmn:outgoing>Flow_i',
                       'attachedToRef="Geen_taak">\n      <bpmn:outgoing>Flow_i')
    [p] = problems(bad)
    assert p.element_id == "Message_intrekking"
    assert p.line == next(i for i, t in enumerate(bad.splitlines(), 1) if 'id="Message_intrekking"' in t)


def test_doctype_and_entities_are_refused():
    evil = GOOD.replace('<?xml version="1.0" encoding="UTF-8"?>',
                        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    [p] = problems(evil)
    assert "DOCTYPE is not allowed" in p.message


def test_an_unknown_process_id_is_named():
    [p] = problems(GOOD, process_id="bestaat_niet")
    assert "no process with id 'bestaat_niet'" in p.message and "test_timers" in p.message


def test_the_migration_matches_the_models(db_engine):
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_a_timer_whose_expression_fails_marks_that_complaint_and_spares_the_others(runtime: Runtime, vclock):
    good = runtime.start("testorg", {})
    bad = runtime.start("testorg", {})
    # Corrupt one complaint's stored deadline so that its timer cannot be read.
    with runtime.write_sessions.begin() as s:
        row = s.get(Instance, bad.instance_id)
        row.state = row.state.replace('"event_value":"2026-03-05T23:59:59+01:00"', '"event_value":"geen datum"')
    vclock.set(datetime(2026, 3, 6, 8, 0, tzinfo=AMS))
    result = runtime.fire_due_timers()
    assert (result.instances, result.timers, result.errors) == (2, 1, 1)
    with runtime.sessions() as s:
        broken = s.get(Instance, bad.instance_id)
        errors = s.scalars(select(AuditEvent).where(AuditEvent.event_type == "error")).all()
        assert s.get(Instance, good.instance_id).last_error is None
    assert broken.status == "running" and "geen datum" in broken.last_error
    assert broken.next_wakeup_at > vclock.now()  # retried later, not in a tight loop
    assert [e.instance_id for e in errors] == [bad.instance_id]


def test_static_checks_tolerate_xml_comments(test_org):
    from webapp.runtime.checks import check_organisation

    commented = GOOD.replace('<bpmn:startEvent id="Start_ontvangen"', '<!-- de klacht komt binnen -->\n    <bpmn:startEvent id="Start_ontvangen"')
    problems = check_organisation(test_org, xml=commented, lint=False)
    assert all("comment" not in p.message.lower() for p in problems)
    assert not [p for p in problems if "lies in no lane" in p.message]


def test_scenario_months_advance_keeps_the_day_or_takes_the_months_last_day(test_org):
    from webapp.runtime import clock
    from webapp.scenarios.runner import _Run

    for start, months, end in [((2026, 3, 12), 2, (2026, 5, 12)), ((2026, 1, 31), 1, (2026, 2, 28)),
                               ((2026, 11, 30), 3, (2027, 2, 28))]:
        virtual = clock.VirtualClock(datetime(*start, 9, 0, tzinfo=AMS))
        run = _Run(None, test_org, None, virtual)
        assert run._after({"months": months}) == datetime(*end, 9, 0, tzinfo=AMS)

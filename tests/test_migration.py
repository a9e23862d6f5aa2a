"""Moving running complaints to a new diagram version: which can move, which cannot and
why, the move itself (state, deadlines, inbox, audit), and what is left alone."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from webapp.db.models import AuditEvent, HumanTask, Instance, OutboxMessage
from webapp.runtime import audit
from webapp.runtime.errors import NotFound
from webapp.runtime.migration import migrate, preview
from webapp.runtime.service import Actor, Runtime
from webapp.scenarios.publish import deploy

from .conftest import AMS
from .test_deploy import draft

OWNER = "eigenaar@testorg.nl"
BEHANDELAAR = Actor("b@testorg.nl", "testorg", frozenset({"behandelaar"}))
DIRECTEUR = Actor("d@testorg.nl", "testorg", frozenset({"directeur"}))

# Version 2: a script task right after 'Klacht behandelen' (a step the waiting complaint has
# not reached yet), and new instructions on 'Escalatie behandelen'.
ADD_STEP_AFTER_BEHANDELEN = [
    ("<bpmn:flowNodeRef>Start_ontvangen</bpmn:flowNodeRef>",
     "<bpmn:flowNodeRef>Start_ontvangen</bpmn:flowNodeRef><bpmn:flowNodeRef>Script_vastleggen</bpmn:flowNodeRef>"),
    ('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_behandelen" targetRef="Gateway_opgelost"/>',
     '<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_behandelen" targetRef="Script_vastleggen"/>\n'
     '    <bpmn:sequenceFlow id="Flow_2b" sourceRef="Script_vastleggen" targetRef="Gateway_opgelost"/>'),
    ('<bpmn:exclusiveGateway id="Gateway_opgelost" name="Opgelost?" default="Flow_nee">\n'
     '      <bpmn:incoming>Flow_2</bpmn:incoming>',
     '<bpmn:scriptTask id="Script_vastleggen" name="Uitkomst vastleggen">\n'
     '      <bpmn:incoming>Flow_2</bpmn:incoming>\n      <bpmn:outgoing>Flow_2b</bpmn:outgoing>\n'
     '      <bpmn:script>uitkomst_vastgelegd = True</bpmn:script>\n    </bpmn:scriptTask>\n'
     '    <bpmn:exclusiveGateway id="Gateway_opgelost" name="Opgelost?" default="Flow_nee">\n'
     '      <bpmn:incoming>Flow_2b</bpmn:incoming>'),
]
NEW_ESCALATION_INSTRUCTIONS = [
    ('<spiffworkflow:property name="formJsonSchemaFilename" value="test-behandelen-schema.json"/>\n'
     '        </spiffworkflow:properties>\n      </bpmn:extensionElements>\n      <bpmn:incoming>Flow_e',
     '<spiffworkflow:property name="formJsonSchemaFilename" value="test-behandelen-schema.json"/>\n'
     '        </spiffworkflow:properties>\n'
     '        <spiffworkflow:instructionsForEndUser>Beslis over {{ referentie }}.</spiffworkflow:instructionsForEndUser>\n'
     '      </bpmn:extensionElements>\n      <bpmn:incoming>Flow_e'),
]
NEW_BEHANDELEN_INSTRUCTIONS = [
    ("Behandel klacht {{ referentie }}.", "Behandel klacht {{ referentie }} binnen vijf werkdagen."),
]


def _ready(runtime: Runtime, instance_id: int) -> list[HumanTask]:
    with runtime.sessions() as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.state == "ready")))


def _complete(runtime: Runtime, instance_id: int, actor: Actor, data: dict) -> None:
    [task] = _ready(runtime, instance_id)
    runtime.complete_task(instance_id, task.task_id, actor, data)


def _row(runtime: Runtime, instance_id: int) -> Instance:
    with runtime.sessions() as s:
        return s.get(Instance, instance_id)


def _events(runtime: Runtime, instance_id: int, event_type: str | None = None) -> list[AuditEvent]:
    with runtime.sessions() as s:
        query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        if event_type:
            query = query.where(AuditEvent.event_type == event_type)
        return list(s.scalars(query))


@pytest.fixture
def complaints(runtime: Runtime):
    """On version 1: one complaint waiting on 'Klacht behandelen', one that completed it and
    works on 'Escalatie behandelen', one withdrawn (closed)."""
    waiting = runtime.start("testorg", {"klager": {"naam": "A"}}).instance_id
    escalated = runtime.start("testorg", {"klager": {"naam": "B"}}).instance_id
    _complete(runtime, escalated, BEHANDELAAR, {"opgelost": False})
    closed = runtime.start("testorg", {"klager": {"naam": "C"}}).instance_id
    runtime.send_message(closed, "klacht_ingetrokken", {"reden": "opgelost"}, BEHANDELAAR)
    assert [t.bpmn_id for t in _ready(runtime, escalated)] == ["Task_escalatie"]
    assert _row(runtime, closed).status == "completed"
    return {"waiting": waiting, "escalated": escalated, "closed": closed}


@pytest.fixture
def version2(runtime: Runtime, complaints) -> int:
    result = deploy(runtime, "testorg", draft(*ADD_STEP_AFTER_BEHANDELEN, *NEW_ESCALATION_INSTRUCTIONS), OWNER,
                    "uitkomst vastleggen; instructies escalatie")
    assert result.version == 2
    return result.version_id


ESCALATION_STARTED = "taak 'Escalatie behandelen' (Task_escalatie) is al gestart en is gewijzigd (eigenschappen)"
BEHANDELEN_DONE = "taak 'Klacht behandelen' (Task_behandelen) is al afgerond en is gewijzigd (vervolgstappen)"


def test_preview_says_which_complaints_can_move_and_why_not(runtime: Runtime, complaints, version2):
    on_new = runtime.start("testorg", {"klager": {"naam": "D"}}).instance_id  # already on version 2
    candidates = {c.instance_id: c for c in preview(runtime, "testorg", version2)}
    assert set(candidates) == {complaints["waiting"], complaints["escalated"]}  # not the closed one, nor D
    assert on_new not in candidates

    waiting = candidates[complaints["waiting"]]
    assert (waiting.reference, waiting.from_version, waiting.can_move, waiting.reasons) == (
        "TEST-2026-0001", 1, True, [])
    escalated = candidates[complaints["escalated"]]
    assert (escalated.from_version, escalated.can_move) == (1, False)
    assert escalated.reasons == [BEHANDELEN_DONE, ESCALATION_STARTED]


def test_migrate_moves_one_and_refuses_the_other_untouched(runtime: Runtime, complaints, version2, vclock):
    waiting, escalated = complaints["waiting"], complaints["escalated"]
    wakeup = _row(runtime, waiting).next_wakeup_at
    [task_before] = _ready(runtime, waiting)
    untouched = _row(runtime, escalated)
    events_before = len(_events(runtime, escalated))

    moved, refused = migrate(runtime, [waiting, escalated], version2, OWNER)

    assert (moved.instance_id, moved.moved, moved.from_version, moved.to_version, moved.reasons) == (
        waiting, True, 1, 2, [])
    assert (refused.instance_id, refused.moved, refused.reasons) == (
        escalated, False, [BEHANDELEN_DONE, ESCALATION_STARTED])

    row = _row(runtime, waiting)
    assert row.diagram_version_id == version2 and row.status == "running"
    assert row.next_wakeup_at == wakeup  # the deadlines already running are kept
    [task_after] = _ready(runtime, waiting)
    assert (task_after.id, task_after.task_id, task_after.bpmn_id) == (task_before.id, task_before.task_id,
                                                                        "Task_behandelen")
    [event] = _events(runtime, waiting, "migrated")
    assert (event.actor, event.data, event.occurred_at) == (OWNER, {"from_version": 1, "to_version": 2, "files": []},
                                                            vclock.now())

    after = _row(runtime, escalated)
    assert (after.state, after.lock_version, after.diagram_version_id, after.next_wakeup_at) == (
        untouched.state, untouched.lock_version, untouched.diagram_version_id, untouched.next_wakeup_at)
    assert len(_events(runtime, escalated)) == events_before

    # The moved complaint continues on the new version: through the new step to its end.
    _complete(runtime, waiting, BEHANDELAAR, {"opgelost": True})
    row = _row(runtime, waiting)
    assert row.status == "completed"
    passed = [e.bpmn_id for e in _events(runtime, waiting) if e.bpmn_id]
    assert passed.index("Task_behandelen") < passed.index("Script_vastleggen") < passed.index("Service_oordeel")
    assert runtime.load(waiting).workflow.last_task.data["uitkomst_vastgelegd"] is True
    # The one left behind continues on its own version.
    _complete(runtime, escalated, DIRECTEUR, {"opgelost": True})
    assert _row(runtime, escalated).status == "completed"
    assert "Script_vastleggen" not in {e.bpmn_id for e in _events(runtime, escalated)}

    assert preview(runtime, "testorg", version2) == []
    with runtime.sessions() as s:
        checked, problems = audit.verify(s, runtime.organisation_id("testorg"))
    assert checked > 0 and problems == []


def test_a_complaint_working_on_a_changed_task_cannot_move(runtime: Runtime, complaints):
    version = deploy(runtime, "testorg", draft(*NEW_BEHANDELEN_INSTRUCTIONS), OWNER, "instructies").version_id
    candidates = {c.instance_id: c for c in preview(runtime, "testorg", version)}
    assert candidates[complaints["waiting"]].reasons == [
        "taak 'Klacht behandelen' (Task_behandelen) is al gestart en is gewijzigd (eigenschappen)"]
    assert candidates[complaints["escalated"]].reasons == [
        "taak 'Klacht behandelen' (Task_behandelen) is al afgerond en is gewijzigd (eigenschappen)"]
    state = _row(runtime, complaints["waiting"]).state
    [result] = migrate(runtime, [complaints["waiting"]], version, OWNER)
    assert not result.moved and result.reasons == candidates[complaints["waiting"]].reasons
    assert _row(runtime, complaints["waiting"]).state == state
    assert _events(runtime, complaints["waiting"], "migrated") == []


def test_a_stored_deadline_is_kept_not_computed_again(runtime: Runtime, complaints, version2, vclock):
    """Moving resets the open tasks; their stored moments (computed when the step started,
    possibly from `now_iso()`) must survive that."""
    waiting = complaints["waiting"]
    with runtime.write_sessions.begin() as s:
        row = s.get(Instance, waiting)
        assert '"event_value":"2026-03-05T23:59:59+01:00"' in row.state
        row.state = row.state.replace('"event_value":"2026-03-05T23:59:59+01:00"',
                                      '"event_value":"2026-03-04T12:00:00+01:00"')
    vclock.set(datetime(2026, 3, 3, 10, 0, tzinfo=AMS))
    [result] = migrate(runtime, [waiting], version2, OWNER)
    assert result.moved
    assert _row(runtime, waiting).next_wakeup_at == datetime(2026, 3, 4, 12, 0, tzinfo=AMS)


def test_a_deadline_that_passed_before_the_move_fires_with_it(runtime: Runtime, complaints, version2, vclock):
    waiting = complaints["waiting"]
    vclock.set(datetime(2026, 3, 6, 8, 0, tzinfo=AMS))  # the reminder was due on the 5th; no sweep ran
    [result] = migrate(runtime, [waiting], version2, OWNER)
    assert result.moved
    events = [e.event_type for e in _events(runtime, waiting)]
    assert events.index("migrated") < events.index("timer_fired")
    [fired] = _events(runtime, waiting, "timer_fired")
    assert fired.bpmn_id == "Timer_herinnering"
    with runtime.sessions() as s:
        notified = s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.instance_id == waiting,
                                                                   OutboxMessage.kind == "notification",
                                                                   OutboxMessage.template.is_(None))).all()
    assert notified == ["role:behandelaar"]
    row = _row(runtime, waiting)
    assert row.next_wakeup_at == datetime(2026, 3, 9, 23, 59, 59, tzinfo=AMS)  # the escalation
    assert [t.bpmn_id for t in _ready(runtime, waiting)] == ["Task_behandelen"]


def test_what_cannot_be_moved_is_refused_with_a_reason(runtime: Runtime, complaints, version2, other_org):
    on_new = runtime.start("testorg", {}).instance_id
    results = {r.instance_id: r for r in migrate(runtime, [complaints["closed"], on_new, 999999], version2, OWNER)}
    assert results[complaints["closed"]].reasons == ["deze klacht is afgesloten"]
    assert results[on_new].reasons == ["deze klacht staat al op versie 2"]
    assert results[999999].reasons == ["deze klacht bestaat niet bij deze organisatie"]
    assert not any(r.moved for r in results.values())
    quick = runtime.start("quickorg", {}).instance_id
    [foreign] = migrate(runtime, [quick], version2, OWNER)
    assert foreign.reasons == ["deze klacht bestaat niet bij deze organisatie"]
    with pytest.raises(NotFound):
        preview(runtime, "quickorg", version2)
    with pytest.raises(NotFound):
        migrate(runtime, [complaints["waiting"]], 999999, OWNER)


EXTRA_REMINDER = [
    ("<bpmn:flowNodeRef>Start_ontvangen</bpmn:flowNodeRef>",
     "<bpmn:flowNodeRef>Start_ontvangen</bpmn:flowNodeRef><bpmn:flowNodeRef>Timer_extra</bpmn:flowNodeRef>"
     "<bpmn:flowNodeRef>End_extra</bpmn:flowNodeRef>"),
    ('<bpmn:endEvent id="End_ingetrokken"',
     '<bpmn:boundaryEvent id="Timer_extra" name="1 werkdag verstreken" cancelActivity="false" '
     'attachedToRef="Task_behandelen"><bpmn:outgoing>Flow_x</bpmn:outgoing><bpmn:timerEventDefinition id="TimerDef_x">'
     '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">working_days_after(1, ontvangen_op)</bpmn:timeDate>'
     '</bpmn:timerEventDefinition></bpmn:boundaryEvent>'
     '<bpmn:endEvent id="End_extra" name="Extra herinnerd"><bpmn:incoming>Flow_x</bpmn:incoming></bpmn:endEvent>'
     '<bpmn:sequenceFlow id="Flow_x" sourceRef="Timer_extra" targetRef="End_extra"/>'
     '<bpmn:endEvent id="End_ingetrokken"'),
]
WITHOUT_REMINDER = [
    ('<bpmn:boundaryEvent id="Timer_herinnering" name="3 werkdagen verstreken" cancelActivity="false" '
     'attachedToRef="Task_behandelen">', '<bpmn:boundaryEvent id="Timer_herinnering" name="3 werkdagen verstreken" '
     'cancelActivity="false" attachedToRef="Task_escalatie">'),
]


@pytest.mark.parametrize(("edits", "reasons"), [
    (EXTRA_REMINDER, ["taak 'Klacht behandelen' (Task_behandelen) is al gestart en is gewijzigd "
                      "(grensgebeurtenissen)"]),
    (WITHOUT_REMINDER, ["taak 'Klacht behandelen' (Task_behandelen) is al gestart en is gewijzigd "
                        "(grensgebeurtenissen)",
                        "termijn '3 werkdagen verstreken' (Timer_herinnering) loopt al en is gewijzigd "
                        "(voorgaande stappen)"]),
], ids=["reminder-added", "reminder-moved"])
def test_changed_boundary_events_of_the_open_task_block_the_move(runtime: Runtime, complaints, edits, reasons):
    version = runtime.deploy("testorg", draft(*edits))  # checked elsewhere; here only the move matters
    candidates = {c.instance_id: c for c in preview(runtime, "testorg", version)}
    assert candidates[complaints["waiting"]].reasons == reasons

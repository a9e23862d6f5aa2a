"""SpiffWorkflow wires an event subprocess into the process spec when it fires. Specs are
shared between complaints, so one complaint's withdrawal must not change another's run."""

from __future__ import annotations

from sqlalchemy import select

from webapp.db.models import HumanTask, Instance
from webapp.runtime.organisations import BPMN_ROOT
from webapp.runtime.service import Actor, Runtime

DATA = {"klager": {"naam": "A. Bakker", "email": "a@example.nl", "relatie": "client"}, "anoniem": False,
        "soort": "klacht", "locatie": "Team Oost", "datum_gebeurtenis": "2026-02-23", "omschrijving": "Te laat.",
        "kanaal": "mondeling"}
SATISFIED = {"datum_melding": "2026-03-02", "gemeld_bij": "Sanne", "team_medewerker": "Team Oost",
             "datum_gebeurtenis": "2026-02-23", "locatie": "Thuis", "omschrijving": "Te laat.",
             "aard_klacht": "bejegening en communicatie", "gesprek_medewerker_datum": "2026-03-02",
             "gesprek_medewerker_aanwezigen": "klant, Sanne",
             "gesprek_medewerker_verloop": "Excuses.", "uitkomst_gesprek_medewerker": "Vaste tijd.",
             "maatregelen_medewerker": "Bellen bij vertraging.", "klant_gewezen_op_regeling": True,
             "klant_tevreden_medewerker": True}
MEDEWERKER = Actor("sanne@kwartier.nl", "kwartier", frozenset({"medewerker"}))


def first_task(runtime: Runtime, instance_id: int) -> HumanTask:
    with runtime.sessions() as s:
        return s.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready",
                                                HumanTask.role == "medewerker"))


def status(runtime: Runtime, instance_id: int) -> str:
    with runtime.sessions() as s:
        return s.get(Instance, instance_id).status


def test_one_complaints_event_subprocess_leaves_the_others_alone(runtime: Runtime, add_organisation):
    add_organisation(BPMN_ROOT / "kwartier")
    helped = runtime.start("kwartier", DATA)
    plain = runtime.start("kwartier", DATA)
    # The client engages the klachtenfunctionaris for the first complaint: its event subprocess fires.
    runtime.send_message(helped.instance_id, "klachtenfunctionaris_ingeschakeld", {"door": "klant"},
                         Actor("kf@kwartier.nl", "kwartier", frozenset({"klachtenfunctionaris"})))

    # The second complaint, and a third started afterwards, still end when their main flow ends.
    later = runtime.start("kwartier", DATA)
    for started in (plain, later):
        runtime.complete_task(started.instance_id, first_task(runtime, started.instance_id).task_id, MEDEWERKER,
                              SATISFIED)
        assert status(runtime, started.instance_id) == "completed"

    # The first one waits for the klachtenfunctionaris's task, also after a restore from the database.
    runtime.complete_task(helped.instance_id, first_task(runtime, helped.instance_id).task_id, MEDEWERKER, SATISFIED)
    assert status(runtime, helped.instance_id) == "running"
    with runtime.sessions() as s:
        kf_task = s.scalar(select(HumanTask).where(HumanTask.instance_id == helped.instance_id,
                                                   HumanTask.state == "ready"))
    assert kf_task.role == "klachtenfunctionaris"

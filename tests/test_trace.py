"""The trace of a complaint (webapp.trace and the /spoor page), on Korein Kinderplein's real
diagram: element states and flows taken from the task tree, the steps with who, when, the time
in between and the deadlines, after retention too; the page for the organisation's auditor, a
404 for another organisation, and once in headless Chromium with bpmn-js drawing the markers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from lxml import etree, html
from sqlalchemy import select

from webapp.db.models import HumanTask, Instance
from webapp.runtime.forms import FormCatalog
from webapp.runtime.organisations import BPMN_ROOT, load_config
from webapp.runtime.retention import run_retention
from webapp.runtime.service import Actor, Runtime
from webapp.trace import build_trace, dutch_duration

from .conftest import AMS, PASSWORD

KOREIN_XML = (BPMN_ROOT / "korein" / "klantreactieprocedure.bpmn").read_bytes()
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"

MIA = Actor("mia@korein.nl", "korein", frozenset({"betrokken_manager"}))
BRAM = Actor("bram@korein.nl", "korein", frozenset({"behandelaar"}))
DIRK = Actor("dirk@korein.nl", "korein", frozenset({"directeur"}))

# Form data as in bpmn/korein/scenarios/.
COMPLAINT = {
    "klager": {"naam": "Sanne van den Heuvel", "email": "sanne@example.nl", "relatie": "ouder"},
    "anoniem": False, "soort": "klacht", "locatie": "Kinderdagverblijf De Kleine Wereld, Eindhoven",
    "omschrijving": "Mijn zoon heeft twee middagen zonder jas buiten gespeeld terwijl het vroor.", "kanaal": "website",
}
BEOORDELEN = {"besproken_met_betrokkene": True, "aard_klacht": "communicatie en bejegening", "ernstig": False,
              "toelichting_ernst": "Geen groot risico.",
              "behandelaar_naam": "Marieke Janssen", "behandelaar_functie": "Leidinggevende van de locatie"}
BEHANDELEN = {"gesprek_klager_op": "2026-03-05", "bevindingen": "Niet gecontroleerd of alle kinderen een jas aanhadden.",
              "voorgestelde_oplossing": "Vaste controle bij de deur.", "oplossing_voorgesteld_op": "2026-03-12"}
TEVREDEN = {"contact_klager_op": "2026-03-13", "contactwijze": "Telefonisch", "tevreden_oplossing": True,
            "tevreden_proces": True, "afspraken": "De tweede medewerker controleert de jassen.",
            "termijn_maatregelen": "2026-03-16", "verbetering_voorstellen": False}
NIET_TEVREDEN = {**TEVREDEN, "tevreden_oplossing": False, "tevreden_proces": False,
                 "toelichting_tevredenheid": "Veel te laat afgehandeld."}
ESCALATIE = {"oorzaak_overschrijding": "De behandelaar was ziek.", "oplossing_directeur": "De dagdelen worden gecrediteerd.",
             "oplossing_directeur_op": "2026-05-08"}
GESCHIL = {"uitspraak_geschillencommissie": "Deels gegrond", "uitspraak_datum": "2026-10-19",
           "maatregelen_na_uitspraak": "Vergoeding van 150 euro."}


@pytest.fixture
def korein(runtime: Runtime):
    """Korein Kinderplein beside the test organisation, with the real forms of forms/."""
    config = load_config(BPMN_ROOT / "korein")
    runtime.organisations[config.slug] = config
    runtime.forms = FormCatalog()
    runtime.ensure_organisations()
    runtime.deploy(config.slug)
    return config


# -- driving a complaint -----------------------------------------------------------------


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


def complete(runtime: Runtime, instance_id: int, name: str, actor: Actor, data: dict) -> None:
    with runtime.sessions() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready",
                                                HumanTask.name == name))
    assert task is not None, f"'{name}' is not ready"
    runtime.complete_task(instance_id, task.task_id, actor, data)


def advance_to(runtime: Runtime, vclock, target: datetime) -> None:
    """Fire each timer at its own moment, as the worker would."""
    while (due := runtime.next_wakeup_at()) is not None and due < target:
        vclock.set(due + timedelta(seconds=1))
        runtime.fire_due_timers()
    vclock.set(target)
    runtime.fire_due_timers()


def quick_complaint(runtime: Runtime, vclock) -> int:
    """'Snel opgelost' (basis.yaml): every deadline met, the complainant satisfied."""
    vclock.set(at(2026, 3, 2, 9, 15))
    instance_id = runtime.start("korein", COMPLAINT, complaint_type="klacht", location=COMPLAINT["locatie"]).instance_id
    vclock.set(at(2026, 3, 2, 13, 15))
    complete(runtime, instance_id, "Klantreactie beoordelen", MIA, BEOORDELEN)
    vclock.set(at(2026, 3, 12, 13, 15))
    complete(runtime, instance_id, "Klantreactie behandelen", BRAM, BEHANDELEN)
    vclock.set(at(2026, 3, 13, 15, 45))
    complete(runtime, instance_id, "Tevredenheid en afspraken bespreken", BRAM, TEVREDEN)
    return instance_id


def escalated_complaint(runtime: Runtime, vclock) -> int:
    """The six weeks pass (termijnen.yaml, around Bevrijdingsdag): the reminder after three weeks, the
    interrupting timer after six takes the task from the behandelaar to the directeur; the complainant is
    not satisfied and the procedure waits for a dispute (or twelve months)."""
    vclock.set(at(2026, 3, 24, 10, 0))
    instance_id = runtime.start("korein", COMPLAINT, complaint_type="klacht").instance_id
    vclock.set(at(2026, 3, 25, 10, 0))
    complete(runtime, instance_id, "Klantreactie beoordelen", MIA, BEOORDELEN)
    advance_to(runtime, vclock, at(2026, 5, 7, 9, 0))
    complete(runtime, instance_id, "Afhandeling na overschrijding termijn", DIRK, ESCALATIE)
    vclock.set(at(2026, 5, 11, 11, 30))
    complete(runtime, instance_id, "Tevredenheid en afspraken bespreken", BRAM, NIET_TEVREDEN)
    return instance_id


# -- the diagram's XML ---------------------------------------------------------------------


def flows_in_xml() -> dict[str, tuple[str, str]]:
    root = etree.fromstring(KOREIN_XML)
    return {f.get("id"): (f.get("sourceRef"), f.get("targetRef")) for f in root.iter(f"{BPMN}sequenceFlow")}


def drawn_in_xml() -> tuple[set[str], set[str]]:
    """(ids with a BPMNShape, ids with a BPMNEdge): what bpmn-js draws."""
    root = etree.fromstring(KOREIN_XML)
    return ({s.get("bpmnElement") for s in root.iter(f"{BPMNDI}BPMNShape")},
            {e.get("bpmnElement") for e in root.iter(f"{BPMNDI}BPMNEdge")})


def flows_between(elements: set[str]) -> set[str]:
    return {fid for fid, (src, dst) in flows_in_xml().items() if src in elements and dst in elements}


def steps_of(trace) -> list[tuple]:
    return [(s.kind, s.name, s.actor, s.after_text, s.deadline) for s in trace.steps]


QUICK_ELEMENTS = {
    "Start_klantreactie", "Gateway_soort", "Task_beoordelen", "Gateway_ernstig", "Gateway_behandelaar_bekend",
    "Service_brief_wie_behandelt", "Service_registreren_start", "Task_behandelen", "Gateway_oplossing_voorgesteld",
    "Service_oplossing_registreren", "Task_tevredenheid", "Service_maatregel_afspraken", "Service_brief_afspraken",
    "Service_sluiten",
    "Gateway_na_sluiting", "Gateway_tevreden", "End_tevreden", "Gateway_verbetering_klacht", "End_gesloten",
}
QUICK_FLOWS = {
    "Flow_start", "Flow_soort_klacht", "Flow_beoordelen_ernst", "Flow_ernstig_nee", "Flow_brief_wie",
    "Flow_registreren_start", "Flow_naar_behandelen", "Flow_behandeld", "Flow_oplossing_registreren",
    "Flow_naar_tevredenheid", "Flow_brief_afspraken", "Flow_Service_maatregel_afspraken", "Flow_sluiten",
    "Flow_na_sluiting", "Flow_naar_tevreden",
    "Flow_naar_verbetering_klacht", "Flow_tevreden_ja", "Flow_verbetering_klacht_nee",
}


# -- build_trace ---------------------------------------------------------------------------


def test_dutch_durations():
    assert dutch_duration(timedelta(days=2, hours=3, minutes=10)) == "2 dagen 3 uur"
    assert dutch_duration(timedelta(days=1)) == "1 dag"
    assert dutch_duration(timedelta(hours=3, minutes=15)) == "3 uur 15 minuten"
    assert dutch_duration(timedelta(minutes=1)) == "1 minuut"
    assert dutch_duration(timedelta(seconds=20)) == "minder dan een minuut"


def test_the_quick_path_all_deadlines_met_and_the_same_after_retention(runtime: Runtime, vclock, korein):
    vclock.set(at(2026, 3, 2, 9, 15))
    started = runtime.start("korein", COMPLAINT).instance_id
    first = build_trace(runtime, started)
    assert first.completed == {"Start_klantreactie", "Gateway_soort"}
    assert first.active == {"Task_beoordelen", "Timer_beoordelen_week"}
    assert first.waiting == {"Timer_beoordelen_week"}
    assert first.cancelled == set()
    assert first.flows_taken == {"Flow_start", "Flow_soort_klacht"}
    assert (first.diagram.version, first.diagram.deployed_by) == (1, "system")
    assert first.diagram.bpmn_xml.encode() == KOREIN_XML

    instance_id = quick_complaint(runtime, vclock)
    trace = build_trace(runtime, instance_id)
    assert trace.status == "completed"
    assert trace.completed == QUICK_ELEMENTS
    assert trace.active == set() and trace.cancelled == set()
    # Boundary timers that never fired are no part of the path: neither done nor cut off.
    assert "Timer_streeftermijn" not in trace.completed | trace.cancelled
    assert trace.flows_taken == QUICK_FLOWS
    assert trace.flows_taken == flows_between(QUICK_ELEMENTS)  # every flow between two elements that ran
    assert {"Flow_ernstig_ja", "Flow_soort_compliment", "Flow_tevreden_nee"}.isdisjoint(trace.flows_taken)

    assert steps_of(trace) == [
        ("ontvangen", "Klacht ontvangen", "system", "", None),
        ("taak", "Klantreactie beoordelen", "mia@korein.nl", "4 uur", "gehaald"),
        ("brief", "Brief: wie behandelt uw reactie", "system", "minder dan een minuut", None),
        ("taak", "Klantreactie behandelen", "bram@korein.nl", "10 dagen", "gehaald"),
        ("taak", "Tevredenheid en afspraken bespreken", "bram@korein.nl", "1 dag 2 uur", None),
        ("brief", "Brief: bevestiging afspraken", "system", "minder dan een minuut", None),
        ("afgesloten", "Klacht afgesloten", "system", "minder dan een minuut", None),
    ]
    beoordelen, behandelen = trace.steps[1], trace.steps[3]
    assert beoordelen.due_at == at(2026, 3, 9, 23, 59, 59) and beoordelen.bpmn_id == "Task_beoordelen"
    assert behandelen.due_at == at(2026, 3, 23, 23, 59, 59)  # its own target: the aim of three weeks
    assert behandelen.open_for == timedelta(days=10)
    assert trace.steps[2].detail == "aan de klager (wie_behandelt)"

    # Twenty-five months on, retention removes the personal data; the trace is unchanged.
    vclock.set(at(2028, 5, 1, 9, 0))
    assert sum(r.purged for r in run_retention(runtime)) == 1
    assert "omschrijving" not in runtime.load(instance_id).workflow.data
    purged = build_trace(runtime, instance_id)
    assert purged.purged_at is not None
    assert (purged.completed, purged.active, purged.cancelled, purged.flows_taken) == (
        trace.completed, trace.active, trace.cancelled, trace.flows_taken)
    assert steps_of(purged) == steps_of(trace)


ESCALATED_ELEMENTS = {
    "Start_klantreactie", "Gateway_soort", "Task_beoordelen", "Gateway_ernstig", "Gateway_behandelaar_bekend",
    "Service_brief_wie_behandelt", "Service_registreren_start",
    "Timer_streeftermijn", "Service_herinnering_behandelaar", "End_behandelaar_herinnerd",
    "Timer_wettelijke_termijn", "Service_escalatie_directeur", "Service_brief_termijn", "Task_afhandeling_escalatie",
    "Gateway_oplossing_voorgesteld", "Service_oplossing_registreren", "Task_tevredenheid",
    "Service_maatregel_afspraken", "Service_brief_afspraken", "Service_sluiten", "Gateway_na_sluiting", "Gateway_tevreden", "Service_niet_tevreden",
    "Gateway_verbetering_klacht", "End_gesloten",
}


def test_the_six_weeks_pass_the_task_is_cut_off_and_escalated(runtime: Runtime, vclock, korein):
    vclock.set(at(2026, 3, 24, 10, 0))
    instance_id = runtime.start("korein", COMPLAINT).instance_id
    vclock.set(at(2026, 3, 25, 10, 0))
    complete(runtime, instance_id, "Klantreactie beoordelen", MIA, BEOORDELEN)
    advance_to(runtime, vclock, at(2026, 5, 6, 12, 0))
    halfway = build_trace(runtime, instance_id)
    # The reminder fired and ran its own little branch; the task is still open.
    assert {"Timer_streeftermijn", "Service_herinnering_behandelaar", "End_behandelaar_herinnerd"} <= halfway.completed
    assert halfway.active == {"Task_behandelen", "Timer_wettelijke_termijn", "Message_ingetrokken"}
    assert halfway.waiting == {"Timer_wettelijke_termijn", "Message_ingetrokken"}
    assert {"Flow_naar_behandelen", "Flow_streeftermijn", "Flow_streeftermijn_einde"} <= halfway.flows_taken
    assert "Flow_escalatie" not in halfway.flows_taken

    advance_to(runtime, vclock, at(2026, 5, 7, 9, 0))
    complete(runtime, instance_id, "Afhandeling na overschrijding termijn", DIRK, ESCALATIE)
    vclock.set(at(2026, 5, 11, 11, 30))
    complete(runtime, instance_id, "Tevredenheid en afspraken bespreken", BRAM, NIET_TEVREDEN)

    trace = build_trace(runtime, instance_id)
    assert trace.status == "running"
    assert trace.completed == ESCALATED_ELEMENTS
    assert trace.cancelled == {"Task_behandelen"}  # interrupted by the six-week timer
    assert trace.active == trace.waiting == {"Receive_geschil", "Timer_termijn_geschil"}
    expected_flows = flows_between(ESCALATED_ELEMENTS) | {"Flow_naar_behandelen", "Flow_naar_geschil"}
    assert trace.flows_taken == expected_flows
    assert {"Flow_escalatie", "Flow_streeftermijn", "Flow_escalatie_opgelost", "Flow_tevreden_nee"} <= trace.flows_taken
    assert "Flow_behandeld" not in trace.flows_taken  # the behandelaar never finished
    assert "Flow_geschil_afhandelen" not in trace.flows_taken

    assert steps_of(trace) == [
        ("ontvangen", "Klacht ontvangen", "system", "", None),
        ("taak", "Klantreactie beoordelen", "mia@korein.nl", "1 dag", "gehaald"),
        ("brief", "Brief: wie behandelt uw reactie", "system", "minder dan een minuut", None),
        ("termijn", "Streeftermijn 3 weken", "system", "20 dagen 13 uur", None),
        ("termijn", "Wettelijke termijn 6 weken", "system", "22 dagen", None),
        ("brief", "Brief: termijn overschreden", "system", "minder dan een minuut", None),
        ("taak_afgebroken", "Klantreactie behandelen", "system", "minder dan een minuut", "gemist"),
        ("taak", "Afhandeling na overschrijding termijn", "dirk@korein.nl", "9 uur", None),
        ("taak", "Tevredenheid en afspraken bespreken", "bram@korein.nl", "4 dagen 2 uur", None),
        ("brief", "Brief: bevestiging afspraken", "system", "minder dan een minuut", None),
    ]
    reminder, escalation, cut_off = trace.steps[3], trace.steps[4], trace.steps[6]
    assert (reminder.detail, escalation.detail) == ("herinnering", "onderbreekt de taak")
    assert cut_off.due_at == at(2026, 4, 14, 23, 59, 59)  # its own target (three weeks), missed when cut off
    assert cut_off.bpmn_id == "Task_behandelen"

    # The complainant takes it to the Geschillencommissie; a colleague records it.
    vclock.set(at(2026, 7, 6, 10, 0))
    runtime.send_message(instance_id, "geschil_ingediend", {"zaaknummer": "GCK-2026-11873"}, BRAM)
    vclock.set(at(2026, 10, 20, 10, 0))
    complete(runtime, instance_id, "Geschil afhandelen", BRAM, GESCHIL)
    done = build_trace(runtime, instance_id)
    assert done.status == "completed"
    assert done.active == set() and done.cancelled == {"Task_behandelen"}
    assert {"Receive_geschil", "Task_geschil", "End_geschil"} <= done.completed
    assert "Timer_termijn_geschil" not in done.completed | done.cancelled
    assert {"Flow_geschil_afhandelen", "Flow_geschil_einde"} <= done.flows_taken
    assert "Flow_termijn_geschil" not in done.flows_taken
    message = done.steps[10]
    assert (message.kind, message.name, message.actor, message.bpmn_id, message.detail) == (
        "bericht", "Geschil ingediend", "bram@korein.nl", "Receive_geschil", "Geschil afwachten")
    assert message.after_text == "55 dagen 22 uur"
    assert [s.kind for s in done.steps[11:]] == ["taak", "afgesloten"]


def test_a_withdrawal_cuts_the_task_off_before_its_deadline(runtime: Runtime, vclock, korein):
    vclock.set(at(2026, 12, 7, 13, 0))
    instance_id = runtime.start("korein", COMPLAINT).instance_id
    complete(runtime, instance_id, "Klantreactie beoordelen", MIA, BEOORDELEN)
    vclock.set(at(2026, 12, 10, 13, 0))
    runtime.send_message(instance_id, "klacht_ingetrokken", {"reden": "opgelost"}, MIA)
    trace = build_trace(runtime, instance_id)
    assert trace.cancelled == {"Task_behandelen"}
    assert {"Message_ingetrokken", "Service_brief_intrekking", "End_ingetrokken"} <= trace.completed
    assert {"Flow_ingetrokken", "Flow_intrekking_einde"} <= trace.flows_taken
    withdrawn = next(s for s in trace.steps if s.kind == "bericht")
    assert (withdrawn.name, withdrawn.actor, withdrawn.bpmn_id) == ("Klacht ingetrokken", "mia@korein.nl",
                                                                     "Message_ingetrokken")
    cut_off = next(s for s in trace.steps if s.kind == "taak_afgebroken")
    assert cut_off.deadline == "vervallen"  # cut off before it was due: neither met nor missed


# -- the page ------------------------------------------------------------------------------


def test_the_trace_page_for_the_auditor_and_a_404_for_another_organisation(browser, make_user, runtime: Runtime,
                                                                           vclock, korein):
    make_user("aud@korein.nl", "korein:auditor")
    make_user("els@test.nl", "testorg:behandelaar")
    instance_id = escalated_complaint(runtime, vclock)
    with runtime.sessions() as s:
        reference = s.get(Instance, instance_id).reference
    url = f"/korein/klachten/{reference}/spoor"

    browser.login("aud@korein.nl")
    complaint_page = html.fromstring(browser.get(f"/korein/klachten/{reference}").get_data(as_text=True))
    assert complaint_page.xpath("//h1//a[.='Spoor op het diagram']/@href") == [url]
    page = browser.get(url)
    assert page.status_code == 200
    doc = html.fromstring(page.get_data(as_text=True))
    trace = build_trace(runtime, instance_id)
    data = json.loads(doc.get_element_by_id("spoor-data").text_content())
    assert data == {"xml": KOREIN_XML.decode(), **trace.markers()}
    assert data["geannuleerd"] == ["Task_behandelen"]
    # Without JavaScript: the steps are all there, and the diagram says it needs JavaScript.
    steps = doc.xpath("//ol[@class='spoor-lijst']/li")
    assert len(steps) == len(trace.steps)
    cut_off = " ".join(steps[6].text_content().split())
    assert cut_off.startswith("Taak afgebroken: Klantreactie behandelen")
    assert "door systeem" in cut_off and "termijn 14-04-2026 23:59: gemist" in cut_off
    assert "door mia@korein.nl" in " ".join(steps[1].text_content().split())
    assert "1 dag na de vorige stap" in steps[1].text_content()
    assert "JavaScript" in doc.xpath("//div[@id='spoor-diagram']/noscript")[0].text_content()
    assert "diagramversie 1 (korein_klantreactieprocedure)" in " ".join(doc.text_content().split())
    assert [" ".join(li.text_content().split()) for li in doc.xpath("//h3[.='Nu open']/following-sibling::ul[1]/li")] \
        == ["Geschil afwachten (wacht)", "12 maanden na indiening (wacht)"]

    browser.client.post("/logout", data={"csrf_token": browser.csrf(url)})
    browser.login("els@test.nl")
    assert browser.get(url).status_code == 404
    assert browser.get(f"/testorg/klachten/{reference}/spoor").status_code == 404


# -- in a real browser ---------------------------------------------------------------------


def test_bpmn_js_draws_the_trace_in_chromium(live_server, chrome, make_user, runtime: Runtime, vclock, korein):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    make_user("aud@korein.nl", "korein:auditor", name="Anna Auditor")
    instance_id = escalated_complaint(runtime, vclock)
    with runtime.sessions() as s:
        reference = s.get(Instance, instance_id).reference
    trace = build_trace(runtime, instance_id)
    shapes, edges = drawn_in_xml()

    chrome.set_window_size(1600, 1000)
    chrome.get(f"{live_server}/login")
    chrome.find_element(By.ID, "email").send_keys("aud@korein.nl")
    chrome.find_element(By.ID, "wachtwoord").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "form.formulier button[type=submit]").click()
    WebDriverWait(chrome, 10).until(lambda d: "/login" not in d.current_url)
    chrome.get(f"{live_server}/korein/klachten/{reference}/spoor")
    status = WebDriverWait(chrome, 30).until(
        lambda d: d.find_element(By.ID, "spoor-diagram").get_attribute("data-status"))
    assert status == "klaar", chrome.find_element(By.CSS_SELECTOR, ".spoor-melding").text

    def ids(selector: str) -> set[str]:
        return set(chrome.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.dataset.elementId)", selector))

    assert len(ids(".djs-element.spoor-voltooid")) == len(trace.completed & shapes) == len(ESCALATED_ELEMENTS)
    assert ids(".djs-element.spoor-voltooid") == trace.completed
    assert ids(".djs-connection.spoor-genomen") == trace.flows_taken & edges == trace.flows_taken
    assert ids(".djs-element.spoor-geannuleerd") == {"Task_behandelen"}
    assert ids(".djs-element.spoor-wachtend") == {"Receive_geschil", "Timer_termijn_geschil"}
    assert ids(".djs-connection:not(.spoor-genomen)") == edges - trace.flows_taken
    # The CSS reaches bpmn-js's SVG: a taken flow is green, on a broad band that keeps its width at every zoom.
    assert ids(".djs-connection.spoor-genomen:has(.spoor-band)") == trace.flows_taken
    line, band = chrome.execute_script(
        "const c = document.querySelector('.djs-connection.spoor-genomen');"
        "return ['path:not(.spoor-band)', '.spoor-band'].map(q => {"
        "  const s = getComputedStyle(c.querySelector('.djs-visual > ' + q));"
        "  return [s.stroke, s.strokeWidth, s.vectorEffect]; });")
    assert line[0] == band[0] == "rgb(0, 112, 60)"
    assert band[1:] == ["9px", "non-scaling-stroke"]
    cut_off = chrome.execute_script(
        "const s = getComputedStyle(document.querySelector('.djs-element.spoor-geannuleerd .djs-visual > rect'));"
        "return [s.stroke, s.strokeDasharray];")
    assert cut_off[0] == "rgb(177, 14, 30)" and cut_off[1] != "none"
    # The zoom buttons and the 'show on the diagram' links appear once the diagram is drawn.
    assert chrome.find_element(By.CSS_SELECTOR, ".spoor-knoppen").is_displayed()
    assert len(chrome.find_elements(By.CSS_SELECTOR, "button.spoor-toon:not([hidden])")) > 0
    chrome.save_screenshot("/tmp/trace.png")

    # 'toon op het diagram' beside the cut-off task brings it into view at full size.
    chrome.find_element(By.CSS_SELECTOR, "li.stap-taak_afgebroken button.spoor-toon").click()
    assert ids(".djs-element.spoor-focus") == {"Task_behandelen"}
    assert chrome.execute_script("return document.getElementById('spoor-diagram')"
                                 ".querySelector('svg').getBoundingClientRect().width") > 0
    chrome.save_screenshot("/tmp/trace-detail.png")

    # Without JavaScript the steps are all there and the diagram's place says why it is empty.
    chrome.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    chrome.refresh()
    chrome.execute_cdp_cmd("Runtime.evaluate", {"expression": "window.scrollTo(0, 0)"})
    assert chrome.find_element(By.CSS_SELECTOR, ".spoor-geen-js").is_displayed()
    assert len(chrome.find_elements(By.CSS_SELECTOR, "ol.spoor-lijst > li")) == len(trace.steps)
    assert not chrome.find_element(By.CSS_SELECTOR, ".spoor-knoppen").is_displayed()
    assert not any(b.is_displayed() for b in chrome.find_elements(By.CSS_SELECTOR, "button.spoor-toon"))
    chrome.save_screenshot("/tmp/trace-zonder-js.png")

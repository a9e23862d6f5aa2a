"""Process-mining exports: complaints driven through the real runtime with the virtual
clock, exported as XES (validated against the IEEE 1849 schema) and as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from lxml import etree
from sqlalchemy import select

from webapp.db.models import AuditEvent, HumanTask, Instance, Organisation, User
from webapp.exports import (
    CSV_HEADER,
    STANDARD_TRANSITIONS,
    ExportError,
    event_log,
    export_command_body,
    period_bounds,
    to_csv,
    to_xes,
)
from webapp.runtime.errors import NotFound
from webapp.runtime.service import Actor, Runtime

from .conftest import AMS
from .xes import validate_xes

MARCH = (date(2026, 3, 3), date(2026, 3, 31))
ELS = "els@test.nl"
PIET = "piet@test.nl"
DIRK = "dirk@test.nl"
LOCATION = 'Kindcentrum "De Boog", Utrecht\nlocatie 2'  # quotes, a comma and a line break for the CSV


def ams(day: int, hour: int, minute: int = 0, micro: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, 0, micro, tzinfo=AMS)


@dataclass
class Story:
    before: str  # received 2 March 23:30 in Amsterdam: outside the period
    handled: str  # claimed, handed over, completed: solved
    escalated: str  # reminder and escalation fire, the director completes
    withdrawn: str  # withdrawn by message
    running: str  # claimed and released, reminder and escalation fire, still open
    after: str  # received 1 April 00:30 in Amsterdam (31 March in UTC): outside the period
    quick: str  # the other organisation, received in the period


def ready(runtime: Runtime, instance_id: int) -> HumanTask:
    with runtime.sessions() as s:
        [task] = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                   HumanTask.state == "ready")).all()
        return task


def user_id(runtime: Runtime, email: str) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(User.id).where(User.email == email))


def tell_story(runtime: Runtime, vclock, make_user, other_org) -> Story:
    for email, role in ((ELS, "behandelaar"), (PIET, "behandelaar"), (DIRK, "directeur")):
        make_user(email, f"testorg:{role}")
    els = Actor(ELS, "testorg", frozenset({"behandelaar"}))
    piet = Actor(PIET, "testorg", frozenset({"behandelaar"}))
    dirk = Actor(DIRK, "testorg", frozenset({"directeur"}))

    vclock.set(ams(2, 23, 30))
    before = runtime.start("testorg", {})
    vclock.set(ams(3, 0, 15, 123456))  # 2 March 23:15 in UTC, but 3 March in Amsterdam
    handled = runtime.start("testorg", {"klager": {"email": "k@example.nl"}}, complaint_type="klacht",
                            location=LOCATION)
    vclock.set(ams(3, 10))
    escalated = runtime.start("testorg", {}, complaint_type="klacht", location="Utrecht")
    vclock.set(ams(3, 11))
    withdrawn = runtime.start("testorg", {})
    quick = runtime.start(other_org.slug, {"klager": {"email": "q@example.nl"}})

    task = ready(runtime, handled.instance_id)
    vclock.set(ams(3, 11, 30, 654321))
    runtime.assign_task(task.id, els, (user_id(runtime, ELS), ELS))
    vclock.set(ams(3, 11, 45))
    runtime.assign_task(task.id, els, (user_id(runtime, PIET), PIET))
    vclock.set(ams(3, 12, 0, 1))
    runtime.complete_task(handled.instance_id, task.task_id, piet, {"opgelost": True, "uitkomst": "gegrond"})

    vclock.set(ams(3, 13))
    runtime.send_message(withdrawn.instance_id, "klacht_ingetrokken", {"reden": "opgelost"}, els)

    vclock.set(ams(4, 9))
    running = runtime.start("testorg", {}, complaint_type="signaal")
    task = ready(runtime, running.instance_id)
    vclock.set(ams(4, 9, 5))
    runtime.assign_task(task.id, els, (user_id(runtime, ELS), ELS))
    vclock.set(ams(4, 9, 10))
    runtime.assign_task(task.id, els, None)

    # Reminders after 3 working days, escalations after 5 (the quick timer fires too).
    for moment in (ams(7, 0, 1), ams(11, 0, 1), ams(12, 0, 1)):
        vclock.set(moment)
        runtime.fire_due_timers()
    vclock.set(ams(12, 10))
    runtime.complete_task(escalated.instance_id, ready(runtime, escalated.instance_id).task_id, dirk,
                          {"opgelost": False})

    vclock.set(ams(1, 0, 30, month=4))
    after = runtime.start("testorg", {})
    return Story(before.reference, handled.reference, escalated.reference, withdrawn.reference,
                 running.reference, after.reference, quick.reference)


@pytest.fixture
def story(runtime: Runtime, vclock, make_user, other_org) -> Story:
    return tell_story(runtime, vclock, make_user, other_org)


def march_log(runtime: Runtime, slug: str = "testorg"):
    with runtime.sessions() as s:
        return event_log(s, slug, *MARCH)


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document)


def attrs(element: etree._Element) -> dict[str, str]:
    return {child.get("key"): child.get("value") for child in element if child.get("key")}


def trace_events(root: etree._Element) -> dict[str, list[dict[str, str]]]:
    return {attrs(t)["concept:name"]: [attrs(e) for e in t.findall("event")] for t in root.findall("trace")}


def audit_rows(runtime: Runtime, reference: str) -> list[AuditEvent]:
    with runtime.sessions() as s:
        return list(s.scalars(select(AuditEvent).join(Instance, AuditEvent.instance_id == Instance.id)
                              .where(Instance.reference == reference)
                              .order_by(AuditEvent.occurred_at, AuditEvent.id)))


def chosen_for_log(rows: list[AuditEvent]) -> list[AuditEvent]:
    """The documented selection, written out independently of the exporter."""
    chosen = []
    for row in rows:
        kind = (row.data or {}).get("type", "")
        if row.event_type == "error":
            continue
        if row.event_type == "element_completed" and kind in ("Default Start Event", "Service Task", "Script Task"):
            continue
        if row.event_type == "gateway_passed" and kind == "Parallel Gateway":
            continue
        if row.event_type == "message_received" and row.bpmn_id is None:
            continue  # the delivery: merged into the catching event after it
        chosen.append(row)
    return chosen


# The traces, as a process miner reads them: (activity, lifecycle, resource).
EXPECTED = {
    "handled": [
        ("Klacht ontvangen", "complete", "system"),
        ("Klacht behandelen", "schedule", "system"),
        ("Klacht behandelen", "assign", ELS),
        ("Klacht behandelen", "reassign", ELS),
        ("Klacht behandelen", "complete", PIET),
        ("Opgelost?", "complete", "system"),
        ("Brief verstuurd: ontvangstbevestiging", "complete", "system"),
        ("Opgelost", "complete", "system"),
        ("Klacht afgesloten", "complete", "system"),
    ],
    "escalated": [
        ("Klacht ontvangen", "complete", "system"),
        ("Klacht behandelen", "schedule", "system"),
        ("Termijn verstreken: 3 werkdagen verstreken", "complete", "system"),
        ("Melding verstuurd: Herinnering sturen", "complete", "system"),
        ("Herinnerd", "complete", "system"),
        ("Termijn verstreken: 5 werkdagen verstreken", "complete", "system"),
        ("Klacht behandelen", "withdraw", "system"),
        ("Escalatie behandelen", "schedule", "system"),
        ("Escalatie behandelen", "complete", DIRK),
        ("Geëscaleerd", "complete", "system"),
        ("Klacht afgesloten", "complete", "system"),
    ],
    "withdrawn": [
        ("Klacht ontvangen", "complete", "system"),
        ("Klacht behandelen", "schedule", "system"),
        ("Bericht ontvangen: Klacht ingetrokken", "complete", ELS),
        ("Ingetrokken", "complete", "system"),
        ("Klacht behandelen", "withdraw", "system"),
        ("Klacht afgesloten", "complete", "system"),  # the closing comes last
    ],
    "running": [
        ("Klacht ontvangen", "complete", "system"),
        ("Klacht behandelen", "schedule", "system"),
        ("Klacht behandelen", "assign", ELS),
        ("Klacht behandelen", "reassign", ELS),
        ("Termijn verstreken: 3 werkdagen verstreken", "complete", "system"),
        ("Melding verstuurd: Herinnering sturen", "complete", "system"),
        ("Herinnerd", "complete", "system"),
        ("Termijn verstreken: 5 werkdagen verstreken", "complete", "system"),
        ("Klacht behandelen", "withdraw", "system"),
        ("Escalatie behandelen", "schedule", "system"),
    ],
}


# -- XES ---------------------------------------------------------------------------------------


def test_the_xes_validates_and_holds_exactly_the_complaints_received_in_the_period(runtime, story):
    document = to_xes(march_log(runtime), "Testorganisatie")
    assert validate_xes(document) == []
    root = parse(document)
    assert root.nsmap == {} and root.tag == "log"  # no default namespace
    assert (root.get("xes.version"), root.get("xes.features")) == ("2.0", "")
    assert [(x.get("prefix"), x.get("uri")) for x in root.findall("extension")] == [
        ("concept", "http://www.xes-standard.org/concept.xesext"),
        ("time", "http://www.xes-standard.org/time.xesext"),
        ("lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
        ("org", "http://www.xes-standard.org/org.xesext")]
    assert {c.get("name"): c.get("keys") for c in root.findall("classifier")} == {
        "Activity": "concept:name", "Activity_and_lifecycle": "concept:name lifecycle:transition",
        "Resource": "org:resource"}
    assert attrs(root)["concept:name"] == "Testorganisatie" and attrs(root)["lifecycle:model"] == "standard"

    # One trace per complaint received 3..31 March in Amsterdam, in the order received: the one of
    # 2 March 23:30 and the one of 1 April 00:30 (31 March in UTC) are out, 3 March 00:15 is in.
    with runtime.sessions() as s:
        in_period = list(s.scalars(select(Instance.reference).where(
            Instance.organisation_id == s.scalar(select(Organisation.id).where(Organisation.slug == "testorg")),
            Instance.created_at >= period_bounds(*MARCH)[0], Instance.created_at < period_bounds(*MARCH)[1])
            .order_by(Instance.created_at)))
    traces = [attrs(t) for t in root.findall("trace")]
    assert [t["concept:name"] for t in traces] == in_period == [
        story.handled, story.escalated, story.withdrawn, story.running]
    assert story.before not in document.decode() and story.after not in document.decode()
    assert traces[0] == {"concept:name": story.handled, "status": "completed", "complaint_type": "klacht",
                         "location": LOCATION}
    assert traces[3] == {"concept:name": story.running, "status": "running", "complaint_type": "signaal"}


def test_each_trace_is_its_complaints_chosen_audit_events_in_time_order(runtime, story):
    root = parse(to_xes(march_log(runtime), "Testorganisatie"))
    traces = trace_events(root)
    for name, expected in EXPECTED.items():
        reference = getattr(story, name)
        events = traces[reference]
        assert [(e["concept:name"], e["lifecycle:transition"], e["org:resource"]) for e in events] == expected, name
        rows = chosen_for_log(audit_rows(runtime, reference))
        # The same audit rows, one for one, in the order they happened...
        assert [int(e["audit_seq"]) for e in events] == [r.seq for r in rows], name
        assert [e["event_type"] for e in events] == [r.event_type for r in rows], name
        assert [e.get("bpmn_id") for e in events] == [r.bpmn_id for r in rows], name
        # ... at the very moment the database holds, to the microsecond, with an offset.
        stamps = [datetime.fromisoformat(e["time:timestamp"]) for e in events]
        assert all(s.utcoffset() is not None for s in stamps)
        assert stamps == [r.occurred_at for r in rows] == sorted(stamps), name
    handled = traces[story.handled]
    assert datetime.fromisoformat(handled[0]["time:timestamp"]) == ams(3, 0, 15, 123456)
    assert datetime.fromisoformat(handled[2]["time:timestamp"]) == ams(3, 11, 30, 654321)


def test_lifecycle_role_decision_and_hand_over_attributes(runtime, story):
    traces = trace_events(parse(to_xes(march_log(runtime), "Testorganisatie")))
    everything = [e for events in traces.values() for e in events]
    assert {e["lifecycle:transition"] for e in everything} <= STANDARD_TRANSITIONS
    assert {e["lifecycle:transition"] for e in everything} == {"schedule", "assign", "reassign", "complete",
                                                               "withdraw"}
    handled = traces[story.handled]
    # A user task's events carry the lane's role; point events have none.
    assert [e.get("org:role") for e in handled[:5]] == [None] + ["behandelaar"] * 4
    assert handled[3]["assignee"] == PIET and handled[3]["event_type"] == "task_handed_over"
    assert (handled[5]["event_type"], handled[5]["decision"]) == ("gateway_passed", "Service_oordeel")
    escalation = [e for e in traces[story.escalated] if e["concept:name"] == "Escalatie behandelen"]
    assert {e["org:role"] for e in escalation} == {"directeur"}
    # Noise stays out: no start events twice, no service tasks beside their letters, no errors.
    assert not {e["event_type"] for e in everything} & {"element_completed", "error"}


@pytest.mark.parametrize("breakage", ["default namespace", "version", "missing value", "unknown element",
                                      "not well-formed"])
def test_a_broken_document_does_not_validate(runtime, story, breakage):
    document = to_xes(march_log(runtime), "Testorganisatie").decode()
    broken = {
        "default namespace": document.replace("<log ", '<log xmlns="http://www.xes-standard.org/" ', 1),
        "version": document.replace('xes.version="2.0"', 'xes.version="1849-2016"', 1),
        "missing value": document.replace('<string key="status" value="completed"/>',
                                          '<string key="status"/>', 1),
        "unknown element": document.replace("<event>", "<evnt/><event>", 1),
        "not well-formed": document.replace("</log>", "", 1),
    }[breakage]
    assert broken != document
    errors = validate_xes(broken.encode())
    assert errors and all(isinstance(e, str) and e for e in errors)


def test_a_missing_schema_is_named(tmp_path):
    missing = tmp_path / "standards" / "xes-ieee-1849.xsd"
    with pytest.raises(FileNotFoundError, match="XES schema is missing.*xes-ieee-1849.xsd"):
        validate_xes(b"<log/>", missing)


# -- CSV ---------------------------------------------------------------------------------------


def test_the_csv_parses_back_into_the_same_rows(runtime, story):
    events = march_log(runtime)
    text = to_csv(events)
    assert text.startswith(",".join(CSV_HEADER) + "\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1:] == [[e.case_id, e.activity, e.timestamp.isoformat(timespec="microseconds"), e.lifecycle,
                         e.resource, e.bpmn_id or "", e.event_type, e.complaint_type or "", e.location or ""]
                        for e in events]
    # The quoted location with its comma and line break comes back whole; times come back exactly.
    handled = [r for r in csv.DictReader(io.StringIO(text, newline="")) if r["case_id"] == story.handled]
    assert {r["location"] for r in handled} == {LOCATION}
    assert [datetime.fromisoformat(r["timestamp"]) for r in handled] == [
        r.occurred_at for r in chosen_for_log(audit_rows(runtime, story.handled))]
    assert all(datetime.fromisoformat(r["timestamp"]).tzinfo == UTC for r in handled)


# -- periods and organisations -----------------------------------------------------------------


def test_an_empty_period_gives_a_valid_log_without_traces_and_a_header_only_csv(runtime, story):
    with runtime.sessions() as s:
        events = event_log(s, "testorg", date(2025, 1, 1), date(2025, 12, 31))
    assert events == []
    document = to_xes(events, "Testorganisatie")
    assert validate_xes(document) == [] and parse(document).findall("trace") == []
    assert to_csv(events) == ",".join(CSV_HEADER) + "\r\n"


def test_another_organisations_complaints_never_appear(runtime, story, other_org):
    ours = to_xes(march_log(runtime), "Testorganisatie")
    assert story.quick not in ours.decode() and "QUICK-" not in to_csv(march_log(runtime))
    theirs = march_log(runtime, other_org.slug)
    assert {e.case_id for e in theirs} == {story.quick}
    assert [e.activity for e in theirs] == ["Klacht ontvangen", "Termijn verstreken: Twee seconden",
                                            "Brief verstuurd: ontvangstbevestiging", "Bevestigd",
                                            "Klacht afgesloten"]
    assert validate_xes(to_xes(theirs, other_org.name)) == []


def test_period_bounds_are_amsterdam_days_and_a_reversed_period_or_unknown_organisation_is_refused(runtime):
    # Winter time on 3 March, summer time from 29 March: the bounds follow the clock change.
    assert period_bounds(*MARCH) == (datetime(2026, 3, 2, 23, 0, tzinfo=UTC), datetime(2026, 3, 31, 22, 0, tzinfo=UTC))
    with runtime.sessions() as s:
        with pytest.raises(ExportError, match="after it ends"):
            event_log(s, "testorg", date(2026, 3, 31), date(2026, 3, 1))
        with pytest.raises(NotFound, match="nergens"):
            event_log(s, "nergens", *MARCH)


# -- the command -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xes", "csv"])
def test_export_command_body_writes_the_file(runtime, story, tmp_path, fmt):
    output = tmp_path / f"log.{fmt}"
    message = export_command_body(runtime.sessions, "testorg", *MARCH, fmt, output)
    assert message.startswith("Testorganisatie: 4 complaint(s) received 2026-03-03 to 2026-03-31")
    written = output.read_bytes()
    if fmt == "xes":
        assert validate_xes(written) == [] and len(parse(written).findall("trace")) == 4
        assert written == to_xes(march_log(runtime), "Testorganisatie")
    else:
        assert written.decode("utf-8") == to_csv(march_log(runtime))
    with pytest.raises(ExportError, match="unknown format"):
        export_command_body(runtime.sessions, "testorg", *MARCH, "json", output)
    with pytest.raises(NotFound):
        export_command_body(runtime.sessions, "nergens", *MARCH, fmt, output)


def test_an_auditor_downloads_the_event_log_from_the_reports_page(browser, make_user, runtime, story):
    make_user("aud@test.nl", "testorg:auditor")
    make_user("els2@test.nl", "testorg:behandelaar")
    browser.login("aud@test.nl")
    page = browser.get("/testorg/rapportages?van=2026-03-01&tot=2026-03-31").get_data(as_text=True)
    assert "Gebeurtenissen van deze periode (XES, voor process mining)" in page
    xes = browser.get("/testorg/rapportages/gebeurtenissen.xes?van=2026-03-01&tot=2026-03-31")
    assert xes.status_code == 200 and "attachment" in xes.headers["Content-Disposition"]
    assert validate_xes(xes.data) == []
    csv_download = browser.get("/testorg/rapportages/gebeurtenissen.csv?van=2026-03-01&tot=2026-03-31")
    assert csv_download.data.startswith("\ufeffcase_id;activity;timestamp".encode())  # for Dutch Excel
    assert browser.get("/testorg/rapportages/gebeurtenissen.pdf").status_code == 404
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/testorg/inbox")})
    browser.login("els2@test.nl")  # a lane role without the reports
    assert browser.get("/testorg/rapportages/gebeurtenissen.xes").status_code == 403

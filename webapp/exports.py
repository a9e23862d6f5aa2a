"""Process-mining exports: the audit trail of one organisation's complaints as an event
log, in IEEE 1849 XES 2.0 or as CSV (one row per event), for ProM, pm4py, Disco, Celonis.

A case is a complaint (its reference), an event one audit row chosen for the log. No
Flask here: the CLI (and later a web page) call these functions with a session.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import DateTime, select, type_coerce
from sqlalchemy import case as when
from sqlalchemy.orm import Session, sessionmaker

from webapp import clock
from webapp.clock import AMSTERDAM
from webapp.db.models import AuditEvent, Instance, Organisation
from webapp.history import merged
from webapp.runtime.errors import KlachtrouteError, NotFound
from webapp.vocabulary import EventType, InstanceStatus

CSV_HEADER = ("case_id", "activity", "timestamp", "lifecycle", "resource", "bpmn_id", "event_type",
              "complaint_type", "location")

# The transitions of the XES Lifecycle extension's "standard" model.
STANDARD_TRANSITIONS = frozenset({
    "schedule", "assign", "reassign", "withdraw", "start", "suspend", "resume", "pi_abort", "ate_abort",
    "complete", "autoskip", "manualskip", "unknown"})

# A user task's life in the standard model. The inbox records no "start" (a task is opened and
# completed in one form post), so a task goes schedule -> [assign -> reassign*] -> complete, or
# is withdrawn (the standard model's exit for work that was never started) when a timer or a
# message takes it away; ate_abort would claim it had been started.
TASK_TRANSITIONS = {
    EventType.TASK_READY: "schedule",
    EventType.TASK_CLAIMED: "assign",
    EventType.TASK_HANDED_OVER: "reassign",
    EventType.TASK_RELEASED: "reassign",  # back to the role's pool: the model has no "unassign"
    EventType.TASK_COMPLETED: "complete",
    EventType.TASK_CANCELLED: "withdraw",
}

# Never in the log: a failed step rolled back and is retried, so the error is technical history
# (it stays in the audit trail), not something the complaint went through.
LEFT_OUT_EVENT_TYPES = (EventType.ERROR,)

# element_completed rows of these kinds say nothing the log does not already say: a start event
# repeats complaint_received, a service task's effect is its own event (message_sent,
# complaint_registered), a script task computes data, a loop or multi-instance wrapper completes
# after the tasks it repeated. Other elements (call activities, subprocesses, throw and catch
# events) stay, so that a new kind of element is visible rather than silently dropped.
NOISE_ELEMENT_KINDS = ("Start Event", "Service Task", "Script Task", "MultiInstance", "Loop Task")

LABELS = {
    EventType.COMPLAINT_RECEIVED: "Klacht ontvangen",
    EventType.COMPLAINT_REGISTERED: "Klacht geregistreerd",
    EventType.MIGRATED: "Naar nieuwe versie van de procedure",
    EventType.PROCESS_COMPLETED: "Klacht afgesloten",
}


class ExportError(KlachtrouteError):
    """An export that cannot be made as asked (a reversed period, an unknown format)."""


class LogEvent(NamedTuple):
    """One event of the log (a named tuple: a year's log holds a hundred thousand)."""

    case_id: str  # the complaint's reference
    activity: str
    timestamp: datetime  # aware, UTC
    lifecycle: str  # a transition of the standard lifecycle model
    resource: str  # a user's email, or "system"
    event_type: str  # the audit event type
    bpmn_id: str | None = None
    role: str | None = None  # the lane's role of a user task's events
    complaint_type: str | None = None
    location: str | None = None
    case_status: str = InstanceStatus.RUNNING
    audit_seq: int | None = None  # the row's place in the organisation's audit hash chain
    decision: str | None = None  # gateway_passed: the flow targets taken, comma-separated
    assignee: str | None = None  # task_handed_over: to whom


# -- selecting -------------------------------------------------------------------------------


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end] as Europe/Amsterdam calendar days, as a half-open UTC interval."""
    if start > end:
        raise ExportError(f"the period starts ({start}) after it ends ({end})")
    low = datetime.combine(start, time.min, tzinfo=AMSTERDAM)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=AMSTERDAM)
    return low.astimezone(UTC), high.astimezone(UTC)


def event_log(session: Session, organisation_slug: str, start: date, end: date) -> list[LogEvent]:
    """The process-mining log of the complaints of one organisation received in [start, end]
    (Europe/Amsterdam dates), ordered by complaint (as received) and then by time.

    Complaints, not events, select the period: every trace is the whole history of its
    complaint, also the steps after `end`, so no trace is cut off at either side.

    Which audit events are in the log (one log event per audit row, with one merge):
    - task_ready, task_claimed, task_handed_over, task_released, task_completed, task_cancelled:
      the user task's lifecycle (schedule, assign, reassign, reassign, complete, withdraw), with
      the task's BPMN name as activity and the lane's role as org:role;
    - complaint_received ("Klacht ontvangen"), process_completed ("Klacht afgesloten"),
      complaint_registered ("Klacht geregistreerd"), timer_fired ("Termijn verstreken: <timer>"),
      message_sent ("Brief verstuurd: <template>" for letters, "Melding verstuurd: <element>" for
      notifications: the subject would make every complaint's activity unique), gateway_passed
      (the decision: the gateway's name, the targets taken in `decision`; parallel gateways decide
      nothing and are left out), end_event (the end reached: its name) and element_completed of
      call activities, subprocesses and events other than start events;
    - message_received: the runtime writes two rows when a message arrives, the delivery (who
      sent it in, no element) and the catching event (which element caught it). They become one
      event "Bericht ontvangen: <element>" with the deliverer as resource;
    - left out: error (technical, retried) and element_completed of start events, service
      tasks, script tasks and loop/multi-instance wrappers (see NOISE_ELEMENT_KINDS).
    Every other (future) event type is kept as a point event named by its BPMN element.
    Point events have the lifecycle transition "complete".
    """
    organisation_id = session.scalar(select(Organisation.id).where(Organisation.slug == organisation_slug))
    if organisation_id is None:
        raise NotFound(f"organisation '{organisation_slug}' does not exist")
    low, high = period_bounds(start, end)
    in_period = (Instance.organisation_id == organisation_id, Instance.created_at >= low, Instance.created_at < high)
    cases = session.execute(
        select(Instance.id, Instance.reference, Instance.complaint_type, Instance.location, Instance.status)
        .where(*in_period).order_by(Instance.created_at, Instance.id)).all()
    logs: dict[int, list[LogEvent]] = {}  # per complaint, in time order
    by_id = {case.id: case for case in cases}
    in_log = _memo(_in_log)  # a handful of distinct (event type, element kind) pairs
    decision = _memo(_decision)
    for instance_id, rows in groupby(merged(_log_rows(session, organisation_id, in_period)),
                                     key=lambda pair: pair[0].instance_id):
        case, log = by_id[instance_id], logs.setdefault(instance_id, [])
        roles: dict[str | None, str] = {}  # bpmn_id -> lane role, within this complaint
        for row, delivery in rows:
            if not in_log(row.event_type, row.type):
                continue
            if row.event_type == EventType.TASK_READY and row.role:
                roles[row.bpmn_id] = row.role
            log.append(_log_event(case, row, delivery, roles, decision))
    return [event for case in cases for event in logs.get(case.id, ())]


def _memo(function: Callable[[str, str | None], Any]) -> Callable[[str, str | None], Any]:
    cache: dict[tuple[str, str | None], Any] = {}

    def call(first: str, second: str | None) -> Any:
        key = (first, second)
        if key not in cache:
            cache[key] = function(first, second)
        return cache[key]

    return call


# What the log reads of an audit row's data, extracted by the database and only from the events
# that use it: decoding every row's JSON document costs more than the rest of the export together,
# and so does PostgreSQL parsing each row's `json` once per key.
_DATA_KEYS = {
    "type": (EventType.ELEMENT_COMPLETED, EventType.GATEWAY_PASSED),  # which kind of element
    "role": (EventType.TASK_READY,),
    "kind": (EventType.MESSAGE_SENT,),  # letter or notification
    "template": (EventType.MESSAGE_SENT,),
    "message": (EventType.MESSAGE_RECEIVED,),
    "to": (EventType.GATEWAY_PASSED, EventType.MESSAGE_SENT, EventType.TASK_HANDED_OVER),
}


def _log_rows(session: Session, organisation_id: int, in_period: tuple) -> Sequence[Any]:
    data = AuditEvent.data
    query = (select(AuditEvent.instance_id, type_coerce(AuditEvent.occurred_at, DateTime(timezone=True)),
                    AuditEvent.actor, AuditEvent.event_type, AuditEvent.bpmn_id, AuditEvent.bpmn_name,
                    AuditEvent.seq,
                    *(when((AuditEvent.event_type.in_(kinds), data[key].as_string())).label(key)
                      for key, kinds in _DATA_KEYS.items()))
             .join(Instance, Instance.id == AuditEvent.instance_id)
             .where(*in_period, AuditEvent.organisation_id == organisation_id,
                    AuditEvent.event_type.not_in(LEFT_OUT_EVENT_TYPES)))
    # Steps write several rows with one timestamp: the id keeps the order they were written in.
    query = query.order_by(AuditEvent.instance_id, AuditEvent.occurred_at, AuditEvent.id)
    # Core, not ORM, execution: plain rows, and the times as the driver reads them (see _utc).
    return session.connection().execute(query).all()


def _utc(moment: datetime) -> datetime:
    """A time as UTCDateTime hands it back (SQLite keeps no offset), without its per-row cost."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def _log_event(case: Any, row: Any, delivery: Any, roles: dict[str | None, str],
               decision: Callable[[str, str | None], str | None]) -> LogEvent:
    """`row`: a row of `_log_rows`; `delivery`: the delivery of the message it caught (see
    webapp.history), whose deliverer is the resource."""
    _, occurred_at, actor, kind, bpmn_id, bpmn_name, seq, _type, _role, letter, template, message, to = row
    if delivery is not None:
        actor = delivery.actor
        message = delivery.message or message
    return LogEvent(
        case.reference, _activity(kind, bpmn_name or bpmn_id, message, letter, template, to), _utc(occurred_at),
        TASK_TRANSITIONS.get(kind, "complete"), actor, str(kind), bpmn_id,
        roles.get(bpmn_id) if kind in TASK_TRANSITIONS else None, case.complaint_type, case.location,
        case.status, seq, decision(kind, to) if to else None, to if kind == EventType.TASK_HANDED_OVER else None)


def _in_log(event_type: str, element_type: str | None) -> bool:
    kind = element_type or ""
    if event_type == EventType.ELEMENT_COMPLETED:
        return not any(noise in kind for noise in NOISE_ELEMENT_KINDS)
    if event_type == EventType.GATEWAY_PASSED:
        return "Parallel" not in kind
    return event_type not in LEFT_OUT_EVENT_TYPES


def _decision(event_type: str, to: str | None) -> str | None:
    """The targets a gateway took: `to` is the JSON list as text."""
    if event_type != EventType.GATEWAY_PASSED or not to:
        return None
    targets = json.loads(to) if to.startswith("[") else to
    return ",".join(str(target) for target in targets) if targets else None


def _activity(event_type: str, element: str | None, message: str | None, kind: str | None,
              template: str | None, to: str | None) -> str:
    if event_type in LABELS:
        return LABELS[event_type]
    if event_type == EventType.TIMER_FIRED:
        return f"Termijn verstreken: {element}"
    if event_type == EventType.MESSAGE_RECEIVED:
        return f"Bericht ontvangen: {element or message or 'onbekend'}"
    if event_type == EventType.MESSAGE_SENT:
        if kind == "letter":
            return f"Brief verstuurd: {template or element}"
        to = (to or "").removeprefix("role:")
        return f"Melding verstuurd: {element or to}" if element or to else "Melding verstuurd"
    return element or event_type


# -- CSV ---------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    # Always microseconds and an explicit offset: one fixed pattern for importers, and exact.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def to_csv(events: Iterable[LogEvent]) -> str:
    """RFC 4180 CSV (CRLF line ends, quoting where needed), one row per event."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in events:
        writer.writerow((e.case_id, e.activity, _iso(e.timestamp), e.lifecycle, e.resource, e.bpmn_id or "",
                         e.event_type, e.complaint_type or "", e.location or ""))
    return buffer.getvalue()


def to_excel_csv(events: Iterable[LogEvent]) -> bytes:
    """The CSV a spreadsheet user downloads: Dutch Excel reads UTF-8 only after a byte order mark
    (else "cliënt" turns into "cliÃ«nt") and splits columns on ";" (its list separator, as the
    decimal separator is a comma); times are Amsterdam's, in a form Excel recognises as a date."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in events:
        local = clock.to_local(e.timestamp).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow((e.case_id, e.activity, local, e.lifecycle, e.resource, e.bpmn_id or "",
                         e.event_type, e.complaint_type or "", e.location or ""))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# -- XES ---------------------------------------------------------------------------------------

EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
)
# Classifier names are xs:NCName in the schema: no spaces.
CLASSIFIERS = (
    ("Activity", "concept:name"),
    ("Activity_and_lifecycle", "concept:name lifecycle:transition"),
    ("Resource", "org:resource"),
)

# XML 1.0 refuses most control characters (names come from uploaded diagrams); the rest is
# escaped for an attribute value, as an XML serializer would.
_XML_UNSAFE = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])
_ATTRIBUTE = {**_XML_UNSAFE, ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
              ord("\t"): "&#9;", ord("\n"): "&#10;", ord("\r"): "&#13;"}


def _attr(kind: str, key: str, value: str | int, indent: str) -> str:
    text = value if isinstance(value, str) else str(value)
    return f'{indent}<{kind} key="{key}" value="{text.translate(_ATTRIBUTE)}"/>'


def _escaper() -> Callable[[str], str]:
    """Escapes attribute values, each distinct one once: a log repeats its activities, resources
    and element ids thousands of times."""
    cache: dict[str, str] = {}

    def escape(text: str) -> str:
        value = cache.get(text)
        if value is None:
            value = cache[text] = text.translate(_ATTRIBUTE)
        return value

    return escape


def _event_xml(e: LogEvent, esc: Callable[[str], str]) -> str:
    """One <event>, as `_attr` would write its lines (timestamps and numbers need no escaping)."""
    text = (f'    <event>\n      <string key="concept:name" value="{esc(e.activity)}"/>\n'
            f'      <date key="time:timestamp" value="{_iso(e.timestamp)}"/>\n'
            f'      <string key="lifecycle:transition" value="{esc(e.lifecycle)}"/>\n'
            f'      <string key="org:resource" value="{esc(e.resource)}"/>\n')
    if e.role:
        text += f'      <string key="org:role" value="{esc(e.role)}"/>\n'
    text += f'      <string key="event_type" value="{esc(e.event_type)}"/>\n'
    if e.bpmn_id:
        text += f'      <string key="bpmn_id" value="{esc(e.bpmn_id)}"/>\n'
    if e.decision:
        text += f'      <string key="decision" value="{esc(e.decision)}"/>\n'
    if e.assignee:
        text += f'      <string key="assignee" value="{esc(e.assignee)}"/>\n'
    if e.audit_seq is not None:
        text += f'      <int key="audit_seq" value="{e.audit_seq}"/>\n'
    return text + "    </event>"


def to_xes(events: Sequence[LogEvent], organisation_name: str) -> bytes:
    """An IEEE 1849 XES 2.0 document: one trace per complaint, one event per log event.
    Written as text in one pass (a tree of half a million attribute elements costs seconds)."""
    # No namespace: the schema has no targetNamespace, so a default xmlns would not validate.
    out = ["<?xml version='1.0' encoding='UTF-8'?>", '<log xes.version="2.0" xes.features="">']
    out += [f'  <extension name="{name}" prefix="{prefix}" uri="{uri}"/>' for name, prefix, uri in EXTENSIONS]
    # Globals declare what every trace and every event carries (and a default for it).
    out += ['  <global scope="trace">', _attr("string", "concept:name", "__INVALID__", "    "),
            _attr("string", "status", "unknown", "    "), "  </global>",
            '  <global scope="event">', _attr("string", "concept:name", "__INVALID__", "    "),
            _attr("date", "time:timestamp", "1970-01-01T00:00:00.000000+00:00", "    "),
            _attr("string", "lifecycle:transition", "complete", "    "),
            _attr("string", "org:resource", "__INVALID__", "    "),
            _attr("string", "event_type", "unknown", "    "), "  </global>"]
    out += [f'  <classifier name="{name}" scope="event" keys="{keys}"/>' for name, keys in CLASSIFIERS]
    out += [_attr("string", "concept:name", organisation_name, "  "),
            _attr("string", "lifecycle:model", "standard", "  ")]
    traces: dict[str, list[LogEvent]] = {}
    for e in events:
        traces.setdefault(e.case_id, []).append(e)
    esc = _escaper()
    for case_id, case_events in traces.items():
        first = case_events[0]
        out += ["  <trace>", _attr("string", "concept:name", case_id, "    "),
                _attr("string", "status", first.case_status, "    ")]
        if first.complaint_type:
            out.append(_attr("string", "complaint_type", first.complaint_type, "    "))
        if first.location:
            out.append(_attr("string", "location", first.location, "    "))
        for e in case_events:
            out.append(_event_xml(e, esc))
        out.append("  </trace>")
    out.append("</log>\n")
    return "\n".join(out).encode("utf-8", "replace")  # a lone surrogate from JSON data becomes "?"


# -- the command line --------------------------------------------------------------------------


def export_command_body(sessions: sessionmaker[Session], organisation: str, start: date, end: date,
                        fmt: str, output: Path) -> str:
    """`klachtroute export`: write the log of `organisation`'s complaints received in
    [start, end] to `output` as XES or CSV (UTF-8); returns the line to print."""
    if fmt not in ("xes", "csv"):
        raise ExportError(f"unknown format '{fmt}': choose xes or csv")
    with sessions() as session:
        name = session.scalar(select(Organisation.name).where(Organisation.slug == organisation))
        if name is None:
            raise NotFound(f"organisation '{organisation}' does not exist")
        events = event_log(session, organisation, start, end)
    document = to_xes(events, name) if fmt == "xes" else to_csv(events).encode("utf-8")
    output.write_bytes(document)
    cases = len({e.case_id for e in events})
    return (f"{name}: {cases} complaint(s) received {start} to {end}, {len(events)} event(s), "
            f"written to {output} ({fmt.upper()})")


__all__ = ["CSV_HEADER", "ExportError", "LogEvent", "STANDARD_TRANSITIONS", "event_log",
           "export_command_body", "period_bounds", "to_csv", "to_excel_csv", "to_xes"]

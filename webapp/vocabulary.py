"""The words the stored rows speak: audit event types, inbox task states (`HumanTaskState`:
SpiffWorkflow has a TaskState of its own) and complaint statuses.

One enumeration each; the values are the strings in the database (and in the audit hash chain),
so a member compares equal to, and is stored as, the text it has always been. It sits at the
bottom of the layers: the runtime, the handlers (a service task records complaint_registered),
reports, exports and the web pages all name events through it.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """`audit_events.event_type`."""

    COMPLAINT_RECEIVED = "complaint_received"
    COMPLAINT_REGISTERED = "complaint_registered"  # the register_complaint operator
    TASK_READY = "task_ready"
    TASK_CLAIMED = "task_claimed"
    TASK_RELEASED = "task_released"
    TASK_HANDED_OVER = "task_handed_over"
    TASK_COMPLETED = "task_completed"
    TASK_CANCELLED = "task_cancelled"
    TIMER_FIRED = "timer_fired"
    GATEWAY_PASSED = "gateway_passed"
    MESSAGE_RECEIVED = "message_received"
    MESSAGE_SENT = "message_sent"  # letters and staff notifications
    END_EVENT = "end_event"
    ELEMENT_COMPLETED = "element_completed"
    PROCESS_COMPLETED = "process_completed"
    MIGRATED = "migrated"
    COMPLAINT_CANCELLED = "complaint_cancelled"  # staff closed it with a reason
    INCIDENT_RESOLVED = "incident_resolved"  # a failed step went through again
    DIAGRAM_DEPLOYED = "diagram_deployed"
    ERROR = "error"  # a failed step, rolled back; kept for the technical history
    MEASURE_RECORDED = "measure_recorded"  # the record_measure operator (webapp.runtime.measures)
    MEASURE_FOLLOWED_UP = "measure_followed_up"  # "Maatregel gerealiseerd?" answered


class HumanTaskState(StrEnum):
    """`human_tasks.state`: an inbox row follows its user task in the workflow."""

    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InstanceStatus(StrEnum):
    """`instances.status`."""

    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # closed by staff (Runtime.cancel_complaint)


class MeasureStatus(StrEnum):
    """`measures.status`: a measure is open until its follow-up says it was realised, moved to a
    new date (uitgesteld, still to be followed up) or dropped (vervallen)."""

    OPEN = "open"
    REALISED = "gerealiseerd"
    POSTPONED = "uitgesteld"
    DROPPED = "vervallen"


__all__ = ["EventType", "InstanceStatus", "HumanTaskState", "MeasureStatus"]

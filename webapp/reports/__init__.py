"""Reports for auditors, quality officers and the toezichthouder: deadline compliance,
throughput times, escalations, complaints per location, type and outcome, the public
annual complaints report (openbaar klachtenjaarverslag) and a quarterly analysis.

Everything is computed from the database rows the runtime writes: the complaint rows
(`instances`: type, location, status, received and closed), the inbox rows (`human_tasks`:
which user task, when ready, completed or cancelled) and the audit trail (`audit_events`:
timers fired, gateways passed, end events reached, and the decisions of completed forms:
yes/no, choices and numbers, never free text). None of these hold personal data, and
retention leaves all of them in place, so the figures stay the same after a complaint's
personal data was purged. The structure of a procedure (which timer guards which step,
which end events are outcomes) comes from the stored diagram version of each complaint.

No Flask here: the web pages (`webapp.web.reports_views`) call these functions.

The package: computation (`compute`: one pass over the complaints of `complaints`, on the diagram
structure of `model` and the deadline kinds of `kinds`, into the plain data of `results`), charts
(`charts`: inline SVG) and documents (`pdf`: the public report as PDF; `formatting`: Dutch numbers
and sentences). `settings` says who reads reports; `labels` holds the words they classify by.

How the figures are derived
---------------------------
* Population: the complaints *received* in the period (Europe/Amsterdam dates).
* Deadline kinds: the organisation's `deadlines` section. A kind is measured on the timers
  that implement it: the ids listed under `timer:` when given, else every timer whose
  expression (or the script variable it names) calls the same calendar function with the same
  number (`working_days: 3` = `working_days_after(3, ...)`, `weeks: 6, statutory: true` =
  `weeks_after(6, ..., statutory=True)`). When two kinds share a function and number, each timer
  goes to the kind whose id and label share most words with the timer, the step it guards and
  what its branch does. Per complaint: *gemist* when one of the kind's timers fired; else *open*
  while a guarded step is active; else *gehaald* when a guarded step was finished; else
  *vervallen* (the step was cancelled before its deadline, e.g. the complaint was withdrawn).
  A kind whose timers all end the complaint without a further user task (the complainant's
  twelve months for the Geschillencommissie, two months unreachable) is a *vervaltermijn*: shown
  apart as "verstreken / niet verstreken", not as a missed target.
* Throughput: days from receipt to closing (`closed_at`) of the closed complaints; median,
  90th percentile (nearest rank) and maximum, per type.
* Escalations: timers that escalate (interrupting ones that lead to a further step, and reminders
  that alert a role other than the one of the step they guard), and the steps reached in the lane
  or under the name of the management (directeur, bestuurder) or an external body
  (Geschillencommissie, Klachtenloket, Klachtencommissie, Exkocie), by BPMN element name.
* Outcome: the end events of the organisation's main process reached on the main path (reminder
  branches excluded); a complaint with parallel paths can reach more than one.
* Form decisions: the choices of the completed forms, classified by field name and options:
  a judgement (options with "gegrond"), the nature (aard, categorie, onderwerp), measures
  (verbetering, maatregel, wijziging); an external body's case is a step of that body whose form
  records a judgement.
"""

from __future__ import annotations

from .compute import annual_report, build_report, quarter_summaries, quarterly_report
from .kinds import DeadlineKind, deadline_kinds
from .labels import type_label
from .model import DiagramModel, diagram_model
from .periods import Period
from .results import DeadlineFigure, Report
from .settings import known_locations, report_roles, reporting_settings, wants_quarterly, years_with_data

__all__ = [
    "DeadlineFigure", "DeadlineKind", "DiagramModel", "Period", "Report", "annual_report", "build_report",
    "deadline_kinds", "diagram_model", "known_locations", "quarter_summaries", "quarterly_report",
    "report_roles", "reporting_settings", "type_label", "wants_quarterly", "years_with_data",
]

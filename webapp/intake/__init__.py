"""The intake of a complaint from outside: check what a complainant submitted against the
organisation's intake rules (`intake` in organisation.yaml) and start its procedure.

No Flask here: the public web form and the JSON API both call `check_intake` and
`submit_complaint`. Callers pass `today` from the clock seam:
`clock.to_local(clock.now()).date()`, never `date.today()`.

`submitted` may be flat (the form: `naam`, `email`, `telefoon`, `relatie`, ...) or nested as
the process data is (`klager: {naam, email, telefoon, relatie}`); flat names win. Error keys
are the flat names (`naam`, `email`, `telefoon`, `relatie`, `anoniem`, `soort`, `locatie`,
`datum_gebeurtenis`, `omschrijving`, `toestemming`, `kanaal`) and "" for the form as a whole.

The package: `rules` (the organisation's intake rules and the intake's words), `values`
(reading submitted values), `check` (`check_intake`), `confirmation` (what happens next);
starting the procedure is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from webapp.runtime.service import Actor, RowsHook, Runtime, Started

from .check import check_intake
from .confirmation import MONTHS, WEEKDAYS, Confirmation, NextStep, confirmation, long_date
from .rules import (
    ANONYMOUS_POLICIES,
    CHANNEL_LABELS,
    CHANNELS,
    MAX_LENGTH,
    RELATIONS,
    SIGNAL,
    TYPE_LABELS,
    WEB_FORM_IDENTITY,
    IntakeRefused,
    IntakeResult,
    IntakeRules,
)
from .values import lapsed, months_before, parse_date


def web_form_actor(slug: str) -> Actor:
    return Actor(WEB_FORM_IDENTITY, slug)


def start_intake(runtime: Runtime, slug: str, result: IntakeResult, actor: Actor | None = None,
                 with_rows: RowsHook | None = None) -> Started:
    """Start the organisation's current diagram with checked intake data (as the web form by default);
    `with_rows` adds rows (the attached documents) in the intake's transaction."""
    return runtime.start(slug, result.data, actor=actor or web_form_actor(slug),
                         complaint_type=result.complaint_type, location=result.location, with_rows=with_rows)


def submit_complaint(runtime: Runtime, slug: str, submitted: Mapping[str, Any], today: date, *,
                     actor: Actor | None = None, kanaal: str = "website") -> Started:
    """Check a submission (IntakeRefused when it cannot be taken in) and start its procedure.
    NotFound when the organisation is unknown or has no deployed diagram."""
    result = check_intake(runtime.organisation(slug), submitted, today, kanaal=kanaal)
    return start_intake(runtime, slug, result, actor)



__all__ = ["ANONYMOUS_POLICIES", "CHANNELS", "CHANNEL_LABELS", "MAX_LENGTH", "MONTHS", "RELATIONS", "SIGNAL",
           "TYPE_LABELS", "WEB_FORM_IDENTITY", "WEEKDAYS", "Confirmation", "IntakeRefused", "IntakeResult",
           "IntakeRules", "NextStep", "check_intake", "confirmation", "lapsed", "long_date", "months_before",
           "parse_date", "start_intake", "submit_complaint", "web_form_actor"]

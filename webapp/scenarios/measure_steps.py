"""Measures in scenarios: the register of measures a complaint's procedure recorded, the
follow-up task "Maatregel gerealiseerd?" that arrives on the promised date, its answer, and the
overdue measures on the quality officer's overview. The runner calls these; the worker's own
function (`measures.raise_follow_ups`) raises the tasks as the virtual clock passes each date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

from sqlalchemy import func, or_, select

from webapp.db.models import Measure, MeasureComplaint, OutboxMessage
from webapp.runtime import clock, measures
from webapp.runtime.service import Runtime


class MeasureStepError(AssertionError):
    """A scenario step about measures that cannot be carried out as written."""


def next_follow_up_at(runtime: Runtime) -> datetime | None:
    """The first moment the worker would raise a follow-up task: the start (Amsterdam) of the
    earliest promised date of an open or postponed measure whose task has not arrived yet."""
    with runtime.sessions() as session:
        due = session.scalar(select(func.min(Measure.due_on)).where(
            Measure.status.in_(measures.OPEN_STATES), Measure.follow_up_at.is_(None)))
    return datetime.combine(due, dtime(0, 0), clock.AMSTERDAM) if due else None


def raise_follow_ups(runtime: Runtime) -> int:
    """As the worker does on every round."""
    return measures.raise_follow_ups(runtime)


def complaint_measures(runtime: Runtime, instance_id: int) -> list[Measure]:
    """The measures agreed in the complaint, or linked to it (an organisation-wide improvement)."""
    linked = select(MeasureComplaint.measure_id).where(MeasureComplaint.instance_id == instance_id)
    with runtime.sessions() as session:
        return list(session.scalars(select(Measure).where(
            or_(Measure.instance_id == instance_id, Measure.id.in_(linked))).order_by(Measure.id)))


def _short(description: str) -> str:
    """A measure in a message: its start, without the "; " that separates a message's problems."""
    return description[:60].replace(";", ",")


def _find(found: list[Measure], text: str) -> Measure:
    matches = [m for m in found if text in m.description]
    if len(matches) != 1:
        shown = [_short(m.description) for m in found]
        raise MeasureStepError(f"measures mentioning '{text}': {len(matches)}, expected one, of {shown or 'none'}")
    return matches[0]


def answer(runtime: Runtime, slug: str, instance_id: int, step: dict[str, Any],
           actor_email: Callable[[str], str]) -> None:
    """`follow_up: <part of the description>`: answer its "Maatregel gerealiseerd?" as the
    responsible role (or `as`), with `outcome`, `note` and, for uitgesteld, `new_date`."""
    # The worker has had its round by now (the runner raises each task on its date as the clock
    # moves; a simulation that moves the clock itself, such as the year generator, need not).
    measures.raise_follow_ups(runtime)
    measure = _find(complaint_measures(runtime, instance_id), step["follow_up"])
    if not measures.task_open(measure):
        raise MeasureStepError(f"follow-up has not arrived for '{_short(measure.description)}' "
                               f"(promised {measure.due_on.isoformat()}, status {measure.status})")
    role = step.get("as") or measure.responsible_role
    new_date = date.fromisoformat(step["new_date"]) if step.get("new_date") else None
    given = measures.Answer(step["outcome"], step.get("note", ""), new_date)
    measures.answer_follow_up(runtime, slug, measure.id, given, actor_email(role), frozenset({role}))


def _measure_problems(measure: Measure, want: dict[str, Any], today: date) -> list[str]:
    actual = {"description": measure.description, "role": measure.responsible_role,
              "person": measure.responsible_person, "location": measure.location, "due": measure.due_on.isoformat(),
              "status": measure.status, "scope": measure.scope, "outcome": measure.outcome,
              "feedback": measure.feedback_letter, "follow_up": measures.task_open(measure),
              "overdue": measures.is_overdue(measure, today)}
    return [f"measure '{_short(measure.description)}': {key} is {actual[key]!r}, expected {value!r}"
            for key, value in want.items() if key in actual and actual[key] != value]


def expect_measures(runtime: Runtime, slug: str, instance_id: int, expect: dict[str, Any]) -> list[str]:
    """The problems with the expectations `measures`, `follow_ups` and `overdue_measures` (a
    follow-up is the task "Maatregel gerealiseerd?"; webapp/web/scenario_text.py says them in Dutch)."""
    problems: list[str] = []
    found = complaint_measures(runtime, instance_id)
    today = measures.today()
    if "measures" in expect:
        wanted = expect["measures"]
        if len(wanted) != len(found):
            problems.append(f"measures recorded: {[_short(m.description) for m in found]}, expected {len(wanted)}")
        for measure, want in zip(found, wanted, strict=False):
            problems += _measure_problems(measure, want, today)
    if "follow_ups" in expect:
        problems += _follow_up_problems(runtime, found, expect["follow_ups"])
    if "overdue_measures" in expect:
        # What the quality officer's overview lists under "Te laat" for this complaint.
        ids = {m.id for m in found}
        overdue = [r.measure.description for r in measures.register(runtime, slug, status="te_laat")
                   if r.measure.id in ids]
        wanted = expect["overdue_measures"]
        if len(overdue) != len(wanted) or not all(any(w in d for d in overdue) for w in wanted):
            problems.append(f"overdue on the quality officer's overview: {[_short(d) for d in overdue]}, "
                            f"expected {wanted}")
    return problems


def _follow_up_problems(runtime: Runtime, found: list[Measure], wanted: list[dict[str, Any]]) -> list[str]:
    """Exactly these "Maatregel gerealiseerd?" tasks wait, each announced to its role."""
    problems = []
    waiting = [m for m in found if measures.task_open(m)]
    matched: list[Measure] = []
    for want in wanted:
        measure = next((m for m in waiting if want["measure"] in m.description and m not in matched), None)
        if measure is None:
            problems.append(f"no follow-up waits for a measure mentioning '{want['measure']}'")
            continue
        matched.append(measure)
        if "role" in want and measure.responsible_role != want["role"]:
            problems.append(f"follow-up for '{want['measure']}' is for role '{measure.responsible_role}', "
                            f"expected '{want['role']}'")
        raised = clock.to_local(measure.follow_up_at).date().isoformat()
        if "raised" in want and raised != want["raised"]:
            problems.append(f"follow-up for '{want['measure']}' arrived on {raised}, expected {want['raised']}")
        if not _announced(runtime, measure):
            problems.append(f"follow-up for '{want['measure']}' was not announced to role "
                            f"'{measure.responsible_role}'")
    extra = [_short(m.description) for m in waiting if m not in matched]
    if extra:
        problems.append(f"unexpected follow-up for: {extra}")
    return problems


def _announced(runtime: Runtime, measure: Measure) -> bool:
    with runtime.sessions() as session:
        return session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.template == "maatregel_opvolgen", OutboxMessage.created_at == measure.follow_up_at,
            OutboxMessage.recipient == f"role:{measure.responsible_role}",
            OutboxMessage.organisation_id == measure.organisation_id)) > 0

"""Use cases on one complaint's open work: complete a task, deliver a message, claim, release
or hand over a task, keep a draft. Each is one step in one transaction (see unit_of_work)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from webapp.db.models import HumanTask
from webapp.vocabulary import EventType, HumanTaskState, InstanceStatus

from . import audit, clock
from .actors import Actor, RowsHook
from .errors import ConflictError, InvalidWorkflowState, NotFound, PermissionDenied
from .forms import FormCatalog
from .organisations import OrganisationConfig
from .registry import Registry
from .steps import StepRecorder
from .unit_of_work import UnitOfWork, contained

TASK_GONE = "deze taak is niet meer open: een collega of een termijn was u voor"


def role_needed(role: str | None) -> PermissionDenied:
    return PermissionDenied(f"voor deze taak is de rol '{role}' nodig")


class TaskActions:
    def __init__(self, registry: Registry, work: UnitOfWork) -> None:
        self.registry = registry
        self.work = work

    def complete_task(self, instance_id: int, task_id: str, actor: Actor, data: dict[str, Any],
                      expected_lock_version: int | None = None) -> None:
        """Complete a ready user task with form data, as `actor`, and run the engine on."""
        try:
            with self.work.transaction() as session:
                instance, loaded = self.work.load_for_update(session, instance_id)
                if expected_lock_version is not None and instance.lock_version != expected_lock_version:
                    raise ConflictError("deze klacht is intussen gewijzigd; laad de pagina opnieuw")
                config = loaded.organisation
                self._check_organisation(actor, config)
                task = next((t for t in loaded.ready_tasks() if t.task_id == task_id), None)
                if task is None:
                    raise ConflictError(TASK_GONE)
                role = config.role_for_lane(task.lane)
                if not actor.may_work(role):
                    raise role_needed(role)
                if task.form:  # the form of the package this complaint runs on
                    config.forms.validate(task.form, data)
                recorder = StepRecorder(config, instance.reference, actor.identity)
                recorder.record(EventType.TASK_COMPLETED, self.summary(config.forms, task.form, data),
                                bpmn_id=task.bpmn_id,
                                bpmn_name=task.name)
                with contained():
                    loaded.complete(task_id, data, recorder)
                    self.work.persist(session, instance, loaded, recorder, completed=(task_id, actor.identity))
        except InvalidWorkflowState as exc:
            self.work.record_failure(instance_id, "task", exc, actor.identity)
            raise

    def send_message(self, instance_id: int, name: str, payload: dict[str, Any], actor: Actor,
                     with_rows: RowsHook | None = None) -> None:
        """Deliver a message from outside (the complainant withdraws, answers, ...).
        `with_rows(session, instance)` adds rows that come with it (the documents of an answer)
        in the step's transaction: the message and its documents are stored together or not at all."""
        try:
            with self.work.transaction() as session:
                instance, loaded = self.work.load_for_update(session, instance_id)
                self._check_organisation(actor, loaded.organisation)
                if instance.status != InstanceStatus.RUNNING:
                    # An event subprocess would still catch it: a closed complaint takes no messages.
                    raise ConflictError(f"deze klacht is afgesloten en wacht niet op het bericht '{name}'")
                recorder = StepRecorder(loaded.organisation, instance.reference, actor.identity)
                recorder.record(EventType.MESSAGE_RECEIVED, {"message": name})
                if with_rows is not None:
                    with_rows(session, instance)
                with contained():
                    loaded.send_message(name, payload, recorder)
                    self.work.persist(session, instance, loaded, recorder)
        except InvalidWorkflowState as exc:
            self.work.record_failure(instance_id, "message", exc, actor.identity)
            raise

    def assign_task(self, human_task_id: int, actor: Actor, assignee: tuple[int, str] | None) -> None:
        """Claim a task (assignee = the actor), release it (None), or hand it to a colleague
        of the same role (assignee = (user id, email)). Recorded in the audit trail."""
        with self.work.transaction() as session:
            row = self.open_task_for(session, human_task_id, actor)
            if assignee is None:
                event, data = EventType.TASK_RELEASED, {}
            elif assignee[1] == actor.identity:
                event, data = EventType.TASK_CLAIMED, {}
            else:
                event, data = EventType.TASK_HANDED_OVER, {"to": assignee[1]}
            row.claimed_by = assignee[0] if assignee else None
            audit.append(session, [{"organisation_id": row.organisation_id, "instance_id": row.instance_id,
                                    "occurred_at": clock.now(), "actor": actor.identity, "event_type": event,
                                    "bpmn_id": row.bpmn_id, "bpmn_name": row.name, "data": data}])

    def save_draft(self, human_task_id: int, actor: Actor, draft: dict[str, Any]) -> None:
        with self.work.transaction() as session:
            self.open_task_for(session, human_task_id, actor).draft = draft

    def open_task_for(self, session: Session, human_task_id: int, actor: Actor) -> HumanTask:
        """A ready inbox task of the actor's organisation that the actor's roles may work, locked."""
        row = self.work.db.locked(session, HumanTask, human_task_id)
        if row is None or self.registry.slug_for(session, row.organisation_id) != actor.organisation:
            raise NotFound("deze taak bestaat niet")
        if row.state != HumanTaskState.READY:
            raise ConflictError(TASK_GONE)
        if not actor.may_work(row.role):
            raise role_needed(row.role)
        return row

    @staticmethod
    def summary(forms: FormCatalog, form: str | None, data: dict[str, Any]) -> dict[str, Any]:
        """What the audit keeps of submitted data: the fields, and the decisions (yes/no,
        choices, numbers), never free text, which is personal data."""
        enum_fields: set[str] = set()
        if form:
            props = forms.validator(form).schema.get("properties", {})  # cached: no file read per step
            enum_fields = {k for k, v in props.items() if "enum" in v or "oneOf" in v}
        decisions = {k: v for k, v in data.items()
                     if isinstance(v, bool | int | float) or (k in enum_fields and isinstance(v, str))}
        return {"fields": sorted(data), "decisions": decisions}

    @staticmethod
    def _check_organisation(actor: Actor, config: OrganisationConfig) -> None:
        if not actor.is_system and actor.organisation != config.slug:
            raise NotFound("deze klacht bestaat niet")


__all__ = ["TASK_GONE", "TaskActions"]

"""Workflow state to JSON and back, without the spec.

The spec is most of a serialized workflow and never changes for a diagram version,
so the instance row stores only tasks and data, and a restore takes the cached spec.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .diagrams import ParsedDiagram


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["spec_name"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, diagram: ParsedDiagram | None = None):
        if diagram is None:
            raise ValueError("restoring a workflow needs its parsed diagram")
        from uuid import UUID

        spec, subprocess_specs = diagram.specs_for_instance()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _SpeclessWorkflowConverter
_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


def dump_state(workflow: BpmnWorkflow) -> str:
    registry = _serializer.registry
    registry._encoder_mode = True
    try:
        dct: dict[str, Any] = _serializer.to_dict(workflow)
        dct[_serializer.VERSION_KEY] = _serializer.VERSION
        return json.dumps(dct, cls=_serializer._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_state(state: str, diagram: ParsedDiagram) -> BpmnWorkflow:
    dct = json.loads(state)
    _serializer.migrate(dct)
    workflow = _serializer.registry.restore(dct, diagram=diagram)
    if diagram.has_triggered_subprocesses:
        reconnect_fired_subprocesses(workflow)
    return workflow


def reconnect_fired_subprocesses(workflow: BpmnWorkflow) -> None:
    """Redo, on this complaint's private spec, the wiring SpiffWorkflow made when one of its
    event subprocesses fired (BpmnStartTask.trigger_wf), so the restored workflow behaves
    exactly as it did before it was stored."""
    for wf in [workflow, *workflow.subprocesses.values()]:
        start, end = wf.spec.start, wf.spec.end
        fired = {t.task_spec.name for t in wf.tasks.values() if t.task_spec.name in start.trigger_specs}
        for name in fired:
            spec = wf.spec.task_specs[name]
            if start not in spec.inputs:
                start.connect(spec)
                spec.connect(end)

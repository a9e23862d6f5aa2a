"""The BPMN vocabulary: the namespaces of BPMN 2.0, its diagram interchange and SpiffWorkflow's
extensions, as URIs, as an ElementPath prefix map and as Clark-notation tag helpers. The one
place they are written; diagram parsing, checks, deploy, trace, reports and the modeller use them."""

from __future__ import annotations

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# For lxml's find/iterfind/xpath: "bpmn:userTask", "spiffworkflow:property", ...
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "spiffworkflow": SPIFF}
DI_NSMAP = {"bpmndi": BPMNDI, "dc": DC, "di": DI}

# Flow-node element names (local names in the BPMN namespace).
ACTIVITIES = frozenset({"task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
                        "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                      "complexGateway"})
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS


def bpmn_tag(local: str) -> str:
    """`{BPMN}local`, for iter() and tag comparisons."""
    return f"{{{BPMN}}}{local}"


def spiff_tag(local: str) -> str:
    return f"{{{SPIFF}}}{local}"


__all__ = ["ACTIVITIES", "BPMN", "BPMNDI", "DC", "DI", "DI_NSMAP", "EVENTS", "FLOW_NODES", "GATEWAYS", "NS", "SPIFF",
           "bpmn_tag", "spiff_tag"]

"""The trace page of a complaint: its diagram version drawn by bpmn-js with what ran,
what is active and what was cut off, the sequence flows taken, and beside it the steps
with who, when, the time in between and the deadlines. Read-only, for everyone with a
role in the organisation (auditors included); the list of steps works without JavaScript."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.trace import build_trace

from .access import log_page
from .auth import organisation_page, runtime
from .complaints import instance_of

bp = Blueprint("trace", __name__)


@bp.route("/<org>/klachten/<reference>/spoor")
@organisation_page
def show(org: str, reference: str):
    instance = instance_of(org, reference)  # 404 for another organisation's or a refused complaint
    log_page(instance, "spoor")
    trace = build_trace(runtime(), instance.id)
    data = {"xml": trace.diagram.bpmn_xml, **trace.markers()}
    return render_template("trace.html", instance=instance, trace=trace, data=data)

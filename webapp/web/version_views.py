"""Versions you can read: two published versions of one organisation's procedure side by
side. The diagram is drawn twice with bpmn-js (assets/versiondiff.js), which computes the
semantic diff with bpmn-js-differ and marks added, removed and changed elements; below it,
what changed in the rest of the package (settings, forms, letters, scenarios), from
webapp.runtime.package_diff. Versions are addressed by their number, as the versions page
shows them: /<org>/procesontwerp/versies/3/vergelijk/4. Only for process owners, like every
procesontwerp page. The route is on the modeller's blueprint (the menu marks Procesontwerp);
modeller_views imports this module at its end to attach it."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template

from webapp.db.models import DiagramVersion
from webapp.runtime.deploy import compare_diagrams
from webapp.runtime.errors import DiagramError
from webapp.runtime.package_diff import package_changes

from .auth import runtime
from .modeller_views import bp, process_owner
from .queries import procedures


def _by_number(org: str, number: int) -> DiagramVersion:
    version = procedures.version_by_number(runtime(), runtime().organisation_id(org), number)
    if version is None:
        abort(404)
    return version


def _files(version: DiagramVersion) -> dict[str, str]:
    # The package's other files: a column of migration 0013; versions from before it have none.
    return dict(getattr(version, "files", None) or {})


def _server_changes(old: DiagramVersion, new: DiagramVersion) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """What the server's own comparison says: per changed element of the main diagram, which
    aspects changed (the browser's list names them), and every change in called processes
    (the diagram drawn is the main one only)."""
    try:
        changes = compare_diagrams(old.bpmn_xml, new.bpmn_xml, old.dependencies, new.dependencies)
    except DiagramError:
        return {}, []
    aspects = {e["id"]: e["aspects"] for e in changes["changed"] if not e.get("file")}
    called = [{**entry, "status": status} for status in ("added", "removed", "changed")
              for entry in changes[status] if entry.get("file")]
    return aspects, called


def _summary(version: DiagramVersion) -> dict[str, Any]:
    return {"version": version.version, "deployed_at": version.deployed_at, "deployed_by": version.deployed_by,
            "note": version.note or ""}


@bp.route("/<org>/procesontwerp/versies/<int:old>/vergelijk/<int:new>")
@process_owner
def compare_versions(org: str, old: int, new: int):
    before, after = _by_number(org, old), _by_number(org, new)
    old_files, new_files = _files(before), _files(after)
    aspects, called = _server_changes(before, after)
    data = {"old": {"version": before.version, "xml": before.bpmn_xml},
            "new": {"version": after.version, "xml": after.bpmn_xml}, "aspects": aspects}
    return render_template(
        "modeller_vergelijk.html", old=_summary(before), new=_summary(after), data=data,
        files=package_changes(old_files, new_files) if old_files and new_files else [],
        files_known=bool(old_files) and bool(new_files), called=called)

"""The versions of a procedure and moving running complaints to another version (on the
modeller's blueprint)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.runtime import deploy as deployment
from webapp.runtime import packages
from webapp.runtime.errors import KlachtrouteError

from .auth import runtime
from .modeller_views import _org_id, _version, _versions, bp, process_owner
from .queries import procedures


@bp.route("/<org>/procesontwerp/versies")
@process_owner
def versions(org: str):
    rows = _versions(org)
    counts = procedures.running_per_version(runtime(), _org_id(org))
    drafts = deployment.list_drafts(runtime(), org)
    return render_template("modeller_versies.html", versions=rows, counts=counts, drafts=drafts)


def _migration_module():
    from webapp.runtime import migration

    return migration


@bp.route("/<org>/procesontwerp/versies/<int:version_id>/migratie", methods=["GET", "POST"])
@process_owner
def migration(org: str, version_id: int):
    version = _version(org, version_id)
    migrate = _migration_module()
    results = None
    if request.method == "POST":
        chosen = sorted({i for i in request.form.getlist("klacht", type=int)})
        if not chosen:
            flash("Kies eerst een of meer klachten om te verplaatsen.")
            return redirect(url_for("modeller.migration", org=org, version_id=version_id))
        allowed = {c.instance_id for c in migrate.preview(runtime(), org, version_id)}
        if not set(chosen) <= allowed:
            abort(404)  # a complaint of another organisation, or one that is not running
        try:
            results = migrate.migrate(runtime(), chosen, version_id, current_user.email)
        except KlachtrouteError as exc:
            flash(f"Verplaatsen is mislukt: {exc}")
            return redirect(url_for("modeller.migration", org=org, version_id=version_id))
    candidates = migrate.preview(runtime(), org, version_id)
    return render_template("modeller_migratie.html", version=version, candidates=candidates,
                           package_changes=_package_changes(org, version, {c.from_version for c in candidates}),
                           results=[_result_view(r) for r in results] if results is not None else None)


def _package_changes(org: str, target, from_numbers: set[int]) -> dict[int, list[dict[str, str]]]:
    """Per version the candidates are on: what else of the package differs from the target's
    (forms, letters, settings, scenarios): a complaint that moves takes all of it."""
    new = packages.split(runtime().config_for_version(target.id).files)[1]
    result = {}
    for version in _versions(org):
        if version.version in from_numbers:
            old = packages.split(runtime().config_for_version(version.id).files)[1]
            result[version.version] = packages.file_changes(old, new)
    return result


def _result_view(result: Any) -> dict[str, Any]:
    return {"reference": result.reference or f"#{result.instance_id}", "moved": result.moved,
            "reasons": list(result.reasons)}



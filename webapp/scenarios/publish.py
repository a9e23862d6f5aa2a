"""Publishing a procedure's diagram: the gate every draft passes (the same for the web page,
publishing and `klachtroute check`) and storing a new version with what changed.

Above the runtime: the gate runs the organisation's scenarios (`webapp.scenarios`) in a
limited child process; the runtime itself never runs the scenario runner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.db.models import DiagramVersion
from webapp.runtime import audit, clock
from webapp.runtime.deploy import Deployment, compare_diagrams, dependencies_for, screen_all
from webapp.runtime.diagrams import diagram_sha256
from webapp.runtime.errors import ConflictError, DiagramError, DiagramProblem
from webapp.runtime.forms import FormCatalog
from webapp.runtime.organisations import OrganisationConfig

from .gate import check_in_child

__all__ = ["check_draft", "deploy", "gate"]


def gate(config: OrganisationConfig, forms: FormCatalog, xml: str | bytes,
         dependencies: dict[str, str | bytes]) -> list[DiagramProblem]:
    """The gate every diagram passes, the same for the web page, deploy and `klachtroute
    check`: a list of problems (empty: it may be deployed).

    In order, stopping early where later checks cannot say anything useful: size (before
    parsing), encoding, DOCTYPE/entities, here; then, in a child process with CPU, memory
    and wall-clock limits (`gate.check_in_child`), `check_organisation` (well-formed XML,
    the OMG BPMN 2.0 schema, SpiffBpmnParser get_spec and get_subprocess_specs, forms,
    lanes to roles, operators and letters, expressions and scripts in the sandbox, layout)
    and bpmnlint; then, only when all of that passes, the organisation's scenarios against
    the draft. Raises check_runner.ChecksBusy when too many checks run already."""
    try:
        text, deps = screen_all(config, xml, dependencies)
    except DiagramError as exc:
        return exc.problems
    return check_in_child(config, forms, text, deps)


def check_draft(runtime, slug: str, xml: str | bytes,
                dependencies: dict[str, str] | None = None) -> list[DiagramProblem]:
    """Every check of an organisation's draft (`gate`), with the called processes of the
    current version unless `dependencies` are given."""
    config = runtime.organisation(slug)
    return gate(config, runtime.forms, xml, dependencies_for(runtime, slug, dependencies))


# -- deployment ----------------------------------------------------------------------------


def deploy(runtime, slug: str, xml: str | bytes, actor_email: str, note: str,
           dependencies: dict[str, str] | None = None) -> Deployment:
    """Run every check; while any problem remains, raise DiagramError(problems) and store
    nothing. Otherwise store a new version (who, when, note, sha256, what changed) and
    return it. New complaints start on it; running ones stay on theirs until migrated.
    A diagram identical to the current version stores nothing (`created` is False)."""
    config = runtime.organisation(slug)
    org_id = runtime.organisation_id(slug)
    deps = dependencies_for(runtime, slug, dependencies)
    problems = check_draft(runtime, slug, xml, deps)
    if problems:
        raise DiagramError(problems)
    text, deps = screen_all(config, xml, deps)
    parsed = runtime.validate_diagram(slug, text, deps)
    digest = diagram_sha256(text, deps)
    now = clock.now()
    try:
        with runtime.write_sessions.begin() as session:
            current = session.scalars(select(DiagramVersion).where(DiagramVersion.organisation_id == org_id)
                                      .order_by(DiagramVersion.version.desc()).limit(1)).first()
            if current is not None and current.sha256 == digest:
                return Deployment(current.id, current.version, {}, created=False)
            if current is None:
                changes = compare_diagrams(None, text, None, deps, main_file=config.process_file)
            else:
                changes = compare_diagrams(current.bpmn_xml, text, current.dependencies, deps,
                                           main_file=config.process_file)
                changes["from_version"] = current.version
            version = DiagramVersion(
                organisation_id=org_id, version=(current.version + 1) if current else 1,
                process_id=config.process_id, bpmn_xml=text, dependencies=deps, sha256=digest,
                deployed_by=actor_email, deployed_at=now, note=note, changes=changes)
            session.add(version)
            session.flush()
            audit.append(session, [{
                "organisation_id": org_id, "occurred_at": now, "actor": actor_email,
                "event_type": "diagram_deployed",
                "data": {"version": version.version, "diagram_version_id": version.id, "sha256": digest,
                         "added": len(changes["added"]), "removed": len(changes["removed"]),
                         "changed": len(changes["changed"])}}])
            deployment = Deployment(version.id, version.version, changes)
    except IntegrityError as exc:
        raise ConflictError("er is intussen een andere versie van dit diagram uitgerold; "
                            "bekijk de nieuwe versie en probeer het opnieuw") from exc
    # Only after the commit: an id of a rolled-back insert can be handed out again.
    runtime.specs.get(deployment.version_id, lambda: parsed)
    return deployment

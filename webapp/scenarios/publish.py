"""Publishing a procedure package: the gate every draft passes (the same for the web page,
publishing, `klachtroute check` and `klachtroute package import`) and storing a new version,
the whole package, with what changed.

Above the runtime: the gate runs the organisation's scenarios (`webapp.scenarios`) in a
limited child process; the runtime itself never runs the scenario runner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.db.models import DiagramVersion
from webapp.runtime import audit, clock, packages
from webapp.runtime.deploy import Deployment, compare_diagrams, dependencies_for, screen_all
from webapp.runtime.diagrams import parse_diagram
from webapp.runtime.errors import ConfigError, ConflictError, DiagramError, DiagramProblem, NotFound
from webapp.runtime.organisations import OrganisationConfig, config_from_files

from .gate import check_in_child

__all__ = ["check_draft", "deploy", "draft_package", "gate"]


def gate(config: OrganisationConfig, xml: str | bytes, dependencies: dict[str, str | bytes]) -> list[DiagramProblem]:
    """The gate every diagram passes, the same for the web page, deploy and `klachtroute
    check`: a list of problems (empty: it may be deployed).

    In order, stopping early where later checks cannot say anything useful: size (before
    parsing), encoding, DOCTYPE/entities, here; then, in a child process with CPU, memory
    and wall-clock limits (`gate.check_in_child`), `check_organisation` (well-formed XML,
    the OMG BPMN 2.0 schema, SpiffBpmnParser get_spec and get_subprocess_specs, forms,
    lanes to roles, operators and letters, expressions and scripts in the sandbox, layout)
    and bpmnlint; then, only when all of that passes, the organisation's scenarios against
    the draft. `config` is the package: its forms, letters (and their placeholders) and
    scenarios are checked with the diagram. Raises check_runner.ChecksBusy when too many
    checks run already."""
    try:
        text, deps = screen_all(config, xml, dependencies)
    except DiagramError as exc:
        return exc.problems
    return check_in_child(config, text, deps)


def draft_package(runtime, slug: str, files: dict[str, str] | None) -> OrganisationConfig:
    """The package a draft forms: its own forms, letters, settings and scenarios (`files`), or
    those of the current version."""
    if files is None:
        return runtime.organisation(slug)
    try:
        return config_from_files(dict(files), slug=slug)
    except ConfigError as exc:
        raise DiagramError([DiagramProblem(f"de instellingen kloppen niet: {exc}", file=packages.SETTINGS)]) from exc


def check_draft(runtime, slug: str, xml: str | bytes, dependencies: dict[str, str] | None = None,
                files: dict[str, str] | None = None) -> list[DiagramProblem]:
    """Every check of an organisation's draft package (`gate`), with the called processes of the
    current version unless `dependencies` are given and its other files unless `files` are."""
    try:
        config = draft_package(runtime, slug, files)
    except DiagramError as exc:
        return exc.problems
    return _identity_problems(runtime, slug, config) or gate(config, xml, dependencies_for(runtime, slug, dependencies))


def _identity_problems(runtime, slug: str, config: OrganisationConfig) -> list[DiagramProblem]:
    """A reference prefix another organisation uses would give two complaints one number: refused.
    Asked only when the draft changes the prefix (it costs a look at every organisation)."""
    try:
        if runtime.organisation(slug).reference_prefix == config.reference_prefix:
            return []
    except NotFound:  # a new organisation: provisioning checked its prefix
        return []
    taken = {other for other in runtime.organisations
             if other != slug and runtime.organisation(other).reference_prefix == config.reference_prefix}
    if not taken:
        return []
    return [DiagramProblem(f"het kenmerk {config.reference_prefix} is al in gebruik bij {', '.join(sorted(taken))}; "
                           "klachtnummers moeten uniek zijn", file=packages.SETTINGS)]


# -- deployment ----------------------------------------------------------------------------


def deploy(runtime, slug: str, xml: str | bytes, actor_email: str, note: str,
           dependencies: dict[str, str] | None = None, files: dict[str, str] | None = None) -> Deployment:
    """Run every check of the whole package; while any problem remains, raise
    DiagramError(problems) and store nothing. Otherwise store a new version (who, when, note,
    sha256 of the package, what changed) and return it. New complaints start on it; running ones
    stay on theirs until migrated. A package identical to the current version stores nothing
    (`created` is False)."""
    config = draft_package(runtime, slug, files)
    org_id = runtime.organisation_id(slug)
    deps = dependencies_for(runtime, slug, dependencies)
    problems = _identity_problems(runtime, slug, config) or gate(config, xml, deps)
    if problems:
        raise DiagramError(problems)
    text, deps = screen_all(config, xml, deps)
    parsed = parse_diagram(text, config.process_file, config.process_id, deps)
    rest = packages.split({**config.files, config.process_file: text, **deps})[1]
    digest = packages.sha256({**rest, config.process_file: text, **deps})
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
                changes["files"] = packages.file_changes(current.files or {}, rest)
            version = DiagramVersion(
                organisation_id=org_id, version=(current.version + 1) if current else 1,
                process_id=config.process_id, bpmn_xml=text, dependencies=deps, sha256=digest,
                deployed_by=actor_email, deployed_at=now, note=note, changes=changes, files=rest)
            session.add(version)
            session.flush()
            audit.append(session, [{
                "organisation_id": org_id, "occurred_at": now, "actor": actor_email,
                "event_type": "diagram_deployed",
                "data": {"version": version.version, "diagram_version_id": version.id, "sha256": digest,
                         "added": len(changes["added"]), "removed": len(changes["removed"]),
                         "changed": len(changes["changed"]), "files": len(changes.get("files", []))}}])
            deployment = Deployment(version.id, version.version, changes)
    except IntegrityError as exc:
        raise ConflictError("er is intussen een andere versie van dit diagram uitgerold; "
                            "bekijk de nieuwe versie en probeer het opnieuw") from exc
    # Only after the commit: an id of a rolled-back insert can be handed out again.
    runtime.specs.get(deployment.version_id, lambda: parsed)
    runtime.registry.packages.forget(slug)  # this process sees the new version at once
    return deployment

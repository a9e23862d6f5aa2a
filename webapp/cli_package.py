"""`klachtroute package`: a procedure package between the database and a folder.

`export` writes a version (or a draft) as a folder that reads well in git; `import` brings a
folder in as a draft through the same gate as the browser's Controleren, and publishes it
with `--publish` when the gate finds nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from webapp.runtime.errors import KlachtrouteError


@click.group()
def package() -> None:
    """Procedure packages: diagram, forms, letters, settings and scenarios of one version."""


@package.command("export")
@click.argument("organisation")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--version", "version", type=int, default=None, help="Version number (default: the newest).")
@click.option("--draft", "draft_id", type=int, default=None, help="A draft's id instead of a version.")
def package_export(organisation: str, target: Path, version: int | None, draft_id: int | None) -> None:
    """Write ORGANISATION's package to the empty folder TARGET."""
    from webapp.bootstrap import build_runtime
    from webapp.runtime import package_io, packages

    runtime = build_runtime()
    try:
        files = package_io.draft_files(runtime, organisation, draft_id) if draft_id else \
            package_io.version_files(runtime, organisation, version)
        written = packages.write_folder(files, target)
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{organisation}: {len(written)} bestanden geschreven naar {target}")


@package.command("import")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--organisation", default=None, help="Into this organisation (default: the slug in organisation.yaml).")
@click.option("--publish", is_flag=True, help="Publish it as a new version when the gate finds no problem.")
@click.option("--by", "actor", default="klachtroute package import", show_default=True, help="Recorded as who.")
def package_import(source: Path, organisation: str | None, publish: bool, actor: str) -> None:
    """Bring the package folder SOURCE in as a draft and run the gate on it. Exit code 1 when
    the gate finds problems (the draft is kept, to be repaired in the browser)."""
    from webapp.bootstrap import build_runtime
    from webapp.runtime import package_io, packages
    from webapp.runtime.problem_texts import in_dutch
    from webapp.scenarios.publish import check_draft, deploy

    runtime = build_runtime()
    try:
        files = packages.read_folder(source)
        slug = organisation or str(packages.settings_of(files).get("slug") or "")
        runtime.organisation_id(slug)
        draft_id = package_io.import_files(runtime, slug, files, actor, note=f"geïmporteerd uit {source.name}")
        full = package_io.draft_files(runtime, slug, draft_id)
        diagrams, rest = packages.split(full)
        names = packages.diagram_names(packages.settings_of(full))
        main = diagrams.pop(names[0])
        problems = check_draft(runtime, slug, main, diagrams, rest)
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{slug}: concept {draft_id} opgeslagen ({len(files)} bestanden)")
    for problem in problems:
        problem = in_dutch(problem)
        where = f"{problem.file or ''}{f' regel {problem.line}' if problem.line else ''}"
        click.echo(f"  {where}: {problem.message}")
    if problems:
        click.echo(f"{len(problems)} {'probleem' if len(problems) == 1 else 'problemen'}: niet gepubliceerd")
        sys.exit(1)
    if publish:
        try:
            done = deploy(runtime, slug, main, actor, f"geïmporteerd uit {source.name}", diagrams, rest)
        except KlachtrouteError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{slug}: versie {done.version} gepubliceerd" if done.created else
                   f"{slug}: gelijk aan versie {done.version}; niets gepubliceerd")
    else:
        click.echo("geen problemen gevonden; publiceer met --publish of in de browser")

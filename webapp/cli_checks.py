"""`klachtroute verify` and `check`: the scenarios, and the gate every publication passes, on
template or package folders."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from webapp.runtime.errors import KlachtrouteError


@click.command()
@click.argument("folders", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--forms", "forms_root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the forms (default: forms/).")
def verify(folders: tuple[Path, ...], forms_root: Path | None) -> None:
    """Run the scenarios of one or more organisation or package folders (default: all of bpmn/)."""
    from webapp.runtime.organisations import BPMN_ROOT, CONFIG_FILENAME
    from webapp.scenarios.runner import verify_organisation

    roots = (forms_root,) if forms_root else ()
    folders = folders or tuple(sorted(p.parent for p in BPMN_ROOT.glob(f"*/{CONFIG_FILENAME}")))
    failed = total = 0
    for folder in folders:
        try:
            results = verify_organisation(folder, form_roots=roots)
        except KlachtrouteError as exc:
            raise click.ClickException(f"{folder}: {exc}") from exc
        click.echo(f"{folder}: {len(results)} scenario(s)")
        for r in results:
            total += 1
            mark = click.style("✓", fg="green") if r.passed else click.style("✗", fg="red")
            click.echo(f"  {mark} {r.scenario.name}  ({r.scenario.path.name}, {len(r.scenario.steps)} steps, "
                       f"{r.seconds * 1000:.0f} ms)")
            if not r.passed:
                failed += 1
                click.echo(f"      {r.failure}")
    click.echo(f"{total - failed} passed, {failed} failed")
    if failed or not total:
        sys.exit(1)


@click.command()
@click.argument("folders", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--forms", "forms_root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the forms (default: forms/).")
def check(folders: tuple[Path, ...], forms_root: Path | None) -> None:
    """The gate of the modeller's Controleren and of every deploy, on organisation folders
    (default: all of bpmn/): schema, parser, forms, lanes, operators, letters, expressions,
    layout, bpmnlint and the scenarios, in the same limited child process. Exit code 1 when
    a diagram has problems, 2 when a file cannot be read. A package folder (as `klachtroute
    package export` writes it) is checked as a whole: its forms, letters and scenarios too."""
    from webapp.runtime.organisations import BPMN_ROOT, CONFIG_FILENAME

    forms = (forms_root,) if forms_root else ()
    folders = folders or tuple(sorted(p.parent for p in BPMN_ROOT.glob(f"*/{CONFIG_FILENAME}")))
    status = 0
    for folder in folders:
        try:
            problems = _check_folder(folder, forms)
        except _Unreadable as exc:
            click.echo(f"fout: {exc}", err=True)
            status = 2
            continue
        click.echo(f"{folder}: {len(problems) or 'geen'} {'probleem' if len(problems) == 1 else 'problemen'}")
        for problem in problems:
            click.echo(f"  {_in_dutch(problem)}")
        status = status or (1 if problems else 0)
    sys.exit(status)


def _in_dutch(problem):
    """The problem as the modeller shows it (the static checks speak English)."""
    from webapp.runtime.problem_texts import in_dutch

    return in_dutch(problem)


class _Unreadable(Exception):  # noqa: N818 - a reason for the one-line message, not a crash
    pass


def _check_folder(folder: Path, form_roots: tuple[Path, ...]) -> list:
    """Read an organisation folder as bytes and run the web page's gate on it."""
    from webapp.runtime.deploy import decode_bpmn
    from webapp.runtime.diagrams import parse_xml
    from webapp.runtime.errors import DiagramError
    from webapp.runtime.organisations import load_config
    from webapp.runtime.packages import NotUtf8Error
    from webapp.scenarios.publish import gate

    try:
        config = load_config(folder, form_roots)
    except NotUtf8Error as exc:
        if exc.path.suffix == ".bpmn":  # the diagram's own reader says what is wrong, in Dutch
            try:
                decode_bpmn(exc.path.read_bytes(), exc.path.name)
            except DiagramError as bad:
                raise _Unreadable(f"{exc.path}: {_in_dutch(bad.problems[0]).message}") from exc
        raise _Unreadable(f"{exc.path}: het bestand is geen geldige UTF-8 "
                          f"(byte 0x{exc.byte:02X}); sla het op als UTF-8") from exc
    except (KlachtrouteError, OSError) as exc:
        raise _Unreadable(f"{folder}: de organisatie kan niet worden gelezen: {exc}") from exc
    files = {}
    for name in (config.process_file, *config.called_process_files):
        path = folder / name
        try:
            files[name] = data = path.read_bytes()
            parse_xml(decode_bpmn(data, name), name)
        except OSError as exc:
            raise _Unreadable(f"{path}: het bestand kan niet worden gelezen: {exc.strerror or exc}") from exc
        except DiagramError as exc:
            problem = _in_dutch(exc.problems[0])
            where = f" (regel {problem.line})" if problem.line else ""
            raise _Unreadable(f"{path}{where}: {problem.message}") from exc
    main_xml = files.pop(config.process_file)
    return gate(config, main_xml, files)

"""The `klachtroute` command line."""

from __future__ import annotations

import contextlib
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from webapp.runtime.errors import KlachtrouteError

DEMO_DAYS = 365  # the demo's history: complaints received over the last year


@click.group()
def main() -> None:
    """Klachtroute: complaint procedures as BPMN processes."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SpiffWorkflow logs every state change at INFO.
    logging.getLogger("spiff").setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring it to the newest schema (DATABASE_URL)."""
    from webapp.db import migrate
    from webapp.db.session import database_url, make_engine

    migrate.upgrade(make_engine())
    click.echo(f"database is up to date: {_safe_url(database_url())}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@click.option("--demo-users/--no-demo-users", default=True, show_default=True,
              help="Create a demo user for every role of every organisation.")
@click.option("--demo-complaints", default=0, show_default=True, metavar="N",
              help="Into an empty database: N complaints per organisation, received last year and run through "
                   "the real procedures (for trying out the inbox, traces and reports).")
def load(demo_users: bool, demo_complaints: int) -> None:
    """Store the organisations of bpmn/ and import their templates (diagram, forms, letters, settings,
    scenarios) as a version where changed, until a process owner publishes a version of their own."""
    from webapp.bootstrap import build_runtime
    from webapp.demo import DEMO_PASSWORD, create_demo_users
    from webapp.runtime import clock

    runtime = build_runtime()
    runtime.ensure_organisations()
    demo = bool(demo_complaints) and _empty(runtime)
    # A demo's first diagrams are older than the year of complaints that run on them.
    deployed_at = clock.now() - timedelta(days=DEMO_DAYS + 30) if demo else clock.now()
    with clock.using_clock(clock.VirtualClock(deployed_at)) if demo else contextlib.nullcontext():
        for slug, config in sorted(runtime.registry.templates.items()):
            owner = _published_by_owner(runtime, slug)
            if owner:  # the template is version 1; after that the process owners own the procedure
                click.echo(f"{config.name}: {owner} published a version of its own; the template is not loaded")
                continue
            try:
                version_id = runtime.deploy(slug, note="loaded from bpmn/")
            except KlachtrouteError as exc:
                raise click.ClickException(f"{config.name}: {exc}") from exc
            click.echo(f"{config.name}: version id {version_id}")
    if demo_complaints:
        _load_demo_complaints(runtime, demo_complaints)
    if demo_users:
        users = create_demo_users(runtime)
        click.echo(f"\nDemo users (password for all: {DEMO_PASSWORD}):")
        for organisation, label, email in users:
            click.echo(f"  {organisation:<26} {label:<32} {email}")


def _published_by_owner(runtime, slug: str) -> str | None:
    """Who published the organisation's current version, unless it was `klachtroute load` itself."""
    from sqlalchemy import select

    from webapp.db.models import DiagramVersion, Organisation
    from webapp.runtime.steps import SYSTEM

    with runtime.sessions() as session:
        by = session.scalar(select(DiagramVersion.deployed_by).join(Organisation)
                            .where(Organisation.slug == slug).order_by(DiagramVersion.version.desc()).limit(1))
    return by if by and by != SYSTEM else None


def _empty(runtime) -> bool:
    from sqlalchemy import func, select

    from webapp.db.models import Instance

    with runtime.sessions() as session:
        return not session.scalar(select(func.count()).select_from(Instance))


def _load_demo_complaints(runtime, per_organisation: int) -> None:
    """A living organisation: a year of (mostly closed) complaints for the reports and, relative
    to today, open ones in every state (see webapp.generate.generate_demo)."""
    from webapp.demo import demo_email
    from webapp.generate import generate_demo
    from webapp.runtime import clock

    if not _empty(runtime):
        click.echo("demo complaints: the database holds complaints already; none added")
        return
    now = clock.now()
    recent = max(2, per_organisation // 3)
    click.echo(f"demo complaints: running {per_organisation} per organisation through the procedures, "
               f"{recent} of them received in the last six weeks ...")
    generated = generate_demo(runtime, now, per_organisation - recent, recent, seed=now.year,
                              actor_email=demo_email)
    click.echo(f"demo complaints: {len(generated)} added")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--with-worker", is_flag=True, help="Also run the worker in this process (for trying it out).")
@click.option("--threads", default=8, show_default=True)
def serve(host: str, port: int, with_worker: bool, threads: int) -> None:
    """Serve the web application with waitress (and optionally the worker beside it)."""
    import threading

    from waitress import serve as waitress_serve

    from webapp.bootstrap import build_runtime
    from webapp.web import create_app

    runtime = build_runtime()
    app = create_app(runtime)
    if with_worker:
        from webapp.mail import OutboxSender, settings_from_env
        from webapp.worker import Worker

        worker = Worker(build_runtime(), OutboxSender(runtime.sessions, settings_from_env()))
        threading.Thread(target=worker.run_forever, name="worker", daemon=True).start()
    click.echo(f"\nKlachtroute runs at http://{host}:{port}/  (log in with a demo user above; Ctrl-C stops)")
    click.echo(f"Public complaint forms: http://{host}:{port}/<organisatie>/klacht-indienen\n")
    waitress_serve(app, host=host, port=port, threads=threads)


@main.group()
def users() -> None:
    """User accounts and their roles."""


@users.command("add")
@click.argument("email")
@click.option("--name", default="", help="Full name.")
@click.option("--role", "roles", multiple=True, help="organisation:role, e.g. samen-kinderopvang:manager_ve (repeatable).")
@click.option("--platform-admin", is_flag=True, help="May create organisations (a role above the organisations).")
@click.password_option(help="The password (asked when not given).")
def users_add(email: str, name: str, roles: tuple[str, ...], platform_admin: bool, password: str) -> None:
    """Add a user."""
    from webapp.accounts import add_user
    from webapp.bootstrap import build_runtime

    runtime = build_runtime()
    try:
        with runtime.write_sessions.begin() as session:
            user = add_user(session, runtime.organisations, email, name, password, list(roles))
            user.platform_admin = platform_admin
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {email} added" + (" (platform administrator)" if platform_admin else ""))


@users.command("list")
def users_list() -> None:
    """List users with their roles."""
    from sqlalchemy import select

    from webapp.accounts import membership
    from webapp.bootstrap import build_runtime
    from webapp.db.models import User

    runtime = build_runtime()
    with runtime.sessions() as session:
        for user in session.scalars(select(User).order_by(User.email)):
            member = membership(session, user.id)
            roles = ", ".join(f"{org}:{role}" for org, rs in sorted(member.roles.items()) for role in sorted(rs)) if member else ""
            click.echo(f"{user.email:<45} {user.name:<40} {roles or '(no roles)'}{'' if user.active else '  [inactive]'}")


@users.command("set-roles")
@click.argument("email")
@click.option("--role", "roles", multiple=True, help="organisation:role (repeatable); replaces all roles.")
def users_set_roles(email: str, roles: tuple[str, ...]) -> None:
    """Replace a user's roles."""
    from webapp.accounts import set_roles
    from webapp.bootstrap import build_runtime

    runtime = build_runtime()
    try:
        with runtime.write_sessions.begin() as session:
            set_roles(session, runtime.organisations, email, list(roles))
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"roles of {email}: {', '.join(roles) or 'none'}")


@users.command("set-password")
@click.argument("email")
@click.password_option(help="The new password (asked when not given).")
def users_set_password(email: str, password: str) -> None:
    """Set a user's password; every session of the user ends."""
    from webapp.accounts import set_password
    from webapp.bootstrap import build_runtime

    runtime = build_runtime()
    try:
        with runtime.write_sessions.begin() as session:
            set_password(session, email, password)
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"password of {email} set; their sessions have ended")


@main.group()
def sso() -> None:
    """Sign-in with an organisation's own OpenID Connect provider."""


@sso.command("set")
@click.argument("organisation")
@click.option("--issuer", required=True, help="The provider's issuer URL (https://...).")
@click.option("--client-id", required=True)
@click.option("--client-secret", prompt=True, hide_input=True, help="Asked when not given; stored sealed.")
@click.option("--name", default="", help='Shown on the login page: "Inloggen met <name>".')
@click.option("--groups-claim", default="groups", show_default=True)
@click.option("--map", "mapping", multiple=True, metavar="GROUP=ROLE[,ROLE]", help="A group and its roles (repeatable).")
def sso_set(organisation: str, issuer: str, client_id: str, client_secret: str, name: str, groups_claim: str,
            mapping: tuple[str, ...]) -> None:
    """Configure the provider (the client secret is sealed with SECRET_KEY, as the web app reads it)."""
    from webapp import oidc
    from webapp.bootstrap import build_runtime
    from webapp.web import _secret_key
    from webapp.web.queries import org_id

    runtime = build_runtime()
    config = runtime.organisations.get(organisation)
    if config is None:
        raise click.ClickException(f"unknown organisation '{organisation}'")
    role_map: dict[str, list[str]] = {}
    for item in mapping:
        group, _, roles = item.partition("=")
        names = [r.strip() for r in roles.split(",") if r.strip()]
        unknown = [r for r in names if r not in config.all_roles]
        if not group.strip() or not names or unknown:
            raise click.ClickException(f"--map {item!r}: write GROUP=ROLE[,ROLE] with roles of {config.name}")
        role_map[group.strip()] = names
    with runtime.write_sessions.begin() as session:
        oid = org_id(session, organisation)
        if oid is None:
            raise click.ClickException(f"organisation '{organisation}' is not in the database (run `klachtroute load`)")
        oidc.configure(session, oid, _secret_key(), name=name or config.name, issuer=issuer, client_id=client_id,
                       client_secret=client_secret, groups_claim=groups_claim, role_map=role_map, by="cli")
    click.echo(f"{config.name} signs in with {issuer}; groups mapped: {len(role_map)}")


@main.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("verify")
@click.option("--organisation", "slugs", multiple=True, help="Organisation slug (default: all).")
def audit_verify(slugs: tuple[str, ...]) -> None:
    """Check every organisation's hash chain; names each edited, removed or inserted event."""
    from sqlalchemy import select

    from webapp.bootstrap import build_runtime
    from webapp.db.models import AuditChainHead, Organisation
    from webapp.runtime import audit as audit_chain

    runtime = build_runtime()
    failed = False
    with runtime.sessions() as session:
        query = select(Organisation).order_by(Organisation.slug)
        if slugs:
            query = query.where(Organisation.slug.in_(slugs))
        for org in session.scalars(query):
            checked, problems = audit_chain.verify(session, org.id)
            head = session.get(AuditChainHead, org.id)
            if problems:
                failed = True
                click.echo(f"{org.slug}: {checked} event(s), {len(problems)} problem(s)")
                for problem in problems:
                    click.echo(f"  {problem}")
            else:
                click.echo(f"{org.slug}: {checked} event(s), chain intact; head {head.hash if head else '-'}")
    if failed:
        sys.exit(1)


@main.group()
def retention() -> None:
    """Removal of personal data after each organisation's retention period."""


@retention.command("run")
def retention_run() -> None:
    """Purge personal data of complaints closed longer ago than the retention period."""
    from webapp.bootstrap import build_runtime
    from webapp.runtime.retention import run_retention

    for result in run_retention(build_runtime()):
        click.echo(f"{result.organisation}: {result.purged} complaint(s) closed before "
                   f"{result.cutoff:%Y-%m-%d} purged")


@main.command("export")
@click.option("--organisation", required=True, help="The organisation's slug, e.g. samen-kinderopvang.")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day complaints were received (Europe/Amsterdam).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day complaints were received, inclusive.")
@click.option("--format", "fmt", type=click.Choice(["xes", "csv"]), default="xes", show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export(organisation: str, start: datetime, end: datetime, fmt: str, output: Path) -> None:
    """Export the event log of the complaints received in a period (XES 2.0 or CSV), for process mining."""
    from webapp.db.session import make_engine, make_session_factory
    from webapp.exports import export_command_body

    try:
        click.echo(export_command_body(make_session_factory(make_engine()), organisation, start.date(),
                                       end.date(), fmt, output))
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc


@main.group()
def tokens() -> None:
    """Personal API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
def tokens_create(email: str, name: str) -> None:
    """Create a personal API token (shown once)."""
    from webapp.accounts import create_token
    from webapp.bootstrap import build_runtime

    runtime = build_runtime()
    try:
        with runtime.write_sessions.begin() as session:
            token = create_token(session, email, name)
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)


@main.command()
@click.option("--once", is_flag=True, help="Do one sweep (due timers, outbox) and exit.")
@click.option("--poll-interval", default=1.0, show_default=True, help="Longest sleep between sweeps, in seconds.")
def worker(once: bool, poll_interval: float) -> None:
    """Fire due timers and send the outbox."""
    from webapp.bootstrap import build_runtime
    from webapp.mail import OutboxSender, settings_from_env
    from webapp.worker import Worker

    runtime = build_runtime()
    the_worker = Worker(runtime, OutboxSender(runtime.sessions, settings_from_env()), poll_interval)
    if once:
        stats = the_worker.sweep()
        click.echo(f"fired {stats.timers} timer(s) on {stats.instances} complaint(s), {stats.errors} error(s); "
                   f"handled {stats.messages} message(s)")
        return
    the_worker.install_signal_handlers()
    sys.exit(the_worker.run_forever())


@main.command()
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


@main.command()
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


@main.group(invoke_without_command=True)
@click.option("--organisation", default=None, help="Organisation slug (default: all).")
@click.pass_context
def incidents(ctx: click.Context, organisation: str | None) -> None:
    """Complaints in incident: a step failed and was rolled back (list, retry, cancel)."""
    if ctx.invoked_subcommand is not None:
        return
    from webapp.bootstrap import build_runtime
    from webapp.runtime import clock
    from webapp.runtime.incidents import list_incidents

    runtime = build_runtime()
    with runtime.sessions() as session:
        views = list_incidents(session, organisation)
    if not views:
        click.echo("Geen klachten in storing.")
        return
    for v in views:
        since = clock.to_local(v.since).strftime("%d-%m-%Y %H:%M")
        click.echo(f"{v.reference}\t{v.organisation}\t{v.element_id or '-'}\tsinds {since}\t"
                   f"{v.attempts} poging(en)\t{v.message}")
    click.echo(f"{len(views)} klacht(en) in storing.")


def _incident_target(reference: str) -> tuple[object, int, str]:
    from sqlalchemy import select

    from webapp.bootstrap import build_runtime
    from webapp.db.models import Instance, Organisation

    runtime = build_runtime()
    with runtime.sessions() as session:
        row = session.execute(select(Instance.id, Organisation.slug).join(
            Organisation, Organisation.id == Instance.organisation_id).where(Instance.reference == reference)).first()
    if row is None:
        raise click.ClickException(f"Klacht {reference} bestaat niet.")
    return runtime, row[0], row[1]


@incidents.command("retry")
@click.argument("reference")
def incidents_retry(reference: str) -> None:
    """Run the failed step of complaint REFERENCE again now."""
    from webapp.runtime.service import Actor

    runtime, instance_id, _ = _incident_target(reference)
    try:
        ok = runtime.retry_incident(instance_id, Actor.system())  # type: ignore[attr-defined]
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc
    if not ok:
        raise click.ClickException(f"Klacht {reference} staat nog in storing (de stap faalde opnieuw).")
    click.echo(f"Klacht {reference} loopt weer.")


@incidents.command("cancel")
@click.argument("reference")
@click.option("--reason", required=True, help="Why the complaint is closed (kept in the audit trail).")
def incidents_cancel(reference: str, reason: str) -> None:
    """Close complaint REFERENCE with a reason (its open tasks are cancelled)."""
    from webapp.runtime.service import Actor

    runtime, instance_id, _ = _incident_target(reference)
    try:
        runtime.cancel_complaint(instance_id, Actor.system(), reason)  # type: ignore[attr-defined]
    except KlachtrouteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Klacht {reference} is afgebroken.")


def _register() -> None:
    from webapp.cli_package import package

    main.add_command(package)


_register()

if __name__ == "__main__":
    main()

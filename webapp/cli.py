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
    from webapp.cli_accounts import sso, tokens, users
    from webapp.cli_checks import check, verify
    from webapp.cli_package import package

    for command in (users, sso, tokens, check, verify, package):
        main.add_command(command)


_register()

if __name__ == "__main__":
    main()

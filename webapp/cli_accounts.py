"""`klachtroute users`, `sso` and `tokens`: accounts, single sign-on and API tokens."""

from __future__ import annotations

import click

from webapp.runtime.errors import KlachtrouteError


@click.group()
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


@click.group()
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


@click.group()
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

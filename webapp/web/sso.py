"""Sign-in with the organisation's own identity provider (webapp.oidc): `/login/<org>/sso`
sends the browser to the provider, `/login/<org>/sso/terug` takes it back. And the functioneel
beheerder's form on Collega's that sets the provider up. A sign-in through the provider asks no
second step here: the organisation's provider decides how people prove who they are."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user

from webapp import oidc
from webapp.db.models import OrganisationSettings

from . import queries
from .auth import WebUser, membership_for, organisation_page, runtime
from .colleagues import _manager_only

bp = Blueprint("sso", __name__)


def _provider(org: str) -> tuple[int, oidc.Provider]:
    if org not in runtime().organisations:
        abort(404)
    with runtime().sessions() as db:
        oid = queries.org_id(db, org)
        provider = oidc.provider_of(db.get(OrganisationSettings, oid), current_app.config["SECRET_KEY"])
    if provider is None:
        abort(404)
    return oid, provider


def _callback(org: str) -> str:
    return url_for("sso.back", org=org, _external=True)


@bp.route("/login/<org>/sso")
def start(org: str):
    _, provider = _provider(org)
    try:
        url, kept = oidc.start(provider, _callback(org))
    except oidc.SignInError as exc:
        return render_template("login_sso_error.html", message=str(exc)), 502
    session["sso"] = {**kept, "org": org}
    return redirect(url)


@bp.route("/login/<org>/sso/terug")
def back(org: str):
    oid, provider = _provider(org)
    kept = session.pop("sso", None) or {}
    try:
        if kept.get("org") != org:
            raise oidc.SignInError("Deze inlogpoging is verlopen of ongeldig. Probeer het opnieuw.")
        claims = oidc.finish(provider, _callback(org), kept, request.args.to_dict())
        roles = oidc.roles_for(provider, claims, set(runtime().organisations[org].all_roles))
        with runtime().write_sessions.begin() as db:
            user_id = oidc.sign_in(db, oid, claims, roles).id
        if not roles:
            raise oidc.SignInError(oidc.NO_ACCESS)
    except oidc.SignInError as exc:
        return render_template("login_sso_error.html", message=str(exc)), 403
    login_user(WebUser(membership_for(user_id)))
    return redirect(url_for("staff.inbox", org=org))


def _role_map(text: str, known: set[str]) -> tuple[dict[str, list[str]], str | None]:
    """'groep = rol, rol' per line -> {groep: [rollen]}."""
    mapping: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        group, sep, roles = line.partition("=")
        names = [r.strip() for r in roles.split(",") if r.strip()]
        if not sep or not group.strip() or not names:
            return {}, f"Regel {number}: schrijf 'groep = rol, rol'."
        unknown = [r for r in names if r not in known]
        if unknown:
            return {}, f"Regel {number}: '{unknown[0]}' is geen rol van deze organisatie."
        mapping[group.strip()] = names
    return mapping, None


@bp.route("/<org>/collegas/inloggen", methods=["POST"])
@organisation_page
def settings(org: str):
    _manager_only()
    form = request.form
    issuer = form.get("issuer", "").strip()[:500]
    mapping, problem = _role_map(form.get("rollen", "")[:5000], set(g.org.all_roles))
    if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        problem = "Vul het adres (issuer) van de inlogdienst in; het begint met https://."
    elif not form.get("client_id", "").strip():
        problem = "Vul de client-id in."
    if problem:
        flash(f"Niet opgeslagen: {problem}")
        return redirect(url_for("colleagues.index", org=org))
    with runtime().write_sessions.begin() as db:
        oid = queries.org_id(db, org)
        existing = db.get(OrganisationSettings, oid)
        if not form.get("client_secret") and not (existing and existing.oidc_client_secret):
            flash("Niet opgeslagen: vul het client-secret in.")
            return redirect(url_for("colleagues.index", org=org))
        oidc.configure(db, oid, current_app.config["SECRET_KEY"], name=form.get("naam", "").strip()[:100] or g.org.name,
                       issuer=issuer, client_id=form["client_id"].strip()[:300],
                       client_secret=form.get("client_secret", "").strip()[:500] or None,
                       groups_claim=form.get("groepen_claim", "").strip()[:100] or "groups",
                       role_map=mapping, by=current_user.email)
    flash("De inlogdienst van uw organisatie is opgeslagen.")
    return redirect(url_for("colleagues.index", org=org))

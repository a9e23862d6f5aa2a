"""Login, logout, and who may see what: a user sees only the organisations where they
hold a role; another organisation's pages are a 404, not a 403."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlparse

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from webapp.accounts import Membership, authenticate, membership
from webapp.runtime.organisations import OrganisationConfig
from webapp.runtime.service import Actor, Runtime

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in om verder te gaan."


class WebUser(UserMixin):
    def __init__(self, member: Membership) -> None:
        self.member = member
        self.id = str(member.user_id)

    @property
    def email(self) -> str:
        return self.member.email

    @property
    def name(self) -> str:
        return self.member.name

    def roles_in(self, slug: str) -> frozenset[str]:
        return self.member.roles_in(slug)

    @property
    def organisations(self) -> list[str]:
        return sorted(self.member.roles)


def runtime() -> Runtime:
    return current_app.extensions["klachtroute"]


def init_app(app) -> None:
    login_manager.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> WebUser | None:
        with runtime().sessions() as session:
            member = membership(session, int(user_id))
        return WebUser(member) if member else None


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parsed = urlparse(target)
    return target if not parsed.netloc and not parsed.scheme and target.startswith("/") else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        with runtime().sessions() as session:
            user = authenticate(session, request.form.get("email", ""), request.form.get("wachtwoord", ""))
        if user is None:
            error = "Dit e-mailadres en wachtwoord horen niet bij elkaar."
        else:
            login_user(WebUser(membership_for(user.id)))
            return redirect(_safe_next(request.args.get("next")) or url_for("staff.home"))
    return render_template("login.html", error=error, email=request.form.get("email", "")), (401 if error else 200)


def membership_for(user_id: int) -> Membership:
    with runtime().sessions() as session:
        member = membership(session, user_id)
    assert member is not None
    return member


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("U bent uitgelogd.")
    return redirect(url_for("auth.login"))


def organisation_page(view):
    """For /<org>/... pages: the user must hold a role in that organisation, else 404.
    Sets g.org (its configuration), g.roles and g.actor."""

    @wraps(view)
    @login_required
    def wrapper(org: str, *args, **kwargs):
        roles = current_user.roles_in(org)
        config = runtime().organisations.get(org)
        if not roles or config is None:
            abort(404)
        g.org: OrganisationConfig = config
        g.roles = roles
        g.actor = Actor(current_user.email, org, roles)
        g.can_write = not roles <= {"auditor"}
        return view(org, *args, **kwargs)

    return wrapper


def writer_required() -> None:
    """Auditors read, never write."""
    if not g.can_write:
        abort(403, description="Als auditor kunt u meekijken, maar niets wijzigen.")

"""Login, logout, and who may see what: a user sees only the organisations where they
hold a role; another organisation's pages are a 404, not a 403."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlparse

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
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import select

from webapp import throttle
from webapp.accounts import Membership, authenticate, end_sessions, membership
from webapp.runtime import clock
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

    def get_id(self) -> str:
        # What the session (and a remember cookie) holds: the id and the session version,
        # so that logout and a new password end every session issued before.
        return f"{self.member.user_id}:{self.member.session_version}"

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

    @property
    def platform_admin(self) -> bool:
        return self.member.platform_admin


def runtime() -> Runtime:
    return current_app.extensions["klachtroute"]


def init_app(app) -> None:
    login_manager.init_app(app)

    @login_manager.user_loader
    def load_user(ident: str) -> WebUser | None:
        user_id, _, version = ident.partition(":")
        if not (user_id.isdecimal() and version.isdecimal()) or len(ident) > 40:
            return None  # a session from before session versions, or not ours
        with runtime().sessions() as db:
            member = membership(db, int(user_id))
        if member is None or member.session_version != int(version):
            return None
        return WebUser(member)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parsed = urlparse(target)
    return target if not parsed.netloc and not parsed.scheme and target.startswith("/") else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status, headers = None, 200, {}
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()[:254]
        refusal = count_attempt(email)
        if refusal is not None:
            # Refused before the password is looked at: guessing on gains nothing.
            error, status = too_many_attempts(refusal), 429
            headers["Retry-After"] = str(refusal.seconds)
        else:
            with runtime().sessions() as db:
                user = authenticate(db, email, request.form.get("wachtwoord", ""))
            settle_attempt(email, user is not None)
            if user is not None:
                return second_step_or_in(user.id, _safe_next(request.args.get("next")))
            error, status = "Dit e-mailadres en wachtwoord horen niet bij elkaar.", 401
    page = render_template("login.html", error=error, email=request.form.get("email", ""),
                           providers=sign_in_providers())
    return page, status, headers


def sign_in_providers() -> list[tuple[str, str]]:
    """(slug, provider name) of the organisations that sign in with their own provider."""
    from webapp.db.models import Organisation, OrganisationSettings

    with runtime().sessions() as db:
        rows = db.execute(select(Organisation.slug, OrganisationSettings.oidc_name)
                          .join(OrganisationSettings, OrganisationSettings.organisation_id == Organisation.id)
                          .where(OrganisationSettings.oidc_issuer.is_not(None))
                          .order_by(Organisation.name)).all()
    return [(slug, name or "uw organisatie") for slug, name in rows if slug in runtime().organisations]


def second_step_or_in(user_id: int, next_url: str | None):
    """After the password: the code from the authenticator app when the user has one or an
    organisation of theirs requires it (enrolment first if needed), else signed in."""
    from webapp import twofactor
    from webapp.db.models import User

    with runtime().sessions() as db:
        user = db.get(User, user_id)
        enrolled = twofactor.enrolled(user)
        needed = enrolled or twofactor.required_for(db, user_id)
    if not needed:
        login_user(WebUser(membership_for(user_id)))
        return redirect(next_url or url_for("staff.home"))
    session["tweestaps"] = {"uid": user_id, "v": user.session_version, "next": next_url,
                            "t": clock.now().timestamp()}
    return redirect(url_for("twofactor.code" if enrolled else "twofactor.enrol"))


def too_many_attempts(refusal: throttle.Refusal) -> str:
    minutes = refusal.minutes
    return (f"Te veel mislukte pogingen. Probeer het over {minutes} "
            f"{'minuut' if minutes == 1 else 'minuten'} opnieuw.")


def _limit(name: str) -> throttle.Limit:
    return throttle.Limit.parse(current_app.config[name])


def count_attempt(email: str) -> throttle.Refusal | None:
    """Count this attempt on the account (atomically: parallel guesses cannot pass the limit),
    unless the account or the client address has failed too often in the window."""
    now = clock.now()
    with runtime().write_sessions.begin() as db:
        refusal = throttle.refused(db, "login-address", request.remote_addr or "",
                                   _limit("LOGIN_LIMIT_PER_ADDRESS"), now)
        return refusal or throttle.consume(db, "login-account", email, _limit("LOGIN_LIMIT_PER_ACCOUNT"), now)


def settle_attempt(email: str, success: bool) -> None:
    """A success clears the account's count; a failure counts against the address too
    (successes do not: a whole office logs in from one address)."""
    with runtime().write_sessions.begin() as db:
        if success:
            throttle.reset(db, "login-account", email)
        else:
            throttle.record(db, "login-address", request.remote_addr or "", _limit("LOGIN_LIMIT_PER_ADDRESS"),
                            clock.now())


def membership_for(user_id: int) -> Membership:
    with runtime().sessions() as db:
        member = membership(db, user_id)
    assert member is not None
    return member


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    with runtime().write_sessions.begin() as db:
        end_sessions(db, current_user.member.user_id)
    logout_user()
    session.clear()
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

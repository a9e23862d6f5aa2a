"""The second step of signing in: the 6-digit code of an authenticator app (TOTP), and enrolment
the first time it is needed. Between the password and the code the session holds only who
passed the password (for five minutes); the code attempts count against the same throttle
as passwords."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import login_user
from sqlalchemy import or_, update

from webapp import sealing, twofactor
from webapp.db.models import User
from webapp.runtime import clock

from .auth import WebUser, count_attempt, membership_for, runtime, settle_attempt, too_many_attempts

bp = Blueprint("twofactor", __name__)
PENDING_FOR = timedelta(minutes=5)
WRONG = "Deze code klopt niet. Kijk in uw authenticator-app en probeer het opnieuw."


def _pending() -> User | None:
    """The user who passed the password a moment ago, while their sessions still hold."""
    pending = session.get("tweestaps")
    if not isinstance(pending, dict) or clock.now().timestamp() - pending.get("t", 0) > PENDING_FOR.total_seconds():
        return None
    with runtime().sessions() as db:
        user = db.get(User, pending.get("uid"))
    if user is None or not user.active or user.session_version != pending.get("v"):
        return None
    return user


def _key() -> str:
    return current_app.config["SECRET_KEY"]


def _finish(user: User):
    next_url = session.pop("tweestaps", {}).get("next")
    session.pop("tweestaps_geheim", None)
    login_user(WebUser(membership_for(user.id)))
    return redirect(next_url or url_for("staff.home"))


def _check(user: User, secret: str) -> tuple[int | None, str | None, int, dict]:
    """(accepted step, error, status, headers) for the code in the form."""
    refusal = count_attempt(user.email)
    if refusal is not None:
        return None, too_many_attempts(refusal), 429, {"Retry-After": str(refusal.seconds)}
    step = twofactor.accepted_step(secret, request.form.get("code", ""), user.totp_last_step)
    settle_attempt(user.email, step is not None)
    return step, (None if step is not None else WRONG), (200 if step is not None else 401), {}


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    user = _pending()
    if user is None or not twofactor.enrolled(user):
        return redirect(url_for("auth.login"))
    error, status, headers = None, 200, {}
    if request.method == "POST":
        step, error, status, headers = _check(user, sealing.unseal(user.totp_secret, _key()))
        if step is not None:
            with runtime().write_sessions.begin() as db:
                # Once per code, also when two sign-ins race with the same one.
                done = db.execute(update(User).where(
                    User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                    .values(totp_last_step=step))
            if done.rowcount == 1:
                return _finish(user)
            error, status = WRONG, 401
    return render_template("login_code.html", error=error), status, headers


@bp.route("/login/tweestaps-instellen", methods=["GET", "POST"])
def enrol():
    user = _pending()
    if user is None:
        return redirect(url_for("auth.login"))
    if twofactor.enrolled(user):
        return redirect(url_for("twofactor.code"))
    sealed = session.get("tweestaps_geheim")
    try:
        secret = sealing.unseal(sealed, _key()) if sealed else None
    except sealing.SealError:
        secret = None
    if secret is None:
        secret = twofactor.new_secret()
        session["tweestaps_geheim"] = sealing.seal(secret, _key())
    error, status, headers = None, 200, {}
    if request.method == "POST":
        step, error, status, headers = _check(user, secret)
        if step is not None:
            with runtime().write_sessions.begin() as db:
                stored = db.get(User, user.id)
                stored.totp_secret = sealing.seal(secret, _key())
                stored.totp_enabled_at, stored.totp_last_step = clock.now(), step
            return _finish(user)
    uri = twofactor.provisioning_uri(secret, user.email)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("login_enrol.html", qr=twofactor.qr_data_url(uri), secret=grouped,
                           error=error), status, headers

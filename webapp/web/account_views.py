"""A person's own account: change their password, accept an invitation, choose a new password
from a reset link. The links are one-time and expire (webapp.invitations)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp import accounts, invitations, passwords
from webapp.db.models import Organisation, User, UserRole

from .auth import WebUser, membership_for, runtime

bp = Blueprint("account", __name__)
EXPIRED = ("Deze link werkt niet (meer): hij is al gebruikt of verlopen. Vraag uw functioneel beheerder om "
           "een nieuwe.")


@bp.route("/account/wachtwoord", methods=["GET", "POST"])
@login_required
def own_password():
    error, status = None, 200
    if request.method == "POST":
        new = request.form.get("nieuw", "")
        with runtime().sessions() as session:
            user = session.get(User, current_user.member.user_id)
            current_ok = user is not None and check_password_hash(user.password_hash, request.form.get("huidig", ""))
        if not current_ok:
            error, status = "Uw huidige wachtwoord klopt niet.", 422
        else:
            error = passwords.problem(new, current_user.email, request.form.get("herhaling", ""))
            status = 422 if error else 200
        if error is None:
            with runtime().write_sessions.begin() as session:
                accounts.set_password(session, current_user.email, new)  # ends every session
            login_user(WebUser(membership_for(current_user.member.user_id)))  # ... but this one goes on
            flash("Uw wachtwoord is gewijzigd. Op andere apparaten moet u opnieuw inloggen.")
            return redirect(url_for("staff.home"))
    return render_template("account_password.html", error=error), status


def _link_or_gone(kind: str, token: str):
    with runtime().sessions() as session:
        row = invitations.find(session, kind, token)
        if row is None:
            return None, None
        org_name = session.scalar(select(Organisation.name).where(Organisation.id == row.organisation_id))
        user = session.scalar(select(User).where(User.email == row.email))
    return row, (org_name, user)


@bp.route("/uitnodiging/<token>", methods=["GET", "POST"])
def accept(token: str):
    row, found = _link_or_gone("invitation", token)
    if row is None:
        return render_template("account_link.html", gone=EXPIRED), 404
    org_name, existing = found
    error, status = None, 200
    if request.method == "POST":
        name = request.form.get("naam", "").strip()[:200]
        password = request.form.get("wachtwoord", "")
        if existing is None:
            error = ("Vul uw naam in." if not name
                     else passwords.problem(password, row.email, request.form.get("herhaling", "")))
        if error is None:
            with runtime().write_sessions.begin() as session:
                if not invitations.use(session, row):
                    return render_template("account_link.html", gone=EXPIRED), 404
                user = session.scalar(select(User).where(User.email == row.email))
                if user is None:
                    user = accounts.new_account(session, row.email, name, password)
                session.execute(delete(UserRole).where(UserRole.user_id == user.id,
                                                       UserRole.organisation_id == row.organisation_id))
                for role, locations in sorted(row.roles.items()):
                    session.add(UserRole(user_id=user.id, organisation_id=row.organisation_id, role=role,
                                         locations=sorted(locations) or None))
            flash(f"Welkom bij {org_name}. Log in met uw e-mailadres en wachtwoord.")
            return redirect(url_for("auth.login"))
        status = 422
    return render_template("account_accept.html", row=row, org_name=org_name, existing=existing, error=error,
                           name=request.form.get("naam", "")), status


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def reset(token: str):
    row, found = _link_or_gone("reset", token)
    if row is None or found[1] is None:
        return render_template("account_link.html", gone=EXPIRED), 404
    user = found[1]
    error, status = None, 200
    if request.method == "POST":
        password = request.form.get("wachtwoord", "")
        error = passwords.problem(password, user.email, request.form.get("herhaling", ""))
        if error is None:
            with runtime().write_sessions.begin() as session:
                if not invitations.use(session, row):
                    return render_template("account_link.html", gone=EXPIRED), 404
                stored = session.get(User, user.id)
                if stored is None:
                    abort(404)
                stored.password_hash = generate_password_hash(password)
                session.flush()
                accounts.end_sessions(session, user.id)
            flash("Uw nieuwe wachtwoord is ingesteld. Log ermee in.")
            return redirect(url_for("auth.login"))
        status = 422
    return render_template("account_reset.html", user=user, error=error), status

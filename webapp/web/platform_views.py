"""Platform administration: a platform administrator (a role above the organisations) sees the
organisations, creates a new one from a template and invites its first process owner by email."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp import invitations, provisioning
from webapp.runtime.check_runner import ChecksBusy
from webapp.runtime.errors import DiagramError
from webapp.runtime.problem_texts import in_dutch

from . import queries
from .auth import runtime

bp = Blueprint("platform", __name__)
FIRST_ROLE = "procesbeheerder"


def platform_admin(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.platform_admin:
            abort(403, description="Alleen een platformbeheerder kan organisaties aanmaken.")
        return view(*args, **kwargs)

    return wrapper


@bp.route("/beheer/organisaties", methods=["GET", "POST"])
@platform_admin
def organisations():
    form = {k: request.form.get(k, "").strip() for k in ("naam", "slug", "kenmerk", "locaties", "sjabloon", "email")}
    errors: dict[str, str] = {}
    problems = []
    if request.method == "POST":
        email = form["email"].lower()[:254]
        if "@" not in email or "." not in email.partition("@")[2] or " " in email:
            errors["email"] = "Vul het e-mailadres van de eerste procesbeheerder in."
        else:
            try:
                done = provisioning.create_organisation(
                    runtime(), slug=form["slug"], name=form["naam"], prefix=form["kenmerk"].upper(),
                    locations=form["locaties"].splitlines(), template=form["sjabloon"],
                    actor_email=current_user.email)
            except provisioning.ProvisioningError as exc:
                errors = exc.errors
            except DiagramError as exc:
                problems = [in_dutch(p) for p in exc.problems]
            except ChecksBusy as exc:
                flash(str(exc))
            else:
                _invite(form["slug"], form["naam"], email)
                flash(f"{form['naam']} is aangemaakt (versie {done.version} van de procedure). De uitnodiging voor de "
                      f"eerste procesbeheerder is verstuurd naar {email}.")
                return redirect(url_for("platform.organisations"))
    rows = [(slug, runtime().organisation(slug)) for slug in runtime().organisations]
    return render_template("platform_organisaties.html", rows=rows, templates=provisioning.templates(runtime()),
                           form=form, errors=errors, problems=problems), 422 if errors or problems else 200


def _invite(slug: str, name: str, email: str) -> None:
    with runtime().write_sessions.begin() as session:
        oid = queries.org_id(session, slug)
        issued = invitations.issue(session, "invitation", oid, email, current_user.email, roles={FIRST_ROLE: []})
        link = url_for("account.accept", token=issued.token, _external=True)
        subject, body = invitations.invitation_mail(name, current_user.name, link, issued.expires_at)
        invitations.queue_mail(session, oid, email, "account_invitation", subject, body)

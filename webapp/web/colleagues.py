"""Collega's: an organisation's functioneel beheerder invites colleagues by email, gives and
takes their roles (and the locations each covers), deactivates accounts, sends password reset
links, and decides whether two-factor sign-in is required."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp import accounts, invitations
from webapp.db.models import AccountToken, Instance, OrganisationSettings, User, UserRole
from webapp.intake import IntakeRules
from webapp.runtime import clock

from . import queries
from .auth import organisation_page, runtime

bp = Blueprint("colleagues", __name__)
MANAGER = "functioneel_beheerder"


def _manager_only() -> None:
    if MANAGER not in g.roles:
        abort(403, description="Collega's beheren is voor de functioneel beheerder.")


def known_locations(session, organisation_id: int) -> list[str]:
    """The organisation's locations: those of its intake settings and those complaints name."""
    named = set(IntakeRules.of(g.org).locations)
    named |= {x for x in session.scalars(select(Instance.location).distinct().where(
        Instance.organisation_id == organisation_id, Instance.location.is_not(None))) if x}
    return sorted(named)


def settings_of(session, organisation_id: int) -> OrganisationSettings:
    row = session.get(OrganisationSettings, organisation_id)
    return row or OrganisationSettings(organisation_id=organisation_id, two_factor_required=False)


def _grants_from_form(locations: list[str]) -> dict[str, list[str]]:
    """{role: locations} from the form's role checkboxes and each role's location checkboxes."""
    wanted = set(request.form.getlist("rol"))
    return {role: [x for x in request.form.getlist(f"locaties-{role}") if x in locations]
            for role in g.org.all_roles if role in wanted}


def _members(session, organisation_id: int) -> list[tuple[User, list[UserRole]]]:
    rows = session.execute(select(User, UserRole).join(UserRole, UserRole.user_id == User.id)
                           .where(UserRole.organisation_id == organisation_id)
                           .order_by(User.name, User.id, UserRole.role)).all()
    members: dict[int, tuple[User, list[UserRole]]] = {}
    for user, role in rows:
        members.setdefault(user.id, (user, []))[1].append(role)
    return list(members.values())


@bp.route("/<org>/collegas")
@organisation_page
def index(org: str):
    _manager_only()
    with runtime().sessions() as session:
        oid = queries.org_id(session, org)
        members = _members(session, oid)
        pending = session.scalars(select(AccountToken).where(
            AccountToken.organisation_id == oid, AccountToken.kind == "invitation", AccountToken.used_at.is_(None),
            AccountToken.expires_at > clock.now()).order_by(AccountToken.created_at.desc())).all()
        settings = settings_of(session, oid)
        locations = known_locations(session, oid)
    return render_template("colleagues.html", members=members, pending=pending, settings=settings,
                           locations=locations)


def _send_link(kind: str, email: str, user_id: int | None, roles: dict[str, list[str]] | None = None) -> None:
    with runtime().write_sessions.begin() as session:
        oid = queries.org_id(session, g.org.slug)
        issued = invitations.issue(session, kind, oid, email, current_user.email, user_id=user_id, roles=roles)
        if kind == "invitation":
            link = url_for("account.accept", token=issued.token, _external=True)
            subject, body = invitations.invitation_mail(g.org.name, current_user.name, link, issued.expires_at)
        else:
            link = url_for("account.reset", token=issued.token, _external=True)
            subject, body = invitations.reset_mail(g.org.name, link, issued.expires_at)
        invitations.queue_mail(session, oid, email, f"account_{kind}", subject, body)


@bp.route("/<org>/collegas/uitnodigen", methods=["POST"])
@organisation_page
def invite(org: str):
    _manager_only()
    email = request.form.get("email", "").strip().lower()[:254]
    with runtime().sessions() as session:
        oid = queries.org_id(session, org)
        grants = _grants_from_form(known_locations(session, oid))
        existing = session.scalar(select(User.id).join(UserRole).where(User.email == email,
                                                                        UserRole.organisation_id == oid))
    if "@" not in email or "." not in email.partition("@")[2] or " " in email:
        flash("Vul een geldig e-mailadres in.")
    elif not grants:
        flash("Kies minstens één rol voor de uitnodiging.")
    elif existing is not None:
        flash(f"{email} heeft hier al een account: pas de rollen daar aan.")
    else:
        _send_link("invitation", email, None, grants)
        flash(f"De uitnodiging is verstuurd naar {email}. De link is 72 uur geldig.")
    return redirect(url_for("colleagues.index", org=org))


def _member_or_404(session, oid: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or session.scalar(select(UserRole.id).where(UserRole.user_id == user_id,
                                                                 UserRole.organisation_id == oid).limit(1)) is None:
        abort(404)
    return user


@bp.route("/<org>/collegas/<int:user_id>", methods=["GET", "POST"])
@organisation_page
def edit(org: str, user_id: int):
    """Give and take a colleague's roles here, and the locations each covers."""
    _manager_only()
    with runtime().sessions() as session:
        oid = queries.org_id(session, org)
        user = _member_or_404(session, oid, user_id)
        locations = known_locations(session, oid)
        current = {r.role: r.locations or [] for r in session.scalars(
            select(UserRole).where(UserRole.user_id == user_id, UserRole.organisation_id == oid))}
    if request.method == "POST":
        grants = _grants_from_form(locations)
        if user_id == current_user.member.user_id and MANAGER not in grants:
            flash("U kunt uzelf de rol functioneel beheerder niet afnemen.")
        elif not grants:
            flash("Kies minstens één rol; wilt u iemand alle toegang ontnemen, deactiveer het account dan.")
        else:
            with runtime().write_sessions.begin() as session:
                accounts.set_organisation_roles(session, user_id, oid, grants)
            flash(f"De rollen van {user.name} zijn opgeslagen.")
            return redirect(url_for("colleagues.index", org=org))
    return render_template("colleague.html", user=user, current=current, locations=locations)


@bp.route("/<org>/collegas/<int:user_id>/<actie>", methods=["POST"])
@organisation_page
def act(org: str, user_id: int, actie: str):
    _manager_only()
    with runtime().sessions() as session:
        oid = queries.org_id(session, org)
        user = _member_or_404(session, oid, user_id)
        elsewhere = session.scalar(select(UserRole.id).where(UserRole.user_id == user_id,
                                                              UserRole.organisation_id != oid).limit(1))
    if actie == "wachtwoordlink":
        _send_link("reset", user.email, user.id)
        flash(f"Een link om een nieuw wachtwoord te kiezen is verstuurd naar {user.email}.")
    elif actie == "deactiveren":
        if user_id == current_user.member.user_id:
            flash("U kunt uw eigen account niet deactiveren.")
        elif elsewhere is not None:
            # The account serves another organisation too: end its access here only.
            with runtime().write_sessions.begin() as session:
                accounts.set_organisation_roles(session, user_id, oid, {})
            flash(f"{user.name} werkt ook voor een andere organisatie: alle rollen hier zijn afgenomen.")
        else:
            with runtime().write_sessions.begin() as session:
                accounts.set_active(session, user_id, False)
            flash(f"Het account van {user.name} is gedeactiveerd; lopende sessies zijn beëindigd.")
    elif actie == "activeren":
        with runtime().write_sessions.begin() as session:
            accounts.set_active(session, user_id, True)
        flash(f"Het account van {user.name} is weer actief.")
    else:
        abort(404)
    return redirect(url_for("colleagues.index", org=org))


@bp.route("/<org>/collegas/tweestaps", methods=["POST"])
@organisation_page
def two_factor(org: str):
    _manager_only()
    required = request.form.get("verplicht") == "1"
    with runtime().write_sessions.begin() as session:
        oid = queries.org_id(session, org)
        settings = session.get(OrganisationSettings, oid)
        if settings is None:
            settings = OrganisationSettings(organisation_id=oid)
            session.add(settings)
        settings.two_factor_required = required
        settings.updated_by, settings.updated_at = current_user.email, clock.now()
    flash("Inloggen in twee stappen is nu verplicht voor wie klachten inziet." if required
          else "Inloggen in twee stappen is niet meer verplicht.")
    return redirect(url_for("colleagues.index", org=org))

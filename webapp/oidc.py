"""Sign-in with an organisation's own identity provider (OpenID Connect, authorization code
flow with PKCE, state and nonce), with Authlib's client and joserfc for the ID token. No Flask:
webapp.web.sso drives it.

The provider's settings are the organisation's (OrganisationSettings): issuer, client id,
client secret (sealed), the claim with the groups and a map of groups to roles. A person is
matched by the verified email address of the ID token, created on first sign-in, and their
roles in that organisation follow their groups at every sign-in."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from webapp import accounts, sealing
from webapp.db.models import OrganisationSettings, User, UserRole
from webapp.runtime import clock

TIMEOUT = 10  # seconds for each call to the provider
DISCOVERY_TTL = 600
_discovered: dict[str, tuple[float, dict[str, Any]]] = {}


class SignInError(Exception):
    """Why the sign-in failed, in Dutch for the person signing in."""


@dataclass(frozen=True)
class Provider:
    name: str
    issuer: str
    client_id: str
    client_secret: str
    groups_claim: str
    role_map: dict[str, list[str]]


def provider_of(settings: OrganisationSettings | None, key: str) -> Provider | None:
    if settings is None or not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    try:
        secret = sealing.unseal(settings.oidc_client_secret, key)
    except sealing.SealError:
        return None  # sealed under another SECRET_KEY: to be set again
    return Provider(settings.oidc_name or "uw organisatie", settings.oidc_issuer.rstrip("/"), settings.oidc_client_id,
                    secret, settings.oidc_groups_claim or "groups", dict(settings.oidc_role_map or {}))


def configure(session: Session, organisation_id: int, key: str, *, name: str, issuer: str, client_id: str,
              client_secret: str | None, groups_claim: str, role_map: dict[str, list[str]], by: str) -> None:
    """Store the provider; a client secret of None keeps the stored one."""
    row = session.get(OrganisationSettings, organisation_id)
    if row is None:
        row = OrganisationSettings(organisation_id=organisation_id, two_factor_required=False)
        session.add(row)
    row.oidc_name, row.oidc_issuer, row.oidc_client_id = name, issuer.rstrip("/"), client_id
    if client_secret:
        row.oidc_client_secret = sealing.seal(client_secret, key)
    row.oidc_groups_claim, row.oidc_role_map = groups_claim or "groups", role_map
    row.updated_by, row.updated_at = by, clock.now()


def discover(issuer: str) -> dict[str, Any]:
    cached = _discovered.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    try:
        answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
        answer.raise_for_status()
        metadata = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise SignInError("De inlogdienst van uw organisatie is nu niet bereikbaar. Probeer het later opnieuw.") from exc
    if metadata.get("issuer", "").rstrip("/") != issuer:
        raise SignInError("De inlogdienst van uw organisatie is verkeerd ingesteld (issuer).")
    _discovered[issuer] = (time.monotonic(), metadata)
    return metadata


def start(provider: Provider, redirect_uri: str) -> tuple[str, dict[str, str]]:
    """The provider's authorization URL, and what the session keeps until the callback."""
    metadata = discover(provider.issuer)
    scopes = ["openid", "email", "profile"]
    if "groups" in (metadata.get("scopes_supported") or []):
        scopes.append("groups")
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    client = OAuth2Session(provider.client_id, provider.client_secret, scope=" ".join(scopes),
                           redirect_uri=redirect_uri, code_challenge_method="S256")
    url, _ = client.create_authorization_url(metadata["authorization_endpoint"], state=state, nonce=nonce,
                                             code_verifier=verifier)
    return url, {"state": state, "nonce": nonce, "verifier": verifier}


def finish(provider: Provider, redirect_uri: str, kept: dict[str, str], args: dict[str, str]) -> dict[str, Any]:
    """The ID token's claims after the provider sent the browser back with a code."""
    if args.get("error"):
        raise SignInError("Inloggen bij uw organisatie is afgebroken of geweigerd.")
    if not kept or not args.get("state") or not secrets.compare_digest(args["state"], kept.get("state", "")):
        raise SignInError("Deze inlogpoging is verlopen of ongeldig. Probeer het opnieuw.")
    metadata = discover(provider.issuer)
    client = OAuth2Session(provider.client_id, provider.client_secret, redirect_uri=redirect_uri)
    try:
        token = client.fetch_token(metadata["token_endpoint"], code=args.get("code", ""),
                                   code_verifier=kept["verifier"], state=kept["state"], timeout=TIMEOUT)
        keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json())
        claims = jwt.decode(token["id_token"], keys).claims
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": provider.issuer},
                              aud={"essential": True, "value": provider.client_id},
                              nonce={"essential": True, "value": kept["nonce"]},
                              exp={"essential": True}, leeway=60).validate(claims)
    except (requests.RequestException, JoseError, KeyError, ValueError) as exc:
        raise SignInError("Uw organisatie kon niet bevestigen wie u bent. Probeer het opnieuw.") from exc
    return claims


def roles_for(provider: Provider, claims: dict[str, Any], known_roles: set[str]) -> set[str]:
    groups = claims.get(provider.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    return {role for group in groups for role in provider.role_map.get(str(group), []) if role in known_roles}


def sign_in(session: Session, organisation_id: int, claims: dict[str, Any], roles: set[str]) -> User:
    """The account of the ID token's email, created or with its roles here set to `roles`
    (keeping the locations of roles it keeps). With no roles the caller refuses the sign-in
    after this is written: losing every group ends access here."""
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email or claims.get("email_verified") is False:
        raise SignInError("Uw organisatie gaf geen bevestigd e-mailadres door.")
    user = session.scalar(select(User).where(User.email == email))
    if user is None and not roles:
        raise SignInError(NO_ACCESS)  # no account for someone who gets no role
    if user is None:
        user = User(email=email, name=str(claims.get("name") or email)[:200], active=True, created_at=clock.now(),
                    password_hash=generate_password_hash(secrets.token_urlsafe(32)))
        session.add(user)
        session.flush()
    if not user.active:
        raise SignInError("Uw account is gedeactiveerd. Neem contact op met uw functioneel beheerder.")
    current = {r.role: r.locations or [] for r in session.scalars(
        select(UserRole).where(UserRole.user_id == user.id, UserRole.organisation_id == organisation_id))}
    if set(current) != roles:
        accounts.set_organisation_roles(session, user.id, organisation_id,
                                        {role: current.get(role, []) for role in roles})
    return user


NO_ACCESS = "U heeft bij uw organisatie geen groep die toegang geeft tot Klachtroute."

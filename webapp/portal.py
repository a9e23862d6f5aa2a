"""The complainant's own page (`/mijn-klacht/<token>`), without Flask: which complaint a link
opens (or why it does not), what the page shows, and what the complainant may do there.

A link is a token whose sha256 is stored (webapp.runtime.portal_links mints one for every letter
to the complainant). It works while the complaint is open and PORTAL_DAYS_AFTER_CLOSING days after
it closed, unless staff revoked it. An action is a message into the running procedure, offered
only where the diagram waits for it; withdrawing and escalating are first confirmed with a
one-time code mailed to the complainant (`webapp.portal_codes`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from webapp.db.models import AuditEvent, HumanTask, Instance, Organisation, OutboxMessage, PortalLink
from webapp.deadlines import ComplaintTerm, complaint_terms
from webapp.runtime import clock, portal_links
from webapp.runtime.organisations import OrganisationConfig
from webapp.runtime.readmodel import ComplaintSnapshot, snapshot
from webapp.runtime.service import Actor, Runtime

PORTAL_ACTOR = "klager (portaal)"
MAX_TEXT = 2000
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
_LINK_IN_TEXT = re.compile(r"https?://\S+/mijn-klacht/[A-Za-z0-9_-]+")


class LinkRefused(Exception):
    """The link opens nothing: unknown (or forged), revoked or expired. `status` is the HTTP answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # onbekend, ingetrokken, verlopen
        self.status = 404 if reason == "onbekend" else 410


@dataclass(frozen=True)
class Access:
    link_id: int
    instance_id: int
    organisation: str  # slug


@dataclass(frozen=True)
class ActionKind:
    kind: str  # the URL part: intrekken, vervolgstap, reageren, tevreden
    confirm_by_code: bool
    text_required: bool


# The messages a complainant may send, by their bpmn:message name; any other message a diagram
# waits for (a dispute registered, the klachtenfunctionaris engaged) is staff's to record.
ACTIONS: dict[str, ActionKind] = {
    "klacht_ingetrokken": ActionKind("intrekken", confirm_by_code=True, text_required=False),
    "klacht_voorgelegd": ActionKind("vervolgstap", confirm_by_code=True, text_required=False),
    "klager_ontevreden": ActionKind("vervolgstap", confirm_by_code=True, text_required=False),
    "klager_reageert": ActionKind("reageren", confirm_by_code=False, text_required=True),
    "klager_tevreden": ActionKind("tevreden", confirm_by_code=False, text_required=False),
}


@dataclass(frozen=True)
class PortalConfig:
    """The organisation's words for its page (`portal_*` in organisation.yaml)."""

    address: str = "u"  # u, or je (Skar)
    steps: Mapping[str, str] = field(default_factory=dict)
    deadlines: Mapping[str, str] = field(default_factory=dict)
    external: tuple[str, ...] = ()
    note: str = ""


def portal_config(config: OrganisationConfig) -> PortalConfig:
    raw = config.settings or {}
    return PortalConfig(
        address="je" if raw.get("portal_address") == "je" else "u",
        steps={str(k): str(v) for k, v in (raw.get("portal_steps") or {}).items()},
        deadlines={str(k): str(v) for k, v in (raw.get("portal_deadlines") or {}).items()},
        external=tuple(str(t) for t in raw.get("portal_external") or ()),
        note=str(raw.get("portal_note") or ""),
    )


# -- links ---------------------------------------------------------------------------------


def open_link(runtime: Runtime, token: str) -> Access:
    """The complaint a token opens, or LinkRefused. A malformed token is not even looked up."""
    if not _TOKEN.fullmatch(token or ""):
        raise LinkRefused("onbekend")
    now = clock.now()
    with runtime.sessions() as session:
        row = session.execute(
            select(PortalLink, Instance).join(Instance, Instance.id == PortalLink.instance_id)
            .where(PortalLink.token_sha256 == portal_links.token_hash(token))).first()
        if row is None:
            raise LinkRefused("onbekend")
        link, instance = row
        if link.revoked_at is not None:
            raise LinkRefused("ingetrokken")
        until = runtime.portal.valid_until(instance.closed_at)
        if (link.expires_at and now >= link.expires_at) or (until and now >= until) or instance.purged_at:
            raise LinkRefused("verlopen")
        org = session.scalar(select(Organisation.slug).where(Organisation.id == instance.organisation_id))
        return Access(link.id, instance.id, org)


def new_link(runtime: Runtime, instance_id: int) -> str:
    """A new personal link for a complaint (for a letter staff write by hand, and for tests)."""
    with runtime.write_sessions.begin() as session:
        token = portal_links.new_link(session, instance_id, clock.now())
    return runtime.portal.url(token)


def revoke(runtime: Runtime, instance_id: int, actor: str) -> int:
    """Staff revoke every link of a complaint (audited); the next letter carries a new one."""
    from webapp.runtime import audit

    now = clock.now()
    with runtime.write_sessions.begin() as session:
        instance = session.get(Instance, instance_id)
        count = portal_links.revoke_all(session, instance_id, actor, now)
        audit.append(session, [{"organisation_id": instance.organisation_id, "instance_id": instance_id,
                                "occurred_at": now, "actor": actor, "event_type": "portal_link_revoked",
                                "data": {"links": count}}])
    return count


# -- the page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Promise:
    what: str
    due: date
    passed: bool


@dataclass(frozen=True)
class Letter:
    subject: str
    sent_at: datetime
    body: str


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    message: str


@dataclass
class PortalPage:
    organisation: OrganisationConfig
    words: PortalConfig
    reference: str
    received_at: datetime
    status: str  # running, completed, cancelled
    withdrawn: bool
    now_steps: list[str]
    promises: list[Promise]
    terms: list[ComplaintTerm]
    letters: list[Letter]
    actions: list[Action]
    has_email: bool

    def action(self, kind: str) -> Action | None:
        return next((a for a in self.actions if a.kind.kind == kind), None)


def complainant_email(data: Mapping[str, Any]) -> str | None:
    klager = data.get("klager")
    email = klager.get("email") if isinstance(klager, Mapping) else None
    return email if isinstance(email, str) and "@" in email else None


def available_actions(view: ComplaintSnapshot) -> list[Action]:
    seen: dict[str, Action] = {}
    for waiting in view.waiting:
        kind = ACTIONS.get(waiting.name)
        if kind and kind.kind not in seen:
            seen[kind.kind] = Action(kind, waiting.name)
    order = ["reageren", "tevreden", "vervolgstap", "intrekken"]
    return sorted(seen.values(), key=lambda a: order.index(a.kind.kind))


def build_page(runtime: Runtime, access: Access) -> PortalPage:
    config = runtime.organisation(access.organisation)
    words = portal_config(config)
    view = snapshot(runtime, access.instance_id)
    now = clock.now()
    with runtime.sessions() as session:
        instance = session.get(Instance, access.instance_id)
        tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                             HumanTask.state == "ready").order_by(HumanTask.id)))
        letters = list(session.scalars(
            select(OutboxMessage).where(OutboxMessage.instance_id == instance.id, OutboxMessage.kind == "letter",
                                        ~OutboxMessage.recipient.startswith("role:"))
            .order_by(OutboxMessage.id)))
        withdrawn = instance.status != "running" and any(
            (e.data or {}).get("message") == "klacht_ingetrokken" for e in session.scalars(
                select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                         AuditEvent.event_type == "message_received")))
    running = instance.status == "running"
    now_steps = _now_steps(words, tasks, view) if running else []
    return PortalPage(
        organisation=config, words=words, reference=instance.reference, received_at=instance.created_at,
        status=instance.status, withdrawn=withdrawn, now_steps=now_steps,
        promises=_promises(config, words, view.data, instance.created_at, now) if running else [],
        terms=complaint_terms(config, view.data, instance.created_at, instance.closed_at, now),
        letters=[Letter(m.subject, m.created_at, _LINK_IN_TEXT.sub(_link_words(words), m.body)) for m in letters],
        actions=available_actions(view) if running else [],
        has_email=complainant_email(view.data) is not None)


def _link_words(words: PortalConfig) -> str:
    # A letter's link is not repeated on the page: it is this page, and other links may be revoked.
    return "(de link naar deze pagina)"


def _now_steps(words: PortalConfig, tasks: list[HumanTask], view: ComplaintSnapshot) -> list[str]:
    """The organisation's words for every open task and waiting element that has them, with the
    task's due date; tasks meant only for staff have none and are not shown."""
    shown: list[str] = []
    for task in tasks:
        text = words.steps.get(task.bpmn_id)
        if text and text not in shown:
            shown.append(text)
    for waiting in view.waiting:
        text = words.steps.get(waiting.element_id) or words.steps.get(waiting.attached_to or "")
        if text and text not in shown:
            shown.append(text)
    return shown


def _promises(config: OrganisationConfig, words: PortalConfig, data: Mapping[str, Any], received: datetime,
              now: datetime) -> list[Promise]:
    """The organisation's promised dates that concern the complainant, from the moment of receipt;
    a date that falls on a weekend, holiday or closing day moves to the next working day."""
    result = []
    calendar = config.calendar
    for deadline_id, what in words.deadlines.items():
        spec = (config.deadlines or {}).get(deadline_id)
        if not isinstance(spec, Mapping):
            continue
        try:
            if isinstance(spec.get("working_days"), int):
                moment = calendar.working_days_after(spec["working_days"], received)
            elif isinstance(spec.get("weeks"), int):
                moment = calendar.weeks_after(spec["weeks"], received, bool(spec.get("statutory")))
            else:
                continue
            due = datetime.fromisoformat(calendar.next_working_day(moment))
        except (TypeError, ValueError):
            continue
        result.append(Promise(what, clock.to_local(due).date(), now > due))
    return result


# -- acting --------------------------------------------------------------------------------


class ActionRefused(Exception):
    """The action cannot be taken now; the message is Dutch, for the complainant."""


def action_for(runtime: Runtime, access: Access, kind: str) -> tuple[Action, ComplaintSnapshot]:
    """The action of this kind the complaint waits for now, else ActionRefused."""
    with runtime.sessions() as session:
        status = session.scalar(select(Instance.status).where(Instance.id == access.instance_id))
    if status != "running":
        raise ActionRefused("Uw klacht is afgesloten; dit kan niet meer.")
    view = snapshot(runtime, access.instance_id)
    action = next((a for a in available_actions(view) if a.kind.kind == kind), None)
    if action is None:
        raise ActionRefused("Dit kan op dit moment niet: de behandeling van uw klacht is intussen verder gegaan.")
    return action, view


def clean_text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()[:MAX_TEXT]


def send(runtime: Runtime, access: Access, message: str, text: str, uploads: list | None = None) -> None:
    """Deliver the complainant's message into the procedure, as the complainant via the portal,
    with the documents they sent (`documents.Upload`s) in the same step."""
    from webapp import documents
    from webapp.runtime.errors import ConflictError

    payload = {"toelichting": text, "reden": text, "via": "portaal", "vastgelegd_door": PORTAL_ACTOR,
               "vastgelegd_op": clock.now().isoformat(), "documenten": len(uploads or [])}

    def with_documents(session, instance) -> None:
        documents.add_rows(session, instance, list(uploads or []), PORTAL_ACTOR, "klager")

    try:
        runtime.send_message(access.instance_id, message, payload, Actor(PORTAL_ACTOR, access.organisation),
                             with_rows=with_documents if uploads else None)
    except ConflictError as exc:
        raise ActionRefused("Dit kan op dit moment niet: de behandeling van uw klacht is intussen verder "
                            "gegaan.") from exc


__all__ = ["ACTIONS", "Access", "Action", "ActionRefused", "LinkRefused", "PortalPage", "action_for",
           "build_page", "complainant_email", "new_link", "open_link", "portal_config", "revoke", "send"]


# -- u or je -------------------------------------------------------------------------------

_JE = [(re.compile(p), r) for p, r in (
    (r"\b([Kk])unt u\b", r"\1un je"), (r"\b([Hh])eeft u\b", r"\1eb je"), (r"\b([Bb])ent u\b", r"\1en je"),
    (r"\b([Ww])ilt u\b", r"\1il je"), (r"\b([Zz])iet u\b", r"\1ie je"), (r"\b([Vv])indt u\b", r"\1ind je"),
    (r"\b([Kk])rijgt u\b", r"\1rijg je"), (r"\b([Oo])ntvangt u\b", r"\1ntvang je"),
    (r"\b([Hh])oort u\b", r"\1oor je"), (r"\b([Vv])raagt u\b", r"\1raag je"), (r"\b([Ss])tuurt u\b", r"\1tuur je"),
    (r"\bu heeft\b", "je hebt"), (r"\bU heeft\b", "Je hebt"),
    (r"\b(van|met|aan|voor|bij|naar|door) u\b", r"\1 jou"),
    (r"\bUw\b", "Je"), (r"\buw\b", "je"), (r"\bU\b", "Je"), (r"\bu\b", "je"),
)]


def address(text: str, form: str) -> str:
    """Our own page text, written to "u", in the organisation's form of address (Skar: "je")."""
    if form != "je":
        return text
    for pattern, replacement in _JE:
        text = pattern.sub(replacement, text)
    return text

"""The public annual complaints report (Wet kinderopvang art. 1.57b) and Kwartier's reports to the
OR and the management team, as the quality officer prepares, reviews and releases them.

Preparing computes the figures per location with the same tally as every report (`compute`),
suppresses every count below three ("minder dan 3") and merges locations with fewer than three
complaints into one group, so that no parent or child can be recognised, and stores the result as a
snapshot (`published_reports.content`). Publishing releases that snapshot: the public page and the
PDF show the stored content, never a recomputation. Kinds: `jaarverslag` (public, per year), `or`
(Kwartier: per quarter "2026-K1" or year "2026", for staff only)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from webapp import clock
from webapp.db.models import Measure, Organisation, OutboxMessage, PublishedReport, ReportReminder
from webapp.runtime.errors import ConflictError, NotFound
from webapp.runtime.organisations import OrganisationConfig
from webapp.vocabulary import MeasureStatus

from .complaints import Complaint, load_complaints
from .compute import _assemble, _deadline_figures, _Tally
from .fields import FormFields
from .kinds import deadline_kinds
from .labels import OTHER_LOCATION, type_label
from .model import diagram_model
from .periods import Period
from .results import Report
from .settings import location_label, report_roles

THRESHOLD = 3
FEW = "minder dan 3"
KINDS = ("jaarverslag", "or")
MERGED = OTHER_LOCATION
ORGANISATION_WIDE = "Organisatiebreed"
OVERDUE = "te_laat"
MEASURE_LABELS = {MeasureStatus.OPEN: "Open", MeasureStatus.POSTPONED: "Uitgesteld",
                  MeasureStatus.REALISED: "Gerealiseerd", MeasureStatus.DROPPED: "Vervallen",
                  OVERDUE: "Na de beloofde datum nog niet gerealiseerd"}


def shown(count: int) -> int | str:
    """A count as published: below three it is "minder dan 3" (none is "geen")."""
    return "geen" if count == 0 else FEW if count < THRESHOLD else count


def _rows(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"label": label, "count": shown(n)} for label, n in pairs if n > 0]


def period_of(kind: str, period: str) -> Period:
    """"2026" or "2026-K3" as a Period; ValueError for anything else."""
    if kind not in KINDS:
        raise ValueError("onbekende soort verslag")
    year_text, _, quarter = period.partition("-K")
    year = int(year_text)
    if not 1990 <= year <= 2200:
        raise ValueError("jaar buiten bereik")
    if quarter:
        if kind != "or":
            raise ValueError("het openbare jaarverslag gaat over een heel jaar")
        return Period.quarter(year, int(quarter))
    return Period.year(year)


# -- computing -------------------------------------------------------------------------------------


def _groups(config: OrganisationConfig, complaints: list[Complaint]) -> dict[str, list[Complaint]]:
    """Complaints per published location; locations with fewer than three go into one group."""
    by_location: dict[str, list[Complaint]] = defaultdict(list)
    for complaint in complaints:
        by_location[location_label(config, complaint.location, True)].append(complaint)
    groups: dict[str, list[Complaint]] = {}
    for location, items in sorted(by_location.items()):
        key = location if len(items) >= THRESHOLD and location != MERGED else MERGED
        groups.setdefault(key, []).extend(items)
    return groups


def _section(report: Report, measures: dict[str, int]) -> dict[str, Any]:
    return {
        "received": shown(report.total),
        "types": _rows([(c.label, c.count) for c in report.by_type]),
        "handled": _rows([(c.label, c.count) for c in report.by_status]),
        "outcomes": _rows([(c.label, c.count) for c in report.by_outcome]),
        "nature": [{"title": b.title, "counts": _rows([(c.label, c.count) for c in b.counts])}
                   for b in report.nature if b.total >= THRESHOLD],
        "judgements": [{"title": b.title, "counts": _rows([(c.label, c.count) for c in b.counts])}
                       for b in report.judgements if b.total >= THRESHOLD],
        "committees": [{"body": c.body, "cases": shown(c.cases), "decided": shown(c.decided),
                        "verdicts": _rows([(v.label, v.count) for v in c.verdicts])}
                       for c in report.committees if c.cases > 0],
        "measures": _rows([(MEASURE_LABELS.get(s, s), n) for s, n in measures.items()]),
    }


def _measure_counts(runtime, slug: str, period: Period, config: OrganisationConfig,
                    locations: set[str]) -> dict[str, dict[str, int]]:
    """Measures agreed in the period, per published location group and status, and how many of
    them are overdue now (open or postponed past their promised date)."""
    begin, finish = period.bounds
    today = clock.to_local(clock.now()).date()
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with runtime.sessions() as session:
        rows = session.execute(select(Measure.location, Measure.scope, Measure.status, Measure.due_on)
                               .join(Organisation, Organisation.id == Measure.organisation_id)
                               .where(Organisation.slug == slug, Measure.created_at >= begin,
                                      Measure.created_at < finish)).all()
    for location, scope, status, due_on in rows:
        if scope == "organisatie" or not location:
            group = ORGANISATION_WIDE
        else:
            label = location_label(config, location, True)
            group = label if label in locations else MERGED
        out[group][status] += 1
        if status in (MeasureStatus.OPEN, MeasureStatus.POSTPONED) and due_on < today:
            out[group][OVERDUE] += 1
    return out


def compute_snapshot(runtime, slug: str, kind: str, period_text: str) -> dict[str, Any]:
    """The anonymised content of a report: the whole organisation and each location group."""
    period = period_of(kind, period_text)
    config: OrganisationConfig = runtime.organisation(slug)
    complaints, versions = load_complaints(runtime.sessions, slug, period)
    models = {vid: diagram_model(v, config) for vid, v in versions.items()}
    kinds_by_version = {vid: deadline_kinds(config, m) for vid, m in models.items()}
    forms = FormFields(getattr(runtime, "forms", None))

    def tally(items: list[Complaint]) -> Report:
        t = _Tally(config, True, forms, _deadline_figures(runtime, slug, config, kinds_by_version))
        for complaint in items:
            t.add(complaint, models[complaint.version_id], kinds_by_version[complaint.version_id])
        return _assemble(t, slug, period, items)

    groups = _groups(config, complaints)
    measures = _measure_counts(runtime, slug, period, config, set(groups))
    whole: dict[str, int] = defaultdict(int)
    for counts in measures.values():
        for status, n in counts.items():
            whole[status] += n
    sections = [{"location": name, **_section(tally(items), measures.get(name, {}))}
                for name, items in sorted(groups.items(), key=lambda kv: (kv[0] == MERGED, kv[0]))]
    if measures.get(ORGANISATION_WIDE):
        sections.append({"location": ORGANISATION_WIDE, "received": None, "types": [], "handled": [],
                         "outcomes": [], "nature": [], "judgements": [], "committees": [],
                         "measures": _rows([(MEASURE_LABELS.get(s, s), n)
                                            for s, n in measures[ORGANISATION_WIDE].items()])})
    return {"organisation": config.name, "kind": kind, "period": period_text, "title": period.label,
            "threshold": THRESHOLD, "computed_at": clock.now().isoformat(),
            "total": _section(tally(complaints), whole), "locations": sections,
            "types_known": [type_label(k) for k in ("klacht", "suggestie", "compliment", "signaal")]}


# -- the stored snapshots --------------------------------------------------------------------------


def _org_id(session, slug: str) -> int:
    org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
    if org_id is None:
        raise NotFound("deze organisatie bestaat niet")
    return org_id


def _query(org_id: int, kind: str, period_text: str):
    return select(PublishedReport).where(PublishedReport.organisation_id == org_id, PublishedReport.kind == kind,
                                         PublishedReport.period == period_text)


def prepare(runtime, slug: str, kind: str, period_text: str, actor: str) -> PublishedReport:
    """Compute and store (or refresh) the draft of a report; a released one is not changed."""
    content = compute_snapshot(runtime, slug, kind, period_text)
    now = clock.now()
    with runtime.write_sessions.begin() as session:
        org_id = _org_id(session, slug)
        row = session.scalar(_query(org_id, kind, period_text))
        if row is not None and row.published_at is not None:
            raise ConflictError("dit verslag is al gepubliceerd en verandert niet meer")
        if row is None:
            row = PublishedReport(organisation_id=org_id, kind=kind, period=period_text,
                                  year=int(period_text[:4]), content=content, prepared_at=now, prepared_by=actor)
            session.add(row)
        else:
            row.content, row.prepared_at, row.prepared_by = content, now, actor
        return row


def find(runtime, slug: str, kind: str, period_text: str) -> PublishedReport | None:
    with runtime.sessions() as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
        if org_id is None:
            return None
        return session.scalar(_query(org_id, kind, period_text))


def published(runtime, slug: str, kind: str, period_text: str) -> PublishedReport | None:
    row = find(runtime, slug, kind, period_text)
    return row if row is not None and row.published_at is not None else None


def all_for(runtime, slug: str) -> list[PublishedReport]:
    with runtime.sessions() as session:
        return list(session.scalars(select(PublishedReport).join(Organisation)
                                    .where(Organisation.slug == slug)
                                    .order_by(PublishedReport.year.desc(), PublishedReport.period.desc())))


def _change(runtime, slug: str, kind: str, period_text: str, change) -> PublishedReport:
    with runtime.write_sessions.begin() as session:
        org_id = _org_id(session, slug)
        row = session.scalar(_query(org_id, kind, period_text))
        if row is None:
            raise NotFound("bereid het verslag eerst voor")
        change(row)
        return row


def publish(runtime, slug: str, kind: str, period_text: str, actor: str) -> PublishedReport:
    """Release the reviewed snapshot: from now on it is public (jaarverslag) or readable by the
    OR and the management team (or), and it never changes."""
    def release(row: PublishedReport) -> None:
        if row.published_at is not None:
            raise ConflictError("dit verslag is al gepubliceerd")
        row.published_at, row.published_by = clock.now(), actor
    return _change(runtime, slug, kind, period_text, release)


def record_ggd(runtime, slug: str, year: int, sent_on: date, actor: str) -> PublishedReport:
    """The annual report was sent to the toezichthouder (the GGD) on `sent_on`."""
    if sent_on > clock.to_local(clock.now()).date():
        raise ConflictError("de verzenddatum ligt in de toekomst")

    def sent(row: PublishedReport) -> None:
        if row.published_at is None:
            raise ConflictError("publiceer het verslag voordat u het aan de GGD stuurt")
        row.ggd_sent_on, row.ggd_recorded_by = sent_on, actor
    return _change(runtime, slug, "jaarverslag", str(year), sent)


# -- the reminder before 1 June ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    organisation: str
    year: int


def quality_roles(runtime, slug: str) -> list[str]:
    return sorted(report_roles(runtime, slug) - {"auditor", "procesbeheerder"}) or ["procesbeheerder"]


def _childcare(config: OrganisationConfig) -> bool:
    return any("geschil" in key.lower() for key in (config.deadlines or {}))


def remind_annual_reports(runtime) -> list[Reminder]:
    """In May (before 1 June) remind the quality officers, once per year, of the previous year's
    annual report and, in childcare, of sending it to the GGD."""
    today = clock.to_local(clock.now()).date()
    if today.month != 5:
        return []
    year = today.year - 1
    now = clock.now()
    sent = []
    roles = {slug: quality_roles(runtime, slug) for slug in runtime.organisations}
    with runtime.write_sessions.begin() as session:
        for slug, config in sorted(runtime.organisations.items()):
            org_id = session.scalar(select(Organisation.id).where(Organisation.slug == slug))
            if org_id is None or session.get(ReportReminder, (org_id, year)) is not None:
                continue
            session.add(ReportReminder(organisation_id=org_id, year=year, sent_at=now))
            ggd = " en stuur het vóór 1 juni aan de GGD (de toezichthouder)" if _childcare(config) else ""
            subject = f"Klachtenjaarverslag {year}: publiceren vóór 1 juni"
            body = (f"Bereid het openbare klachtenjaarverslag over {year} voor, controleer het en publiceer het"
                    f"{ggd}. U vindt het in Klachtroute onder Rapportages, Jaarverslag publiceren.")
            session.execute(OutboxMessage.__table__.insert(), [{
                "organisation_id": org_id, "instance_id": None, "kind": "notification",
                "template": "jaarverslag_herinnering", "recipient": f"role:{role}", "subject": subject, "body": body,
                "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
                for role in roles[slug]])
            sent.append(Reminder(slug, year))
    return sent

"""The population of the PostgreSQL benchmark: 1,000 organisations and 1,000,000 complaints.

Built once into its own schema (`klachtroute_bench`) and kept between runs (a marker row says
which population it holds). Half the organisations run the real M.O.S. procedure, half the real
Kwartier procedure (the two largest). The real `mos` organisation gets a year of 3,000 complaints
driven through its procedure by the year generator (the report benchmark's year), `kwartier` 1,000;
every other organisation gets 1,000 complaints copied in SQL from those real ones, most closed, five
open with their inbox tasks and their audit trail, so tables and indexes have production sizes.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402

from webapp.db import migrate  # noqa: E402
from webapp.db.session import make_engine, make_session_factory  # noqa: E402
from webapp.runtime import clock  # noqa: E402
from webapp.runtime.organisations import OrganisationConfig, load_config  # noqa: E402
from webapp.runtime.service import Runtime  # noqa: E402

SCHEMA = "klachtroute_bench"
ORGANISATIONS = 1_000
PER_ORGANISATION = 1_000
REPORT_YEAR = 2025
REPORT_COMPLAINTS = 3_000  # the real `mos` organisation's year
OPEN_PER_ORGANISATION = 5
VERSION = f"v1-{ORGANISATIONS}x{PER_ORGANISATION}-{REPORT_COMPLAINTS}"
# Open complaints of the population wait for timers far beyond any moment the benchmark uses.
PARKED_UNTIL = "2030-01-01T00:00:00+00:00"


def admin_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("PG_TEST_URL") or \
        "postgresql://postgres@127.0.0.1:5432/test"


def schema_url() -> str:
    url = admin_url()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}"


def configs() -> dict[str, OrganisationConfig]:
    """`mos` and `kwartier` as they are, and 998 more organisations running their procedures."""
    bases = {"mos": load_config(ROOT / "bpmn" / "mos"), "kwartier": load_config(ROOT / "bpmn" / "kwartier")}
    result = dict(bases)
    for n in range(3, ORGANISATIONS + 1):
        base = bases["mos"] if n % 2 else bases["kwartier"]
        slug = f"{base.slug}-{n:04d}"
        result[slug] = dataclasses.replace(base, slug=slug, name=f"{base.name} {n:04d}",
                                           reference_prefix=f"{base.reference_prefix}{n:04d}")
    return result


def build_runtime(engine: Engine) -> Runtime:
    return Runtime(make_session_factory(engine), configs())


def _present(admin: Engine) -> bool:
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.bench_population"})
        return bool(exists) and conn.scalar(text(f"SELECT version FROM {SCHEMA}.bench_population")) == VERSION


def ensure(log=print) -> Engine:
    """The benchmark schema with its population (built when missing or of another version)."""
    admin = make_engine(admin_url())
    if _present(admin):
        admin.dispose()
        engine = make_engine(schema_url())
        migrate.upgrade(engine)  # a population of an older schema is carried forward, as in production
        return engine
    began = time.perf_counter()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    admin.dispose()
    engine = make_engine(schema_url())
    migrate.upgrade(engine)
    runtime = build_runtime(engine)
    runtime.ensure_organisations()
    for slug in ("mos", "kwartier"):
        runtime.deploy(slug)
    _copy_versions(engine)
    log(f"  population: {ORGANISATIONS:,} organisations stored; generating the real years ...")
    from webapp.generate import generate_year

    generate_year(runtime, REPORT_YEAR, REPORT_COMPLAINTS, seed=1, organisations=["mos"],
                  until=datetime(REPORT_YEAR + 1, 3, 1, tzinfo=clock.AMSTERDAM))
    # Kwartier keeps a year after closing: its year is the current one, so no worker purges it.
    generate_year(runtime, REPORT_YEAR + 1, PER_ORGANISATION, seed=2, organisations=["kwartier"],
                  until=datetime(REPORT_YEAR + 1, 12, 1, tzinfo=clock.AMSTERDAM))
    log(f"  population: real years generated ({time.perf_counter() - began:.0f} s); copying ...")
    _copy_complaints(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET status = 'sent', sent_at = created_at WHERE status <> 'sent'"))
        conn.execute(text("CREATE TABLE bench_population (version text, built_at timestamptz)"))
        conn.execute(text("INSERT INTO bench_population VALUES (:v, now())"), {"v": VERSION})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    log(f"  population built in {time.perf_counter() - began:.0f} s")
    return engine


def _copy_versions(engine: Engine) -> None:
    """Every organisation gets its own version row of its base's diagram."""
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO diagram_versions (organisation_id, version, process_id, bpmn_xml, dependencies, sha256,
                                          deployed_by, deployed_at, note)
            SELECT o.id, 1, v.process_id, v.bpmn_xml, v.dependencies, v.sha256, v.deployed_by, v.deployed_at, v.note
            FROM organisations o
            JOIN organisations b ON b.slug = split_part(o.slug, '-', 1)
            JOIN diagram_versions v ON v.organisation_id = b.id
            WHERE o.slug LIKE '%-%' AND o.slug <> b.slug"""))


def _copy_complaints(engine: Engine) -> None:
    """1,000 complaints per organisation, copied from its base's real ones: closed ones first,
    then OPEN_PER_ORGANISATION open ones (with their ready tasks), each with its audit trail."""
    closed = PER_ORGANISATION - OPEN_PER_ORGANISATION
    with engine.begin() as conn:
        conn.execute(text("""
            CREATE TEMP TABLE tpl ON COMMIT DROP AS
            SELECT i.id AS src, b.slug AS base,
                   row_number() OVER (PARTITION BY b.slug, i.status = 'running' ORDER BY i.id) AS rn,
                   i.status = 'running' AS open
            FROM instances i JOIN organisations b ON b.id = i.organisation_id"""))
        conn.execute(text("CREATE INDEX ON tpl (base, open, rn)"))
        conn.execute(text("CREATE TEMP TABLE tplc ON COMMIT DROP AS "
                          "SELECT base, open, count(*) AS c FROM tpl GROUP BY base, open"))
        conn.execute(text("""
            CREATE TEMP TABLE plan ON COMMIT DROP AS
            SELECT o.id AS org, v.id AS version, o.slug, s.n, t.src
            FROM organisations o
            JOIN diagram_versions v ON v.organisation_id = o.id
            CROSS JOIN generate_series(1, :per) AS s(n)
            JOIN tplc c ON c.base = split_part(o.slug, '-', 1) AND c.open = (s.n > :closed)
            JOIN tpl t ON t.base = c.base AND t.open = c.open AND t.rn = 1 + (s.n + o.id) % c.c
            WHERE o.slug LIKE '%-%'"""), {"closed": closed, "per": PER_ORGANISATION})
        conn.execute(text("""
            INSERT INTO instances (organisation_id, diagram_version_id, reference, status, state, lock_version,
                                   next_wakeup_at, complaint_type, location, created_at, closed_at, incident_attempts)
            SELECT p.org, p.version, upper(replace(p.slug, '-', '')) || '-' || lpad(p.n::text, 6, '0'),
                   i.status, i.state, 1,
                   CASE WHEN i.status = 'running' THEN CAST(:parked AS timestamptz)
                        + (p.n || ' minutes')::interval END,
                   i.complaint_type, i.location, i.created_at, i.closed_at, 0
            FROM plan p JOIN instances i ON i.id = p.src"""), {"parked": PARKED_UNTIL})
        conn.execute(text("""
            CREATE TEMP TABLE mapping ON COMMIT DROP AS
            SELECT n.id AS new_id, p.src, p.org
            FROM plan p JOIN instances n
              ON n.reference = upper(replace(p.slug, '-', '')) || '-' || lpad(p.n::text, 6, '0')"""))
        conn.execute(text("""
            INSERT INTO human_tasks (instance_id, organisation_id, task_id, bpmn_id, name, lane, role, form, due_at,
                                     state, created_at)
            SELECT m.new_id, m.org, h.task_id, h.bpmn_id, h.name, h.lane, h.role, h.form, h.due_at, h.state,
                   h.created_at
            FROM mapping m JOIN human_tasks h ON h.instance_id = m.src"""))
        conn.execute(text("""
            INSERT INTO audit_events (organisation_id, instance_id, occurred_at, actor, event_type, bpmn_id,
                                      bpmn_name, data)
            SELECT m.org, m.new_id, a.occurred_at, a.actor, a.event_type, a.bpmn_id, a.bpmn_name, a.data
            FROM mapping m JOIN audit_events a ON a.instance_id = m.src"""))


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.scalar(text(f"SELECT count(*) FROM {name}")) for name in
                ("organisations", "instances", "human_tasks", "audit_events")} | {
            "open": conn.scalar(text("SELECT count(*) FROM instances WHERE status = 'running'"))}

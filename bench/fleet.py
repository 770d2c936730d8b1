"""Benchmark a fleet: 1,000 facilities and 50 million dose rows, beside one facility of the same
shape measured in the same run (prints; never fails CI).

    .venv/bin/python bench/fleet.py [--reuse] [--scale 0.01] [--administrations 1.0]
    # DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/medtech_bench_fleet,
    # REDIS_URL to redis://127.0.0.1:6379/5, BENCH_PORT (gunicorn) to 8790

What it builds, in SQL (generate_series and INSERT ... SELECT, not the ORM: the ORM makes one
row of each kind, which SQL then copies, so every column has the model's own default): 1,000
facilities (America/New_York; every 10th in Chicago, a few in Denver and Los Angeles), a unit
each, 40 residents each, 10 scheduled orders per resident (four once a day, four twice, two four
times: 20 doses a resident a day; the two schedules of each slot alternate between residents),
4 recording staff per facility, the med tech `medtech` (password `medtech-demo`) of facility 1,
and 62.5 days of history up to 2 hours before NOW (2026-06-10 12:05 UTC, the morning pass):
50 million ScheduledDose rows in the order the engine writes them (by due time), 99.3%
documented and 0.7% missed; an Administration (95.5% given, 3% refused, 1.5% held) for every
documented dose of the latest 65% of the history (`--administrations`, default 0.65: the 40.6
days from 30 April, so that the measured month, May, is charted in full; about 32 million
rows), and a resolved or open missed-dose alert for every missed one. All 50 million
(`--administrations 1`) would make each copy about 29 GB instead of 22 (58 GB with the kept
copy, of the 77 GB the machine had free when this was written). The load runs with
session_replication_role = replica (no audit, foreign-key or protection trigger fires: the
audit tables stay empty, as after a restore) and the two big tables' secondary indexes dropped,
then rebuilt from the definitions the migrations made (checked equal afterwards), VACUUM
ANALYZE. `--scale 0.01` builds 10 facilities and 500,000 rows in 20 s. The full build took
14 minutes on this 2-CPU machine (shared with another run: history 5.5 min, administrations
3.3 min, indexes 4.6 min) and makes a 22 GB database; a copy is kept as
medtech_bench_fleet_built (CREATE DATABASE ... TEMPLATE, STRATEGY FILE_COPY: 30 s) and
`--reuse` starts from it. The measures take about 15 minutes more.

The reference ("one facility") is the same build with 1 facility (40 residents, 400 orders,
50,000 history rows), made and measured first in the same database, in the same run; then the
fleet. Each world is measured alike, at NOW (the workers' and gunicorn's clocks start there):

- one beat cycle of generation for every facility: `mar.tasks.fan_out_dose_generation` sent to
  a real worker (`celery worker -c 2`, production settings, Redis db 5), timed until the queue
  and its unacknowledged messages are empty (one task per facility); then a second cycle with
  nothing to add; and one facility's generation with nothing to add, in this process;
- the overdue sweep: every facility, one newly overdue dose each, in this process (best of 3)
  and through the two workers (`fan_out_overdue_sweeps`); with nothing to move; facility 1
  alone with 40 newly overdue (best of 3);
- served by gunicorn (2 sync workers, production settings, bench/med_pass.py's helpers) to the
  med tech of facility 1: the board, its htmx refresh and a resident's page (10 orders) as the
  median of 200 requests over the blank page in the layout (goal <= 3x, as bench/med_pass.py);
  the resident's monthly MAR (May 2026, 620 doses) on screen (median of 20) and as PDF (median
  of 5), with the first request of each;
- the main queries of those pages and of the engine, captured in this process and run again
  under EXPLAIN (ANALYZE, BUFFERS); a query slower in the fleet than for one facility prints its
  plan's key lines.

Goal (the issue's "1,000 facilities, measured"): no figure of the fleet degrades against one
facility beyond the work it adds (the beat cycle grows with the facilities it serves, a
facility's own work, pages and queries do not). Where one does, the plans show whether monthly
partitions (by due_at / administered_at) or an index would fix it.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_fleet")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
os.environ.setdefault("BENCH_PORT", "8790")
os.environ.setdefault("DEMO_HISTORY_DAYS", "0")

from bench import med_pass, pages  # noqa: E402  (pages sets the settings module up)

NOW = pages.NOW  # 2026-06-10 12:05 UTC: 08:05 in New York, the morning pass
FULL_FACILITIES, RESIDENTS_EACH, ORDERS_EACH = 1000, 40, 10
FULL_HISTORY_ROWS = 50_000_000
DOSES_A_DAY = 20  # per resident: SLOTS below
HISTORY_END = NOW - timedelta(hours=2)
HISTORY = timedelta(days=FULL_HISTORY_ROWS / (FULL_FACILITIES * RESIDENTS_EACH * DOSES_A_DAY))
MAR_YEAR, MAR_MONTH = 2026, 5
PASSWORD = med_pass.PASSWORD
# One order per slot: medication, strength, its two schedules (residents alternate), window.
SLOTS = [
    ("Lisinopril", "10 mg", ["08:00"], ["09:00"], 60),
    ("Levothyroxine", "50 mcg", ["06:00"], ["06:30"], 60),
    ("Donepezil", "10 mg", ["21:00"], ["20:00"], 60),
    ("Atorvastatin", "20 mg", ["21:00"], ["17:00"], 60),
    ("Metformin", "500 mg", ["08:00", "17:00"], ["07:30", "17:30"], 60),
    ("Metoprolol tartrate", "25 mg", ["08:00", "20:00"], ["09:00", "21:00"], 60),
    ("Memantine", "10 mg", ["08:00", "20:00"], ["08:00", "20:00"], 60),
    ("Docusate sodium", "100 mg", ["08:00", "20:00"], ["09:00", "21:00"], 60),
    (
        "Acetaminophen",
        "500 mg",
        ["08:00", "12:00", "16:00", "20:00"],
        ["06:00", "12:00", "18:00", "22:00"],
        60,
    ),
    (
        "Carbidopa/Levodopa",
        "25/100 mg",
        ["07:00", "11:00", "15:00", "19:00"],
        ["07:00", "11:00", "15:00", "19:00"],
        30,
    ),
]
BIG_TABLES = ("mar_scheduleddose", "mar_administration")
WORKER_LOG = ROOT / "var" / "bench-fleet-worker.log"


def log(text: str) -> None:
    print(text, flush=True)


# Databases ----------------------------------------------------------------------------------


def _params() -> dict:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"]}


def server():
    import psycopg

    return psycopg.connect(**_params(), dbname="postgres", autocommit=True)


def database_name() -> str:
    from django.conf import settings

    return settings.DATABASES["default"]["NAME"]


_OPENED = []


def connect():
    """A connection of its own for the load (threads share nothing); close_loaders() closes
    every one (a database with sessions open cannot be copied)."""
    import psycopg

    conn = psycopg.connect(**_params(), dbname=database_name(), autocommit=True)
    _OPENED.append(conn)
    conn.execute("SET session_replication_role = replica")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '1GB'")
    return conn


def close_loaders() -> None:
    while _OPENED:
        _OPENED.pop().close()


def recreate(template: str | None = None) -> None:
    from django.db import connections

    connections.close_all()
    name = database_name()
    with server() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            admin.execute(f'CREATE DATABASE "{name}"')


def keep_copy() -> float:
    from django.db import connections

    connections.close_all()
    name = database_name()
    started = time.perf_counter()
    with server() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_built" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}_built" TEMPLATE "{name}" STRATEGY FILE_COPY')
    return time.perf_counter() - started


def built_exists() -> bool:
    with server() as admin:
        return bool(
            admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [f"{database_name()}_built"]
            ).fetchone()
        )


# The build ----------------------------------------------------------------------------------


def _columns(conn, table: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s AND column_name <> 'id' "
            "ORDER BY ordinal_position",
            [table],
        )
    ]


def clone(conn, table: str, template_id: int, source: str, overrides: dict, params=None) -> int:
    """INSERT INTO table SELECT the template row's columns, with `overrides` (column -> SQL
    expression), once per row of `source` (FROM ... WHERE ...; `t` is the template)."""
    columns = _columns(conn, table)
    unknown = set(overrides) - set(columns)
    assert not unknown, f"{table} has no column {unknown}"
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
    sql = (
        f"INSERT INTO {table} ({names}) "
        f"SELECT {values} FROM {table} t, {source} AND t.id = {int(template_id)}"
    )
    return conn.execute(sql, params or {}).rowcount


def insert(conn, table: str, values: dict, source: str, params=None) -> int:
    """INSERT INTO table SELECT `values` (every column but id, by name) FROM `source`."""
    columns = _columns(conn, table)
    assert set(columns) == set(values), (table, set(columns) ^ set(values))
    names = ", ".join(f'"{c}"' for c in columns)
    chosen = ", ".join(values[c] for c in columns)
    sql = f"INSERT INTO {table} ({names}) SELECT {chosen} FROM {source}"
    return conn.execute(sql, params or {}).rowcount


def schema_of(conn) -> list[tuple[str, str]]:
    """The big tables' indexes and constraints as the catalog states them."""
    rows = conn.execute(
        """
        SELECT 'index', pg_get_indexdef(i.indexrelid) FROM pg_index i
        WHERE i.indrelid = ANY(%(tables)s::regclass[])
        UNION ALL
        SELECT 'constraint', conrelid::regclass || ' ' || conname || ' '
               || pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = ANY(%(tables)s::regclass[])
        ORDER BY 1, 2
        """,
        {"tables": list(BIG_TABLES)},
    ).fetchall()
    return [tuple(row) for row in rows]


def drop_secondary_indexes(conn) -> list[str]:
    """Drop every index of the big tables but their primary keys; return the statements that
    make them again, as the migrations made them."""
    again = []
    rows = conn.execute(
        """
        SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text,
               pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)
        FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid
            AND c.contype IN ('u', 'p', 'x') AND c.conrelid = i.indrelid
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          -- The open-dose indexes stay: history has no open dose, so they cost nothing during
          -- the load, and their predicates (IN lists) do not read back as the migrations wrote
          -- them.
          AND (i.indpred IS NULL OR pg_get_expr(i.indpred, i.indrelid) NOT LIKE '%%ARRAY%%')
        """,
        [list(BIG_TABLES)],
    ).fetchall()
    for table, index, indexdef, constraint, constraintdef in rows:
        if constraint:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
            again.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraintdef}')
        else:
            conn.execute(f"DROP INDEX {index}")
            again.append(indexdef)
    return again


def build(facilities: int, administrations: float) -> dict:
    """The world, in the database of DATABASE_URL (migrated, empty)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Certification, Facility, Membership, Unit, User
    from meds.models import Medication, Prescription
    from residents.models import Resident

    timings = {}
    started = time.perf_counter()
    history_start = HISTORY_END - HISTORY
    before = history_start - timedelta(days=1)
    # The templates, made by the ORM (their defaults are the models'); SQL copies them.
    facility = Facility.objects.create(name="Fleet 0001", timezone="America/New_York")
    unit = Unit.objects.create(facility=facility, name="Main")
    medtech = User.objects.create(
        username="medtech",
        first_name="Morgan",
        last_name="Tech",
        title="CMA",
        password=make_password(PASSWORD),
    )
    Membership.objects.create(user=medtech, facility=facility, role="med_tech")
    Certification.objects.create(
        user=medtech,
        kind="medication_aide",
        issued=date(2025, 1, 1),
        expires=date(2027, 12, 31),
    )
    staff = User.objects.create(username="staff-1-0", first_name="Ann", last_name="Staff")
    resident = Resident.objects.create(
        facility=facility,
        unit=unit,
        room="101",
        first_name="Ada",
        last_name="Resident 1-01",
        date_of_birth=date(1938, 3, 4),
        admission_date=date(2024, 1, 1),
        present_since=before,
        allergy_status="nkda",
        wristband_code="F1-1",
    )
    medications = [
        Medication.objects.create(name=name, strength=strength, form="tablet")
        for name, strength, *_ in SLOTS
    ]
    Medication.objects.filter(name="Carbidopa/Levodopa").update(is_time_critical=True)
    order = Prescription.objects.create(
        facility=facility,
        resident=resident,
        medication=medications[0],
        dose_amount=1,
        route="oral",
        prescriber="Dr. Fleet",
        start_date=date(2024, 1, 1),
        times=[clock.fromisoformat(t) for t in SLOTS[0][2]],
        window_minutes=SLOTS[0][4],
        status="active",
        entered_by=staff,
        verified_by=medtech,
        verified_at=before,
        active_since=before,
    )
    conn = connect()
    clone(
        conn,
        "accounts_facility",
        facility.pk,
        "generate_series(2, %(n)s) g WHERE true",
        {
            "name": "format('Fleet %%s', lpad(g::text, 4, '0'))",
            "timezone": """CASE WHEN g %% 50 = 17 THEN 'America/Los_Angeles'
                WHEN g %% 50 = 33 THEN 'America/Denver' WHEN g %% 10 = 5 THEN 'America/Chicago'
                ELSE 'America/New_York' END""",
        },
        {"n": facilities},
    )
    clone(
        conn,
        "accounts_unit",
        unit.pk,
        "accounts_facility f WHERE f.id <> %(f)s",
        {"facility_id": "f.id"},
        {"f": facility.pk},
    )
    first_names = "ARRAY['Ada','Grace','Alan','Edith','Harold','Mabel','Walter','Irene']"
    clone(
        conn,
        "residents_resident",
        resident.pk,
        "accounts_unit u CROSS JOIN generate_series(1, %(each)s) k "
        "WHERE NOT (u.facility_id = %(f)s AND k = 1)",
        {
            "facility_id": "u.facility_id",
            "unit_id": "u.id",
            "room": "(100 + k)::text",
            "first_name": f"({first_names})[1 + k %% 8]",
            "last_name": "format('Resident %%s-%%s', u.facility_id, lpad(k::text, 2, '0'))",
            "wristband_code": "format('F%%s-%%s', u.facility_id, k)",
            "date_of_birth": "date '1930-01-01' + ((k * 211 + u.facility_id) %% 7000)::int",
        },
        {"each": RESIDENTS_EACH, "f": facility.pk},
    )
    clone(
        conn,
        "accounts_user",
        staff.pk,
        "accounts_facility f CROSS JOIN generate_series(0, 3) k WHERE NOT (f.id = %(f)s AND k = 0)",
        {
            "username": "format('staff-%%s-%%s', f.id, k)",
            "first_name": "(ARRAY['Ann','Ben','Cora','Dev'])[k + 1]",
            "last_name": "format('Staff %%s', f.id)",
        },
        {"f": facility.pk},
    )
    schedules = ", ".join(
        f"({slot}, {variant}, '{{{','.join(times)}}}'::time[], {window})"
        for slot, (_, _, a, b, window) in enumerate(SLOTS)
        for variant, times in enumerate((a, b))
    )
    clone(
        conn,
        "meds_prescription",
        order.pk,
        f"residents_resident r CROSS JOIN generate_series(0, {ORDERS_EACH - 1}) s "
        f"JOIN (VALUES {schedules}) AS sch(slot, variant, times, window_minutes) "
        "ON sch.slot = s AND sch.variant = r.id %% 2 "
        "WHERE NOT (r.id = %(r)s AND s = 0)",
        {
            "facility_id": "r.facility_id",
            "resident_id": "r.id",
            "medication_id": "(%(meds)s::bigint[])[s + 1]",
            "times": "sch.times",
            "window_minutes": "sch.window_minutes",
            "start_date": "date '2024-01-01' + ((r.id * 37 + s * 11) %% 800)::int",
        },
        {"r": resident.pk, "meds": [m.pk for m in medications]},
    )
    conn.execute("ANALYZE")
    timings["facilities, residents, orders"] = time.perf_counter() - started

    migrated = schema_of(conn)
    again = drop_secondary_indexes(conn)
    # The history, one local day a statement, two at a time; rows in due order, as the engine
    # writes them. A dose is missed 7 times in 1,000, the rest documented.
    started = time.perf_counter()
    days = []
    day = history_start.date() - timedelta(days=1)
    while day <= HISTORY_END.date() + timedelta(days=1):
        days.append(day)
        day += timedelta(days=1)
    dose_sql = """
        INSERT INTO mar_scheduleddose (facility_id, prescription_id, resident_id, due_at,
            window_opens_at, window_closes_at, state, cancel_reason, created_at,
            state_changed_at)
        SELECT facility_id, id, resident_id, due_at,
               due_at - make_interval(mins => window_minutes),
               due_at + make_interval(mins => window_minutes),
               CASE WHEN (id * 7919 + EXTRACT(EPOCH FROM due_at)::bigint / 60) %% 1000 < 7
                    THEN 'missed' ELSE 'documented' END,
               '', due_at - interval '47 hours', due_at + interval '2 hours'
        FROM (
            SELECT p.facility_id, p.id, p.resident_id, p.window_minutes,
                   (%(day)s::date + t) AT TIME ZONE f.timezone AS due_at
            FROM meds_prescription p
            JOIN accounts_facility f ON f.id = p.facility_id
            CROSS JOIN LATERAL unnest(p.times) AS t
            WHERE NOT p.is_prn
        ) AS d
        WHERE due_at >= %(start)s AND due_at < %(end)s
        ORDER BY due_at, id
    """
    local = threading.local()

    def load_day(day: date) -> int:
        if not hasattr(local, "conn"):
            local.conn = connect()
        return local.conn.execute(
            dose_sql, {"day": day, "start": history_start, "end": HISTORY_END}
        ).rowcount

    with ThreadPoolExecutor(2) as pool:
        doses = sum(pool.map(load_day, days))
    timings[f"history: {doses:,} doses"] = time.perf_counter() - started

    # An administration for each documented dose (of the latest `administrations` share of the
    # history), in dose order; recorded by one of the facility's four staff.
    started = time.perf_counter()
    since = HISTORY_END - HISTORY * administrations
    low, high = conn.execute("SELECT min(id), max(id) FROM mar_scheduleddose").fetchone()
    staff_sql = (
        "(SELECT id AS user_id, split_part(username, '-', 2)::bigint AS facility_id, "
        "split_part(username, '-', 3)::int AS k FROM accounts_user "
        "WHERE username LIKE 'staff-%%')"
    )
    h = "((d.id * 2654435761) %% 1000)"
    values = {
        "facility_id": "d.facility_id",
        "resident_id": "d.resident_id",
        "prescription_id": "d.prescription_id",
        "dose_id": "d.id",
        "status": f"CASE WHEN {h} < 30 THEN 'refused' WHEN {h} < 45 THEN 'held' ELSE 'given' END",
        "other_code": "''",
        "administered_at": f"d.due_at + ({h} %% 50 - 20) * interval '1 minute'",
        "recorded_at": f"d.due_at + ({h} %% 50 - 19) * interval '1 minute'",
        "recorded_by_id": "s.user_id",
        "witness_id": "NULL",
        "approved_by_id": "NULL",
        "dose_given": "''",
        "reason": f"CASE WHEN {h} < 30 THEN 'Resident declined' "
        f"WHEN {h} < 45 THEN 'Resident asleep' ELSE '' END",
        "late_reason": "''",
        "early_reason": "''",
        "vitals": "'{}'::jsonb",
        "hold_triggered": "''",
        "notes": "''",
        "prn_reason": "''",
        "spacing_override_reason": "''",
        "lot": "''",
        "idempotency_key": "gen_random_uuid()",
        "voided": "false",
    }
    source = (
        f"mar_scheduleddose d JOIN {staff_sql} s "
        "ON s.facility_id = d.facility_id AND s.k = d.id %% 4 "
        "WHERE d.id BETWEEN %(low)s AND %(high)s AND d.state = 'documented' "
        "AND d.due_at >= %(since)s ORDER BY d.id"
    )
    step = 1_000_000

    def load_records(first: int) -> int:
        if not hasattr(local, "conn"):
            local.conn = connect()
        return insert(
            local.conn,
            "mar_administration",
            values,
            source,
            {"low": first, "high": first + step - 1, "since": since},
        )

    with ThreadPoolExecutor(2) as pool:
        records = sum(pool.map(load_records, range(low, high + 1, step)))
    timings[f"administrations: {records:,}"] = time.perf_counter() - started

    # A missed dose has its alert: worked (resolved) when older than a day, open otherwise.
    started = time.perf_counter()
    alerts = insert(
        conn,
        "mar_alert",
        {
            "facility_id": "d.facility_id",
            "resident_id": "d.resident_id",
            "dose_id": "d.id",
            "kind": "'missed_dose'",
            "subject": "'dose:' || d.id",
            "severity": "3",
            "message": "'Missed dose: nothing documented'",
            "state": "CASE WHEN d.due_at < %(day_ago)s THEN 'resolved' ELSE 'open' END",
            "created_at": "d.state_changed_at",
            "acknowledged_by_id": "NULL",
            "acknowledged_at": "NULL",
            "acknowledgement_note": "''",
            "rolled_into_id": "NULL",
            "resolved_by_id": "CASE WHEN d.due_at < %(day_ago)s THEN %(nurse)s END",
            "resolved_at": "CASE WHEN d.due_at < %(day_ago)s THEN d.due_at + interval '1 day' END",
            "resolution_note": "CASE WHEN d.due_at < %(day_ago)s THEN 'Reviewed' ELSE '' END",
        },
        "mar_scheduleddose d WHERE d.state = 'missed'",
        {"day_ago": NOW - timedelta(days=1), "nurse": medtech.pk},
    )
    timings[f"missed-dose alerts: {alerts:,}"] = time.perf_counter() - started

    started = time.perf_counter()

    def make(statement: str) -> None:
        if not hasattr(local, "conn"):
            local.conn = connect()
        local.conn.execute(statement)

    # The largest first, so that the two connections end together.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(make, sorted(again, key=lambda s: "administration" not in s)))
    rebuilt = schema_of(conn)
    assert rebuilt == migrated, set(rebuilt) ^ set(migrated)
    timings[f"{len(again)} indexes rebuilt (as migrated: yes)"] = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(make, [f"VACUUM ANALYZE {t}" for t in BIG_TABLES]))
    conn.execute("VACUUM ANALYZE")
    timings["VACUUM ANALYZE"] = time.perf_counter() - started
    close_loaders()
    return timings


def sizes() -> list[tuple[str, int]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid),
                   c.reltuples::bigint
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            ORDER BY 2 DESC LIMIT 6
            """
        )
        tables = cursor.fetchall()
        cursor.execute(
            """
            SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index
            WHERE indrelid = ANY(%s::regclass[]) ORDER BY 2 DESC
            """,
            [list(BIG_TABLES)],
        )
        indexes = cursor.fetchall()
        cursor.execute("SELECT pg_database_size(current_database())")
        total = cursor.fetchone()[0]
    return tables, indexes, total


def gb(n: int) -> str:
    return f"{n / 2**30:7.2f} GB" if n >= 2**28 else f"{n / 2**20:7.1f} MB"


def print_sizes() -> None:
    tables, indexes, total = sizes()
    log(f"database {gb(total).strip()}; the largest tables (total with indexes, heap, rows):")
    for name, whole, heap, rows in tables:
        log(f"  {name:<32} {gb(whole)} {gb(heap)} {rows:>14,}")
    log("  indexes of the dose and administration tables:")
    for name, size in indexes:
        log(f"    {name:<48} {gb(size)}")


# Workers ------------------------------------------------------------------------------------


def production_env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-not-a-secret",
        "ALLOWED_HOSTS": med_pass.HOST,
        "SECURE_SSL_REDIRECT": "false",
        "BENCH_NOW": NOW.isoformat(),
    }


class Worker:
    """`celery worker -c 2` on production settings, its clock at NOW; the queue it empties."""

    def __init__(self) -> None:
        import redis

        from medtech.celery import app

        self.app = app
        self.redis = redis.Redis.from_url(os.environ["REDIS_URL"])
        self.redis.flushdb()  # db 5 is this benchmark's
        WORKER_LOG.parent.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "bench.celery_app", "worker", "-c", "2"]
            + ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
            + ["--without-heartbeat", "-n", "fleet-bench@%h"],
            cwd=ROOT,
            env=production_env(),
            stdout=subprocess.DEVNULL,
            stderr=WORKER_LOG.open("a"),
        )
        for _ in range(600):
            if self.app.control.ping(timeout=0.5):
                return
            if self.process.poll() is not None:
                raise SystemExit("the celery worker did not start")
        raise SystemExit("the celery worker did not answer")

    def busy(self) -> bool:
        return bool(self.redis.llen("celery") or self.redis.hlen("unacked"))

    def run(self, task: str) -> float:
        """Send a fan-out and time until every task it sent has been done (acknowledged: the
        tasks acknowledge late, after they ran)."""
        started = time.perf_counter()
        self.app.send_task(task)
        idle = 0
        while idle < 2:  # twice in a row: a message moves from the queue to unacked in two steps
            time.sleep(0.02)  # polling a benchmark's queue, not synchronising a test
            idle = idle + 1 if not self.busy() else 0
        return time.perf_counter() - started - 0.02

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


# Measures -----------------------------------------------------------------------------------


class Figures:
    def __init__(self, label: str) -> None:
        self.label = label
        self.values: dict[str, tuple[float, str]] = {}  # name -> (value, unit)
        self.notes: dict[str, str] = {}
        self.plans: dict[str, list[tuple[str, float, list[str]]]] = {}

    def add(self, name: str, value: float, unit: str = "ms", note: str = "") -> None:
        self.values[name] = (value, unit)
        if note:
            self.notes[name] = note
        log(f"  {name:<58} {value:{'10.3f' if unit == 's' else '10.1f'}} {unit} {note}")


def newly_overdue(facility_ids: list[int] | None, per_facility: int, round_: int) -> int:
    """Doses nobody documented whose window closed a minute ago: `per_facility` in each
    facility, on distinct orders (the instants are off the hour: no clash with real doses)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO mar_scheduleddose (facility_id, prescription_id, resident_id, due_at,
                window_opens_at, window_closes_at, state, cancel_reason, created_at)
            SELECT facility_id, id, resident_id, d, d - interval '1 hour', d + interval '1 hour',
                   'due', '', now()
            FROM (SELECT id, facility_id, resident_id,
                         %(now)s::timestamptz - interval '61 minutes'
                             - make_interval(secs => %(round)s * 7 + 1) AS d,
                         row_number() OVER (PARTITION BY facility_id ORDER BY id) AS n
                  FROM meds_prescription
                  WHERE NOT is_prn AND (%(all)s OR facility_id = ANY(%(ids)s))) p
            WHERE n <= %(each)s
            """,
            {
                "now": NOW,
                "round": round_,
                "all": facility_ids is None,
                "ids": facility_ids or [],
                "each": per_facility,
            },
        )
        return cursor.rowcount


def settle_morning() -> tuple[int, int]:
    """After the first cycle: the doses made for the last two hours whose window has closed are
    documented (given), as the morning's med techs did; those still open stay due."""
    conn = connect()
    documented = conn.execute(
        "UPDATE mar_scheduleddose SET state = 'documented', state_changed_at = due_at "
        "WHERE state = 'due' AND window_closes_at <= %s AND due_at >= %s",
        [NOW, HISTORY_END],
    ).rowcount
    columns = _columns(conn, "mar_administration")
    values = dict.fromkeys(columns, "''")
    values.update(
        {
            "facility_id": "d.facility_id",
            "resident_id": "d.resident_id",
            "prescription_id": "d.prescription_id",
            "dose_id": "d.id",
            "status": "'given'",
            "administered_at": "d.due_at",
            "recorded_at": "d.due_at",
            "recorded_by_id": "(SELECT id FROM accounts_user WHERE username = 'medtech')",
            "witness_id": "NULL",
            "approved_by_id": "NULL",
            "vitals": "'{}'::jsonb",
            "idempotency_key": "gen_random_uuid()",
            "voided": "false",
        }
    )
    records = insert(
        conn,
        "mar_administration",
        values,
        "mar_scheduleddose d WHERE d.state = 'documented' AND d.due_at >= %(end)s",
        {"end": HISTORY_END},
    )
    conn.execute("ANALYZE mar_scheduleddose")
    close_loaders()
    return documented, records


def captured_plans(call) -> list[tuple[str, float, list[str]]]:
    """Run `call`, then each SELECT it made on the big tables again under EXPLAIN (ANALYZE,
    BUFFERS), inside a transaction rolled back: (the query's start, ms, the plan's key lines)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            call()
        plans = []
        for query in captured.captured_queries:
            sql = query["sql"]
            head = sql.lstrip().upper()
            if not head.startswith(("SELECT", "WITH")) or not any(t in sql for t in BIG_TABLES):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                lines = [row[0] for row in cursor.fetchall()]
            ms = next(
                float(m.group(1))
                for line in lines
                if (m := re.search(r"Execution Time: ([\d.]+) ms", line))
            )
            key = [
                line.rstrip()
                for line in lines
                if re.search(r"Scan|Join|Loop|Sort|Aggregate|Buffers|Rows Removed|Index Cond", line)
            ]
            plans.append((" ".join(sql.split())[:110], ms, key[:16]))
        transaction.set_rollback(True)
    return plans


def measure(figures: Figures) -> None:
    """Every figure of one world (the database as built), into `figures`."""
    from django.db import connection

    from accounts.models import Facility
    from bench.dose_engine import Clock
    from mar.selectors import med_pass_board, resident_med_pass
    from mar.services import doses_generate, doses_mark_overdue
    from reports.resident_mar import mar_month
    from residents.models import Resident

    facilities = Facility.objects.count()
    first = Facility.objects.order_by("pk").first()
    resident = Resident.objects.filter(facility=first).order_by("pk").first()
    other = Resident.objects.filter(facility=first).order_by("pk")[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM mar_scheduleddose")
        before = cursor.fetchone()[0]

    def made_since(mark: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), max(id) FROM mar_scheduleddose WHERE id > %s", [mark])
            return cursor.fetchone()

    log(f"\n[{figures.label}] {facilities} facilities")
    worker = Worker()
    try:
        wall = worker.run("mar.tasks.fan_out_dose_generation")
        made, mark = made_since(before)
        figures.add(
            "generation cycle, every facility, 2 workers", wall, "s", f"({made:,} doses added)"
        )
        wall = worker.run("mar.tasks.fan_out_dose_generation")
        again, _ = made_since(mark or before)
        figures.add("generation cycle again (nothing to add)", wall, "s", f"({again} added)")
    finally:
        worker.stop()
    meter = Clock()
    _, wall, _, db = meter.measure(lambda: doses_generate(now=NOW, facility_ids=[first.pk]))
    figures.add("one facility's generation, nothing to add", wall * 1000, "ms", f"(db {db:.3f} s)")
    figures.plans["generation, one facility"] = captured_plans(
        lambda: doses_generate(now=NOW, facility_ids=[first.pk])
    )

    documented, records = settle_morning()
    log(f"  (the morning so far: {documented:,} doses documented, {records:,} records)")
    doses_mark_overdue(now=NOW)  # settles nothing, warms
    rounds = []
    for round_ in range(3):
        added = newly_overdue(None, 1, round_)
        counts, wall, _, db = meter.measure(lambda: doses_mark_overdue(now=NOW))
        assert counts["overdue"] == added, (counts, added)
        rounds.append((wall, db))
    wall, db = min(rounds)
    figures.add(
        "sweep, every facility, one newly overdue each",
        wall * 1000,
        "ms",
        f"(db {db:.3f} s; rounds {', '.join(f'{r[0] * 1000:.0f}' for r in rounds)} ms)",
    )
    _, wall, _, db = meter.measure(lambda: doses_mark_overdue(now=NOW))
    figures.add("sweep, every facility, nothing to move", wall * 1000, "ms", f"(db {db:.3f} s)")
    rounds = []
    for round_ in range(3, 6):
        added = newly_overdue([first.pk], RESIDENTS_EACH, round_)
        counts, wall, _, db = meter.measure(
            lambda: doses_mark_overdue(now=NOW, facility_ids=[first.pk])
        )
        assert counts["overdue"] == added, (counts, added)
        rounds.append((wall, db))
    wall, db = min(rounds)
    figures.add(
        f"sweep, one facility, {RESIDENTS_EACH} newly overdue",
        wall * 1000,
        "ms",
        f"(db {db:.3f} s)",
    )
    newly_overdue(None, 1, 6)
    figures.plans["sweep, every facility"] = captured_plans(lambda: doses_mark_overdue(now=NOW))
    worker = Worker()
    try:
        wall = worker.run("mar.tasks.fan_out_overdue_sweeps")
    finally:
        worker.stop()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM mar_scheduleddose WHERE state = 'due' AND window_closes_at <= %s",
            [NOW],
        )
        left = cursor.fetchone()[0]
    figures.add(
        "sweep cycle, every facility, 2 workers",
        wall,
        "s",
        f"({facilities} tasks, {facilities} newly overdue, {left} left undone)",
    )

    figures.plans["board"] = captured_plans(lambda: med_pass_board(facility=first, now=NOW))
    figures.plans["resident page"] = captured_plans(
        lambda: resident_med_pass(resident=resident, now=NOW)
    )
    figures.plans["monthly MAR"] = captured_plans(
        lambda: mar_month(resident=resident, year=MAR_YEAR, month=MAR_MONTH)
    )

    from django.db import connections

    connections.close_all()
    gunicorn = med_pass.start_gunicorn()
    try:
        session = med_pass.Session()
        session.login("medtech")
        blank = med_pass.median_ms(session, "/bench/blank")
        figures.add("blank page in the layout", blank)
        for name, path, headers in [
            ("board", "/medpass/", None),
            ("board htmx refresh", "/medpass/?poll=1", {"HX-Request": "true"}),
            ("resident page (10 orders)", f"/medpass/residents/{resident.pk}/", None),
        ]:
            ms = med_pass.median_ms(session, path, headers)
            figures.add(f"{name} / blank", ms / blank, "x", f"({ms:.1f} ms)")
        month = f"?month={MAR_YEAR}-{MAR_MONTH:02d}"
        for name, path, count in [
            ("monthly MAR page", "/residents/{}/mar/month/" + month, 20),
            ("monthly MAR PDF", "/residents/{}/mar/month.pdf" + month, 5),
        ]:
            figures.add(
                f"{name}, first request", med_pass.timed(session, path.format(other.pk)) * 1000
            )
            times = [med_pass.timed(session, path.format(resident.pk)) for _ in range(count + 1)]
            figures.add(f"{name}, median of {count}", statistics.median(times[1:]) * 1000)
    finally:
        gunicorn.terminate()
        gunicorn.wait()


def compare(reference: Figures, fleet: Figures) -> None:
    log(f"\n{'figure':<58} {'one facility':>14} {'fleet':>14} {'fleet/one':>9}")
    for name, (value, unit) in fleet.values.items():
        ref = reference.values.get(name)
        shape = "10.3f" if unit == "s" else "10.1f"
        ref_text = f"{ref[0]:{shape}} {ref[1]:<3}" if ref else ""
        ratio = f"{value / ref[0]:8.2f}x" if ref and ref[0] else ""
        log(f"{name:<58} {ref_text:>14} {value:{shape}} {unit:<3} {ratio:>9}")
    log("\nThe main queries (EXPLAIN ANALYZE, ms): one facility -> fleet")
    for figure, plans in fleet.plans.items():
        theirs = reference.plans.get(figure, [])
        for n, (sql, ms, lines) in enumerate(plans):
            ref_ms = theirs[n][1] if n < len(theirs) else float("nan")
            slower = ms > 2 * ref_ms and ms - ref_ms > 1
            log(f"  {figure}: {ref_ms:8.2f} -> {ms:8.2f}  {'SLOWER' if slower else ''}")
            log(f"    {sql}")
            if slower:
                for line in lines:
                    log(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true", help="start from <name>_built")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the 1,000 facilities")
    parser.add_argument(
        "--administrations",
        type=float,
        default=0.65,
        help="share of the history (the latest) with administrations",
    )
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command

    log(
        f"NOW {NOW:%Y-%m-%d %H:%M} UTC; history {HISTORY.days} days {HISTORY.seconds // 3600} h "
        f"to {HISTORY_END:%Y-%m-%d %H:%M} UTC; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    reference = Figures("one facility")
    if not args.no_reference:
        recreate()
        call_command("migrate", verbosity=0)
        timings = build(1, args.administrations)
        log(f"one facility built in {sum(timings.values()):.1f} s")
        measure(reference)

    fleet = Figures("fleet")
    facilities = max(1, round(FULL_FACILITIES * args.scale))
    if args.reuse and built_exists():
        started = time.perf_counter()
        recreate(template=f"{database_name()}_built")
        call_command("migrate", verbosity=0)
        log(f"\nreusing the built fleet (copied in {time.perf_counter() - started:.0f} s)")
    else:
        recreate()
        call_command("migrate", verbosity=0)
        log(f"\nbuilding {facilities} facilities ...")
        started = time.perf_counter()
        timings = build(facilities, args.administrations)
        for step, seconds in timings.items():
            log(f"  {step:<58} {seconds:8.1f} s")
        log(f"built in {time.perf_counter() - started:.0f} s")
        log(f"kept a copy as {database_name()}_built in {keep_copy():.0f} s")
    print_sizes()
    measure(fleet)
    compare(reference, fleet)


if __name__ == "__main__":
    main()

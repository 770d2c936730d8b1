"""Benchmark the dose engine on this machine's PostgreSQL (prints; never fails CI).

    .venv/bin/python bench/dose_engine.py   # DATABASE_URL defaults to .../medtech_bench

Targets (issue "Orders and the dose engine"): 1,000 residents x 10 scheduled orders (about
50,000 doses for 48 h): first generation <= 5 s, a second run with nothing to add <= 1 s; the
overdue sweep with 1,000,000 ScheduledDose rows in the table and 1,000 newly overdue <= 100 ms.
The database named in DATABASE_URL is dropped and recreated.
"""

import os
import sys
import time
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench")

import django  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402

RESIDENTS, ORDERS_EACH, TABLE_ROWS, NEWLY_OVERDUE = 1000, 10, 1_000_000, 1000
TIMES = [[clock(8)], [clock(8), clock(20)], [clock(7), clock(12), clock(17), clock(21)]]


def recreate_database() -> None:
    db = settings.DATABASES["default"]
    admin = psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()


def populate() -> None:
    from accounts.models import Facility, Unit, User
    from meds.models import Medication, Prescription
    from residents.models import Resident

    facility = Facility.objects.create(name="Bench Facility", timezone="America/New_York")
    unit = Unit.objects.create(facility=facility, name="Bench")
    nurse = User.objects.create(username="bench-nurse")
    med = Medication.objects.create(name="Benchamine", strength="1 mg", form="tablet")
    since = datetime(2026, 1, 1, tzinfo=UTC)
    residents = Resident.objects.bulk_create(
        Resident(
            facility=facility,
            unit=unit,
            room=str(i),
            first_name="R",
            last_name=f"{i:04d}",
            date_of_birth=date(1940, 1, 1),
            admission_date=date(2025, 1, 1),
            present_since=since,
            wristband_code=f"B{i:06d}",
        )
        for i in range(RESIDENTS)
    )
    Prescription.objects.bulk_create(
        (
            Prescription(
                facility=facility,
                resident=resident,
                medication=med,
                dose_amount=1,
                route="oral",
                prescriber="Dr. Bench",
                start_date=date(2026, 1, 1),
                times=TIMES[(n + i) % len(TIMES)],
                window_minutes=60,
                status="active",
                entered_by=nurse,
                verified_by=nurse,
                verified_at=since,
                active_since=since,
            )
            for i, resident in enumerate(residents)
            for n in range(ORDERS_EACH)
        ),
        batch_size=2000,
    )


def timed(label: str, call):
    start = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - start
    print(f"{label:<58} {elapsed * 1000:9.1f} ms   ({result})")
    return elapsed, result


def main() -> None:
    recreate_database()
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    populate()
    from mar.models import ScheduledDose
    from mar.services import doses_generate, doses_mark_overdue

    now = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)
    print(f"{RESIDENTS} residents x {ORDERS_EACH} scheduled orders, now = {now:%Y-%m-%d %H:%M} UTC")
    first, added = timed("first generation (48 h)", lambda: doses_generate(now=now))
    print(f"{'':<58} {added / first:9.0f} rows/s")
    second, _ = timed("second run, nothing to add", lambda: doses_generate(now=now))
    # The look-back made some doses of this morning; settle them before the measured sweep.
    timed("settle this morning's doses", lambda: doses_mark_overdue(now=now))

    # Fill the table to 1,000,000 rows of history, then make 1,000 newly overdue doses.
    existing = ScheduledDose.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO mar_scheduleddose (facility_id, prescription_id, resident_id, due_at,
                window_opens_at, window_closes_at, state, cancel_reason, created_at)
            SELECT p.facility_id, p.id, p.resident_id, d.due, d.due - interval '1 hour',
                   d.due + interval '1 hour', 'documented', '', now()
            FROM (SELECT id, facility_id, resident_id, row_number() OVER (ORDER BY id) AS n
                  FROM meds_prescription) p
            JOIN LATERAL (
                SELECT %s::timestamptz - make_interval(hours => 72 + k) AS due
                FROM generate_series(1, %s) AS k
            ) d ON true
            """,
            [now, (TABLE_ROWS - existing - NEWLY_OVERDUE) // (RESIDENTS * ORDERS_EACH)],
        )
        # 1,000 doses whose window closed a minute ago and that nobody documented.
        cursor.execute(
            """
            INSERT INTO mar_scheduleddose (facility_id, prescription_id, resident_id, due_at,
                window_opens_at, window_closes_at, state, cancel_reason, created_at)
            SELECT facility_id, id, resident_id, d, d - interval '1 hour',
                   d + interval '1 hour', 'due', '', now()
            FROM (SELECT id, facility_id, resident_id,
                         %s::timestamptz - interval '61 minutes'
                             - make_interval(secs => row_number() OVER (ORDER BY id)) AS d
                  FROM meds_prescription ORDER BY id LIMIT %s) p
            """,
            [now, NEWLY_OVERDUE],
        )
        cursor.execute("ANALYZE mar_scheduleddose")
    total = ScheduledDose.objects.count()
    print(f"table now holds {total:,} ScheduledDose rows")
    sweep, counts = timed(
        "overdue sweep (1,000 newly overdue)", lambda: doses_mark_overdue(now=now)
    )
    idle, _ = timed("overdue sweep again (nothing to move)", lambda: doses_mark_overdue(now=now))
    print()
    print(f"first generation   {first:6.2f} s  (target <= 5 s)    {'OK' if first <= 5 else 'SLOW'}")
    print(
        f"second run         {second:6.2f} s  (target <= 1 s)    {'OK' if second <= 1 else 'SLOW'}"
    )
    verdict = "OK" if sweep <= 0.1 else "SLOW"
    print(f"overdue sweep      {sweep * 1000:6.1f} ms (target <= 100 ms) {verdict}")


if __name__ == "__main__":
    main()

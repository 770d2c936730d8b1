"""Benchmark the care task engine on this machine's PostgreSQL (prints; never fails CI).

    .venv/bin/python bench/care_engine.py   # DATABASE_URL defaults to .../medtech_bench_care

Goals (issue "Care beyond the cart, part 1"):

- generating one day of care tasks for 1,000 residents x 12 care items x 3 shifts (36,000
  tasks) <= 3 s; a second run with nothing to add <= 1 s. A plan holds one item per ADL
  category (ten), so the same 36,000 tasks are made as 1,200 residents x 10 items x 3 shifts;
  the engine's work is per task;
- the care sweep with 1,000,000 CareTask rows in the table, 1,000 of them newly missed
  (one alert each), <= 100 ms (three rounds; the best and all three are printed).

Each figure is wall time, with this process's and the database backend's CPU time beside it
(bench/dose_engine.py's Clock). The database named in DATABASE_URL is dropped and recreated.
"""

import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_care")

import django  # noqa: E402

from bench.dose_engine import Clock, bench_residents, recreate_database, report  # noqa: E402

RESIDENTS, TABLE_ROWS, NEWLY_MISSED = 1200, 1_000_000, 1000
SHIFTS = ["day", "evening", "night"]
# 07:00 in New York, the day shift starting: the 24 hours ahead are exactly its three shifts.
NOW = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)


def populate() -> None:
    from care.models import AdlCategory, CareItem, ServicePlan

    since = datetime(2026, 1, 1, tzinfo=UTC)
    facility, nurse, residents = bench_residents(RESIDENTS, since)
    plans = ServicePlan.objects.bulk_create(
        ServicePlan(
            facility=facility,
            resident=resident,
            status="active",
            created_by=nurse,
            created_at=since,
            published_by=nurse,
            published_at=since,
        )
        for resident in residents
    )
    # One item per ADL category, each on every shift.
    CareItem.objects.bulk_create(
        (
            CareItem(
                plan=plan,
                category=category,
                instructions="Help as planned",
                planned_code="03",
                shifts=SHIFTS,
            )
            for plan in plans
            for category in AdlCategory.values
        ),
        batch_size=5000,
    )


def main() -> None:
    recreate_database()
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    populate()
    from care.models import CareItem, CareTask
    from care.services import care_tasks_generate, care_tasks_mark

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    meter = Clock()
    items = CareItem.objects.count()
    print(
        f"{RESIDENTS} residents, {items:,} care items on 3 shifts, now = {NOW:%Y-%m-%d %H:%M} UTC"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")

    added, wall, cpu, server = meter.measure(lambda: care_tasks_generate(now=NOW))
    report(f"generation, one day ({added:,} tasks)", wall, 3.0, cpu, server)
    again, wall, cpu, server = meter.measure(lambda: care_tasks_generate(now=NOW))
    report(f"generation again ({again} added)", wall, 1.0, cpu, server)

    care_tasks_mark(now=NOW)
    existing = CareTask.objects.count()
    # Fill the table to 1,000,000 rows of documented history, shift by shift back in time.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO care_caretask (item_id, facility_id, resident_id, shift_day, shift_name,
                window_opens_at, window_closes_at, state, cancel_reason, created_at)
            SELECT i.id, p.facility_id, p.resident_id, (%(now)s::date - k), 'day',
                   %(now)s::timestamptz - make_interval(days => k),
                   %(now)s::timestamptz - make_interval(days => k) + interval '8 hours',
                   'done', '', now()
            FROM care_careitem i JOIN care_serviceplan p ON p.id = i.plan_id
            JOIN generate_series(2, %(days)s) AS k ON true
            """,
            {"now": NOW, "days": (TABLE_ROWS - existing) // items + 1},
        )
        cursor.execute("VACUUM ANALYZE care_caretask")
        cursor.execute("CHECKPOINT")
    sweeps = []
    for round_ in range(3):
        with connection.cursor() as cursor:
            # 1,000 evening tasks of a day long past, undocumented: the sweep finds them missed.
            cursor.execute(
                """
                INSERT INTO care_caretask (item_id, facility_id, resident_id, shift_day,
                    shift_name, window_opens_at, window_closes_at, state, cancel_reason,
                    created_at)
                SELECT i.id, p.facility_id, p.resident_id, %(day)s, 'evening',
                       %(now)s::timestamptz - interval '10 hours',
                       %(now)s::timestamptz - interval '2 hours', 'due', '', now()
                FROM care_careitem i JOIN care_serviceplan p ON p.id = i.plan_id
                ORDER BY i.id LIMIT %(count)s
                """,
                {
                    "now": NOW,
                    "day": date(2025, 1, 1) + timedelta(days=round_),
                    "count": NEWLY_MISSED,
                },
            )
        counts, wall, cpu, server = meter.measure(lambda: care_tasks_mark(now=NOW))
        if counts["missed"] != NEWLY_MISSED:
            print(f"  (the sweep moved {counts}, not {NEWLY_MISSED} missed)")
        sweeps.append((wall, cpu, server))
    total = CareTask.objects.count()
    wall, cpu, server = min(sweeps)
    report(f"care sweep, {total:,} rows, 1,000 newly missed", wall, 0.1, cpu, server, "ms")
    print(f"{'':<50} the three rounds: {', '.join(f'{s[0] * 1000:.1f}' for s in sweeps)} ms")
    _, wall, cpu, server = meter.measure(lambda: care_tasks_mark(now=NOW))
    report("care sweep, nothing to move", wall, None, cpu, server, "ms")


if __name__ == "__main__":
    main()

"""Benchmark the dose engine on this machine's PostgreSQL (prints; never fails CI).

    .venv/bin/python bench/dose_engine.py   # DATABASE_URL defaults to .../medtech_bench

Goals (issue "Fast at the cart and at scale"):

- generation: 1,000 residents x 10 scheduled orders, 48 hours ahead and 6 back (about 57,000
  doses) <= 2 s; a second run with nothing to add <= 0.5 s;
- the overdue sweep with 1,000,000 ScheduledDose rows in the table, 1,000 of them newly
  overdue, <= 50 ms (three rounds of 1,000 fresh ones; the best and all three are printed);
- an audited bulk insert (one INSERT ... SELECT into a model whose inserts are tracked, inside
  `pghistory.context` and without one) costs the same per row at 10,000 and at 30,000 rows
  (judged on the database's CPU time when it can be read, on wall time otherwise).

Each figure is wall time. Beside it: CPU seconds of this process and of its database backend
(read from /proc when the server runs on this machine), which a busy shared machine inflates
far less than wall time. The database named in DATABASE_URL is dropped and recreated.
"""

import os
import sys
import time
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
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
AUDITED_SIZES = (10_000, 30_000)
NOW = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)


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


def bench_residents(count: int, since: datetime):
    """One facility (New York time) with a unit, a nurse and `count` present residents."""
    from accounts.models import Facility, Unit, User
    from residents.models import Resident

    facility = Facility.objects.create(name="Bench Facility", timezone="America/New_York")
    unit = Unit.objects.create(facility=facility, name="Bench")
    nurse = User.objects.create(username="bench-nurse")
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
        for i in range(count)
    )
    return facility, nurse, residents


def populate() -> None:
    from meds.models import Medication, Prescription

    since = datetime(2026, 1, 1, tzinfo=UTC)
    facility, nurse, residents = bench_residents(RESIDENTS, since)
    med = Medication.objects.create(name="Benchamine", strength="1 mg", form="tablet")
    Prescription.objects.bulk_create(
        (
            Prescription(
                facility=facility,
                resident=resident,
                medication=med,
                dose_amount=1,
                route="oral",
                prescriber="Dr. Bench",
                # Orders begin on many different days, as in a real facility: the engine may
                # not count on identical orders to share work.
                start_date=date(2024, 1, 1) + timedelta(days=(i * 37 + n * 11) % 800),
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


class Clock:
    """Wall time, this process's CPU time and the database backend's CPU time."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def backend(self) -> float | None:
        try:
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the server runs elsewhere
            return None
        return (int(fields[11]) + int(fields[12])) / self.tick

    def measure(self, call):
        server = self.backend()
        started, cpu = time.perf_counter(), time.process_time()
        result = call()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        server = None if server is None else self.backend() - server
        return result, wall, cpu, server


def cpu_text(cpu: float, server: float | None) -> str:
    db = "  ?  " if server is None else f"{server:5.2f}"
    return f"cpu: app {cpu:5.2f} s, db {db} s"


def report(label: str, wall: float, goal: float | None, cpu: float, server, unit="s") -> None:
    scale = 1000 if unit == "ms" else 1
    verdict = "" if goal is None else ("OK" if wall <= goal else "SLOW")
    goal_text = "" if goal is None else f"goal <= {goal * scale:g} {unit}"
    print(
        f"{label:<50} {wall * scale:8.1f} {unit:<2}  {goal_text:<16} {verdict:<4}  "
        f"({cpu_text(cpu, server)})"
    )


def add_newly_overdue(round_: int) -> None:
    """1,000 doses whose window closed a minute ago and that nobody documented."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO mar_scheduleddose (facility_id, prescription_id, resident_id, due_at,
                window_opens_at, window_closes_at, state, cancel_reason, created_at)
            SELECT facility_id, id, resident_id, d, d - interval '1 hour',
                   d + interval '1 hour', 'due', '', now()
            FROM (SELECT id, facility_id, resident_id,
                         %s::timestamptz - interval '61 minutes'
                             - make_interval(secs => row_number() OVER (ORDER BY id) + %s) AS d
                  FROM meds_prescription ORDER BY id LIMIT %s) p
            """,
            [NOW, round_ * NEWLY_OVERDUE, NEWLY_OVERDUE],
        )


def audited_insert(
    meter: "Clock", rows: int, facility_id: int, context: bool
) -> tuple[float, float | None]:
    """One INSERT ... SELECT of `rows` audited rows, inside an audit context or not, rolled
    back: (wall seconds, database CPU seconds)."""
    import pghistory
    from django.db import connection, transaction

    def insert() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO mar_othercode (code, label, facility_id) "
                "SELECT 'c' || g, 'label', %s FROM generate_series(1, %s) g",
                [facility_id, rows],
            )

    with pghistory.context(work="bench") if context else nullcontext(), transaction.atomic():
        _, wall, _, server = meter.measure(insert)
        transaction.set_rollback(True)
    return wall, server


def audited_growth(meter: "Clock", facility_id: int, context: bool) -> None:
    """Print the audited bulk insert at both sizes and how its cost per row grows. Five rounds,
    the sizes taken in turn so that a busy moment does not favour one; the best of each. The
    verdict reads the database's CPU time when known (wall time otherwise)."""
    best: dict[int, tuple[float, float]] = {}
    for _ in range(5):
        for rows in AUDITED_SIZES:
            wall, server = audited_insert(meter, rows, facility_id, context)
            previous = best.get(rows, (float("inf"), float("inf")))
            cpu = float("inf") if server is None else server
            best[rows] = (min(previous[0], wall), min(previous[1], cpu))
    how = "in a context" if context else "no context"
    for rows, (wall, server) in best.items():
        label = f"audited bulk insert, {rows:,} rows, {how}"
        cpu = "" if server == float("inf") else f", db cpu {server / rows * 1e6:.1f} µs"
        print(f"{label:<50} {wall * 1000:8.1f} ms  (per row: {wall / rows * 1e6:.1f} µs{cpu})")
    small, large = (best[rows] for rows in AUDITED_SIZES)
    by_cpu = large[1] != float("inf")
    index = 1 if by_cpu else 0
    growth = (large[index] / AUDITED_SIZES[1]) / (small[index] / AUDITED_SIZES[0])
    verdict = "OK" if growth <= 1.25 else "GROWS"
    label = f"  cost per row, 30k vs 10k ({'db cpu' if by_cpu else 'wall'})"
    print(f"{label:<50} {growth:8.2f} x   goal <= 1.25 x    {verdict}")


def main() -> None:
    recreate_database()
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    populate()
    from accounts.models import Facility
    from mar.models import ScheduledDose
    from mar.services import doses_generate, doses_mark_overdue

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    meter = Clock()
    print(f"{RESIDENTS} residents x {ORDERS_EACH} scheduled orders, now = {NOW:%Y-%m-%d %H:%M} UTC")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")

    added, wall, cpu, server = meter.measure(lambda: doses_generate(now=NOW))
    report(f"generation, 48 h ({added:,} doses)", wall, 2.0, cpu, server)
    again, wall, cpu, server = meter.measure(lambda: doses_generate(now=NOW))
    report(f"generation again ({again} added)", wall, 0.5, cpu, server)

    # The look-back made some doses of this morning; settle them before the measured sweeps.
    doses_mark_overdue(now=NOW)
    # Fill the table to 1,000,000 rows of history.
    existing = ScheduledDose.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO mar_scheduleddose (facility_id, prescription_id, resident_id, due_at,
                window_opens_at, window_closes_at, state, cancel_reason, created_at)
            SELECT p.facility_id, p.id, p.resident_id, d.due, d.due - interval '1 hour',
                   d.due + interval '1 hour', 'documented', '', now()
            FROM meds_prescription p
            JOIN LATERAL (
                SELECT %s::timestamptz - make_interval(hours => 72 + k) AS due
                FROM generate_series(1, %s) AS k
            ) d ON true
            """,
            [NOW, (TABLE_ROWS - existing - 3 * NEWLY_OVERDUE) // (RESIDENTS * ORDERS_EACH)],
        )
        cursor.execute("VACUUM ANALYZE mar_scheduleddose")
    # The fill dirtied most of the buffer cache: write it out now, so that the sweeps are not
    # the ones paying for it (a sweep every minute meets a cache the checkpointer keeps clean).
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except Exception as error:  # not a superuser: measure as it is
        print(f"(no CHECKPOINT before the sweeps: {error})")
    sweeps = []
    for round_ in range(3):
        add_newly_overdue(round_)
        counts, wall, cpu, server = meter.measure(lambda: doses_mark_overdue(now=NOW))
        if counts["overdue"] != NEWLY_OVERDUE:
            print(f"  (the sweep moved {counts}, not {NEWLY_OVERDUE} overdue)")
        sweeps.append((wall, cpu, server))
    total = ScheduledDose.objects.count()
    wall, cpu, server = min(sweeps)
    report(f"overdue sweep, {total:,} rows, 1,000 newly overdue", wall, 0.05, cpu, server, "ms")
    print(f"{'':<50} the three rounds: {', '.join(f'{s[0] * 1000:.1f}' for s in sweeps)} ms")
    _, wall, cpu, server = meter.measure(lambda: doses_mark_overdue(now=NOW))
    report("overdue sweep, nothing to move", wall, None, cpu, server, "ms")

    facility_id = Facility.objects.get().pk
    for context in (True, False):
        audited_growth(meter, facility_id, context)


if __name__ == "__main__":
    main()

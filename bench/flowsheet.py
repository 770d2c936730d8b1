"""Benchmark the vitals flowsheet's server time on this machine's PostgreSQL (prints; never
fails CI).

    .venv/bin/python bench/flowsheet.py   # DATABASE_URL defaults to .../medtech_bench_flowsheet

The demo without its med pass history (seed_demo with DEMO_HISTORY_DAYS=0, its own 35 days of
vitals included), plus one resident with 90 days of the 8 vitals (blood pressure's two numbers,
temperature, pulse, respirations, SpO2, glucose, pain) three times a day and a weekly weight,
recorded through the flowsheet's service (some out of range, so the charts mark exceptions).
Each page is requested in-process with Django's test Client as the demo nurse: the median of
30 requests after a warm-up, beside a trivial logged-in page (the facility picker) in the same
run. Goal: the flowsheet over 90 days <= 3x the trivial page.
The database named in DATABASE_URL is dropped and recreated.
"""

import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_flowsheet")

import django  # noqa: E402
import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402

NOW = datetime(2026, 6, 10, 16, 5, tzinfo=UTC)  # 12:05 in New York
GOAL = 3.0
DAYS = 90
TIMES = (8, 14, 20)  # local hours of the three rounds of vitals


def build() -> tuple:
    from django.core.management import call_command

    from accounts.models import Facility, Unit, User
    from residents import services as resident_services
    from vitals import services as vitals_services
    from vitals.models import ReadingSource

    settings.DOSE_GENERATION_QUEUE = "tests.seams.remember_generation"
    settings.CARE_GENERATION_QUEUE = "tests.seams.remember_care_generation"
    with open(os.devnull, "w") as quiet:
        os.environ.setdefault("DEMO_HISTORY_DAYS", "0")
        call_command("seed_demo", "--force", stdout=quiet)
    maple = Facility.objects.get(name="Maple Grove Assisted Living")
    admin, nurse, caregiver = (
        User.objects.get(username=name) for name in ("admin", "nurse", "caregiver")
    )
    resident = resident_services.resident_admit(
        actor=admin,
        facility=maple,
        unit=Unit.objects.get(facility=maple, name="North Wing"),
        room="N130",
        first_name="Ninety",
        last_name="Days",
        date_of_birth=date(1937, 5, 6),
        admission_date=(NOW - timedelta(days=DAYS + 10)).date(),
    )
    rng = random.Random(90)
    tz = maple.tz
    series = []
    for back in range(DAYS, -1, -1):
        day = (NOW - timedelta(days=back)).astimezone(tz).date()
        for hour in TIMES:
            at = datetime(day.year, day.month, day.day, hour, rng.randint(0, 30), tzinfo=tz)
            if at > NOW:
                continue
            systolic = rng.randint(104, 168)
            values = {
                "systolic_bp": str(systolic),
                "diastolic_bp": str(systolic - rng.randint(38, 60)),
                "temperature": f"{97 + rng.randint(0, 40) / 10:.1f}",
                "pulse": str(rng.randint(56, 116)),
                "respirations": str(rng.randint(12, 24)),
                "spo2": str(rng.randint(89, 99)),
                "blood_glucose": str(rng.randint(80, 230)),
                "pain": str(rng.randint(0, 6)),
            }
            if back % 7 == 0 and hour == TIMES[0]:
                values["weight"] = f"{170 - (DAYS - back) * 0.05:.1f}"
            series.append((at.astimezone(UTC), values))
    readings = vitals_services.readings_record_series(
        actor=caregiver, resident=resident, series=series, source=ReadingSource.FLOWSHEET, now=NOW
    )
    return nurse, resident, len(readings)


def main() -> None:
    from bench.pages import measure, recreate_database

    recreate_database()
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from vitals.models import VitalException

    call_command("migrate", verbosity=0)
    with time_machine.travel(NOW, tick=True):
        start = time.perf_counter()
        nurse, resident, count = build()
        built = time.perf_counter() - start
        exceptions = VitalException.objects.filter(resident=resident).count()
        print(
            f"{resident.display_name}: {count} readings over {DAYS} days "
            f"({exceptions} out of range); built in {built:.1f} s"
        )
        client = Client(HTTP_HOST="localhost")
        client.force_login(nurse, backend="accounts.backends.StaffBackend")
        flowsheet = reverse("flowsheet", args=[resident.pk])
        pages = [
            ("trivial logged-in page (facility picker)", reverse("facility_select")),
            ("flowsheet, 7 days", flowsheet + "?days=7"),
            ("flowsheet, 30 days", flowsheet + "?days=30"),
            ("flowsheet, 90 days", flowsheet + "?days=90"),
            ("open exceptions (the facility's)", reverse("vital_exceptions")),
        ]
        results = [(label, *measure(client, url)) for label, url in pages]

    baseline = results[0][1]
    print("\nmedian of 30 requests after 5 warm-up, in-process test Client")
    print(f"{'page':<44} {'median':>9} {'queries':>8} {'ratio':>7}")
    for label, ms, queries in results:
        ratio = ms / baseline
        verdict = "" if label.startswith("trivial") else ("OK" if ratio <= GOAL else "SLOW")
        print(f"{label:<44} {ms:6.1f} ms {queries:8d} {ratio:6.2f}x {verdict}")
    print(f"\ngoal: the flowsheet over {DAYS} days <= {GOAL:g}x the trivial logged-in page")


if __name__ == "__main__":
    main()

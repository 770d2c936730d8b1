"""Benchmark building a unit's shift report on this machine's PostgreSQL (prints; never fails CI).

    .venv/bin/python bench/shift_report.py [--reuse]   # DATABASE_URL: .../medtech_bench_handoff

The demo with one day of med pass history (seed_demo with DEMO_HISTORY_DAYS=1: refusals, late
and missed doses, PRNs, care, vitals, changes of condition, falls), every Maple Grove resident
moved into North Wing: one unit of 40 residents. Each page is requested in-process with Django's
test Client as the demo med tech (the report) and nurse (the last 24 hours): the median of 30
requests after a warm-up, beside a trivial logged-in page (the facility picker) in the same run,
with each page's query count. The report of the shift before the running one is measured live
(read from the record) and, once submitted, frozen (read from its snapshot); the submission
itself (building and storing the snapshot) is timed once. Goal: the live report of a 40-resident
unit <= 3x the trivial page.
The database named in DATABASE_URL is dropped and recreated (`--reuse`: the one a previous run
built is measured again, the residents moved into a unit whose running shift is not submitted).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_handoff")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

GOAL = 3.0


def build():
    from django.core.management import call_command

    from accounts.models import Facility, Unit, User
    from residents.models import Resident

    settings.DOSE_GENERATION_QUEUE = "tests.seams.remember_generation"
    settings.CARE_GENERATION_QUEUE = "tests.seams.remember_care_generation"
    os.environ.setdefault("DEMO_HISTORY_DAYS", "1")
    os.environ.setdefault("DEMO_PASSWORD", "medtech-demo")
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", "--force", stdout=quiet)
    maple = Facility.objects.get(name="Maple Grove Assisted Living")
    north = Unit.objects.get(facility=maple, name="North Wing")
    Resident.objects.filter(facility=maple).update(unit=north)
    return maple, north, User.objects.get(username="medtech"), User.objects.get(username="nurse")


def main() -> None:
    from bench.pages import measure, recreate_database

    reuse = "--reuse" in sys.argv
    if not reuse:
        recreate_database()
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from core.shifts import shift_at, shift_before
    from handoff import selectors, services
    from handoff.models import ShiftReport
    from residents.models import Resident

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    if reuse:
        maple, north, medtech, nurse = _reused(shift_at, ShiftReport, Resident)
    else:
        maple, north, medtech, nurse = build()
    print(
        f"demo with 1 day of history built in {time.perf_counter() - start:.0f} s; "
        f"{Resident.objects.filter(unit=north).count()} residents in {north.name}"
    )
    now = timezone.now()
    previous = shift_before(shift_at(now, maple.shifts), maple.shifts)
    live = selectors.report_live(facility=maple, unit=north, shift=previous, now=now)
    print(
        f"{previous}: {live.line_count} lines in "
        + ", ".join(f"{s.key} {len(s.lines)}" for s in live.sections)
        + f"; {len(live.notes)} notes"
    )
    tech = Client(HTTP_HOST="localhost")
    tech.force_login(medtech, backend="accounts.backends.StaffBackend")
    boss = Client(HTTP_HOST="localhost")
    boss.force_login(nurse, backend="accounts.backends.StaffBackend")
    report = f"{reverse('shift_report')}?unit={north.pk}"
    running = shift_at(now, maple.shifts)
    pages = [
        ("trivial logged-in page (facility picker)", tech, reverse("facility_select")),
        ("report of the running shift, live", tech, report),
    ]
    results = [(label, *measure(client, url)) for label, client, url in pages]

    # The previous shift live: its demo report is set aside (a copy of the unit under a new
    # name would do as well), then submitted for the frozen measure.
    submitted = ShiftReport.objects.filter(
        unit=north, shift_day=previous.day, shift_name=previous.name
    ).exists()
    previous_url = f"{report}&shift={previous.key}"
    if not submitted:
        results.append(("report of the previous shift, live", *measure(tech, previous_url)))
    else:
        results.append(
            (
                "previous shift, live (selector only)",
                *_measure_selector(selectors, maple, north, previous, now),
            )
        )
    begun = time.perf_counter()
    if not ShiftReport.objects.filter(
        unit=north, shift_day=running.day, shift_name=running.name, submitted_at__isnull=False
    ).exists():
        services.shift_report_submit(actor=medtech, unit=north, shift=running, now=now)
    print(
        f"submitting the running shift (snapshot built and stored): "
        f"{(time.perf_counter() - begun) * 1000:.0f} ms"
    )
    results.append(("report of the running shift, submitted", *measure(tech, report)))
    if submitted:
        results.append(("previous shift, submitted", *measure(tech, previous_url)))
    results.append(("last 24 hours (nurse)", *measure(boss, reverse("shift_reports_last_day"))))

    baseline = results[0][1]
    print("\nmedian of 30 requests after 5 warm-up, in-process test Client")
    print(f"{'page':<44} {'median':>9} {'queries':>8} {'ratio':>7}")
    for label, ms, queries in results:
        ratio = ms / baseline
        verdict = "" if label.startswith("trivial") else ("OK" if ratio <= GOAL else "SLOW")
        print(f"{label:<44} {ms:6.1f} ms {queries:8d} {ratio:6.2f}x {verdict}")
    print(f"\ngoal: a 40-resident unit's live report <= {GOAL:g}x the trivial logged-in page")


def _reused(shift_at, ShiftReport, Resident):
    """The built database's home, its residents moved into a unit whose running shift has no
    submitted report yet (a run submits the one it measured)."""
    from django.utils import timezone

    from accounts.models import Facility, Unit, User

    maple = Facility.objects.get(name="Maple Grove Assisted Living")
    running = shift_at(timezone.now(), maple.shifts)
    taken = ShiftReport.objects.filter(
        facility=maple,
        shift_day=running.day,
        shift_name=running.name,
        submitted_at__isnull=False,
    ).values_list("unit_id", flat=True)
    unit = Unit.objects.filter(facility=maple).exclude(pk__in=list(taken)).order_by("name").first()
    if unit is None:
        unit = Unit.objects.create(facility=maple, name=f"Bench wing {Unit.objects.count()}")
    Resident.objects.filter(facility=maple).update(unit=unit)
    return maple, unit, User.objects.get(username="medtech"), User.objects.get(username="nurse")


def _measure_selector(selectors, facility, unit, shift, now) -> tuple[float, int]:
    """The live report's build alone (the page shows the frozen one once submitted)."""
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        selectors.report_live(facility=facility, unit=unit, shift=shift, now=now)
    with CaptureQueriesContext(connection) as captured:
        selectors.report_live(facility=facility, unit=unit, shift=shift, now=now)
    times = []
    for _ in range(30):
        begun = time.perf_counter()
        selectors.report_live(facility=facility, unit=unit, shift=shift, now=now)
        times.append(time.perf_counter() - begun)
    return statistics.median(times) * 1000, len(captured)


if __name__ == "__main__":
    main()

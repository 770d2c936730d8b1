"""Benchmark the med pass pages' server time on this machine's PostgreSQL (prints; never fails CI).

    .venv/bin/python bench/pages.py   # DATABASE_URL defaults to .../medtech_bench_pages

The demo (seed_demo: 40 residents in Maple Grove, about 5 scheduled orders each with 48 h of
doses) plus one resident with 12 orders and a care plan (the day shift's care on the page beside
the doses), at 08:05 on a morning med pass. Each page is requested
in-process with Django's test Client as the demo med tech: the median of 30 requests after a
warm-up, beside a trivial logged-in page (the facility picker) in the same run.
Goal: each med pass page <= 3x the trivial page.
The database named in DATABASE_URL is dropped and recreated.
"""

import os
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_pages")

import django  # noqa: E402
import psycopg  # noqa: E402
import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402

# 12:05 UTC = 08:05 in New York: the morning pass, the board's busiest hour.
NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)
WARMUP, REQUESTS, GOAL = 5, 30, 3.0
# The 12-order resident: 9 scheduled orders and 3 PRN, from the demo catalog.
TWELVE_SCHEDULED = [
    "Lisinopril",
    "Metoprolol tartrate",
    "Metformin",
    "Levothyroxine",
    "Donepezil",
    "Omeprazole",
    "Memantine",
    "Docusate sodium",
    "Carbidopa/Levodopa",
]
TWELVE_PRN = ["Acetaminophen", "Senna", "Ondansetron ODT"]


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


def build_demo() -> tuple:
    from django.core.management import call_command

    from accounts.models import Facility, Unit, User
    from demo.catalog import PRN, SCHEDULED
    from mar import services as mar_services
    from mar.models import ScheduledDose
    from meds import services as order_services
    from meds.models import Medication, Prescription
    from residents import services as resident_services
    from residents.models import Resident

    # Verifying an order queues a generation task on commit; there is no broker to ask here.
    settings.DOSE_GENERATION_QUEUE = "tests.seams.remember_generation"
    settings.CARE_GENERATION_QUEUE = "tests.seams.remember_care_generation"
    with open(os.devnull, "w") as quiet:
        os.environ.setdefault("DEMO_HISTORY_DAYS", "0")  # the pages, not the history
        call_command("seed_demo", "--force", stdout=quiet)

    maple = Facility.objects.get(name="Maple Grove Assisted Living")
    admin, nurse, nurse2, medtech = (
        User.objects.get(username=name) for name in ("admin", "nurse", "nurse2", "medtech")
    )
    resident = resident_services.resident_admit(
        actor=admin,
        facility=maple,
        unit=Unit.objects.get(facility=maple, name="North Wing"),
        room="N120",
        first_name="Twelve",
        last_name="Orders",
        date_of_birth=date(1938, 3, 4),
        admission_date=(NOW - timedelta(days=90)).date(),
    )
    resident_services.resident_mark_nkda(actor=admin, resident=resident)
    catalog = {m.name: m for m in Medication.objects.all()}
    common = {
        "actor": nurse2,
        "resident": resident,
        "prescriber": "Dr. Rebecca Hayes",
        "start_date": (NOW - timedelta(days=90)).date(),
    }
    for name, amount, unit, times, extra, hold in SCHEDULED:
        if name in TWELVE_SCHEDULED:
            order_services.prescription_create(
                medication=catalog[name],
                dose_amount=Decimal(amount),
                dose_unit=unit,
                route=catalog[name].default_route,
                times=times,
                hold_rules=[order_services.HoldRule(hold[0], hold[1], Decimal(hold[2]))]
                if hold
                else [],
                **extra,
                **common,
            )
    for name, amount, unit, indication, hours, most in PRN:
        if name in TWELVE_PRN:
            order_services.prescription_create(
                medication=catalog[name],
                dose_amount=Decimal(amount),
                dose_unit=unit,
                route=catalog[name].default_route,
                is_prn=True,
                indication=indication,
                prn_min_hours=Decimal(hours),
                prn_max_per_24h=most,
                **common,
            )
    orders = Prescription.objects.filter(resident=resident)
    for order in orders:
        order_services.prescription_verify(actor=nurse, prescription=order)
    orders.update(active_since=NOW - timedelta(days=35), verified_at=NOW - timedelta(days=35))
    Resident.objects.filter(pk=resident.pk).update(present_since=NOW - timedelta(days=35))
    mar_services.doses_generate(now=NOW)
    mar_services.doses_mark_overdue(now=NOW)
    plan_care(resident, nurse)

    # This morning so far: the open doses without hold parameters given, one PRN given.
    open_doses = ScheduledDose.objects.filter(
        resident=resident,
        state="due",
        window_opens_at__lte=NOW,
        prescription__hold_parameters__isnull=True,
    ).select_related("facility")
    for dose in open_doses:
        mar_services.administration_record(
            actor=medtech, dose=dose, status="given", idempotency_key=uuid.uuid4(), now=NOW
        )
    mar_services.prn_give(
        actor=medtech,
        prescription=orders.get(is_prn=True, medication__name="Acetaminophen"),
        idempotency_key=uuid.uuid4(),
        prn_reason="Knee pain 5/10",
        now=NOW - timedelta(hours=2),
    )
    return maple, medtech, resident


# The twelve-order resident's care: help with most ADLs, so the page lists the day shift's care
# beside the doses (issue "Care beyond the cart": medications and care together).
CARE_LEVELS = {
    "bathing": 4,
    "dressing": 3,
    "grooming": 3,
    "eating": 2,
    "toileting": 3,
    "transfers": 3,
    "ambulation": 3,
    "continence": 2,
    "cognition": 2,
    "mobility_aids": 3,
}


def plan_care(resident, nurse) -> None:
    """Assess the resident, publish the plan a day before NOW and make the tasks up to NOW."""
    from care import services as care_services
    from care.catalog import adl_template

    template = adl_template()
    answers = {}
    for question in template.questions.prefetch_related("choices"):
        choices = list(question.choices.all())
        position = min(CARE_LEVELS.get(question.category, 1), len(choices))
        answers[question.pk] = next(c.pk for c in choices if c.position == position)
    day_before = NOW - timedelta(days=1)
    assessment = care_services.assessment_sign(
        resident=resident,
        template=template,
        answers=answers,
        reason="admission",
        signed_by=nurse,
        now=day_before,
    )
    plan = care_services.plan_draft_from_assessment(
        assessment=assessment, created_by=nurse, now=day_before
    )
    care_services.plan_publish(plan=plan, published_by=nurse, now=day_before)
    care_services.care_tasks_generate(now=NOW)


def measure(client, url: str, **headers) -> tuple[float, int]:
    """Median server time in ms over REQUESTS requests after WARMUP, and the query count."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        assert client.get(url, **headers).status_code == 200, url
    reset_queries()  # the build filled DEBUG's bounded query log; a full log counts nothing
    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url, **headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, url
    return statistics.median(times) * 1000, len(captured)


def main() -> None:
    recreate_database()
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from care.models import CareTask
    from mar.models import ScheduledDose
    from meds.models import Prescription
    from residents.models import Resident

    call_command("migrate", verbosity=0)
    # The clock moves on from 08:05 (tick): windows stay open while the bench runs.
    with time_machine.travel(NOW, tick=True):
        start = time.perf_counter()
        maple, medtech, twelve = build_demo()
        built = time.perf_counter() - start
        active = Resident.objects.filter(facility=maple, status="active")
        scheduled = Prescription.objects.filter(facility=maple, is_prn=False, status="active")
        print(
            f"Maple Grove at {NOW:%Y-%m-%d %H:%M} UTC (08:05 local): {active.count()} active "
            f"residents, {scheduled.count()} scheduled orders "
            f"({scheduled.count() / active.count():.1f} each), "
            f"{ScheduledDose.objects.filter(facility=maple).count()} doses; built in {built:.1f} s"
        )
        print(
            f"resident page: {twelve.display_name}, "
            f"{Prescription.objects.filter(resident=twelve).count()} orders, "
            f"{CareTask.objects.filter(resident=twelve, window_opens_at__lte=NOW).count()} care "
            "tasks on the page"
        )
        client = Client(HTTP_HOST="localhost")  # DEBUG's ALLOWED_HOSTS has no "testserver"
        client.force_login(medtech, backend="accounts.backends.StaffBackend")
        pages = [
            ("trivial logged-in page (facility picker)", reverse("facility_select"), {}),
            ("med pass board", reverse("board"), {}),
            ("med pass board, htmx refresh", reverse("board"), {"HTTP_HX_REQUEST": "true"}),
            ("resident med pass (12 orders, care)", reverse("resident_pass", args=[twelve.pk]), {}),
        ]
        results = [(label, *measure(client, url, **headers)) for label, url, headers in pages]

    baseline = results[0][1]
    print(f"\nmedian of {REQUESTS} requests after {WARMUP} warm-up, in-process test Client")
    print(f"{'page':<44} {'median':>9} {'queries':>8} {'ratio':>7}")
    for label, ms, queries in results:
        ratio = ms / baseline
        verdict = "" if label.startswith("trivial") else ("OK" if ratio <= GOAL else "SLOW")
        print(f"{label:<44} {ms:6.1f} ms {queries:8d} {ratio:6.2f}x {verdict}")
    print(f"\ngoal: each med pass page <= {GOAL:g}x the trivial logged-in page")


if __name__ == "__main__":
    main()

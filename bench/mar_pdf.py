"""Benchmark the monthly MAR PDF on this machine's PostgreSQL (prints; never fails CI).

    .venv/bin/python bench/mar_pdf.py [--out DIR]   # DATABASE_URL defaults to .../medtech_bench_pdf

Goals (issue "Fast at the cart and at scale"): one resident with 12 orders (9 scheduled, 16 dose
times a day, 3 PRN) and a full month of administrations <= 3 s, requested through its view
(in-process test Client: queries, template and WeasyPrint); a unit of 20 such residents <= 10 s,
built as the worker builds it (reports.services.mar_pdf_job_run on a queued job: its progress
updates and the stored PDF included), with a number of reads that does not grow with the unit.
Beside them, in the same run, a trivial logged-in page (the facility picker, median of 30
requests, before and after the PDFs): this machine's load shows in it, as in time well above
cpu. With --out the two PDFs are written there to look at.
The database named in DATABASE_URL is dropped and recreated.
"""

import argparse
import logging
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medtech.settings.local")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medtech_bench_pdf")

import django  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402

YEAR, MONTH, DAYS = 2026, 3, 31  # March 2026: 31 columns, and New York's spring-forward day
RESIDENTS = 20
WARMUP, REQUESTS = 5, 30  # the trivial page's warm-up and measured requests
TZ = ZoneInfo("America/New_York")
# name, strength, form, amount, unit, times, instructions, hold parameter (vital, comparator, n)
SCHEDULED = [
    ("Lisinopril", "10 mg", "tablet", "1", "tablet", ["08:00"], "", ("systolic_bp", "lt", 100)),
    (
        "Metoprolol tartrate",
        "25 mg",
        "tablet",
        "1",
        "tablet",
        ["08:00", "20:00"],
        "Take with food",
        ("pulse", "lt", 60),
    ),
    ("Metformin", "500 mg", "tablet", "1", "tablet", ["08:00", "17:00"], "With meals", None),
    (
        "Levothyroxine",
        "50 mcg",
        "tablet",
        "1",
        "tablet",
        ["06:00"],
        "Empty stomach, 30 min before breakfast",
        None,
    ),
    ("Donepezil", "10 mg", "tablet", "1", "tablet", ["21:00"], "", None),
    ("Omeprazole", "20 mg", "capsule", "1", "capsule", ["07:30"], "Do not crush", None),
    ("Memantine", "10 mg", "tablet", "1", "tablet", ["08:00", "20:00"], "", None),
    ("Docusate sodium", "100 mg", "capsule", "1", "capsule", ["08:00", "20:00"], "", None),
    (
        "Carbidopa/Levodopa",
        "25/100 mg",
        "tablet",
        "1",
        "tablet",
        ["07:00", "11:00", "15:00", "19:00"],
        "Time-critical: give on time",
        None,
    ),
]
PRN = [
    ("Acetaminophen", "500 mg", "tablet", "Pain or fever"),
    ("Senna", "8.6 mg", "tablet", "Constipation"),
    ("Ondansetron ODT", "4 mg", "tablet", "Nausea"),
]
STAFF = [
    ("mpoppins", "Mary", "Poppins", "RN"),
    ("balfred", "Bert", "Alfred", "LPN"),
    ("jbanks", "Jane", "Banks", "CMA"),
    ("mbanks", "Michael", "Banks", "CMA"),
    ("eandrew", "Euphemia", "Andrew", "Med tech"),
]


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


def populate():
    """A facility, a unit of RESIDENTS residents with 12 orders each and a full month charted."""
    from accounts.models import Facility, Membership, Unit, User
    from mar.models import (
        Administration,
        Amendment,
        PrnFollowUp,
        ScheduledDose,
    )
    from meds.models import HoldParameter, Medication, Prescription
    from residents.models import Allergy, Resident
    from vitals.models import ReadingSource, VitalReading

    facility = Facility.objects.create(name="Maple Grove Assisted Living", timezone=str(TZ))
    unit = Unit.objects.create(facility=facility, name="North Wing")
    staff = []
    for username, first, last, title in STAFF:
        user = User.objects.create(username=username, first_name=first, last_name=last, title=title)
        Membership.objects.create(user=user, facility=facility, role="nurse")
        staff.append(user)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    residents = Resident.objects.bulk_create(
        Resident(
            facility=facility,
            unit=unit,
            room=f"N{101 + i}",
            first_name=["Ada", "Grace", "Alan", "Edith", "Harold"][i % 5],
            last_name=f"Resident{i:02d}",
            date_of_birth=date(1935 + i % 10, 1 + i % 12, 1 + i % 27),
            admission_date=date(2025, 6, 1),
            present_since=since,
            code_status=["dnr", "full_code", "polst", "unknown"][i % 4],
            physician_name="Dr. Rebecca Hayes",
            physician_phone="(555) 010-2030",
            pharmacy="Main Street Pharmacy, (555) 010-4455",
            allergy_status=["recorded", "nkda", "not_recorded"][i % 3],
            wristband_code=f"P{i:06d}",
        )
        for i in range(RESIDENTS)
    )
    Allergy.objects.bulk_create(
        Allergy(
            resident=r,
            substance="Penicillin",
            reaction="hives",
            severity="moderate",
            recorded_by=staff[0],
        )
        for i, r in enumerate(residents)
        if i % 3 == 0
    )
    meds = {}
    for name, strength, form, *_ in SCHEDULED + [(n, s, f) for n, s, f, _ in PRN]:
        meds[name] = Medication.objects.create(name=name, strength=strength, form=form)

    common = {
        "facility": facility,
        "route": "oral",
        "prescriber": "Dr. Rebecca Hayes",
        "start_date": date(2025, 6, 1),
        "window_minutes": 60,
        "status": "active",
        "entered_by": staff[0],
        "verified_by": staff[1],
        "verified_at": since,
        "active_since": since,
    }
    orders, holds = [], []
    for resident in residents:
        for name, _, _, amount, dose_unit, times, instructions, hold in SCHEDULED:
            order = Prescription(
                resident=resident,
                medication=meds[name],
                dose_amount=Decimal(amount),
                dose_unit=dose_unit,
                instructions=instructions,
                times=[clock.fromisoformat(t) for t in times],
                **common,
            )
            orders.append(order)
            if hold:
                holds.append((order, hold))
        for name, _, _, indication in PRN:
            orders.append(
                Prescription(
                    resident=resident,
                    medication=meds[name],
                    dose_amount=1,
                    dose_unit="tablet",
                    indication=indication,
                    is_prn=True,
                    prn_min_hours=Decimal(4),
                    prn_max_per_24h=4,
                    **common,
                )
            )
    Prescription.objects.bulk_create(orders, batch_size=1000)
    HoldParameter.objects.bulk_create(
        HoldParameter(prescription=o, vital=v, comparator=c, threshold=Decimal(n))
        for o, (v, c, n) in holds
    )
    hold_of = {o.pk: v for o, (v, _, _) in holds}

    doses = []
    for order in orders:
        if order.is_prn:
            continue
        for day in range(1, DAYS + 1):
            for t in order.times:
                due = datetime(YEAR, MONTH, day, t.hour, t.minute, tzinfo=TZ).astimezone(UTC)
                # Days 20-21 on leave for every other resident: cancelled doses (LOA marks).
                loa = order.resident_id % 2 == 0 and day in (20, 21)
                doses.append(
                    ScheduledDose(
                        facility=facility,
                        prescription=order,
                        resident_id=order.resident_id,
                        due_at=due,
                        window_opens_at=due - timedelta(minutes=60),
                        window_closes_at=due + timedelta(minutes=60),
                        state="cancelled" if loa else "documented",
                        cancel_reason="loa" if loa else "",
                    )
                )
    ScheduledDose.objects.bulk_create(doses, batch_size=5000)

    administrations, readings, links = [], [], []  # links: the record of each reading
    for n, dose in enumerate(doses):
        if dose.state == "cancelled":
            continue
        local = dose.due_at.astimezone(TZ)
        if local.day == 27 and n % 7 == 0:  # a few missed doses near the month's end
            dose.state = "missed"
            continue
        status, reason, late, at = "given", "", "", dose.due_at + timedelta(minutes=n % 40)
        if n % 53 == 0:
            status, reason = "refused", "Resident declined"
        elif n % 97 == 0:
            late, at = "Resident at an appointment", dose.due_at + timedelta(minutes=95)
        vital = hold_of.get(dose.prescription_id)
        values = {}
        if vital:
            value = (
                Decimal(58 if n % 11 == 0 else 72)
                if vital == "pulse"
                else Decimal(96 if n % 13 == 0 else 128)
            )
            values[vital] = str(value)
            if (vital == "pulse" and value < 60) or (vital == "systolic_bp" and value < 100):
                status, reason = "held", "Hold parameter: reading below the limit"
        administrations.append(
            Administration(
                facility=facility,
                resident_id=dose.resident_id,
                prescription_id=dose.prescription_id,
                dose=dose,
                status=status,
                administered_at=at,
                recorded_at=at,
                recorded_by=staff[(local.hour // 8 + local.day) % len(staff)],
                reason=reason,
                late_reason=late,
                vitals=values,
                hold_triggered=reason if status == "held" else "",
                idempotency_key=uuid.uuid4(),
            )
        )
    ScheduledDose.objects.bulk_update(
        [d for d in doses if d.state == "missed"], ["state"], batch_size=1000
    )
    Administration.objects.bulk_create(administrations, batch_size=5000)
    for a in administrations:
        for kind, value in a.vitals.items():
            readings.append(
                VitalReading(
                    resident_id=a.resident_id,
                    kind=kind,
                    value=Decimal(value),
                    taken_at=a.administered_at,
                    taken_by=a.recorded_by,
                    source=ReadingSource.MED_PASS,
                )
            )
            links.append(a)
    VitalReading.objects.bulk_create(readings, batch_size=5000)
    Link = Administration.readings.through
    Link.objects.bulk_create(
        (Link(administration=a, vitalreading=r) for a, r in zip(links, readings, strict=True)),
        batch_size=5000,
    )

    # PRN doses (about 10 a month each), most with a follow-up; one amendment of each kind.
    prns, followups = [], []
    for order in orders:
        if not order.is_prn:
            continue
        for day in range(2, DAYS + 1, 9 if order.medication.name == "Senna" else 4):
            at = datetime(YEAR, MONTH, day, 14, 30, tzinfo=TZ).astimezone(UTC)
            prns.append(
                Administration(
                    facility=facility,
                    resident_id=order.resident_id,
                    prescription=order,
                    status="given",
                    administered_at=at,
                    recorded_at=at,
                    recorded_by=staff[day % len(staff)],
                    dose_given="1 tablet",
                    prn_reason=order.indication + (" 6/10" if "Pain" in order.indication else ""),
                    idempotency_key=uuid.uuid4(),
                )
            )
    Administration.objects.bulk_create(prns, batch_size=5000)
    for k, a in enumerate(prns):
        if k % 5:
            followups.append(
                PrnFollowUp(
                    administration=a,
                    result=["effective", "partly", "not_effective"][k % 3],
                    note="Resting comfortably" if k % 3 == 0 else "",
                    recorded_by=a.recorded_by,
                    recorded_at=a.administered_at + timedelta(minutes=60),
                )
            )
    PrnFollowUp.objects.bulk_create(followups, batch_size=5000)
    first_given = {}
    for a in administrations:
        if a.status == "given":
            first_given.setdefault(a.resident_id, []).append(a)
    amendments = []
    for given in first_given.values():
        error, corrected = given[40], given[80]
        amendments.append(
            Amendment(
                administration=error,
                kind="entered_in_error",
                reason="Charted on the wrong dose",
                amended_by=staff[0],
                amended_at=error.recorded_at + timedelta(hours=2),
            )
        )
        amendments.append(
            Amendment(
                administration=corrected,
                kind="correction",
                reason="Resident spat the tablet out",
                changes={"status": "refused"},
                amended_by=staff[1],
                amended_at=corrected.recorded_at + timedelta(hours=1),
            )
        )
    Amendment.objects.bulk_create(amendments)
    Administration.objects.filter(pk__in=[a.administration_id for a in amendments[::2]]).update(
        voided=True
    )
    return facility, unit, residents, staff, len(doses), len(administrations) + len(prns)


def pages(content: bytes) -> str:
    try:
        out = subprocess.run(
            ["pdfinfo", "-"], input=content, capture_output=True, check=True, text=False
        ).stdout.decode()
        return next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return str(len(re.findall(rb"/Type\s*/Page\b(?!s)", content)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", help="write the two PDFs into this directory")
    args = parser.parse_args()
    recreate_database()
    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # no per-page progress lines
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # nor font subsetting lines
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from reports.models import MarPdfJob
    from reports.services import mar_pdf_job_run

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    facility, unit, residents, staff, doses, records = populate()
    print(
        f"{facility.name}: {len(residents)} residents x 12 orders (16 dose times a day), "
        f"{YEAR}-{MONTH:02d}: {doses:,} doses, {records:,} administrations; "
        f"built in {time.perf_counter() - start:.1f} s"
    )
    client = Client(HTTP_HOST="localhost")  # DEBUG's ALLOWED_HOSTS has no "testserver"
    client.force_login(staff[0], backend="accounts.backends.StaffBackend")
    month = f"{YEAR}-{MONTH:02d}"

    def reference_ms() -> float:
        """The median time of a trivial logged-in page: this run's yardstick."""
        url = reverse("facility_select")
        for _ in range(WARMUP):
            client.get(url)
        times = []
        for _ in range(REQUESTS):
            began = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append((time.perf_counter() - began) * 1000)
        return statistics.median(times)

    def one_resident() -> bytes:
        response = client.get(reverse("resident_mar_pdf", args=[residents[0].pk]), {"month": month})
        assert response.status_code == 200, response.status_code
        return response.content

    def whole_unit() -> bytes:
        # What the worker does with a queued job (the Celery task calls mar_pdf_job_run).
        now = timezone.now()
        job = MarPdfJob.objects.create(
            facility=facility,
            unit=unit,
            year=YEAR,
            month=MONTH,
            requested_by=staff[0],
            requested_at=now,
            updated_at=now,
        )
        mar_pdf_job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.state == "done", (job.state, job.error)
        return bytes(job.pdf)

    before = reference_ms()
    results = []
    for label, build, goal, name in [
        ("one resident (request)", one_resident, 3.0, "resident"),
        (f"unit of {len(residents)} (worker job)", whole_unit, 10.0, "unit"),
    ]:
        build()  # warm-up: fonts, templates
        with CaptureQueriesContext(connection) as captured:
            began, cpu = time.perf_counter(), time.process_time()
            content = build()
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        sql = [query["sql"].lstrip().upper() for query in captured.captured_queries]
        reads = sum(1 for q in sql if q.startswith("SELECT"))
        queries = f"{len(sql)} ({reads} reads)"
        results.append((label, elapsed, cpu, goal, pages(content), queries, len(content)))
        if args.out:
            target = Path(args.out) / f"MAR-{name}-{month}.pdf"
            target.write_bytes(content)
            print(f"wrote {target}")
    after = reference_ms()

    print()
    print(
        f"{'monthly MAR PDF':<28} {'time':>8} {'cpu':>8} {'pages':>6} {'queries':>14} {'size':>8}"
    )
    for label, elapsed, cpu, goal, count, queries, size in results:
        verdict = "OK" if elapsed <= goal else "SLOW"
        print(
            f"{label:<28} {elapsed:6.2f} s {cpu:6.2f} s {count:>6} {queries:>14} "
            f"{size / 1024:5.0f} kB  goal <= {goal:g} s: {verdict}"
        )
    print(
        f"{'trivial logged-in page':<28} {before:6.1f} ms before the PDFs, {after:.1f} ms after "
        f"(median of {REQUESTS})"
    )
    print(
        "The unit's reads are one query per table for all its residents; its writes are the "
        "job's claim, one progress update per resident and the stored PDF."
    )
    # WeasyPrint is CPU-bound: other work on the machine shows as time well above cpu.
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

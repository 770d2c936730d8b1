"""The demo's vital signs: 35 days of readings through the flowsheet's service (one call per
resident, the series path, which judges each reading as one at a time would): a weekly weight
for everyone, a morning blood pressure, pulse and temperature for every third resident, a
fasting glucose for those on diabetes medicines, a few readings out of range (the older ones
acknowledged by the nurse, the last days' still open) and one resident losing weight (over 5%
in 30 days) whose "re-weigh and review" alert is open."""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Facility, User
from meds.models import Prescription
from residents.models import Resident, ResidentStatus
from vitals import services as vitals_services
from vitals.models import ReadingSource, VitalException, VitalReading

from .build import nurse_of

DAYS = 35
DIABETES_MEDICINES = ("Metformin", "Insulin glargine")
# Who takes the readings in each home (by username); the nurse of the home where none is named.
TAKERS = {"Maple Grove Assisted Living": ["caregiver", "medtech", "medtech3"]}
# Readings out of range, acknowledged by the nurse when older than this.
ACKNOWLEDGED_BEFORE = datetime.timedelta(days=2)
NOTES = [
    "Rechecked 15 minutes later: back in range.",
    "Physician told; no new order, keep watching.",
    "Resident rested, fluids offered; recheck at next pass.",
]


def seed_vitals(facilities: dict[str, Facility], staff: dict[str, User]) -> int:
    """The readings (skipped where flowsheet readings exist); returns how many were made."""
    if VitalReading.objects.filter(
        resident__facility__in=facilities.values(), source=ReadingSource.FLOWSHEET
    ).exists():
        return 0
    now = timezone.now()
    rng = random.Random(2718)
    residents = list(
        Resident.objects.filter(facility__in=facilities.values(), status=ResidentStatus.ACTIVE)
        .select_related("facility")
        .order_by("facility__name", "last_name", "pk")
    )
    diabetic = set(
        Prescription.objects.filter(
            resident__in=residents, medication__name__in=DIABETES_MEDICINES
        ).values_list("resident_id", flat=True)
    )
    losing = residents[len(residents) // 2] if residents else None
    made = 0
    with transaction.atomic():
        for index, resident in enumerate(residents):
            series = _series(
                rng,
                resident,
                now=now,
                daily=index % 3 == 0,
                glucose=resident.pk in diabetic,
                losing=resident == losing,
                odd=index % 4 == 0,
            )
            takers = [staff[n] for n in TAKERS.get(resident.facility.name, []) if n in staff]
            taker = rng.choice(takers) if takers else nurse_of(resident.facility, staff)
            made += len(
                vitals_services.readings_record_series(
                    actor=taker,
                    resident=resident,
                    series=series,
                    source=ReadingSource.FLOWSHEET,
                    now=now,
                )
            )
        _acknowledge_older(facilities, staff, now=now, rng=rng)
    return made


def _at(resident: Resident, day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=resident.facility.tz
    ).astimezone(datetime.UTC)


def _series(rng, resident, *, now, daily, glucose, losing, odd) -> list:
    """(taken_at, values) for the resident's 35 days, oldest first, none after `now`."""
    today = now.astimezone(resident.facility.tz).date()
    base_weight = Decimal(rng.randint(120, 200))
    base_systolic, base_pulse = rng.randint(112, 138), rng.randint(64, 82)
    series = []
    for back in range(DAYS, -1, -1):
        day = today - datetime.timedelta(days=back)
        morning = _at(resident, day, 8, rng.randint(0, 40))
        if back == 0:  # today's, taken already even when the seed runs before 08:00
            morning = min(morning, now - datetime.timedelta(minutes=15))
        values = {}
        if back % 7 == 0:
            # Weekly weight before breakfast; the losing resident loses about 1.3% a week.
            weeks = (DAYS - back) / 7
            weight = (
                base_weight * (1 - Decimal("0.013") * Decimal(weeks))
                if losing
                else (base_weight + Decimal(rng.choice([-1, 0, 0, 1])))
            )
            values["weight"] = f"{weight:.1f}"
        if daily:
            systolic = base_systolic + rng.randint(-8, 8)
            values |= {
                "systolic_bp": str(systolic),
                "diastolic_bp": str(min(systolic - rng.randint(42, 54), 92)),
                "pulse": str(base_pulse + rng.randint(-6, 6)),
                "temperature": f"{Decimal('97.6') + Decimal(rng.randint(0, 12)) / 10:.1f}",
            }
            if odd and back in (12, 1):
                values |= {"systolic_bp": "172", "diastolic_bp": "98"}  # out of range
            if odd and back == 5:
                values["temperature"] = "100.8"
        if glucose:
            spike = odd and back in (9, 0)
            values["blood_glucose"] = "248" if spike else str(rng.randint(92, 168))
        if values and morning <= now:
            series.append((morning, values))
    return series


def _acknowledge_older(facilities, staff, *, now, rng) -> None:
    """The nurse acknowledged the exceptions older than two days (the last days' wait)."""
    older = VitalException.objects.filter(
        facility__in=facilities.values(), created_at__lt=now - ACKNOWLEDGED_BEFORE
    ).select_related("facility", "resident")
    for exception in older:
        vitals_services.exception_acknowledge(
            actor=nurse_of(exception.facility, staff),
            exception=exception,
            note=rng.choice(NOTES),
            now=exception.created_at + datetime.timedelta(minutes=rng.randint(20, 90)),
        )

"""The demo's appointments in Maple Grove, made through the services: tomorrow's cardiology
visit by the facility van with the transport not yet booked (the supervisor's home flags it)
and a hold on a morning medication waiting for a nurse; a resident out at the dentist right
now (the board reads "out — appointment"); and yesterday's ophthalmology visit, back, whose
outcome is not recorded (its alert is in the inbox)."""

import datetime
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Facility, User
from appointments import services
from appointments.models import Appointment
from meds.models import OrderStatus, Prescription
from residents.models import Resident, ResidentStatus

from .build import MAPLE


def seed_appointments(facilities: dict[str, Facility], staff: dict[str, User]) -> int:
    """Book the three appointments (skipped where the home has appointments); how many."""
    maple = facilities.get(MAPLE)
    if maple is None or Appointment.objects.filter(facility=maple).exists():
        return 0
    # Residents the changes of condition (the first three) and the falls (the next two) leave
    # alone.
    residents = list(
        Resident.objects.filter(facility=maple, status=ResidentStatus.ACTIVE).order_by(
            "last_name", "pk"
        )[5:8]
    )
    if len(residents) < 3 or "medtech" not in staff:
        return 0
    medtech = staff["medtech"]
    now = timezone.now()
    tz = maple.tz
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    with transaction.atomic():
        cardiology = services.appointment_create(
            actor=medtech,
            resident=residents[0],
            provider_name="Dr. Anita Rao",
            provider_specialty="Cardiology",
            provider_address="Riverside Heart Center, 200 Mill Road, Suite 4",
            provider_phone="(555) 013-4400",
            starts_at=datetime.datetime.combine(tomorrow, datetime.time(10, 30), tzinfo=tz),
            expected_return_at=datetime.datetime.combine(
                tomorrow, datetime.time(12, 30), tzinfo=tz
            ),
            purpose="Echocardiogram and follow-up of atrial fibrillation",
            transport="van",
            transport_booker="Front desk",
            escort="Maria (CNA)",
            bring_medication_list=True,
            bring_insurance_card=True,
            bring_mar=True,
            fasting=True,
            instructions="Nothing to eat from 22:00 the evening before; water is fine.",
            now=now,
        )
        morning = (
            Prescription.objects.filter(
                resident=residents[0], status=OrderStatus.ACTIVE, is_prn=False
            )
            .order_by("medication__name", "pk")
            .first()
        )
        if morning is not None:
            services.appointment_hold_medication(
                actor=medtech,
                appointment=cardiology,
                prescription=morning,
                starts_at=datetime.datetime.combine(tomorrow, datetime.time(6, 0), tzinfo=tz),
                ends_at=cardiology.expected_return_at,
                reason="Fasting for the echocardiogram",
                now=now,
            )
        dentist = services.appointment_create(
            actor=medtech,
            resident=residents[1],
            provider_name="Dr. Samuel Okafor",
            provider_specialty="Dentistry",
            provider_address="Main Street Dental, 14 Main Street",
            starts_at=now - timedelta(minutes=30),
            expected_return_at=now + timedelta(hours=1, minutes=30),
            purpose="Loose lower denture",
            transport="family",
            transport_booker="Son (David)",
            escort="Son (David)",
            now=now,
        )
        services.appointment_leave(
            actor=medtech,
            appointment=dentist,
            version=dentist.version,
            at=now - timedelta(hours=1),
            now=now,
        )
        eyes = services.appointment_create(
            actor=medtech,
            resident=residents[2],
            provider_name="Dr. Helen Park",
            provider_specialty="Ophthalmology",
            provider_address="Valley Eye Clinic, 9 Lake Avenue",
            starts_at=now - timedelta(hours=11),
            expected_return_at=now - timedelta(hours=9),
            purpose="Glaucoma pressure check",
            transport="medical",
            transport_booker="Front desk",
            now=now - timedelta(hours=12),
        )
        services.appointment_book_transport(
            actor=medtech,
            appointment=eyes,
            version=eyes.version,
            pickup_at=eyes.starts_at - timedelta(minutes=40),
            note="Valley Transit, booking 4471",
            now=now - timedelta(hours=12),
        )
        eyes.refresh_from_db()
        eyes = services.appointment_leave(
            actor=medtech,
            appointment=eyes,
            version=eyes.version,
            at=eyes.starts_at - timedelta(minutes=40),
            now=now,
        )
        services.appointment_return(
            actor=medtech,
            appointment=eyes,
            version=eyes.version,
            at=eyes.expected_return_at + timedelta(minutes=20),
            now=now,
        )
        services.appointments_raise_overdue_outcomes(now=now, facility_ids=[maple.pk])
    return 3

"""Appointments: booking and its refusals, the version check, transport, out and back, the
outcome (its orders wait for verification), cancelling, the 4-hour outcome alert, and what
being out does to the dose sweep and the med pass."""

import datetime
import uuid
from datetime import UTC, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from appointments import selectors, services
from appointments.forms import local_instant
from appointments.models import Appointment, AppointmentOrder, AppointmentState
from core.errors import DomainError
from mar import services as mar_services
from mar.models import AdminStatus, Alert, AlertKind, AlertState, DoseState, ScheduledDose
from mar.services.dose_engine import doses_mark_overdue
from meds.models import OrderStatus, Prescription
from residents.models import ResidentStatus
from tests.factories import (
    CertificationFactory,
    PrescriptionFactory,
    ResidentFactory,
    member,
    scheduled_dose,
)

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime.datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def med_tech(facility):
    user = member(facility, Role.MED_TECH)
    CertificationFactory(user=user)
    return user


@pytest.fixture
def nurse(facility):
    return member(facility, Role.NURSE)


def local(day: int, hour: int, minute: int = 0, month: int = 6) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


def details(**overrides) -> dict:
    fields = {
        "provider_name": "Dr. Patel",
        "provider_specialty": "Cardiology",
        "provider_address": "12 Main St",
        "provider_phone": "555-0100",
        "starts_at": local(11, 10),
        "expected_return_at": local(11, 12),
        "purpose": "Echocardiogram follow-up",
        "transport": "van",
        "transport_booker": "Front desk",
        "pickup_at": None,
        "escort": "",
        "bring_medication_list": True,
        "bring_insurance_card": True,
        "bring_mar": False,
        "fasting": False,
        "instructions": "",
    }
    fields.update(overrides)
    return fields


def book(actor, resident, **overrides) -> Appointment:
    return services.appointment_create(
        actor=actor, resident=resident, now=NOW, **details(**overrides)
    )


# --- booking --------------------------------------------------------------------------------


def test_booking_stores_utc_and_waits_for_transport(resident, med_tech):
    appointment = book(med_tech, resident)
    appointment.refresh_from_db()
    assert appointment.starts_at == datetime.datetime(2026, 6, 11, 14, 0, tzinfo=UTC)
    assert appointment.state == AppointmentState.SCHEDULED
    assert not appointment.transport_booked
    assert appointment.version == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"provider_name": "  "}, "provider_name"),
        ({"purpose": ""}, "purpose"),
        ({"transport": "bicycle"}, "transport"),
        ({"expected_return_at": local(11, 9)}, "expected_return_at"),
        ({"expected_return_at": local(12, 11)}, "expected_return_at"),
        ({"starts_at": datetime.datetime(2026, 6, 11, 10, 0)}, "starts_at"),
        ({"starts_at": local(1, 10), "expected_return_at": local(1, 12)}, "starts_at"),
        ({"pickup_at": local(11, 11)}, "pickup_at"),
        ({"purpose": "x" * 301}, "purpose"),
    ],
)
def test_booking_refusals_name_their_field(resident, med_tech, overrides, field):
    with pytest.raises(DomainError) as refused:
        book(med_tech, resident, **overrides)
    assert refused.value.field == field
    assert not Appointment.objects.exists()


def test_caregivers_do_not_book(resident, facility):
    with pytest.raises(DomainError, match="Med techs, nurses and administrators"):
        book(member(facility, Role.CAREGIVER), resident)


def test_a_discharged_resident_gets_no_appointment(resident, med_tech):
    resident.status = ResidentStatus.DISCHARGED
    resident.save(update_fields=["status"])
    with pytest.raises(DomainError, match="discharged"):
        book(med_tech, resident)


def test_a_time_in_the_spring_gap_lands_after_it_and_a_repeated_one_is_the_first():
    gap = local_instant(datetime.datetime(2026, 3, 8, 2, 30), NEW_YORK)
    assert gap.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"
    twice = local_instant(datetime.datetime(2026, 11, 1, 1, 30), NEW_YORK)
    assert twice == datetime.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT


# --- changes, versions, transport -----------------------------------------------------------


def test_a_stale_version_is_refused_and_changes_nothing(resident, med_tech, nurse):
    appointment = book(med_tech, resident)
    services.appointment_update(
        actor=nurse, appointment=appointment, version=1, now=NOW, **details(escort="Daughter")
    )
    with pytest.raises(DomainError, match="Someone changed this appointment"):
        services.appointment_update(
            actor=med_tech, appointment=appointment, version=1, now=NOW, **details(escort="Son")
        )
    appointment.refresh_from_db()
    assert (appointment.escort, appointment.version) == ("Daughter", 2)


def test_booking_transport_then_changing_the_pickup_takes_the_booking_back(resident, med_tech):
    appointment = book(med_tech, resident)
    appointment = services.appointment_book_transport(
        actor=med_tech, appointment=appointment, version=1, pickup_at=local(11, 9, 15), now=NOW
    )
    assert appointment.transport_booked and appointment.version == 2
    with pytest.raises(DomainError, match="already booked"):
        services.appointment_book_transport(
            actor=med_tech, appointment=appointment, version=2, pickup_at=local(11, 9), now=NOW
        )
    appointment = services.appointment_update(
        actor=med_tech,
        appointment=appointment,
        version=2,
        now=NOW,
        **details(pickup_at=local(11, 8, 45)),
    )
    assert not appointment.transport_booked


def test_a_pickup_after_the_appointment_is_refused(resident, med_tech):
    appointment = book(med_tech, resident)
    with pytest.raises(DomainError) as refused:
        services.appointment_book_transport(
            actor=med_tech, appointment=appointment, version=1, pickup_at=local(11, 11), now=NOW
        )
    assert refused.value.field == "pickup_at"


# --- out, back, outcome ---------------------------------------------------------------------


def _out_and_back(appointment, actor, *, left, back):
    appointment = services.appointment_leave(
        actor=actor, appointment=appointment, version=appointment.version, at=left, now=left
    )
    return services.appointment_return(
        actor=actor, appointment=appointment, version=appointment.version, at=back, now=back
    )


def test_the_flow_to_a_closed_outcome(resident, med_tech):
    appointment = book(med_tech, resident, starts_at=local(10, 9), expected_return_at=local(10, 11))
    with time_machine.travel(local(10, 8, 30), tick=False):
        appointment = services.appointment_leave(actor=med_tech, appointment=appointment, version=1)
    assert appointment.state == AppointmentState.OUT
    with pytest.raises(DomainError, match="still out"):
        services.appointment_record_outcome(
            actor=med_tech, appointment=appointment, version=2, seen="seen", notes="ok"
        )
    with time_machine.travel(local(10, 11), tick=False):
        appointment = services.appointment_return(
            actor=med_tech, appointment=appointment, version=2
        )
        with pytest.raises(DomainError) as refused:
            services.appointment_record_outcome(
                actor=med_tech, appointment=appointment, version=3, seen="seen", notes=" "
            )
        assert refused.value.field == "notes"
        appointment = services.appointment_record_outcome(
            actor=med_tech,
            appointment=appointment,
            version=3,
            seen="seen",
            notes="Heart sounds stable; see again in 6 months.",
        )
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CLOSED
    assert appointment.outcome_by == med_tech
    events = list(appointment.events.order_by("pgh_id").values_list("state", flat=True))
    assert events == ["scheduled", "out", "back", "closed"]  # every change audited


def test_an_appointment_never_left_closes_only_as_not_seen(resident, med_tech):
    appointment = book(med_tech, resident)
    with pytest.raises(DomainError) as refused:
        services.appointment_record_outcome(
            actor=med_tech, appointment=appointment, version=1, seen="seen", notes="?", now=NOW
        )
    assert refused.value.field == "seen"
    services.appointment_record_outcome(
        actor=med_tech,
        appointment=appointment,
        version=1,
        seen="not_seen",
        notes="Resident refused to go.",
        now=NOW,
    )


def test_a_resident_cannot_be_out_twice(resident, med_tech):
    first = book(med_tech, resident, starts_at=local(10, 9), expected_return_at=local(10, 10))
    second = book(med_tech, resident, starts_at=local(10, 11), expected_return_at=local(10, 12))
    services.appointment_leave(actor=med_tech, appointment=first, version=1, now=NOW)
    with pytest.raises(DomainError, match="already out"):
        services.appointment_leave(actor=med_tech, appointment=second, version=1, now=NOW)


def _outcome_order(old, **overrides):
    fields = {
        "medication": old.medication,
        "dose_amount": Decimal("2"),
        "dose_unit": "tablet",
        "route": "oral",
        "times": [time(9, 0)],
        "start_date": datetime.date(2026, 6, 10),
        "prescriber": "Dr. Patel",
        "replaces": old,
        "allergy_override_reason": "Checked with the cardiologist",
    }
    fields.update(overrides)
    return services.OutcomeOrder(**fields)


def test_a_changed_order_waits_for_verification_and_makes_no_dose(resident, med_tech, nurse):
    old = PrescriptionFactory(resident=resident)
    appointment = book(med_tech, resident, starts_at=local(10, 9), expected_return_at=local(10, 11))
    appointment = _out_and_back(appointment, med_tech, left=local(10, 8, 30), back=local(10, 11))
    with pytest.raises(DomainError, match="A nurse enters"):
        services.appointment_record_outcome(
            actor=med_tech,
            appointment=appointment,
            version=appointment.version,
            seen="seen",
            notes="Double the dose",
            orders=[_outcome_order(old)],
            now=local(10, 11),
        )
    assert Prescription.objects.count() == 1
    services.appointment_record_outcome(
        actor=nurse,
        appointment=appointment,
        version=appointment.version,
        seen="seen",
        notes="Double the dose",
        orders=[_outcome_order(old)],
        now=local(10, 11),
    )
    old.refresh_from_db()
    link = AppointmentOrder.objects.get(appointment=appointment)
    assert old.status == OrderStatus.DISCONTINUED
    assert link.change == "changed"
    assert link.prescription.status == OrderStatus.PENDING
    assert link.prescription.replaces == old
    mar_services.doses_generate(now=local(10, 11), facility_ids=[resident.facility_id])
    assert not ScheduledDose.objects.filter(prescription=link.prescription).exists()


def test_cancelling_needs_a_reason_and_a_scheduled_appointment(resident, med_tech):
    appointment = book(med_tech, resident)
    with pytest.raises(DomainError) as refused:
        services.appointment_cancel(
            actor=med_tech, appointment=appointment, version=1, reason="", now=NOW
        )
    assert refused.value.field == "reason"
    services.appointment_cancel(
        actor=med_tech, appointment=appointment, version=1, reason="Clinic closed", now=NOW
    )
    with pytest.raises(DomainError, match="only a scheduled one"):
        services.appointment_cancel(
            actor=med_tech, appointment=appointment, version=2, reason="again", now=NOW
        )


# --- the outcome alert ----------------------------------------------------------------------


def test_the_outcome_alert_comes_4_hours_after_the_planned_return_once(resident, med_tech):
    appointment = book(med_tech, resident, starts_at=local(10, 6), expected_return_at=local(10, 7))
    sweep = services.appointments_raise_overdue_outcomes
    assert sweep(now=local(10, 10, 59)) == 0
    assert sweep(now=local(10, 11)) == 1
    assert sweep(now=local(10, 11, 1)) == 0
    alert = Alert.objects.get(kind=AlertKind.APPOINTMENT_OUTCOME)
    assert alert.resident == resident and alert.state == AlertState.OPEN
    assert alert.subject_url == f"/appointments/{appointment.pk}/"
    services.appointment_record_outcome(
        actor=med_tech,
        appointment=appointment,
        version=appointment.version,
        seen="not_seen",
        notes="Transport never came",
        now=local(10, 11, 5),
    )
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED


def test_the_outcome_sweep_catches_up_after_an_outage(facility, med_tech):
    residents = [ResidentFactory(facility=facility) for _ in range(3)]
    for n, resident in enumerate(residents):
        book(med_tech, resident, starts_at=local(4 + n, 9), expected_return_at=local(4 + n, 10))
    cancelled = book(med_tech, residents[0], starts_at=local(8, 9), expected_return_at=local(8, 10))
    services.appointment_cancel(
        actor=med_tech, appointment=cancelled, version=1, reason="Moved", now=NOW
    )
    assert services.appointments_raise_overdue_outcomes(now=NOW) == 3
    assert services.appointments_raise_overdue_outcomes(now=NOW) == 0
    assert Alert.objects.filter(kind=AlertKind.APPOINTMENT_OUTCOME).count() == 3


# --- out at an appointment: the dose sweep and the med pass ----------------------------------


def test_the_sweep_leaves_an_out_residents_doses_until_they_are_back(resident, med_tech):
    order = PrescriptionFactory(resident=resident, times=[time(9, 0)])
    dose = scheduled_dose(order, datetime.datetime(2026, 6, 10, 9, 0))
    appointment = book(
        med_tech, resident, starts_at=local(10, 8, 30), expected_return_at=local(10, 11)
    )
    services.appointment_leave(
        actor=med_tech, appointment=appointment, version=1, at=local(10, 8), now=local(10, 8)
    )
    doses_mark_overdue(now=local(10, 10, 30), facility_ids=[resident.facility_id])
    dose.refresh_from_db()
    assert dose.state == DoseState.DUE
    assert not Alert.objects.filter(kind=AlertKind.OVERDUE_DOSE).exists()
    services.appointment_return(
        actor=med_tech,
        appointment=appointment,
        version=2,
        at=local(10, 10, 45),
        now=local(10, 10, 45),
    )
    doses_mark_overdue(now=local(10, 10, 46), facility_ids=[resident.facility_id])
    dose.refresh_from_db()
    assert dose.state == DoseState.OVERDUE
    assert Alert.objects.filter(kind=AlertKind.OVERDUE_DOSE).count() == 1


def test_a_dose_may_be_given_before_leaving_by_a_med_tech(resident, med_tech):
    order = PrescriptionFactory(resident=resident, times=[time(12, 0)])
    dose = scheduled_dose(order, datetime.datetime(2026, 6, 10, 12, 0))
    book(med_tech, resident, starts_at=local(10, 10), expected_return_at=local(10, 13))
    with pytest.raises(DomainError, match="Too early"):
        mar_services.administration_record(
            actor=med_tech,
            dose=dose,
            status="given",
            idempotency_key=uuid.uuid4(),
            now=local(10, 9),
        )
    result = mar_services.administration_record_away(
        actor=med_tech,
        dose=dose,
        choice="given_before",
        idempotency_key=uuid.uuid4(),
        now=local(10, 9),
    )
    assert result.administration.status == AdminStatus.GIVEN
    assert "before leaving" in result.administration.early_reason


def test_doses_while_out_are_sent_or_not_given_never_given_before(resident, med_tech):
    order = PrescriptionFactory(resident=resident, times=[time(12, 0), time(13, 0)])
    noon = scheduled_dose(order, datetime.datetime(2026, 6, 10, 12, 0))
    one = scheduled_dose(order, datetime.datetime(2026, 6, 10, 13, 0))
    appointment = book(
        med_tech, resident, starts_at=local(10, 10), expected_return_at=local(10, 14)
    )
    services.appointment_leave(
        actor=med_tech,
        appointment=appointment,
        version=1,
        at=local(10, 9, 30),
        now=local(10, 9, 30),
    )
    with pytest.raises(DomainError, match="before its window"):
        mar_services.administration_record_away(
            actor=med_tech,
            dose=noon,
            choice="given_before",
            idempotency_key=uuid.uuid4(),
            now=local(10, 9, 35),
        )
    sent = mar_services.administration_record_away(
        actor=med_tech,
        dose=noon,
        choice="sent",
        idempotency_key=uuid.uuid4(),
        now=local(10, 9, 35),
    ).administration
    not_given = mar_services.administration_record_away(
        actor=med_tech,
        dose=one,
        choice="not_given",
        idempotency_key=uuid.uuid4(),
        now=local(10, 14, 30),
    ).administration
    assert (sent.status, sent.other_code) == (AdminStatus.OTHER, "out")
    assert sent.reason.startswith("Sent with the resident")
    assert not_given.reason.startswith("Not given") and not_given.late_reason


def test_a_dose_outside_any_appointment_is_refused_the_away_choices(resident, med_tech):
    order = PrescriptionFactory(resident=resident, times=[time(20, 0)])
    dose = scheduled_dose(order, datetime.datetime(2026, 6, 10, 20, 0))
    book(med_tech, resident, starts_at=local(10, 10), expected_return_at=local(10, 12))
    with pytest.raises(DomainError, match="not due while the resident is away"):
        mar_services.administration_record_away(
            actor=med_tech,
            dose=dose,
            choice="sent",
            idempotency_key=uuid.uuid4(),
            now=local(10, 9),
        )


# --- reads -----------------------------------------------------------------------------------


def test_appointments_between_is_one_query_with_unit_and_without_cancelled(
    facility, unit, med_tech, django_assert_num_queries
):
    here = [ResidentFactory(facility=facility, unit=unit) for _ in range(3)]
    there = ResidentFactory(facility=facility)
    for resident in [*here, there]:
        book(med_tech, resident)
    gone = book(med_tech, here[0], starts_at=local(11, 14), expected_return_at=local(11, 15))
    services.appointment_cancel(actor=med_tech, appointment=gone, version=1, reason="x", now=NOW)
    start, end = local(11, 0), local(12, 0)
    with django_assert_num_queries(1):
        rows = selectors.appointments_between(facility, start, end)
        names = [a.resident.unit.name for a in rows]
    assert len(names) == 4
    assert len(selectors.appointments_between(facility, start, end, unit)) == 3


def test_the_calendar_day_of_the_clocks_going_back_has_25_hours(facility, resident, med_tech):
    with time_machine.travel(datetime.datetime(2026, 10, 31, 12, 0, tzinfo=UTC), tick=False):
        late = services.appointment_create(
            actor=med_tech,
            resident=resident,
            **details(
                starts_at=local(1, 23, 30, month=11), expected_return_at=local(1, 23, 50, month=11)
            ),
        )
        early = services.appointment_create(
            actor=med_tech,
            resident=resident,
            **details(
                starts_at=local(1, 0, 10, month=11), expected_return_at=local(1, 1, 0, month=11)
            ),
        )
    days = selectors.calendar(facility, datetime.date(2026, 11, 1), 1)
    assert [a.pk for a in days[0].appointments] == [early.pk, late.pk]

"""Two given doses of one scheduled order keep their minimum spacing (no double dose)."""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from core.errors import DomainError
from mar import rules, services
from mar.models import Administration, AdminStatus, ScheduledDose
from tests.factories import CertificationFactory, MedicationFactory, PrescriptionFactory, member

# 19:10 in New York (EDT): the 15:00 dose is overdue, the 19:00 dose is due.
AT = datetime(2026, 6, 10, 23, 10, tzinfo=UTC)


@pytest.fixture
def aide(facility):
    user = member(facility, Role.MED_TECH, first_name="Mia", last_name="Tech")
    CertificationFactory(
        user=user, issued=datetime(2025, 1, 1).date(), expires=datetime(2027, 1, 1).date()
    )
    return user


@pytest.fixture
def carbidopa(resident):
    return PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Carbidopa/Levodopa", is_time_critical=True),
        times=[time(7), time(11), time(15), time(19)],
        window_minutes=30,
    )


def _dose(order, hour: int) -> ScheduledDose:
    services.doses_generate(now=AT - timedelta(hours=5))
    services.doses_generate(now=AT)
    due = datetime(2026, 6, 10, hour, tzinfo=order.facility.tz)
    return ScheduledDose.objects.get(prescription=order, due_at=due)


def _give(actor, dose, **kwargs):
    return services.administration_record(
        actor=actor,
        dose=dose,
        status=kwargs.pop("status", "given"),
        idempotency_key=uuid.uuid4(),
        now=AT,
        **kwargs,
    )


def test_default_spacing_is_half_the_shortest_gap_between_dose_times():
    assert rules.min_dose_spacing([time(7), time(11), time(15), time(19)], None) == timedelta(
        hours=2
    )
    assert rules.min_dose_spacing([time(8), time(20)], None) == timedelta(hours=6)
    assert rules.min_dose_spacing([time(22), time(2)], None) == timedelta(hours=2)  # midnight
    assert rules.min_dose_spacing([time(9)], None) == timedelta(hours=12)
    assert rules.min_dose_spacing([time(8), time(20)], 90) == timedelta(minutes=90)


def test_overdue_and_due_doses_given_together_are_refused_with_the_previous_dose_named(
    aide, carbidopa
):
    overdue, due = _dose(carbidopa, 15), _dose(carbidopa, 19)
    _give(aide, overdue, late_reason="Resident was in the shower")
    with pytest.raises(DomainError) as refused:
        _give(aide, due)
    message = refused.value.message
    assert (
        "Too close to the 15:00 dose of this order, given at Wed 2026-06-10 19:10 by Mia Tech"
        in (message)
    )
    assert "at least 2 h apart" in message
    assert "The next may be given from Wed 2026-06-10 21:10" in message
    assert refused.value.field == "spacing_override_reason"
    assert Administration.objects.filter(dose=due).count() == 0
    # The dose can still be documented as not given, with a reason.
    held = _give(aide, due, status="held", reason="Given late at 19:10 for the 15:00 dose")
    assert held.administration.status == AdminStatus.HELD


def test_a_med_tech_cannot_override_the_spacing(aide, carbidopa):
    overdue, due = _dose(carbidopa, 15), _dose(carbidopa, 19)
    _give(aide, overdue, late_reason="Shower")
    with pytest.raises(DomainError, match="ask a nurse to override"):
        _give(aide, due, spacing_override_reason="I think it is fine")


def test_a_nurse_overrides_with_a_reason_that_is_recorded(aide, carbidopa, facility):
    nurse = member(facility, Role.NURSE)
    overdue, due = _dose(carbidopa, 15), _dose(carbidopa, 19)
    _give(aide, overdue, late_reason="Shower")
    with pytest.raises(DomainError, match="override with your reason"):
        _give(nurse, due)
    result = _give(nurse, due, spacing_override_reason="Neurologist said keep the 19:00 dose")
    assert result.administration.spacing_override_reason == "Neurologist said keep the 19:00 dose"


def test_an_order_sets_its_own_spacing(aide, resident):
    order = PrescriptionFactory(
        resident=resident, times=[time(15), time(19)], min_dose_spacing_minutes=60
    )
    overdue, due = _dose(order, 15), _dose(order, 19)
    _give(aide, overdue, late_reason="Shower")
    with pytest.raises(DomainError, match="at least 1 h apart"):
        services.administration_record(
            actor=aide,
            dose=due,
            status="given",
            idempotency_key=uuid.uuid4(),
            now=AT + timedelta(minutes=30),
        )
    later = services.administration_record(
        actor=aide,
        dose=due,
        status="given",
        idempotency_key=uuid.uuid4(),
        now=AT + timedelta(minutes=61),
        late_reason="x",
    )
    assert later.created


def _client(user) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend")
    return client


def test_the_card_says_so_before_the_tap(aide, carbidopa, facility, resident):
    from inventory import services as stock_services

    stock_services.stock_receive(
        actor=member(facility, Role.NURSE),
        facility=facility,
        resident=resident,
        medication=carbidopa.medication,
        quantity="30",
        now=AT - timedelta(days=1),
    )
    overdue, due = _dose(carbidopa, 15), _dose(carbidopa, 19)
    _give(aide, overdue, late_reason="Shower")
    with time_machine.travel(AT, tick=False):
        page = _client(aide).get(reverse("resident_pass", args=[resident.pk])).content.decode()
        card = page[page.index(f'id="dose-{due.pk}"') :]
        card = card[: card.index("</article>")]
        assert "Too close to the 15:00 dose of this order" in card
        assert 'value="given"' not in card and 'value="held"' in card
        assert "No stock on hand" not in card and "On hand: 29" in card
        nurse_page = _client(member(facility, Role.NURSE)).get(
            reverse("resident_pass", args=[resident.pk])
        )
        card = nurse_page.content.decode()
        card = card[card.index(f'id="dose-{due.pk}"') :]
        card = card[: card.index("</article>")]
        assert 'value="given"' in card and 'name="spacing_override_reason"' in card


def test_the_override_shows_on_the_mar_and_in_the_exceptions_report(
    aide, carbidopa, facility, resident
):
    from reports.exceptions import exceptions_report

    nurse = member(facility, Role.NURSE)
    overdue, due = _dose(carbidopa, 15), _dose(carbidopa, 19)
    _give(aide, overdue, late_reason="Shower")
    _give(nurse, due, spacing_override_reason="Neurologist said keep the 19:00 dose")
    day = datetime(2026, 6, 10).date()
    report = exceptions_report(facility=facility, start=day, end=day)
    rows = [r for r in report.rows if "Spacing override" in r.kind_text]
    assert len(rows) == 1
    assert "Neurologist said keep the 19:00 dose" in rows[0].why
    assert ("Spacing override", 1) in report.totals
    page = _client(nurse).get(
        reverse("resident_mar_day", args=[resident.pk]), {"date": "2026-06-10"}
    )
    assert "Spacing override" in page.content.decode()
    assert "Neurologist said keep the 19:00 dose" in page.content.decode()

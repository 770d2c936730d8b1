from datetime import date, time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import ProgrammingError

from accounts.models import Role
from core.errors import DomainError
from meds import services
from meds.models import OrderStatus, Prescription
from residents import services as resident_services
from tests.factories import MedicationFactory, member


@pytest.fixture
def nkda_resident(resident, admin_user):
    resident_services.resident_mark_nkda(actor=admin_user, resident=resident)
    return resident


def _enter(actor, resident, medication=None, **overrides):
    arguments = {
        "actor": actor,
        "resident": resident,
        "medication": medication or MedicationFactory(name="Lisinopril", generic_name="lisinopril"),
        "dose_amount": Decimal("1"),
        "dose_unit": "tablet",
        "route": "oral",
        "prescriber": "Dr. Hayes",
        "start_date": date(2026, 6, 1),
        "times": [time(20), time(8)],
    }
    arguments.update(overrides)
    return services.prescription_create(**arguments)


def test_entered_order_waits_for_verification(nkda_resident, nurse_user):
    order = _enter(nurse_user, nkda_resident)
    assert order.status == OrderStatus.PENDING
    assert order.times == [time(8), time(20)]
    assert order.schedule_text == "08:00 and 20:00, every day"
    assert order.window_minutes == 60
    assert order.status_changes.get().to_status == OrderStatus.PENDING


def test_time_critical_medication_gets_the_shorter_window(nkda_resident, nurse_user):
    med = MedicationFactory(is_time_critical=True)
    assert _enter(nurse_user, nkda_resident, medication=med).window_minutes == 30


def test_allergy_match_needs_an_override_reason(resident, admin_user, nurse_user):
    resident_services.allergy_add(actor=admin_user, resident=resident, substance="penicillin")
    amoxicillin = MedicationFactory(name="Penicillin VK", generic_name="penicillin v potassium")
    with pytest.raises(services.AllergyWarning, match="allergic to penicillin"):
        _enter(nurse_user, resident, medication=amoxicillin)
    assert not Prescription.objects.exists()
    order = _enter(
        nurse_user, resident, medication=amoxicillin, allergy_override_reason="MD aware, rash only"
    )
    assert order.allergy_override_reason == "MD aware, rash only"


def test_allergies_not_recorded_warn_too(resident, nurse_user):
    with pytest.raises(services.AllergyWarning, match="not recorded"):
        _enter(nurse_user, resident)


def test_no_warning_and_no_stored_override_without_a_match(nkda_resident, nurse_user):
    order = _enter(nurse_user, nkda_resident, allergy_override_reason="not needed")
    assert order.allergy_override_reason == ""


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"times": []}, "at least one dose time"),
        ({"dose_amount": Decimal("0")}, "more than zero"),
        ({"stop_date": date(2026, 5, 1)}, "before the start date"),
        ({"recurrence": "weekdays", "weekdays": []}, "weekdays"),
        ({"recurrence": "month_days", "month_days": []}, "days of the month"),
        (
            {"is_prn": True, "indication": "pain", "prn_min_hours": None, "prn_max_per_24h": 4},
            "minimum hours",
        ),
        (
            {"is_prn": True, "indication": "", "prn_min_hours": 4, "prn_max_per_24h": 4},
            "indication",
        ),
        ({"prescriber": " "}, "prescriber"),
    ],
)
def test_bad_orders_are_refused_and_nothing_saved(nkda_resident, nurse_user, overrides, message):
    with pytest.raises(DomainError, match=message):
        _enter(nurse_user, nkda_resident, **overrides)
    assert not Prescription.objects.exists()


def test_med_tech_cannot_enter_orders(nkda_resident, medtech_user):
    with pytest.raises(DomainError, match="Only nurses and administrators"):
        _enter(medtech_user, nkda_resident)


def test_another_nurse_verifies(nkda_resident, nurse_user, facility):
    order = _enter(nurse_user, nkda_resident)
    with pytest.raises(DomainError, match="another nurse must verify"):
        services.prescription_verify(actor=nurse_user, prescription=order)
    admin = member(facility, Role.ADMIN)
    with pytest.raises(DomainError, match="Only a nurse"):
        services.prescription_verify(actor=admin, prescription=order)
    second = member(facility, Role.NURSE)
    verified = services.prescription_verify(actor=second, prescription=order)
    assert verified.status == OrderStatus.ACTIVE
    assert verified.verified_by == second
    assert verified.active_since is not None


def test_policy_may_let_a_nurse_verify_her_own(nkda_resident, nurse_user, facility):
    facility.nurses_may_verify_own_orders = True
    facility.save()
    order = _enter(nurse_user, nkda_resident)
    assert services.prescription_verify(actor=nurse_user, prescription=order).status == "active"


def test_change_discontinues_and_links_the_new_order(nkda_resident, nurse_user, facility):
    order = _enter(nurse_user, nkda_resident)
    services.prescription_verify(actor=member(facility, Role.NURSE), prescription=order)
    new = services.prescription_change(
        actor=nurse_user,
        prescription=order,
        reason="Dose increased",
        medication=order.medication,
        dose_amount=Decimal("2"),
        dose_unit="tablet",
        route="oral",
        prescriber="Dr. Hayes",
        start_date=date(2026, 6, 2),
        times=[time(8)],
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.DISCONTINUED
    assert new.replaces == order
    assert new.status == OrderStatus.PENDING
    assert "Dose increased" in order.status_changes.first().reason


def test_hold_and_resume_keep_a_history(nkda_resident, nurse_user, facility):
    order = _enter(nurse_user, nkda_resident)
    services.prescription_verify(actor=member(facility, Role.NURSE), prescription=order)
    with pytest.raises(DomainError, match="reason"):
        services.prescription_hold(actor=nurse_user, prescription=order, reason="")
    services.prescription_hold(actor=nurse_user, prescription=order, reason="NPO for surgery")
    services.prescription_resume(actor=nurse_user, prescription=order, reason="Back from surgery")
    moves = [
        (c.from_status, c.to_status) for c in order.status_changes.order_by("changed_at", "id")
    ]
    assert moves == [
        ("", "pending"),
        ("pending", "active"),
        ("active", "on_hold"),
        ("on_hold", "active"),
    ]


def test_the_database_refuses_to_edit_an_orders_clinical_fields(nkda_resident, nurse_user):
    order = _enter(nurse_user, nkda_resident)
    with pytest.raises(ProgrammingError), transaction.atomic():
        Prescription.objects.filter(pk=order.pk).update(dose_amount=Decimal("5"))
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE meds_prescription SET times = '{}' WHERE id = %s", [order.pk])
    with pytest.raises((ProgrammingError, IntegrityError)), transaction.atomic():
        Prescription.objects.filter(pk=order.pk).delete()
    order.refresh_from_db()
    assert order.dose_amount == Decimal("1")

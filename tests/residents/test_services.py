from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from core.errors import DomainError
from residents import services
from residents.models import AllergyStatus, Resident, ResidentStatus, ResidentStatusChange
from residents.signals import resident_status_changed
from tests.factories import UnitFactory, member


def _admit(facility, unit, actor, **overrides):
    details = {
        "unit": unit,
        "room": "12A",
        "first_name": "Edna",
        "last_name": "Mode",
        "date_of_birth": date(1938, 2, 3),
    }
    details.update(overrides)
    return services.resident_admit(actor=actor, facility=facility, **details)


def test_admission_starts_an_active_status_history(facility, unit, admin_user):
    resident = _admit(facility, unit, admin_user)
    assert resident.status == ResidentStatus.ACTIVE
    assert resident.allergy_status == AllergyStatus.NOT_RECORDED
    change = resident.status_changes.get()
    assert (change.from_status, change.to_status, change.changed_by) == (
        "",
        ResidentStatus.ACTIVE,
        admin_user,
    )
    assert resident.wristband_code.startswith("R")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "   ", "first name"),
        ("last_name", "", "last name"),
        ("date_of_birth", "future", "past date"),
        ("date_of_birth", date(1850, 1, 1), "after 1900"),
        ("admission_date", "future", "future"),
    ],
)
def test_admission_rejects_bad_details_and_saves_nothing(
    facility, unit, admin_user, field, value, message
):
    if value == "future":
        value = timezone.now().date() + timedelta(days=2)
    with pytest.raises(DomainError, match=message) as caught:
        _admit(facility, unit, admin_user, **{field: value})
    assert caught.value.field == field
    assert not Resident.objects.exists()


def test_admission_refuses_a_unit_of_another_facility(facility, other_facility, admin_user):
    foreign_unit = UnitFactory(facility=other_facility)
    with pytest.raises(DomainError, match="unit of this facility"):
        _admit(facility, foreign_unit, admin_user)
    assert not Resident.objects.exists()


def test_loa_and_return_are_recorded_with_reason_and_actor(resident, admin_user):
    services.resident_change_status(
        actor=admin_user, resident=resident, to_status="loa", reason="Family visit"
    )
    services.resident_change_status(
        actor=admin_user, resident=resident, to_status="active", reason="Back from visit"
    )
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.ACTIVE
    moves = list(
        ResidentStatusChange.objects.filter(resident=resident)
        .order_by("effective_at", "id")
        .values_list("from_status", "to_status", "reason")
    )
    assert moves[-2:] == [
        ("active", "loa", "Family visit"),
        ("loa", "active", "Back from visit"),
    ]


def test_status_change_needs_a_reason_and_changes_nothing_without(resident, admin_user):
    with pytest.raises(DomainError, match="reason"):
        services.resident_change_status(
            actor=admin_user, resident=resident, to_status="hospital", reason="  "
        )
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.ACTIVE
    assert not ResidentStatusChange.objects.filter(resident=resident).exists()


def test_discharged_resident_cannot_come_back_by_status_change(resident, admin_user):
    services.resident_discharge(actor=admin_user, resident=resident, reason="Moved to family")
    with pytest.raises(DomainError, match="Readmit"):
        services.resident_change_status(
            actor=admin_user, resident=resident, to_status="active", reason="Oops"
        )
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.DISCHARGED


def test_same_status_twice_is_refused(resident, admin_user):
    with pytest.raises(DomainError, match="already"):
        services.resident_change_status(
            actor=admin_user, resident=resident, to_status="active", reason="x"
        )


def test_status_change_cannot_be_dated_in_the_future(resident, admin_user):
    with pytest.raises(DomainError, match="future"):
        services.resident_change_status(
            actor=admin_user,
            resident=resident,
            to_status="loa",
            reason="Trip",
            effective_at=timezone.now() + timedelta(hours=1),
        )


def test_status_change_signal_runs_inside_the_transaction(resident, admin_user):
    seen = []

    def receiver(sender, resident, from_status, to_status, **kwargs):
        seen.append((from_status, to_status))
        raise RuntimeError("a consequence failed")

    resident_status_changed.connect(receiver)
    try:
        with pytest.raises(RuntimeError):
            services.resident_change_status(
                actor=admin_user, resident=resident, to_status="hospital", reason="ER"
            )
    finally:
        resident_status_changed.disconnect(receiver)
    assert seen == [("active", "hospital")]
    resident.refresh_from_db()
    # The failed consequence rolled the status change back with it.
    assert resident.status == ResidentStatus.ACTIVE


def test_allergies_nkda_and_not_recorded_are_distinct(resident, admin_user):
    assert resident.allergy_status == AllergyStatus.NOT_RECORDED
    services.resident_mark_nkda(actor=admin_user, resident=resident)
    resident.refresh_from_db()
    assert resident.allergy_status == AllergyStatus.NKDA

    allergy = services.allergy_add(
        actor=admin_user, resident=resident, substance="Penicillin", reaction="hives"
    )
    resident.refresh_from_db()
    assert resident.allergy_status == AllergyStatus.RECORDED
    with pytest.raises(DomainError, match="Remove the recorded allergies"):
        services.resident_mark_nkda(actor=admin_user, resident=resident)

    services.allergy_remove(actor=admin_user, allergy=allergy)
    resident.refresh_from_db()
    assert resident.allergy_status == AllergyStatus.NOT_RECORDED


def test_duplicate_allergy_is_refused_case_insensitively(resident, admin_user):
    services.allergy_add(actor=admin_user, resident=resident, substance="Sulfa")
    with pytest.raises(DomainError, match="already"):
        services.allergy_add(actor=admin_user, resident=resident, substance="sulfa ")
    assert resident.allergies.count() == 1


def test_update_changes_only_given_fields(resident, facility):
    admin = member(facility, Role.ADMIN)
    services.resident_update(actor=admin, resident=resident, room="7", pharmacy="Main St")
    resident.refresh_from_db()
    assert (resident.room, resident.pharmacy, resident.first_name) == ("7", "Main St", "Ada")
    with pytest.raises(TypeError):
        services.resident_update(actor=admin, resident=resident, status="discharged")

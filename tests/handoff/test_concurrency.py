"""Two staff members submitting the same report at once: one snapshot, one clear refusal."""

import pytest

from accounts.models import Role
from core.errors import DomainError
from core.shifts import shift_at
from handoff import services
from handoff.models import ShiftReport
from tests.concurrency import while_in_progress
from tests.factories import FacilityFactory, ResidentFactory, UnitFactory, member

from .conftest import NOW


@pytest.mark.django_db(transaction=True)
def test_a_submission_in_progress_is_waited_for_and_the_second_is_refused():
    facility = FacilityFactory(name="Birch Court")
    unit = UnitFactory(facility=facility, name="East")
    ResidentFactory(facility=facility, unit=unit)
    first, second = member(facility, Role.MED_TECH), member(facility, Role.NURSE)
    shift = shift_at(NOW, facility.shifts)

    def submit_again():
        try:
            services.shift_report_submit(actor=second, unit=unit, shift=shift, now=NOW)
        except DomainError as error:
            return error.message
        return "submitted twice"

    [outcome] = while_in_progress(
        lambda: services.shift_report_submit(actor=first, unit=unit, shift=shift, now=NOW),
        submit_again,
    )
    assert outcome.startswith(f"This report was already submitted by {first}")
    report = ShiftReport.objects.get()
    assert report.submitted_by == first

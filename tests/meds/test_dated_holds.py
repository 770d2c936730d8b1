"""A dated hold: placed by anyone on the floor, it stops the order's doses in its time only once
a nurse verifies it; the engine makes the doses in that time as held ("hold" on the MAR) and
never revives them while it stands; cancelled, the doses ahead come back."""

import datetime
from datetime import UTC, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role
from core.errors import DomainError
from mar.models import DoseState, ScheduledDose
from mar.services.dose_engine import doses_generate
from meds.models import DatedHold, DatedHoldState
from meds.services import dated_hold_cancel, dated_hold_verify, prescription_hold_dated
from tests.factories import PrescriptionFactory, member, scheduled_dose

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime.datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York


def local(day, hour, minute=0):
    return datetime.datetime(2026, 6, day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture
def med_tech(facility):
    return member(facility, Role.MED_TECH)


@pytest.fixture
def nurse(facility):
    return member(facility, Role.NURSE)


@pytest.fixture
def order(resident):
    return PrescriptionFactory(resident=resident, times=[time(9, 0), time(21, 0)])


def place(order, actor, **overrides):
    fields = {"starts_at": local(10, 8, 30), "ends_at": local(10, 12), "reason": "Fasting"}
    fields.update(overrides)
    return prescription_hold_dated(actor=actor, prescription=order, now=NOW, **fields)


def test_a_pending_hold_stops_nothing_a_verified_one_cancels_its_doses_only(order, med_tech, nurse):
    inside = scheduled_dose(order, datetime.datetime(2026, 6, 10, 9, 0))
    outside = scheduled_dose(order, datetime.datetime(2026, 6, 10, 21, 0))
    hold = place(order, med_tech)
    inside.refresh_from_db()
    assert hold.state == DatedHoldState.PENDING and inside.state == DoseState.DUE
    dated_hold_verify(actor=nurse, hold=hold, now=NOW)
    inside.refresh_from_db()
    outside.refresh_from_db()
    assert (inside.state, inside.cancel_reason) == (DoseState.CANCELLED, "hold")
    assert outside.state == DoseState.DUE
    order.refresh_from_db()
    assert order.status == "active"  # the order itself is not on hold


def test_the_engine_makes_the_held_doses_as_held_and_revives_them_when_cancelled(
    order, med_tech, nurse
):
    hold = place(order, med_tech, starts_at=local(11, 8), ends_at=local(11, 10))
    dated_hold_verify(actor=nurse, hold=hold, now=NOW)
    doses_generate(now=NOW, facility_ids=[order.facility_id])
    held = ScheduledDose.objects.get(prescription=order, due_at=local(11, 9))
    assert (held.state, held.cancel_reason) == (DoseState.CANCELLED, "hold")
    assert ScheduledDose.objects.get(prescription=order, due_at=local(11, 21)).state == "due"
    doses_generate(now=NOW + timedelta(minutes=15), facility_ids=[order.facility_id])
    held.refresh_from_db()
    assert held.state == DoseState.CANCELLED  # not revived while the hold stands
    dated_hold_cancel(actor=nurse, hold=hold, reason="Procedure moved", now=NOW)
    doses_generate(now=NOW + timedelta(minutes=30), facility_ids=[order.facility_id])
    held.refresh_from_db()
    assert held.state == DoseState.DUE


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": " "}, "reason"),
        ({"ends_at": local(10, 8)}, "ends_at"),
        ({"starts_at": local(9, 6), "ends_at": local(10, 7)}, "ends_at"),
        ({"ends_at": local(30, 8)}, "ends_at"),
        ({"starts_at": datetime.datetime(2026, 6, 10, 9, 0)}, "starts_at"),
    ],
)
def test_hold_refusals_name_their_field(order, med_tech, overrides, field):
    with pytest.raises(DomainError) as refused:
        place(order, med_tech, **overrides)
    assert refused.value.field == field
    assert not DatedHold.objects.exists()


def test_a_prn_or_inactive_order_cannot_be_held(resident, med_tech):
    prn = PrescriptionFactory(
        resident=resident, is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=4
    )
    with pytest.raises(DomainError, match="as needed"):
        place(prn, med_tech)
    pending = PrescriptionFactory(resident=resident, pending=True)
    with pytest.raises(DomainError, match="Only an active order"):
        place(pending, med_tech)


def test_only_a_nurse_verifies_and_not_her_own_hold(order, med_tech, nurse, facility):
    hold = place(order, med_tech)
    with pytest.raises(DomainError, match="Only a nurse"):
        dated_hold_verify(actor=med_tech, hold=hold, now=NOW)
    own = place(order, nurse)
    facility.nurses_may_verify_own_orders = False
    facility.save()
    with pytest.raises(DomainError, match="another nurse"):
        dated_hold_verify(actor=nurse, hold=own, now=NOW)
    dated_hold_verify(actor=nurse, hold=hold, now=NOW)
    with pytest.raises(DomainError, match="already verified"):
        dated_hold_verify(actor=member(facility, Role.NURSE), hold=hold, now=NOW)


def test_a_med_tech_cancels_only_her_own_pending_hold(order, med_tech, nurse, facility):
    hold = place(order, med_tech)
    other = member(facility, Role.MED_TECH)
    with pytest.raises(DomainError, match="Only nurses and administrators"):
        dated_hold_cancel(actor=other, hold=hold, reason="no", now=NOW)
    dated_hold_cancel(actor=med_tech, hold=hold, reason="Entered on the wrong order", now=NOW)
    hold.refresh_from_db()
    assert hold.state == DatedHoldState.CANCELLED

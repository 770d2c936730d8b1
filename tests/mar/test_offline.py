"""Records made on a cart offline: each reaches the record once, or waits for a nurse."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import Role
from core.errors import DomainError
from mar import services
from mar.models import (
    Administration,
    AdminStatus,
    DoseState,
    Entry,
    ReconciliationItem,
    ReconciliationState,
    ScheduledDose,
)
from mar.services.offline import OfflineRecord, Outcome, offline_replay, reconciliation_resolve
from meds.services import prescription_discontinue
from tests.factories import CertificationFactory, PrescriptionFactory, member

DUE = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 New York
DEVICE = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # the cart's time when it recorded
BACK = DEVICE + timedelta(hours=2)  # the connection came back


def _aide(facility):
    user = member(facility, Role.MED_TECH)
    CertificationFactory(
        user=user, issued=datetime(2025, 1, 1).date(), expires=datetime(2027, 1, 1).date()
    )
    return user


@pytest.fixture
def aide(facility):
    return _aide(facility)


@pytest.fixture
def dose(resident):
    order = PrescriptionFactory(resident=resident)
    services.doses_generate(now=DEVICE)
    return ScheduledDose.objects.get(prescription=order, due_at=DUE)


@pytest.fixture
def prn(resident):
    return PrescriptionFactory(
        resident=resident,
        is_prn=True,
        times=[],
        prn_min_hours=Decimal("4"),
        prn_max_per_24h=2,
        indication="Pain",
    )


def _dose_record(dose, *, key=None, at=DEVICE, **fields):
    return OfflineRecord(
        key=key or uuid.uuid4(),
        kind="dose",
        target=dose.pk,
        device_at=at,
        snapshot_at=at - timedelta(hours=1),
        **fields,
    )


def _prn_record(order, *, key=None, at=DEVICE, **fields):
    fields.setdefault("prn_reason", "Knee pain 6/10")
    return OfflineRecord(
        key=key or uuid.uuid4(),
        kind="prn",
        target=order.pk,
        device_at=at,
        snapshot_at=at - timedelta(hours=1),
        **fields,
    )


def test_a_dose_recorded_offline_is_recorded_once_at_the_device_time(aide, dose):
    record = _dose_record(dose)
    first = offline_replay(actor=aide, record=record, now=BACK)
    again = offline_replay(actor=aide, record=record, now=BACK + timedelta(minutes=1))

    assert first.outcome == Outcome.RECORDED
    assert again.outcome == Outcome.DUPLICATE
    assert again.administration.pk == first.administration.pk
    saved = Administration.objects.get(dose=dose)
    assert (saved.entry, saved.administered_at, saved.recorded_at) == (Entry.OFFLINE, DEVICE, BACK)
    assert saved.idempotency_key == record.key
    dose.refresh_from_db()
    assert dose.state == DoseState.DOCUMENTED


def test_refused_offline_keeps_its_reason(aide, dose):
    replay = offline_replay(
        actor=aide, record=_dose_record(dose, status="refused", reason="Asleep"), now=BACK
    )
    assert replay.outcome == Outcome.RECORDED
    saved = replay.administration
    assert (saved.status, saved.reason, saved.entry) == ("refused", "Asleep", Entry.OFFLINE)


def test_the_same_dose_from_two_carts_is_one_record_and_one_reconciliation_item(facility, dose):
    first_cart, second_cart = _aide(facility), _aide(facility)
    first = offline_replay(actor=first_cart, record=_dose_record(dose), now=BACK)
    second_record = _dose_record(dose, at=DEVICE + timedelta(minutes=3))
    second = offline_replay(actor=second_cart, record=second_record, now=BACK)
    replayed = offline_replay(actor=second_cart, record=second_record, now=BACK)

    assert first.outcome == Outcome.RECORDED
    assert second.outcome == replayed.outcome == Outcome.RECONCILE
    assert "Already documented (given) by" in second.message
    assert Administration.objects.filter(dose=dose).count() == 1
    item = ReconciliationItem.objects.get()
    assert replayed.item.pk == item.pk
    assert (item.made_by, item.dose, item.device_at, item.received_at) == (
        second_cart,
        dose,
        DEVICE + timedelta(minutes=3),
        BACK,
    )
    assert item.state == ReconciliationState.OPEN
    assert item.record["status"] == "given"


def test_a_dose_of_an_order_discontinued_meanwhile_waits_for_a_nurse(aide, dose, nurse_user):
    prescription_discontinue(actor=nurse_user, prescription=dose.prescription, reason="Stopped")
    replay = offline_replay(actor=aide, record=_dose_record(dose), now=BACK)

    assert replay.outcome == Outcome.RECONCILE
    assert "This order is discontinued: changed by" in replay.message
    assert not Administration.objects.filter(dose=dose).exists()


def test_prn_cap_crossed_across_carts_waits_for_a_nurse(facility, prn):
    first_cart, second_cart = _aide(facility), _aide(facility)
    # The other cart's dose reached the server first, though given later on its clock.
    assert (
        offline_replay(
            actor=first_cart, record=_prn_record(prn, at=DEVICE + timedelta(hours=1)), now=BACK
        ).outcome
        == Outcome.RECORDED
    )
    replay = offline_replay(actor=second_cart, record=_prn_record(prn), now=BACK)

    assert replay.outcome == Outcome.RECONCILE
    assert "Not yet" in replay.message
    assert Administration.objects.filter(prescription=prn).count() == 1


def test_a_clock_ahead_of_the_server_is_not_taken_as_the_dose_time(aide, dose):
    replay = offline_replay(
        actor=aide, record=_dose_record(dose, at=DEVICE + timedelta(hours=2)), now=DEVICE
    )
    assert replay.outcome == Outcome.RECONCILE
    assert "clock" in replay.message
    assert not Administration.objects.exists()


def test_a_record_older_than_the_offline_limit_waits_for_a_nurse(aide, dose, facility):
    facility.offline_max_hours = 2
    facility.save()
    replay = offline_replay(actor=aide, record=_dose_record(dose), now=DEVICE + timedelta(hours=3))
    assert replay.outcome == Outcome.RECONCILE
    assert "more than 2 hours" in replay.message


# The nurse's reconciliation -------------------------------------------------------------------


def _conflict(facility, dose):
    offline_replay(actor=_aide(facility), record=_dose_record(dose), now=BACK)
    second = _aide(facility)
    replay = offline_replay(
        actor=second, record=_dose_record(dose, status="refused", reason="Spat out"), now=BACK
    )
    return replay.item


def test_void_closes_the_item_with_the_reason_and_records_nothing(facility, dose, nurse_user):
    item = _conflict(facility, dose)
    resolved = reconciliation_resolve(
        actor=nurse_user, item=item, action="void", reason="Duplicate entry", now=BACK
    )
    assert (resolved.state, resolved.resolved_by, resolved.resolution_reason) == (
        ReconciliationState.VOIDED,
        nurse_user,
        "Duplicate entry",
    )
    assert Administration.objects.filter(dose=dose).count() == 1
    with pytest.raises(DomainError, match="Already decided"):
        reconciliation_resolve(actor=nurse_user, item=item, action="void", reason="Again")


def test_keep_refuses_a_second_record_of_a_documented_dose(facility, dose, nurse_user):
    item = _conflict(facility, dose)
    with pytest.raises(DomainError, match="already has a record"):
        reconciliation_resolve(actor=nurse_user, item=item, action="keep", reason="Both true")
    item.refresh_from_db()
    assert item.state == ReconciliationState.OPEN


def test_keep_puts_a_discontinued_orders_dose_on_the_record(aide, dose, nurse_user):
    prescription_discontinue(actor=nurse_user, prescription=dose.prescription, reason="Stopped")
    item = offline_replay(actor=aide, record=_dose_record(dose), now=BACK).item
    resolved = reconciliation_resolve(
        actor=nurse_user, item=item, action="keep", reason="It was given before the stop", now=BACK
    )
    saved = resolved.administration
    assert resolved.state == ReconciliationState.KEPT
    assert (saved.status, saved.recorded_by, saved.administered_at, saved.entry) == (
        AdminStatus.GIVEN,
        aide,
        DEVICE,
        Entry.OFFLINE,
    )
    dose.refresh_from_db()
    assert dose.state == DoseState.DOCUMENTED


def test_amend_records_the_nurses_status_and_time(facility, prn, nurse_user):
    offline_replay(actor=_aide(facility), record=_prn_record(prn), now=BACK)
    aide = _aide(facility)
    item = offline_replay(
        actor=aide, record=_prn_record(prn, at=DEVICE + timedelta(hours=1)), now=BACK
    ).item
    with pytest.raises(DomainError, match="Enter when"):
        reconciliation_resolve(
            actor=nurse_user, item=item, action="amend", reason="x", status="given"
        )
    resolved = reconciliation_resolve(
        actor=nurse_user,
        item=item,
        action="amend",
        reason="Given at 09:30 per the resident's account",
        status="given",
        administered_at=DEVICE + timedelta(hours=1, minutes=25),
        now=BACK + timedelta(hours=1),
    )
    assert resolved.state == ReconciliationState.AMENDED
    assert resolved.administration.administered_at == DEVICE + timedelta(hours=1, minutes=25)
    assert Administration.objects.filter(prescription=prn).count() == 2


def test_only_a_nurse_reconciles_and_always_with_a_reason(facility, dose, nurse_user, aide):
    item = _conflict(facility, dose)
    with pytest.raises(DomainError, match="Only a nurse"):
        reconciliation_resolve(actor=aide, item=item, action="void", reason="x")
    with pytest.raises(DomainError, match="reason"):
        reconciliation_resolve(actor=nurse_user, item=item, action="void", reason="  ")
    item.refresh_from_db()
    assert item.state == ReconciliationState.OPEN

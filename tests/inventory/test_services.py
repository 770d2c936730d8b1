"""Stock follows every dose; the ledger always equals on hand; counts and waste are witnessed."""

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.db.utils import IntegrityError, ProgrammingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from core.errors import DomainError
from inventory import services
from inventory.models import ControlledCount, MovementKind, StockItem, StockMovement
from mar import services as mar_services
from mar.models import Administration, Alert, AlertKind, ScheduledDose
from tests.factories import (
    PASSWORD,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    member,
)

NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)


def _ledger_matches(item: StockItem) -> bool:
    item.refresh_from_db()
    total = item.movements.aggregate(total=Sum("quantity"))["total"] or Decimal(0)
    last = item.movements.order_by("-pk").first()  # the latest written line
    return total == item.on_hand and (last is None or last.balance_after == item.on_hand)


def _receive(nurse, resident, medication, quantity="30", **kwargs):
    return services.stock_receive(
        actor=nurse,
        facility=resident.facility,
        resident=resident,
        medication=medication,
        quantity=quantity,
        now=NOW,
        **kwargs,
    )


def test_receive_creates_the_item_and_the_ledger_line(nurse_user, resident):
    med = MedicationFactory()
    result = _receive(nurse_user, resident, med, lot="L1", expiry=date(2027, 1, 1), rx_number="RX9")
    item = result.movement.item
    assert item.on_hand == Decimal("30") and item.reorder_days == 7
    assert (result.movement.kind, result.movement.balance_after) == (
        MovementKind.RECEIVED,
        Decimal("30"),
    )
    assert result.warnings == []
    assert _ledger_matches(item)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": "0"}, "more than zero"),
        ({"quantity": "-5"}, "more than zero"),
        ({"quantity": "abc"}, "as a number"),
        ({"expiry": date(2026, 6, 1)}, "expired on 2026-06-01"),
    ],
)
def test_bad_receipts_change_nothing(nurse_user, resident, kwargs, message):
    with pytest.raises(DomainError, match=message):
        _receive(nurse_user, resident, MedicationFactory(), **kwargs)
    assert not StockMovement.objects.exists()


def test_soon_expiring_lot_and_discontinued_order_are_flagged(nurse_user, resident):
    med = MedicationFactory()
    PrescriptionFactory(resident=resident, medication=med, status="discontinued")
    result = _receive(nurse_user, resident, med, expiry=date(2026, 6, 20))
    assert any("expires soon" in w for w in result.warnings)
    assert any("discontinued" in w for w in result.warnings)


def test_receiving_for_another_facilitys_resident_is_refused(nurse_user, other_facility):
    stranger = ResidentFactory(facility=other_facility)
    with pytest.raises(DomainError, match="resident of this facility"):
        services.stock_receive(
            actor=nurse_user,
            facility=nurse_user.memberships.get().facility,
            resident=stranger,
            medication=MedicationFactory(),
            quantity=5,
            now=NOW,
        )


def test_giving_a_dose_moves_stock_and_an_error_amendment_reverses_it(
    nurse_user, resident, facility
):
    order = PrescriptionFactory(resident=resident)
    _receive(nurse_user, resident, order.medication, quantity="10")
    mar_services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.filter(prescription=order).order_by("due_at").first()
    result = mar_services.administration_record(
        actor=nurse_user, dose=dose, status="given", idempotency_key=uuid.uuid4(), now=NOW
    )
    item = StockItem.objects.get()
    assert item.on_hand == Decimal("9")
    movement = item.movements.get(kind=MovementKind.ADMINISTERED)
    assert movement.administration_id == result.administration.pk
    other_nurse = member(facility, Role.NURSE)
    mar_services.amendment_create(
        actor=other_nurse,
        administration=result.administration,
        kind="entered_in_error",
        reason="Wrong resident",
        changes={},
    )
    item.refresh_from_db()
    assert item.on_hand == Decimal("10")
    assert item.movements.filter(kind=MovementKind.AMENDMENT_REVERSAL).count() == 1
    assert _ledger_matches(item)


def test_no_stock_means_only_not_available(nurse_user, resident):
    order = PrescriptionFactory(resident=resident)
    _receive(nurse_user, resident, order.medication, quantity="1")
    mar_services.doses_generate(now=NOW - timedelta(hours=5))
    first, second = ScheduledDose.objects.filter(prescription=order).order_by("due_at")[:2]
    mar_services.administration_record(
        actor=nurse_user,
        dose=first,
        status="given",
        idempotency_key=uuid.uuid4(),
        now=first.due_at,
        late_reason="x",
    )
    with pytest.raises(services.NoStock, match="not available"):
        mar_services.administration_record(
            actor=nurse_user,
            dose=second,
            status="given",
            idempotency_key=uuid.uuid4(),
            now=second.due_at,
        )
    assert Administration.objects.count() == 1
    recorded = mar_services.administration_record(
        actor=nurse_user,
        dose=second,
        status="not_available",
        reason="Pharmacy delivery late",
        idempotency_key=uuid.uuid4(),
        now=second.due_at,
    )
    assert recorded.created
    assert StockItem.objects.get().on_hand == 0


def test_waste_needs_a_real_other_witness(nurse_user, resident, facility):
    med = MedicationFactory(controlled_schedule="II")
    item = _receive(nurse_user, resident, med, quantity="10", lot="C1").movement.item
    witness = member(facility, Role.MED_TECH)
    kwargs = {
        "actor": nurse_user,
        "item": item,
        "quantity": "0.5",
        "reason": "Half tablet",
        "now": NOW,
    }
    with pytest.raises(DomainError, match="another staff member"):
        services.stock_waste(
            **kwargs, witness_username=nurse_user.username, witness_secret=PASSWORD
        )
    with pytest.raises(DomainError, match="not right"):
        services.stock_waste(**kwargs, witness_username=witness.username, witness_secret="nope")
    with pytest.raises(DomainError, match="not right"):
        services.stock_waste(**kwargs, witness_username="nobody", witness_secret=PASSWORD)
    movement = services.stock_waste(
        **kwargs, witness_username=witness.username, witness_secret=PASSWORD
    )
    assert movement.witness == witness and movement.balance_after == Decimal("9.5")
    with pytest.raises(DomainError, match="Only 9.5"):
        services.stock_destroy(
            actor=nurse_user,
            item=item,
            quantity="20",
            reason="Expired",
            now=NOW,
            witness_username=witness.username,
            witness_secret=PASSWORD,
        )
    assert _ledger_matches(item)


def test_controlled_receipt_needs_a_lot(nurse_user, resident):
    with pytest.raises(DomainError, match="lot number"):
        _receive(nurse_user, resident, MedicationFactory(controlled_schedule="II"))


def test_the_database_keeps_the_ledger_append_only_and_never_negative(nurse_user, resident):
    item = _receive(nurse_user, resident, MedicationFactory()).movement.item
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stockmovement SET quantity = 99")
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_stockmovement")
    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(pk=item.pk).update(on_hand=-1)


def _controlled_setup(facility, unit, nurse):
    resident = ResidentFactory(facility=facility, unit=unit)
    oxy = MedicationFactory(name="Oxycodone", controlled_schedule="II")
    item = _receive(nurse, resident, oxy, quantity="20", lot="OX1").movement.item
    return resident, item


def test_shift_count_with_two_signatures_that_matches(facility, unit, nurse_user):
    _, item = _controlled_setup(facility, unit, nurse_user)
    incoming = member(facility, Role.MED_TECH)
    count = services.controlled_count_record(
        actor=nurse_user,
        unit=unit,
        incoming_username=incoming.username,
        incoming_secret=PASSWORD,
        counted={item.pk: "20"},
        now=NOW,
    )
    assert not count.has_discrepancy
    assert (count.outgoing_by, count.incoming_by) == (nurse_user, incoming)
    assert not Alert.objects.filter(kind=AlertKind.COUNT_DISCREPANCY).exists()


def test_count_finding_one_missing_raises_a_discrepancy_alert_with_the_movements(
    facility, unit, nurse_user
):
    resident, item = _controlled_setup(facility, unit, nurse_user)
    incoming = member(facility, Role.MED_TECH, first_name="Ivy", last_name="Ng")
    services.controlled_count_record(
        actor=nurse_user,
        unit=unit,
        incoming_username=incoming.username,
        incoming_secret=PASSWORD,
        counted={item.pk: "20"},
        now=NOW,
    )
    witness = member(facility, Role.MED_TECH)
    services.stock_waste(
        actor=nurse_user,
        item=item,
        quantity="1",
        reason="Dropped",
        now=NOW + timedelta(hours=1),
        witness_username=witness.username,
        witness_secret=PASSWORD,
    )
    count = services.controlled_count_record(
        actor=nurse_user,
        unit=unit,
        incoming_username=incoming.username,
        incoming_secret=PASSWORD,
        counted={item.pk: "18"},
        now=NOW + timedelta(hours=8),
    )
    assert count.has_discrepancy
    alert = Alert.objects.get(kind=AlertKind.COUNT_DISCREPANCY)
    assert "ledger 19, counted 18" in alert.message
    assert "wasted -1" in alert.message
    assert "received" not in alert.message  # before the last matching count
    item.refresh_from_db()
    assert item.on_hand == Decimal("19")  # a count is a discrepancy, not a silent adjustment


@pytest.mark.parametrize(
    ("incoming", "counted", "message"),
    [
        ("self", {"item": "20"}, "must be someone else"),
        ("wrong-password", {"item": "20"}, "not right"),
        ("ok", {}, "every item must be counted"),
        ("ok", {"item": "-1"}, "cannot be negative"),
        ("ok", {"item": "many"}, "enter a number"),
        ("ok", {"item": "20", "foreign": "3"}, "not in this unit"),
    ],
)
def test_bad_counts_change_nothing(
    facility, unit, nurse_user, other_facility, incoming, counted, message
):
    _, item = _controlled_setup(facility, unit, nurse_user)
    foreign = StockItem.objects.create(
        facility=other_facility,
        resident=ResidentFactory(facility=other_facility),
        medication=item.medication,
        reorder_days=7,
    )
    other = member(facility, Role.MED_TECH)
    username, secret = {
        "self": (nurse_user.username, PASSWORD),
        "wrong-password": (other.username, "nope"),
        "ok": (other.username, PASSWORD),
    }[incoming]
    ids = {"item": item.pk, "foreign": foreign.pk}
    with pytest.raises(DomainError, match=message):
        services.controlled_count_record(
            actor=nurse_user,
            unit=unit,
            incoming_username=username,
            incoming_secret=secret,
            counted={ids[k]: v for k, v in counted.items()},
            now=NOW,
        )
    assert not ControlledCount.objects.exists()


def test_fifty_concurrent_given_doses_leave_the_exact_balance(transactional_db):
    resident = ResidentFactory()
    facility = resident.facility
    nurse = member(facility, Role.NURSE)
    order = PrescriptionFactory(resident=resident)
    services.stock_receive(
        actor=nurse,
        facility=facility,
        resident=resident,
        medication=order.medication,
        quantity="60",
        now=NOW,
    )
    # Fifty orders of the one medication (doses of one order given together would be refused by
    # its minimum spacing), all taken from the same supply at the same moment.
    orders = [order] + [
        PrescriptionFactory(resident=resident, medication=order.medication) for _ in range(49)
    ]
    doses = ScheduledDose.objects.bulk_create(
        ScheduledDose(
            facility=facility,
            prescription=each,
            resident=resident,
            due_at=NOW + timedelta(seconds=i),
            window_opens_at=NOW - timedelta(hours=1),
            window_closes_at=NOW + timedelta(hours=1),
        )
        for i, each in enumerate(orders)
    )
    barrier, errors = threading.Barrier(50), []

    def give(dose):
        try:
            barrier.wait()
            mar_services.administration_record(
                actor=nurse, dose=dose, status="given", idempotency_key=uuid.uuid4(), now=NOW
            )
        except Exception as error:  # collected and asserted below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=give, args=(dose,)) for dose in doses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    item = StockItem.objects.get()
    assert item.on_hand == Decimal("10")
    assert item.movements.filter(kind=MovementKind.ADMINISTERED).count() == 50
    assert _ledger_matches(item)
    balances = sorted(item.movements.values_list("balance_after", flat=True))
    assert balances == sorted(set(balances))  # every movement saw its own balance


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["receive", "give", "waste", "amend", "count", "adjust"]),
        st.integers(min_value=-2, max_value=12),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_ledger_sum_equals_on_hand_after_any_sequence(db, operations):
    resident = ResidentFactory()
    facility = resident.facility
    unit = resident.unit
    nurse, other = member(facility, Role.NURSE), member(facility, Role.NURSE)
    order = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(controlled_schedule="IV")
    )
    item = StockItem.objects.create(
        facility=facility, resident=resident, medication=order.medication, reorder_days=7
    )
    given_records, moment = [], NOW
    for step, (operation, amount) in enumerate(operations):
        moment += timedelta(minutes=10)
        try:
            if operation == "receive":
                services.stock_receive(
                    actor=nurse,
                    facility=facility,
                    resident=resident,
                    medication=order.medication,
                    quantity=amount,
                    lot="LOT",
                    now=moment,
                )
            elif operation == "give":
                dose = ScheduledDose.objects.create(
                    facility=facility,
                    prescription=order,
                    resident=resident,
                    due_at=moment,
                    window_opens_at=moment,
                    window_closes_at=moment + timedelta(hours=1),
                )
                result = mar_services.administration_record(
                    actor=nurse,
                    dose=dose,
                    status="given",
                    idempotency_key=uuid.uuid4(),
                    now=moment,
                    witness_username=other.username,
                    witness_secret=PASSWORD,
                )
                given_records.append(result.administration)
            elif operation == "waste":
                services.stock_waste(
                    actor=nurse,
                    item=item,
                    quantity=amount,
                    reason="waste",
                    now=moment,
                    witness_username=other.username,
                    witness_secret=PASSWORD,
                )
            elif operation == "amend" and given_records:
                mar_services.amendment_create(
                    actor=other,
                    administration=given_records.pop(),
                    kind="entered_in_error",
                    reason="test",
                    changes={},
                )
            elif operation == "count":
                item.refresh_from_db()
                services.controlled_count_record(
                    actor=nurse,
                    unit=unit,
                    incoming_username=other.username,
                    incoming_secret=PASSWORD,
                    counted={item.pk: item.on_hand + (amount % 2)},
                    now=moment,
                )
            elif operation == "adjust":
                services.stock_adjust(
                    actor=nurse,
                    item=item,
                    counted=amount,
                    reason="recount",
                    now=moment,
                    witness_username=other.username,
                    witness_secret=PASSWORD,
                )
        except DomainError:
            pass  # a refused step changes nothing; the invariant must still hold
        assert _ledger_matches(item), f"after step {step}: {operation} {amount}"
        assert item.on_hand >= 0

"""Processing a stored pharmacy message, and a nurse's decisions on what it became."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from core.errors import DomainError
from inventory.models import MovementKind, StockItem
from mar.models import ScheduledDose
from mar.services import doses_generate
from meds import services as order_services
from meds.models import OrderSource, OrderStatus, Prescription
from meds.selectors import medication_for_ndc
from pharmacy import services
from pharmacy.models import (
    Decision,
    DispenseReceipt,
    InboundMessage,
    MessageState,
    PatientLink,
    PendingOrder,
    PharmacyInterface,
)
from pharmacy.receiving import frame_receive
from tests.factories import MedicationFactory, PrescriptionFactory, member
from tests.pharmacy_support import catalog, interface_for, link, no_known_allergies, rde, rds


@pytest.fixture
def maple(facility, resident):
    interface = interface_for(facility)
    link(interface, no_known_allergies(resident))
    return interface


@pytest.fixture
def metoprolol(db):
    return catalog()


def _received(text: str) -> InboundMessage:
    answer = frame_receive(text.encode())
    return InboundMessage.objects.get(pk=answer.message_id)


def _pending(text: str) -> PendingOrder:
    message = _received(text)
    assert services.message_process(message_id=message.pk) == MessageState.PROCESSED
    return PendingOrder.objects.get(message=message)


def test_medication_for_ndc_compares_every_printed_form_as_11_digits(db):
    four_four_two = MedicationFactory(ndc="0378-0018-01")
    five_three_two = MedicationFactory(ndc="68180-513-01")
    five_four_one = MedicationFactory(ndc="12345-6789-1")

    assert medication_for_ndc("00378001801") == four_four_two
    assert medication_for_ndc("68180051301") == five_three_two
    assert medication_for_ndc("12345-6789-01") == five_four_one
    assert medication_for_ndc("00378001802") is None
    # Ten bare digits read every way they can be printed: here only one names an entry.
    assert medication_for_ndc("0378001801") == four_four_two
    assert medication_for_ndc("") is None


def test_accepting_a_new_order_enters_it_for_verification_with_its_message_id(
    maple, metoprolol, resident, nurse_user, facility
):
    pending = _pending(rde("NEW-1"))

    accepted = services.pending_order_accept(actor=nurse_user, pending=pending)

    order = accepted.created_order
    assert accepted.status == Decision.ACCEPTED and accepted.decided_by == nurse_user
    assert (order.status, order.source, order.source_message_id) == (
        OrderStatus.PENDING,
        OrderSource.PHARMACY,
        "NEW-1",
    )
    assert (order.medication, order.dose_amount, order.route) == (metoprolol, 1, "oral")
    assert [t.strftime("%H:%M") for t in order.times] == ["08:00", "20:00"]
    assert order.prescriber == "Dr John Smith"
    assert not ScheduledDose.objects.filter(prescription=order).exists()

    second_nurse = member(facility, Role.NURSE, username="nurse2")
    order_services.prescription_verify(actor=second_nurse, prescription=order)
    doses_generate(now=timezone.make_aware(datetime.datetime(2026, 12, 5, 6, 0)))
    assert ScheduledDose.objects.filter(prescription=order).exists()


def test_a_pending_order_is_decided_once(maple, metoprolol, nurse_user, admin_user):
    pending = _pending(rde("ONCE-1"))
    services.pending_order_accept(actor=nurse_user, pending=pending)

    with pytest.raises(DomainError, match="already accepted"):
        services.pending_order_reject(actor=admin_user, pending=pending, reason="Duplicate")
    assert Prescription.objects.count() == 1


def test_an_unknown_ndc_cannot_be_accepted_until_a_medication_is_chosen(
    maple, nurse_user, resident
):
    pending = _pending(rde("NDC-1", ndc="99999999999"))

    with pytest.raises(DomainError) as refused:
        services.pending_order_accept(actor=nurse_user, pending=pending)
    assert refused.value.field == "medication"
    assert not Prescription.objects.exists()

    chosen = MedicationFactory(name="Chosen drug")
    accepted = services.pending_order_accept(actor=nurse_user, pending=pending, medication=chosen)
    assert accepted.created_order.medication == chosen


def test_rejecting_needs_a_reason_and_records_it(maple, metoprolol, nurse_user):
    pending = _pending(rde("REJ-1"))

    with pytest.raises(DomainError) as refused:
        services.pending_order_reject(actor=nurse_user, pending=pending, reason="  ")
    assert refused.value.field == "reason"

    rejected = services.pending_order_reject(
        actor=nurse_user, pending=pending, reason="Physician called: not to start"
    )
    assert (rejected.status, rejected.reason) == ("rejected", "Physician called: not to start")
    assert not Prescription.objects.exists()


def test_a_change_discontinues_the_current_order_and_enters_the_new_linked(
    maple, metoprolol, nurse_user
):
    first = services.pending_order_accept(actor=nurse_user, pending=_pending(rde("A1")))
    change = _pending(rde("A2", control="XO", amount="2"))

    services.pending_order_accept(actor=nurse_user, pending=change)

    old = Prescription.objects.get(pk=first.created_order_id)
    new = Prescription.objects.get(replaces=old)
    assert old.status == OrderStatus.DISCONTINUED
    assert (new.dose_amount, new.status, new.source_message_id) == (2, "pending", "A2")


def test_discontinue_hold_and_release_go_through_the_order_services(
    maple, metoprolol, resident, nurse_user
):
    order = PrescriptionFactory(resident=resident, medication=metoprolol, entered_by=nurse_user)

    services.pending_order_accept(actor=nurse_user, pending=_pending(rde("H1", control="HD")))
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    services.pending_order_accept(actor=nurse_user, pending=_pending(rde("R1", control="RL")))
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVE
    services.pending_order_accept(actor=nurse_user, pending=_pending(rde("D1", control="DC")))
    order.refresh_from_db()
    assert order.status == OrderStatus.DISCONTINUED
    assert "pharmacy" in order.status_changes.first().reason


def test_a_discontinue_without_a_matching_order_asks_which_one(
    maple, metoprolol, resident, nurse_user
):
    pending = _pending(rde("D2", control="DC", ndc="99999999999"))
    assert pending.target is None

    with pytest.raises(DomainError) as refused:
        services.pending_order_accept(actor=nurse_user, pending=pending)
    assert refused.value.field == "target"

    order = PrescriptionFactory(resident=resident, medication=metoprolol, entered_by=nurse_user)
    services.pending_order_accept(actor=nurse_user, pending=pending, target=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.DISCONTINUED


def test_a_med_tech_cannot_decide(maple, metoprolol, medtech_user):
    pending = _pending(rde("MT1"))

    with pytest.raises(DomainError, match="Only nurses and administrators"):
        services.pending_order_accept(actor=medtech_user, pending=pending)


def test_a_dispense_prefills_a_receipt_that_is_received_into_stock(
    maple, metoprolol, resident, nurse_user
):
    message = _received(rds("RDS-1", quantity="60", lot="LOT42", expiry="20281231"))
    services.message_process(message_id=message.pk)
    receipt = DispenseReceipt.objects.get()
    assert (receipt.medication, receipt.quantity, receipt.lot) == (metoprolol, 60, "LOT42")
    assert receipt.expiry == datetime.date(2028, 12, 31)

    result = services.receipt_confirm(
        actor=nurse_user,
        receipt=receipt,
        medication=metoprolol,
        quantity=Decimal("60"),
        lot="LOT42",
        expiry=datetime.date(2028, 12, 31),
        rx_number="RXF100",
    )

    item = StockItem.objects.get(resident=resident, medication=metoprolol)
    assert (result.movement.kind, result.movement.lot, item.on_hand) == (
        MovementKind.RECEIVED,
        "LOT42",
        60,
    )
    receipt.refresh_from_db()
    assert (receipt.state, receipt.stock_item) == ("received", item)
    with pytest.raises(DomainError, match="already received"):
        services.receipt_confirm(
            actor=nurse_user, receipt=receipt, medication=metoprolol, quantity=Decimal("1")
        )


def test_an_expired_dispense_is_refused_by_stock_receive_and_stays_pending(
    maple, metoprolol, nurse_user
):
    services.message_process(message_id=_received(rds("RDS-2", expiry="20200101")).pk)
    receipt = DispenseReceipt.objects.get()

    with pytest.raises(DomainError, match="expired"):
        services.receipt_confirm(
            actor=nurse_user,
            receipt=receipt,
            medication=metoprolol,
            quantity=Decimal("60"),
            expiry=datetime.date(2020, 1, 1),
        )
    receipt.refresh_from_db()
    assert receipt.state == "pending"


def test_the_sweep_processes_what_was_acknowledged_and_nothing_twice(maple, metoprolol):
    for number in range(3):
        _received(rde(f"SW{number}", order=f"F{number}"))

    assert services.messages_process_received() == 3
    assert services.messages_process_received() == 0
    assert PendingOrder.objects.count() == 3
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {"processed"}


def test_matching_refuses_a_patient_already_matched_to_another_resident(
    maple, facility, resident, nurse_user
):
    from tests.factories import ResidentFactory

    other = ResidentFactory(facility=facility, unit=resident.unit)
    with pytest.raises(DomainError, match="already matched"):
        services.patient_match(
            actor=nurse_user, facility=facility, pharmacy_patient_id="RX1001", resident=other
        )
    assert PatientLink.objects.get().resident == resident


def test_a_resident_of_another_facility_cannot_be_matched(
    maple, facility, other_facility, nurse_user
):
    from tests.factories import ResidentFactory

    services.message_process(message_id=_received(rde("X1", patient="RX77")).pk)
    stranger = ResidentFactory(facility=other_facility)

    with pytest.raises(DomainError, match="this facility"):
        services.patient_match(
            actor=nurse_user, facility=facility, pharmacy_patient_id="RX77", resident=stranger
        )


def test_the_interface_settings_refuse_a_sender_another_facility_has(
    facility, other_facility, admin_user, outsider_user
):
    services.interface_save(
        actor=admin_user,
        facility=facility,
        sending_application="MAPLE_RX",
        sending_facility="MAPLE_GROVE",
        enabled=True,
    )

    with pytest.raises(DomainError) as refused:
        services.interface_save(
            actor=outsider_user,
            facility=other_facility,
            sending_application="MAPLE_RX",
            sending_facility="MAPLE_GROVE",
            enabled=True,
        )
    assert refused.value.field == "sending_application"
    with pytest.raises(DomainError) as refused:
        services.interface_save(
            actor=admin_user,
            facility=facility,
            sending_application="MAPLE|RX",
            sending_facility="MAPLE_GROVE",
            enabled=True,
        )
    assert refused.value.field == "sending_application"
    with pytest.raises(DomainError) as refused:
        services.interface_save(
            actor=admin_user,
            facility=facility,
            sending_application="MAPLE_RX",
            sending_facility="MAPLE_GROVE",
            enabled=True,
            pharmacy_host="10.0.0.5",
        )
    assert refused.value.field == "pharmacy_port"
    assert PharmacyInterface.objects.count() == 1


def test_a_switched_off_interface_refuses_its_messages(maple):
    maple.enabled = False
    maple.save()

    answer = frame_receive(rde("OFF1").encode())

    assert answer.code == "AR"
    assert "switched off" in answer.ack

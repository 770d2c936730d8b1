"""The nurse's pharmacy pages: the inbox, an order beside the resident's orders, matching a
patient, receiving a delivery, and the administrator's interface settings."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.errors import DomainError
from meds.models import Prescription
from pharmacy import services
from pharmacy.models import InboundMessage, PendingOrder, PharmacyInterface
from pharmacy.receiving import frame_receive
from tests.factories import PrescriptionFactory, ResidentFactory
from tests.pharmacy_support import catalog, interface_for, link, no_known_allergies, rde, rds


@pytest.fixture
def maple(facility, resident):
    interface = interface_for(facility)
    link(interface, no_known_allergies(resident))
    return interface


def _process(text: str) -> InboundMessage:
    message = InboundMessage.objects.get(pk=frame_receive(text.encode()).message_id)
    services.message_process(message_id=message.pk)
    message.refresh_from_db()
    return message


def _add_orders(count: int, start: int, facility, unit) -> None:
    for number in range(start, start + count):
        resident = ResidentFactory(facility=facility, unit=unit)
        link(PharmacyInterface.objects.get(facility=facility), resident, patient=f"P{number}")
        _process(rde(f"Q{number}", patient=f"P{number}", order=f"F{number}"))


def test_the_inbox_lists_pending_orders_in_constant_queries(nurse_client, maple, facility, unit):
    catalog()
    url = reverse("pharmacy_inbox")
    _add_orders(5, 0, facility, unit)
    _process(rde("W1", patient="NEW-PATIENT", name="Lovelace^Ada"))
    _process(rds("D1"))

    def measure() -> tuple[int, str]:
        nurse_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = nurse_client.get(url)
        assert response.status_code == 200
        return len(captured), response.content.decode()

    small, page = measure()
    assert page.count("Review</a>") == 5
    assert "Lovelace, Ada" in page and "Match the resident" in page
    assert "Deliveries on their way" in page
    _add_orders(20, 5, facility, unit)
    _process(rde("W2", patient="OTHER-NEW", name="Curie^Marie"))
    large, page = measure()
    assert page.count("Review</a>") == 25
    assert small == large


def test_the_order_page_shows_the_resident_orders_and_what_would_change(
    nurse_client, maple, resident, nurse_user
):
    metoprolol = catalog()
    current = PrescriptionFactory(resident=resident, medication=metoprolol, entered_by=nurse_user)
    _process(rde("XO9", control="XO", amount="2"))
    pending = PendingOrder.objects.get()

    page = nurse_client.get(reverse("pharmacy_order", args=[pending.pk])).content.decode()

    assert "current orders" in page
    assert f"{current.medication}" in page
    assert "Stops Metoprolol tartrate" in page and "Adds Metoprolol tartrate" in page
    assert "2 tablets by mouth" in page


def test_rejecting_without_a_reason_is_refused_beside_the_field(nurse_client, maple):
    catalog()
    _process(rde("R9"))
    pending = PendingOrder.objects.get()
    url = reverse("pharmacy_order", args=[pending.pk])

    response = nurse_client.post(url, {"decision": "reject", "reason": ""})

    assert response.status_code == 200
    assert "Give the reason for rejecting it." in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_accepting_goes_to_the_new_order_which_says_it_came_from_the_pharmacy(nurse_client, maple):
    catalog()
    _process(rde("ACC9"))
    pending = PendingOrder.objects.get()

    response = nurse_client.post(
        reverse("pharmacy_order", args=[pending.pk]), {"decision": "accept"}, follow=True
    )

    order = Prescription.objects.get()
    assert response.redirect_chain[-1][0] == reverse("order_detail", args=[order.pk])
    page = response.content.decode()
    assert "Sent by the pharmacy (message ACC9)" in page
    assert "waits for a nurse" in page


def test_an_unknown_ndc_asks_for_the_medication_beside_the_field(nurse_client, maple):
    _process(rde("N9", ndc="99999999999", drug="Mystery 5 mg"))
    pending = PendingOrder.objects.get()
    url = reverse("pharmacy_order", args=[pending.pk])

    assert "is not in the catalog" in nurse_client.get(url).content.decode()
    response = nurse_client.post(url, {"decision": "accept"})

    assert response.status_code == 200
    assert "choose the medication" in response.content.decode()
    assert not Prescription.objects.exists()


def test_matching_a_patient_processes_the_waiting_messages(nurse_client, maple, facility, unit):
    catalog()
    message = _process(rde("M9", patient="RX-NEW", name="Hopper^Grace", birth="19361209"))
    other = no_known_allergies(ResidentFactory(facility=facility, unit=unit))
    url = reverse("pharmacy_match", args=[message.pk])

    page = nurse_client.get(url).content.decode()
    assert "Hopper, Grace" in page and "1936-12-09" in page
    response = nurse_client.post(url, {"resident": other.pk})

    assert response.status_code == 302
    assert PendingOrder.objects.get().resident == other


def test_receiving_a_delivery_prefills_and_receives(nurse_client, maple, resident):
    metoprolol = catalog()
    _process(rds("D9", quantity="30", lot="L-9"))
    receipt = services.DispenseReceipt.objects.get()
    url = reverse("pharmacy_receipt", args=[receipt.pk])

    page = nurse_client.get(url).content.decode()
    assert 'value="L-9"' in page and 'value="30' in page
    response = nurse_client.post(
        url,
        {
            "decision": "receive",
            "medication": metoprolol.pk,
            "quantity": "30",
            "lot": "L-9",
            "expiry": "2028-12-31",
            "rx_number": "RX1",
        },
    )

    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.state == "received" and receipt.stock_item.on_hand == 30


def test_the_interface_page_saves_and_refuses_beside_the_field(admin_client, facility):
    url = reverse("pharmacy_interface")

    refused = admin_client.post(
        url,
        {"sending_application": "MAPLE_RX", "sending_facility": "MG", "pharmacy_host": "rx.local"},
    )
    saved = admin_client.post(
        url,
        {"sending_application": "MAPLE_RX", "sending_facility": "MG", "enabled": "on"},
    )

    assert refused.status_code == 200
    assert "Give both the host and the port" in refused.content.decode()
    assert saved.status_code == 302
    interface = PharmacyInterface.objects.get(facility=facility)
    assert (interface.sending_application, interface.enabled) == ("MAPLE_RX", True)


def test_a_med_tech_finds_the_delivery_and_receives_it_but_not_one_typed_by_hand(
    medtech_client, medtech_user, maple, resident
):
    from inventory.services import stock_receive

    metoprolol = catalog()
    _process(rds("D10", quantity="28", lot="L-10"))
    receipt = services.DispenseReceipt.objects.get()
    listed = medtech_client.get(reverse("pharmacy_deliveries")).content.decode()
    url = reverse("pharmacy_receipt", args=[receipt.pk])
    assert url in listed
    stock = medtech_client.get(reverse("stock_list")).content.decode()
    assert reverse("pharmacy_deliveries") in stock

    response = medtech_client.post(
        url,
        {
            "decision": "receive",
            "medication": metoprolol.pk,
            "quantity": "28",
            "lot": "L-10",
            "expiry": "2028-12-31",
            "rx_number": "RX2",
        },
    )

    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.state == "received" and receipt.decided_by == medtech_user
    assert receipt.stock_item.on_hand == 28
    # A delivery nobody announced is still received by a nurse or an administrator.
    with pytest.raises(DomainError, match="cannot change stock"):
        stock_receive(
            actor=medtech_user,
            facility=resident.facility,
            resident=resident,
            medication=metoprolol,
            quantity=5,
        )
    assert medtech_client.get(reverse("stock_receive")).status_code == 403

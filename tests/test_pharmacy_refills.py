"""Refill requests: one click on the reorder list, sent as RDE^O25 over MLLP to a test pharmacy
(python-hl7's asyncio server, on a free port), its answer recorded; a dispense delivers it."""

import asyncio
import socket
import threading
from decimal import Decimal

import hl7
import pytest
from django.urls import reverse
from hl7.mllp import start_hl7_server

from core.errors import DomainError
from inventory.models import StockItem
from pharmacy import refills, services
from pharmacy.models import InboundMessage, RefillRequest, RefillState
from pharmacy.receiving import frame_receive
from tests import seams
from tests.pharmacy_support import catalog, interface_for, link, no_known_allergies, rds


class PharmacySystem:
    """A pharmacy system answering each message with `code` (and `reason`), remembering them."""

    def __init__(self, code="AA", reason=""):
        self.code, self.reason = code, reason
        self.received: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0

    async def _answer(self, reader, writer):
        try:
            while True:
                message = await reader.readmessage()
                self.received.append(str(message))
                control_id = str(message.segment("MSH")[10])
                ack = (
                    "MSH|^~\\&|MAPLE_RX|MAPLE_GROVE|MEDTECH_EMAR|MG|20261204120000||ACK^O25^ACK|"
                    f"A{len(self.received)}|P|2.5.1\rMSA|{self.code}|{control_id}|{self.reason}\r"
                )
                writer.writemessage(hl7.parse(ack))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()

    def __enter__(self):
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(
                start_hl7_server(self._answer, "127.0.0.1", 0, encoding="utf-8")
            )
            self.server = server
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(10)
        return self

    def __exit__(self, *exc):
        async def stop():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def queued_refills():
    seams.REFILLS_QUEUED.clear()
    yield seams.REFILLS_QUEUED
    seams.REFILLS_QUEUED.clear()


@pytest.fixture
def supply(facility, resident):
    return StockItem.objects.create(
        facility=facility, resident=resident, medication=catalog(), reorder_days=7
    )


def _interface(facility, resident, port):
    interface = interface_for(facility, pharmacy_host="127.0.0.1", pharmacy_port=port)
    link(interface, no_known_allergies(resident))
    return interface


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_a_refill_is_sent_and_acknowledged_then_delivered_by_the_dispense(
    facility, resident, supply, nurse_user, queued_refills
):
    with PharmacySystem("AA") as pharmacy:
        _interface(facility, resident, pharmacy.port)
        refill = refills.refill_request(actor=nurse_user, item=supply)
        assert queued_refills == [refill.pk]
        supply.refresh_from_db()
        assert supply.ordered_at is not None  # marked ordered, as by hand

        assert refills.refill_send(refill_id=refill.pk) == RefillState.ACKNOWLEDGED

    sent = hl7.parse(pharmacy.received[0])
    assert str(sent.segment("MSH")[9]) == "RDE^O25^RDE_O25"
    assert str(sent.segment("MSH")[10]) == refill.control_id
    assert str(sent.segment("PID")[3]).startswith("RX1001")
    assert str(sent.segment("ORC")[1]) == "RF"
    assert str(sent.segment("RXE")[2]).startswith("00378001801")
    refill.refresh_from_db()
    assert (refill.state, refill.attempts) == ("acknowledged", 1)

    message = InboundMessage.objects.get(pk=frame_receive(rds("DEL1").encode()).message_id)
    services.message_process(message_id=message.pk)
    refill.refresh_from_db()
    assert refill.state == RefillState.DELIVERED


@pytest.mark.django_db(transaction=True)
def test_a_rejection_is_recorded_with_the_pharmacy_reason(
    facility, resident, supply, nurse_user, queued_refills
):
    with PharmacySystem("AE", reason="No refills left on this prescription") as pharmacy:
        _interface(facility, resident, pharmacy.port)
        refill = refills.refill_request(actor=nurse_user, item=supply)

        assert refills.refill_send(refill_id=refill.pk) == RefillState.REJECTED

    refill.refresh_from_db()
    assert refill.reason == "No refills left on this prescription"


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_pharmacy_leaves_the_request_queued_for_a_retry(
    facility, resident, supply, nurse_user, queued_refills
):
    _interface(facility, resident, _free_port())  # nothing listens there
    refill = refills.refill_request(actor=nurse_user, item=supply)

    with pytest.raises(refills.PharmacyUnreachable):
        refills.refill_send(refill_id=refill.pk)
    assert refills.refills_send_queued() == 0

    refill.refresh_from_db()
    assert (refill.state, refill.attempts) == ("queued", 2)


def test_one_open_request_per_supply_and_none_without_an_interface(
    facility, resident, supply, nurse_user, queued_refills
):
    with pytest.raises(DomainError, match="order by hand"):
        refills.refill_request(actor=nurse_user, item=supply)

    _interface(facility, resident, 2999)
    refills.refill_request(actor=nurse_user, item=supply)
    with pytest.raises(DomainError, match="already requested"):
        refills.refill_request(actor=nurse_user, item=supply)
    assert RefillRequest.objects.count() == 1


def test_the_reorder_list_offers_the_refill_and_shows_its_state(
    nurse_client, facility, resident, supply, nurse_user, queued_refills
):
    supply.on_hand = Decimal("0")
    supply.save()
    url = reverse("reorder_list")
    _interface(facility, resident, 2999)
    from tests.factories import PrescriptionFactory

    PrescriptionFactory(resident=resident, medication=supply.medication, entered_by=nurse_user)
    page = nurse_client.get(url).content.decode()
    assert "Request refill" in page

    response = nurse_client.post(reverse("refill_request", args=[supply.pk]), follow=True)

    page = response.content.decode()
    assert "Refill: queued" in page
    assert "Request refill" not in page
    item_page = nurse_client.get(reverse("stock_item", args=[supply.pk])).content.decode()
    assert "Refill requested from the pharmacy" in item_page and "Queued" in item_page


def test_without_an_interface_the_reorder_list_is_the_manual_one(
    nurse_client, resident, supply, nurse_user
):
    from tests.factories import PrescriptionFactory

    PrescriptionFactory(resident=resident, medication=supply.medication, entered_by=nurse_user)

    page = nurse_client.get(reverse("reorder_list")).content.decode()

    assert "Request refill" not in page and "Mark ordered" in page

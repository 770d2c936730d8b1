"""What the pharmacy tests share: real-world-shaped HL7 v2 messages, the listener on a free port
(in a thread of the test process, with its own event loop), and the interface of a facility."""

import asyncio
import threading

import pytest

from pharmacy.listener import Listener
from pharmacy.models import PatientLink, PharmacyInterface
from residents.models import AllergyStatus
from tests.factories import MedicationFactory

SENDER = ("MAPLE_RX", "MAPLE_GROVE")
METOPROLOL_NDC = "00378001801"  # 0378-0018-01 as printed (4-4-2)
LISINOPRIL_NDC = "68180051301"  # 68180-513-01 (5-3-2)


def rde(
    control_id: str,
    *,
    control: str = "NW",
    patient: str = "RX1001",
    name: str = "Byron^Ada",
    birth: str = "19400215",
    order: str = "F100",
    ndc: str = METOPROLOL_NDC,
    drug: str = "Metoprolol tartrate 25 mg tablet",
    amount: str = "1",
    unit: str = "TAB^tablet",
    pattern: str = "BID",
    times: str = "0800~2000",
    start: str = "20261205",
    route: str = "PO^oral^HL70162",
    prescriber: str = "1234^Smith^John^^^Dr",
    sig: str = "Take with food",
    sender: tuple[str, str] = SENDER,
    charset: str = "UNICODE UTF-8",
    separator: str = "\r",
) -> str:
    """An RDE^O11 as a long-term-care pharmacy system sends it (HL7 2.5.1)."""
    segments = [
        f"MSH|^~\\&|{sender[0]}|{sender[1]}|MEDTECH_EMAR|FACILITY|20261204120000||"
        f"RDE^O11^RDE_O11|{control_id}|P|2.5.1||||||{charset}",
        f"PID|1||{patient}^^^{sender[0]}^MR||{name}||{birth}|F",
        f"ORC|{control}|P{order}|{order}||||||20261204115500|||{prescriber}",
        f"TQ1|1||{pattern}|{times}|||{start}",
        f"RXE|^1^{pattern}|{ndc}^{drug}^NDC|{amount}||{unit}|TAB|^{sig}||||60|TAB|||RX{order}",
        f"RXR|{route}",
    ]
    return separator.join(segments) + separator


def rds(
    control_id: str,
    *,
    patient: str = "RX1001",
    order: str = "F100",
    ndc: str = METOPROLOL_NDC,
    quantity: str = "60",
    lot: str = "LOT42",
    expiry: str = "20281231",
    sender: tuple[str, str] = SENDER,
) -> str:
    """An RDS^O13: the pharmacy dispensed the order (a delivery on its way)."""
    segments = [
        f"MSH|^~\\&|{sender[0]}|{sender[1]}|MEDTECH_EMAR|FACILITY|20261204130000||"
        f"RDS^O13^RDS_O13|{control_id}|P|2.5.1||||||UNICODE UTF-8",
        f"PID|1||{patient}^^^{sender[0]}^MR||Byron^Ada||19400215|F",
        f"ORC|RE|P{order}|{order}",
        f"RXD|1|{ndc}^Metoprolol tartrate 25 mg tablet^NDC|20261204|{quantity}|TAB||RX{order}"
        f"|||||||||||{lot}|{expiry}",
    ]
    return "\r".join(segments) + "\r"


def interface_for(facility, *, sender=SENDER, **fields) -> PharmacyInterface:
    return PharmacyInterface.objects.create(
        facility=facility, sending_application=sender[0], sending_facility=sender[1], **fields
    )


def link(interface, resident, patient="RX1001") -> PatientLink:
    from django.utils import timezone

    return PatientLink.objects.create(
        interface=interface,
        pharmacy_patient_id=patient,
        resident=resident,
        linked_at=timezone.now(),
    )


def catalog():
    """Metoprolol with its NDC as printed (4-4-2), so RXE's 11 digits must be normalised."""
    return MedicationFactory(
        name="Metoprolol tartrate", strength="25 mg", form="tablet", ndc="0378-0018-01"
    )


def no_known_allergies(resident):
    resident.allergy_status = AllergyStatus.NKDA
    resident.save(update_fields=["allergy_status"])
    return resident


@pytest.fixture
def queued_pharmacy_messages():
    """The messages a worker was asked to process after their ACK (tests/seams.py)."""
    from tests import seams

    seams.PHARMACY_MESSAGES_QUEUED.clear()
    yield seams.PHARMACY_MESSAGES_QUEUED
    seams.PHARMACY_MESSAGES_QUEUED.clear()


@pytest.fixture
def listener(transactional_db):
    """`manage.py hl7_listen`'s listener on a free port of 127.0.0.1, served by a thread of the
    test process with its own event loop; stopped (and its database connections closed) after."""
    server = Listener("127.0.0.1", 0)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as error:  # surfaced by the fixture below
            failure.append(error)
            started.set()
            return
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="hl7-listener", daemon=True)
    thread.start()
    assert started.wait(10) and not failure, failure
    yield server
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()

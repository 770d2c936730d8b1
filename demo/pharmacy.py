"""The demo's pharmacy interface: Maple Grove's pharmacy sends as MAPLE_RX / MAPLE_GROVE, and three
of its residents are known to it by id (MG-RX-0001 … 0003, in the order they were admitted), so a
test message sent with `mllp_send` (README, "The pharmacy interface") reaches the inbox at once;
any other patient id waits in the "match the resident" queue. Idempotent."""

from accounts.models import Facility, User
from pharmacy import services as pharmacy_services
from pharmacy.models import PharmacyInterface
from residents.models import Resident, ResidentStatus

from .build import MAPLE

SENDING_APPLICATION = "MAPLE_RX"
SENDING_FACILITY = "MAPLE_GROVE"
PATIENT_IDS = ("MG-RX-0001", "MG-RX-0002", "MG-RX-0003")


def seed_pharmacy(facilities: dict[str, Facility], staff: dict[str, User]) -> int:
    """Set Maple Grove's interface (when it has none) and its patient ids; returns how many
    residents are linked."""
    maple = facilities.get(MAPLE)
    if maple is None or "admin" not in staff:
        return 0
    interface = PharmacyInterface.objects.filter(facility=maple).first()
    if interface is None:
        interface = pharmacy_services.interface_save(
            actor=staff["admin"],
            facility=maple,
            sending_application=SENDING_APPLICATION,
            sending_facility=SENDING_FACILITY,
            enabled=True,
        )
    residents = Resident.objects.filter(facility=maple, status=ResidentStatus.ACTIVE).order_by(
        "pk"
    )[: len(PATIENT_IDS)]
    for patient_id, resident in zip(PATIENT_IDS, residents, strict=False):
        pharmacy_services.patient_link_add(
            interface=interface,
            pharmacy_patient_id=patient_id,
            resident=resident,
            actor=staff["admin"],
        )
    return interface.patient_links.count()

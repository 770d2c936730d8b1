"""The demo facility as it stands today: homes, staff, residents, their orders and supplies.

Each step fills in only what is missing, so `seed_demo` can run again without adding twice.
Residents, orders and stock are drawn from seeded random generators: the demo is the same
every time it is built.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Certification, CertificationKind, Facility, Membership, Role, Unit, User
from core.shifts import shift_at
from demo.catalog import HIGH_ALERT, MEDICATIONS, PRN, SCHEDULED
from demo.people import (
    ALLERGENS,
    CEDAR,
    FIRST,
    LAST,
    MAPLE,
    PHARMACIES,
    PHYSICIANS,
    PREFERRED,
    STAFF,
)
from inventory import services as stock_services
from inventory.models import MovementKind, StockMovement
from meds import services as order_services
from meds.models import Medication, Prescription, PrescriptionStatusChange
from residents import services as resident_services
from residents.models import (
    AllergyStatus,
    Cart,
    CodeStatus,
    Resident,
    ResidentStatus,
    ResidentStatusChange,
    ShiftAssignment,
)

# How long the demo's orders have been running: the history goes back no further.
RUNNING_DAYS = 35
# Orders left waiting for a nurse's verification, per home (the README says so).
PENDING_ORDERS = {MAPLE: 2, CEDAR: 1}


def nurse_of(facility: Facility, staff: dict[str, User]) -> User:
    """The nurse who receives deliveries and signs for the home's supplies."""
    return staff["nurse"] if facility.name == MAPLE else staff["cedarnurse"]


def ensure_facilities() -> dict[str, Facility]:
    """Maple Grove (two wings, New York time) and Cedar House (one house, Chicago time, PRN
    doses approved by a nurse)."""
    maple, _ = Facility.objects.get_or_create(name=MAPLE, defaults={"timezone": "America/New_York"})
    cedar, _ = Facility.objects.get_or_create(
        name=CEDAR,
        defaults={"timezone": "America/Chicago", "prn_requires_nurse_approval": True},
    )
    for name in ("North Wing", "South Wing"):
        Unit.objects.get_or_create(facility=maple, name=name)
    Unit.objects.get_or_create(facility=cedar, name="House")
    return {MAPLE: maple, CEDAR: cedar}


def ensure_staff(facilities: dict[str, Facility], password: str) -> dict[str, User]:
    """The demo logins (all with the demo password), their memberships and certifications:
    one med tech's medication-aide certificate runs out in ten days."""
    today = timezone.now().date()
    staff = {}
    for username, first, last, title, role, where, aide_days in STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "title": title},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        for name in where:
            Membership.objects.get_or_create(
                user=user, facility=facilities[name], defaults={"role": role}
            )
        _certify(user, role, aide_days, today)
        staff[username] = user
    return staff


def _certify(user: User, role: str, aide_days: int | None, today: date) -> None:
    """Medication aide and CPR for med techs, a license for nurses; once."""
    if aide_days is not None and not user.certifications.exists():
        Certification.objects.create(
            user=user,
            kind=CertificationKind.MEDICATION_AIDE,
            number=f"MA-{user.pk:05d}",
            issued=today - timedelta(days=700),
            expires=today + timedelta(days=aide_days),
        )
        Certification.objects.create(
            user=user,
            kind=CertificationKind.CPR,
            issued=today - timedelta(days=200),
            expires=today + timedelta(days=530),
        )
    if role == Role.NURSE and not user.certifications.exists():
        Certification.objects.create(
            user=user,
            kind=CertificationKind.NURSE_LICENSE,
            number=f"RN-{user.pk:06d}",
            issued=today - timedelta(days=2000),
            expires=today + timedelta(days=600),
        )


def admit_residents(facilities: dict[str, Facility], staff: dict[str, User]) -> int:
    """40 residents in Maple Grove and 6 in Cedar House, admitted through the services, with
    allergies recorded, NKDA, or not recorded yet; one Maple Grove resident is on leave."""
    rng = random.Random(20261125)
    created = 0
    for facility_name, count, admin in ((MAPLE, 40, "admin"), (CEDAR, 6, "cedaradmin")):
        facility = facilities[facility_name]
        if Resident.objects.filter(facility=facility).exists():
            continue
        units = list(Unit.objects.filter(facility=facility).order_by("name"))
        actor = staff[admin]
        offset = 0 if facility_name == MAPLE else 40
        today = facility.local_today()
        for index in range(count):
            resident = _admit(rng, facility, today, units, actor, index, offset)
            _record_allergies(actor, resident, index)
            created += 1
        if facility_name == MAPLE:
            on_leave = Resident.objects.filter(facility=facility).order_by("pk")[7]
            resident_services.resident_change_status(
                actor=actor,
                resident=on_leave,
                to_status=ResidentStatus.LOA,
                reason="Weekend with family",
            )
    return created


def _admit(
    rng, facility: Facility, today: date, units: list[Unit], actor: User, index: int, offset: int
):
    """One resident: name, room, physician and pharmacy by turn; age and code status at random."""
    first = FIRST[(index + offset) % len(FIRST)]
    unit = units[index % len(units)]
    physician, phone = PHYSICIANS[index % len(PHYSICIANS)]
    born = date(today.year - rng.randint(68, 97), rng.randint(1, 12), rng.randint(1, 28))
    return resident_services.resident_admit(
        actor=actor,
        facility=facility,
        unit=unit,
        room=f"{unit.name[0]}{100 + index // len(units) + 1}",
        first_name=first,
        last_name=LAST[(index * 7 + offset) % len(LAST)],
        preferred_name=PREFERRED.get(first, ""),
        date_of_birth=born,
        code_status=rng.choice(
            [CodeStatus.FULL_CODE, CodeStatus.DNR, CodeStatus.DNR_CC, CodeStatus.POLST]
        ),
        physician_name=physician,
        physician_phone=phone,
        pharmacy=PHARMACIES[index % len(PHARMACIES)],
        admission_date=today - timedelta(days=rng.randint(40, 2000)),
    )


def _record_allergies(actor: User, resident: Resident, index: int) -> None:
    """Two in five have an allergy, two in five none known (NKDA), one in five not recorded yet,
    as happens right after an admission."""
    roll = index % 5
    if roll in (0, 3):
        substance, reaction, severity = ALLERGENS[index % len(ALLERGENS)]
        resident_services.allergy_add(
            actor=actor,
            resident=resident,
            substance=substance,
            reaction=reaction,
            severity=severity,
        )
    elif roll in (1, 2):
        resident_services.resident_mark_nkda(actor=actor, resident=resident)


def add_medications() -> None:
    """The medication catalog (demo/catalog.py), with the NDCs and barcodes of its packages."""
    for row in MEDICATIONS:
        name, generic, strength, form, route, controlled, psych, critical, ndc, barcode = row
        # Its own entries, beside whatever `import_ndc` brought (the same product from many
        # labelers): those carry a product NDC.
        Medication.objects.get_or_create(
            name=name,
            strength=strength,
            form=form,
            product_ndc=None,
            defaults={
                "generic_name": generic,
                "default_route": route,
                "controlled_schedule": controlled,
                "is_psychotropic": psych,
                "is_time_critical": critical,
                "high_alert": HIGH_ALERT.get(name, ""),
                "ndc": ndc,
                "barcode": barcode,
            },
        )


def write_orders(facilities: dict[str, Facility], staff: dict[str, User]) -> int:
    """3–12 verified orders per resident (a few PRN, some with hold parameters), a few left in
    the nurses' verification queues, all running for the last five weeks."""
    rng = random.Random(4242)
    catalog = {m.name: m for m in Medication.objects.filter(product_ndc__isnull=True)}
    count = 0
    residents = Resident.objects.filter(facility__in=facilities.values()).order_by("pk")
    for resident in residents.prefetch_related("allergies"):
        if Prescription.objects.filter(resident=resident).exists():
            continue
        writer = staff["nurse2"] if resident.facility.name == MAPLE else staff["cedaradmin"]
        count += _write_regimen(rng, catalog, resident, writer)
    _verify_all_but_a_few(staff)
    _backdate_orders()
    return count


def _write_regimen(rng, catalog: dict[str, Medication], resident: Resident, writer: User) -> int:
    """2–9 scheduled orders (none the resident is allergic to) and 1–3 PRN orders."""
    allergic_to = {a.substance.lower() for a in resident.allergies.all()}
    override = (
        "Admission orders reconciled with the hospital discharge list"
        if resident.allergy_status == AllergyStatus.NOT_RECORDED
        else ""
    )
    scheduled = rng.sample(SCHEDULED, rng.randint(2, 9))
    prns = rng.sample(PRN, rng.randint(1, 3))
    count = 0

    def prescribe(medication: Medication, amount: str, unit: str, **details) -> None:
        order_services.prescription_create(
            actor=writer,
            resident=resident,
            medication=medication,
            dose_amount=Decimal(amount),
            dose_unit=unit,
            route=medication.default_route,
            prescriber=resident.physician_name or "Dr. Rebecca Hayes",
            start_date=resident.admission_date,
            allergy_override_reason=override,
            **details,
        )

    for name, amount, unit, times, extra, hold in scheduled:
        medication = catalog[name]
        if {medication.name.lower(), medication.generic_name.lower()} & allergic_to:
            continue
        rules = [order_services.HoldRule(hold[0], hold[1], Decimal(hold[2]))] if hold else []
        prescribe(medication, amount, unit, times=times, hold_rules=rules, **extra)
        count += 1
    for name, amount, unit, indication, hours, most in prns:
        prescribe(
            catalog[name],
            amount,
            unit,
            is_prn=True,
            indication=indication,
            prn_min_hours=Decimal(hours),
            prn_max_per_24h=most,
        )
        count += 1
    return count


def _verify_all_but_a_few(staff: dict[str, User]) -> None:
    """Leave orders in the verification queues so the nurses have something to do: two at
    Maple Grove (where `nurse` works), one at Cedar House."""
    pending = Prescription.objects.filter(status="pending", verified_at__isnull=True)
    keep_pending = set()
    for name, count in PENDING_ORDERS.items():
        newest = pending.filter(facility__name=name).order_by("-pk")
        keep_pending.update(newest.values_list("pk", flat=True)[:count])
    for order in pending.exclude(pk__in=keep_pending).select_related("facility"):
        verifier = staff["nurse"] if order.facility.name == MAPLE else staff["cedarnurse"]
        order_services.prescription_verify(actor=verifier, prescription=order)


def _backdate_orders() -> None:
    """The demo's orders have been running for weeks: let the dose engine look back."""
    now = timezone.now()
    since = now - timedelta(days=RUNNING_DAYS)
    Prescription.objects.filter(status="active").update(active_since=since, verified_at=since)
    Resident.objects.filter(status=ResidentStatus.ACTIVE).update(present_since=since)
    # Entered, verified and admitted weeks ago too, as the record reads it: the shift running
    # when the demo was built did not see 300 new orders and 40 admissions (its shift report).
    Prescription.objects.filter(status="active", entered_at__gt=since).update(entered_at=since)
    PrescriptionStatusChange.objects.filter(
        prescription__status="active", to_status="active", changed_at__gt=since
    ).update(changed_at=since)
    ResidentStatusChange.objects.filter(from_status="", effective_at__gt=since).update(
        effective_at=since
    )


def deliver_todays_stock(
    facilities: dict[str, Facility], staff: dict[str, User], password: str
) -> int:
    """Today's delivery for every order: most for weeks, some running low (the reorder list).
    North Wing's controlled drugs were counted after it; South Wing's were never counted, so a
    count is due there. Skipped when a delivery came in the last two days."""
    now = timezone.now()
    if StockMovement.objects.filter(
        item__facility__in=facilities.values(),
        kind=MovementKind.RECEIVED,
        at__gte=now - timedelta(days=2),
    ).exists():
        return 0
    rng = random.Random(777)
    stocked = 0
    supplied: set[tuple[int, int]] = set()
    orders = Prescription.objects.filter(
        facility__in=facilities.values(), status="active"
    ).select_related("medication", "resident", "facility")
    for order in orders.order_by("pk"):
        if (order.resident_id, order.medication_id) in supplied:
            continue
        supplied.add((order.resident_id, order.medication_id))
        per_day = max(len(order.times), 1) * order.dose_amount
        days = rng.choice([3, 5, 14, 20, 25, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30])
        receive(
            rng,
            order,
            nurse_of(order.facility, staff),
            per_day * days,
            now=now,
            expires_in=(90, 600),
            at=now - timedelta(hours=5, minutes=30),
        )
        stocked += 1
    _count_north_wing(facilities[MAPLE], staff, password, now - timedelta(hours=5))
    return stocked


def receive(rng, order: Prescription, nurse: User, quantity, *, now, expires_in, at) -> None:
    """A pharmacy delivery of the order's medication for its resident: lot, expiry and Rx
    number at random, the expiry `expires_in` (a range of days) after `now`."""
    stock_services.stock_receive(
        actor=nurse,
        facility=order.facility,
        resident=order.resident,
        medication=order.medication,
        quantity=quantity,
        lot=f"L{rng.randint(10000, 99999)}",
        expiry=(now + timedelta(days=rng.randint(*expires_in))).date(),
        rx_number=f"RX{rng.randint(100000, 999999)}",
        now=at,
    )


def ensure_carts(facilities: dict[str, Facility], staff: dict[str, User]) -> None:
    """Maple Grove's med carts (two for North Wing, one for South Wing), and the first North
    Wing cart's residents given to `medtech` for the shift running now: "my residents" works from
    the first login. Carts are filled once; the shift's assignment is made when missing."""
    maple = facilities[MAPLE]
    for unit in Unit.objects.filter(facility=maple).order_by("name"):
        residents = list(Resident.objects.filter(unit=unit, cart__isnull=True).order_by("pk"))
        names = [f"{unit.name} cart 1", f"{unit.name} cart 2"]
        names = names if unit.name == "North Wing" else [f"{unit.name} cart"]
        half = -(-len(residents) // len(names))
        for index, name in enumerate(names):
            cart, _ = Cart.objects.get_or_create(facility=maple, name=name)
            Resident.objects.filter(
                pk__in=[r.pk for r in residents[index * half : (index + 1) * half]]
            ).update(cart=cart)
    shift = shift_at(timezone.now(), maple.shifts)
    if not ShiftAssignment.objects.filter(
        med_tech=staff["medtech"], shift_day=shift.day, shift_name=shift.name
    ).exists():
        resident_services.shift_assignment_set(
            actor=staff["nurse"],
            facility=maple,
            med_tech=staff["medtech"],
            shift=shift,
            residents=Resident.objects.filter(
                cart__name="North Wing cart 1", status=ResidentStatus.ACTIVE
            ),
        )


def _count_north_wing(maple: Facility, staff: dict[str, User], password: str, at) -> None:
    """The shift-change count of North Wing's controlled drugs, nurse to med tech."""
    for unit in Unit.objects.filter(facility=maple, name="North Wing"):
        items = list(stock_services.controlled_items_for_unit(unit=unit))
        if items:
            stock_services.controlled_count_record(
                actor=staff["nurse"],
                unit=unit,
                incoming_username="medtech",
                incoming_secret=password,
                counted={item.pk: item.on_hand for item in items},
                now=at,
            )

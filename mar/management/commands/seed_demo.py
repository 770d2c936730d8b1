"""Build the demo facilities, staff and residents. Safe to run again: fills in what is missing."""

import os
import random
from datetime import date, timedelta
from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Certification, CertificationKind, Facility, Membership, Role, Unit, User
from inventory import services as stock_services
from inventory.models import StockItem
from mar.services import alerts_raise_followups, doses_generate, doses_mark_overdue
from meds import services as order_services
from meds.models import Medication, Prescription
from residents import services as resident_services
from residents.models import AllergyStatus, CodeStatus, Resident, ResidentStatus

from ._demo_catalog import MEDICATIONS, PRN, SCHEDULED

MAPLE = "Maple Grove Assisted Living"
CEDAR = "Cedar House Group Home"

# username, first, last, title, role, facilities, medication-aide expiry in days (None: no cert)
STAFF = [
    ("admin", "Alex", "Morgan", "Administrator", Role.ADMIN, [MAPLE], None),
    ("nurse", "Nina", "Patel", "RN", Role.NURSE, [MAPLE], None),
    ("nurse2", "Omar", "Haddad", "LPN", Role.NURSE, [MAPLE], None),
    ("medtech", "Maria", "Lopez", "CMA", Role.MED_TECH, [MAPLE], 400),
    ("medtech3", "Jordan", "Lee", "CMA", Role.MED_TECH, [MAPLE], 10),
    ("medtech2", "Sam", "Okafor", "CMA", Role.MED_TECH, [CEDAR], 300),
    ("cedaradmin", "Chris", "Walker", "Administrator", Role.ADMIN, [CEDAR], None),
    ("cedarnurse", "Grace", "Kim", "RN", Role.NURSE, [CEDAR], None),
]

FIRST = [
    "Dorothy",
    "Harold",
    "Betty",
    "Walter",
    "Margaret",
    "Eugene",
    "Shirley",
    "Frank",
    "Ruth",
    "George",
    "Helen",
    "Arthur",
    "Joan",
    "Raymond",
    "Lois",
    "Donald",
    "Marjorie",
    "Kenneth",
    "Evelyn",
    "Richard",
    "Gloria",
    "Ronald",
    "Alice",
    "Howard",
    "Norma",
    "Ralph",
    "Irene",
    "Carl",
    "Virginia",
    "Earl",
    "Beatrice",
    "Lloyd",
    "Mildred",
    "Clarence",
    "Florence",
    "Vernon",
    "Edna",
    "Stanley",
    "Pearl",
    "Louis",
    "Hazel",
    "Leonard",
    "Doris",
    "Albert",
]
LAST = [
    "Abbott",
    "Bennett",
    "Carver",
    "Dawson",
    "Ellison",
    "Fletcher",
    "Garrison",
    "Holloway",
    "Ingram",
    "Jennings",
    "Keller",
    "Lawson",
    "Merritt",
    "Norwood",
    "Osborne",
    "Pruitt",
    "Quinn",
    "Ramsey",
    "Sutton",
    "Thornton",
    "Underwood",
    "Vaughn",
    "Whitaker",
    "Yates",
    "Zimmerman",
    "Ashford",
    "Blake",
    "Crawford",
    "Donovan",
    "Everett",
    "Fairbanks",
    "Gaines",
    "Hensley",
    "Irwin",
    "Jarvis",
    "Kimball",
    "Lyons",
    "Monroe",
    "Nash",
    "Oakley",
    "Parrish",
    "Redding",
    "Sinclair",
    "Talbot",
]
PREFERRED = {"Margaret": "Peggy", "Richard": "Dick", "Dorothy": "Dot", "Raymond": "Ray"}
ALLERGENS = [
    ("Penicillin", "hives", "moderate"),
    ("Sulfa drugs", "rash", "mild"),
    ("Codeine", "nausea and vomiting", "moderate"),
    ("Aspirin", "wheezing", "severe"),
    ("Latex", "contact dermatitis", "mild"),
    ("Lisinopril", "angioedema", "severe"),
]
PHYSICIANS = [
    ("Dr. Rebecca Hayes", "(555) 201-4410"),
    ("Dr. Samuel Ortiz", "(555) 201-7782"),
    ("Dr. Karen Liu", "(555) 388-1203"),
]
PHARMACIES = ["Riverside Long-Term Care Pharmacy", "Main Street Pharmacy"]


class Command(BaseCommand):
    help = "Create the demo facilities, staff and residents (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG=False (never in production)."
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates demo logins; it refuses with DEBUG=False.")
        password = settings.DEMO_PASSWORD or os.environ.get("DEMO_PASSWORD")
        if not password:
            raise CommandError("Set DEMO_PASSWORD to seed demo logins outside demo mode.")
        with transaction.atomic(), pghistory.context(command="seed_demo"):
            facilities = self._facilities()
            staff = self._staff(facilities, password)
            created = self._residents(facilities, staff)
            self._catalog()
            orders = self._orders(facilities, staff)
            stocked = self._stock(facilities, staff)
        doses = doses_generate()
        moved = doses_mark_overdue()
        alerts_raise_followups()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {len(facilities)} facilities, {len(staff)} staff, "
                f"{created} residents and {orders} orders added, {stocked} supplies stocked; "
                f"{doses} doses scheduled, "
                f"{moved['overdue']} overdue, {moved['missed']} missed."
            )
        )

    def _facilities(self) -> dict[str, Facility]:
        maple, _ = Facility.objects.get_or_create(
            name=MAPLE, defaults={"timezone": "America/New_York"}
        )
        cedar, _ = Facility.objects.get_or_create(
            name=CEDAR,
            defaults={"timezone": "America/Chicago", "prn_requires_nurse_approval": True},
        )
        for name in ("North Wing", "South Wing"):
            Unit.objects.get_or_create(facility=maple, name=name)
        Unit.objects.get_or_create(facility=cedar, name="House")
        return {MAPLE: maple, CEDAR: cedar}

    def _staff(self, facilities: dict[str, Facility], password: str) -> dict[str, User]:
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
            staff[username] = user
        return staff

    def _residents(self, facilities: dict[str, Facility], staff: dict[str, User]) -> int:
        rng = random.Random(20261125)
        created = 0
        for facility_name, count, admin in ((MAPLE, 40, "admin"), (CEDAR, 6, "cedaradmin")):
            facility = facilities[facility_name]
            if Resident.objects.filter(facility=facility).exists():
                continue
            units = list(Unit.objects.filter(facility=facility).order_by("name"))
            actor = staff[admin]
            offset = 0 if facility_name == MAPLE else 40
            today = timezone.now().astimezone(facility.tz).date()
            for index in range(count):
                first = FIRST[(index + offset) % len(FIRST)]
                last = LAST[(index * 7 + offset) % len(LAST)]
                unit = units[index % len(units)]
                physician, phone = PHYSICIANS[index % len(PHYSICIANS)]
                born = date(
                    today.year - rng.randint(68, 97), rng.randint(1, 12), rng.randint(1, 28)
                )
                resident = resident_services.resident_admit(
                    actor=actor,
                    facility=facility,
                    unit=unit,
                    room=f"{unit.name[0]}{100 + index // len(units) + 1}",
                    first_name=first,
                    last_name=last,
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
                # roll 4: allergies not recorded yet, as happens right after an admission.
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

    def _catalog(self) -> None:
        for name, generic, strength, form, route, controlled, psych, critical, ndc in MEDICATIONS:
            Medication.objects.get_or_create(
                name=name,
                strength=strength,
                form=form,
                defaults={
                    "generic_name": generic,
                    "default_route": route,
                    "controlled_schedule": controlled,
                    "is_psychotropic": psych,
                    "is_time_critical": critical,
                    "ndc": ndc,
                    "barcode": "3" + ndc.replace("-", ""),
                },
            )

    def _orders(self, facilities: dict[str, Facility], staff: dict[str, User]) -> int:
        """3–12 verified orders per resident (a few PRN, some with hold parameters)."""
        rng = random.Random(4242)
        catalog = {m.name: m for m in Medication.objects.all()}
        entered_by, verified_by = staff["nurse2"], staff["nurse"]
        cedar_nurse = staff["cedaradmin"]
        count = 0
        residents = Resident.objects.filter(facility__in=facilities.values()).order_by("pk")
        for resident in residents.prefetch_related("allergies"):
            if Prescription.objects.filter(resident=resident).exists():
                continue
            allergic_to = {a.substance.lower() for a in resident.allergies.all()}
            override = (
                "Admission orders reconciled with the hospital discharge list"
                if resident.allergy_status == AllergyStatus.NOT_RECORDED
                else ""
            )
            scheduled = rng.sample(SCHEDULED, rng.randint(2, 9))
            prns = rng.sample(PRN, rng.randint(1, 3))
            start = resident.admission_date
            writer = entered_by if resident.facility.name == MAPLE else cedar_nurse
            for name, amount, unit, times, extra, hold in scheduled:
                medication = catalog[name]
                if {medication.name.lower(), medication.generic_name.lower()} & allergic_to:
                    continue
                rules = (
                    [order_services.HoldRule(hold[0], hold[1], Decimal(hold[2]))] if hold else []
                )
                order_services.prescription_create(
                    actor=writer,
                    resident=resident,
                    medication=medication,
                    dose_amount=Decimal(amount),
                    dose_unit=unit,
                    route=medication.default_route,
                    prescriber=resident.physician_name or "Dr. Rebecca Hayes",
                    start_date=start,
                    times=times,
                    hold_rules=rules,
                    allergy_override_reason=override,
                    **extra,
                )
                count += 1
            for name, amount, unit, indication, hours, most in prns:
                medication = catalog[name]
                order_services.prescription_create(
                    actor=writer,
                    resident=resident,
                    medication=medication,
                    dose_amount=Decimal(amount),
                    dose_unit=unit,
                    route=medication.default_route,
                    prescriber=resident.physician_name or "Dr. Rebecca Hayes",
                    start_date=start,
                    is_prn=True,
                    indication=indication,
                    prn_min_hours=Decimal(hours),
                    prn_max_per_24h=most,
                    allergy_override_reason=override,
                )
                count += 1
        pending = Prescription.objects.filter(status="pending", verified_at__isnull=True)
        # Leave two orders in the verification queue so the nurse has something to do.
        keep_pending = set(pending.order_by("-pk").values_list("pk", flat=True)[:2])
        for order in pending.exclude(pk__in=keep_pending):
            verifier = verified_by if order.facility.name == MAPLE else staff["cedarnurse"]
            order_services.prescription_verify(actor=verifier, prescription=order)
        # The demo's orders have been running since admission: let the engine look back.
        now = timezone.now()
        Prescription.objects.filter(status="active").update(
            active_since=now - timedelta(days=35), verified_at=now - timedelta(days=35)
        )
        Resident.objects.filter(status=ResidentStatus.ACTIVE).update(
            present_since=now - timedelta(days=35)
        )
        return count

    def _stock(self, facilities: dict[str, Facility], staff: dict[str, User]) -> int:
        """A supply for every order: most for weeks, some running low (the reorder list), and
        controlled drugs counted once 14 hours ago in Maple Grove (so a count is due now)."""
        if StockItem.objects.filter(facility__in=facilities.values()).exists():
            return 0
        rng = random.Random(777)
        now = timezone.now()
        received_at = now - timedelta(days=2)
        stocked = 0
        orders = Prescription.objects.filter(
            facility__in=facilities.values(), status="active"
        ).select_related("medication", "resident", "facility")
        for order in orders.order_by("pk"):
            if StockItem.objects.filter(
                resident=order.resident, medication=order.medication
            ).exists():
                continue
            per_day = max(len(order.times), 1) * order.dose_amount
            days = rng.choice([3, 5, 14, 20, 25, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30])
            nurse = staff["nurse"] if order.facility.name == MAPLE else staff["cedarnurse"]
            stock_services.stock_receive(
                actor=nurse,
                facility=order.facility,
                resident=order.resident,
                medication=order.medication,
                quantity=per_day * days,
                lot=f"L{rng.randint(10000, 99999)}",
                expiry=(now + timedelta(days=rng.randint(90, 600))).date(),
                rx_number=f"RX{rng.randint(100000, 999999)}",
                now=received_at,
            )
            stocked += 1
        maple = facilities[MAPLE]
        for unit in Unit.objects.filter(facility=maple, name="North Wing"):
            items = list(stock_services.controlled_items_for_unit(unit=unit))
            if items:
                stock_services.controlled_count_record(
                    actor=staff["nurse"],
                    unit=unit,
                    incoming_username="medtech",
                    incoming_secret=settings.DEMO_PASSWORD or os.environ["DEMO_PASSWORD"],
                    counted={item.pk: item.on_hand for item in items},
                    now=now - timedelta(hours=14),
                )
        return stocked

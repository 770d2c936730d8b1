"""Build the demo facilities, staff and residents. Safe to run again: fills in what is missing."""

import os
import random
from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Certification, CertificationKind, Facility, Membership, Role, Unit, User
from residents import services as resident_services
from residents.models import CodeStatus, Resident, ResidentStatus

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
        with transaction.atomic():
            facilities = self._facilities()
            staff = self._staff(facilities, password)
            created = self._residents(facilities, staff)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {len(facilities)} facilities, {len(staff)} staff, "
                f"{created} residents added."
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

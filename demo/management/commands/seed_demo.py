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
from demo.catalog import MEDICATIONS, PRN, SCHEDULED
from inventory import services as stock_services
from inventory.models import MovementKind, StockMovement
from mar.models import DoseState, ScheduledDose
from mar.services import alerts_raise_followups, doses_generate, doses_mark_overdue
from meds import services as order_services
from meds.models import Medication, Prescription
from residents import services as resident_services
from residents.models import AllergyStatus, CodeStatus, Resident, ResidentStatus

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
        # The weeks before today first, then today's deliveries and count: the ledgers then read
        # in time order, as a paper count book would.
        self._history(facilities, staff)
        with transaction.atomic(), pghistory.context(command="seed_demo"):
            stocked = self._stock(facilities, staff)
        doses = doses_generate()
        doses_mark_overdue()
        alerts_raise_followups()
        overdue = ScheduledDose.objects.filter(state=DoseState.OVERDUE).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {len(facilities)} facilities, {len(staff)} staff, "
                f"{created} residents and {orders} orders added, {stocked} supplies stocked; "
                f"{doses} doses scheduled, "
                f"{overdue} doses overdue now."
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
            today = facility.local_today()
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
        """Today's delivery for every order: most for weeks, some running low (the reorder list).
        North Wing's controlled drugs were counted after it; South Wing's were never counted, so a
        count is due there. Skipped when a delivery came in the last two days."""
        now = timezone.now()
        received_at = now - timedelta(hours=5, minutes=30)
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
                    now=now - timedelta(hours=5),
                )
        return stocked

    def _history(self, facilities: dict[str, Facility], staff: dict[str, User]) -> None:
        """The last 35 days (DEMO_HISTORY_DAYS) of med passes, recorded through the services the
        pages use (each with `now=` set to its moment): mostly given on time by the shift's staff,
        with a few refusals (one order three times this week), holds on low vitals, late doses,
        doses nobody documented (missed), PRN doses with their follow-ups (a few not done) and
        one entry corrected as entered in error. Skipped once any administration exists."""
        import multiprocessing
        import sys
        import uuid
        from collections import Counter
        from datetime import UTC

        from django.db import connection, connections

        from core.errors import DomainError
        from mar import services as mar_services
        from mar.models import Administration, AdminStatus, DoseState, ScheduledDose
        from meds.models import Route

        # DEMO_HISTORY_DAYS=0 skips the history (a quicker seed for benchmarks and browser tests).
        days = int(os.environ.get("DEMO_HISTORY_DAYS", "35"))
        if days <= 0:
            return
        if Administration.objects.filter(facility__in=facilities.values()).exists():
            return
        secret = settings.DEMO_PASSWORD or os.environ["DEMO_PASSWORD"]
        rng = random.Random(3535)
        now = timezone.now()
        start = now - timedelta(days=days)
        # The doses the seed's own run made (the last hours) are left as that run left them.
        cutoff = now - mar_services.LOOKBACK
        by_pk = {facility.pk: facility for facility in facilities.values()}
        witness_of = {
            "medtech": "nurse",
            "medtech3": "nurse2",
            "nurse": "medtech",
            "nurse2": "medtech3",
            "medtech2": "cedarnurse",
            "cedarnurse": "medtech2",
        }
        late_reasons = [
            "Resident was at a medical appointment",
            "Resident in the shower; gave right after",
            "Fall in the hallway handled first",
            "Resident asleep; woke for breakfast",
            "Pharmacy delivery checked in first",
        ]
        refusal_reasons = [
            "Resident declined",
            "Says it upsets her stomach",
            "Refused; will offer again at the next pass",
            "Resident upset, refused after two attempts",
        ]
        prn_plan = {
            # medication: (chance per day, reasons)
            "Acetaminophen": (0.3, ["Knee pain 5 of 10", "Headache", "Back pain 4 of 10"]),
            "Oxycodone": (0.15, ["Hip pain 8 of 10", "Severe back pain 7 of 10"]),
            "Lorazepam": (0.08, ["Pacing and tearful, redirection did not help"]),
            "Senna": (0.12, ["No bowel movement in 2 days"]),
            "Ondansetron ODT": (0.06, ["Nauseated after breakfast", "Vomited once"]),
            "Magnesium hydroxide": (0.08, ["No bowel movement in 3 days"]),
        }

        def local(facility: Facility, moment):
            return moment.astimezone(facility.tz)

        def shift_staff(facility: Facility, moment, order) -> str:
            """Who is on the cart: med techs by day and evening shift, nurses at weekends and
            for what med techs may not give."""
            when = local(facility, moment)
            nurse_only = (
                order.route in Route.injections() and not facility.medtechs_may_give_injections
            ) or (
                order.medication.controlled_schedule == "II"
                and not facility.medtechs_may_give_schedule_ii
            )
            if facility.name == CEDAR:
                return "cedarnurse" if nurse_only else "medtech2"
            flip = when.toordinal() % 2
            if nurse_only or when.isoweekday() >= 6:
                return ("nurse", "nurse2")[flip ^ (when.hour >= 14)]
            return ("medtech", "medtech3")[flip ^ (when.hour >= 14)]

        # Every past dose, by the same generator the beat runs, one 2-day step at a time.
        moment = start
        while moment < cutoff:
            doses_generate(now=moment)
            moment += timedelta(days=2)
        orders = {
            order.pk: order
            for order in Prescription.objects.filter(facility__in=facilities.values())
            .select_related("medication", "resident")
            .prefetch_related("hold_parameters")
        }
        doses = list(
            ScheduledDose.objects.filter(
                facility__in=facilities.values(), due_at__lt=cutoff, state=DoseState.DUE
            ).order_by("due_at", "pk")
        )

        # The plan: (moment, sequence, kind, details), carried out in time order.
        events: list[tuple] = []
        consumed: Counter = Counter()  # (resident, medication) -> quantity given

        def add(moment, kind, **details):
            events.append((moment, len(events), kind, details))

        # One order refused three times this week: the refusal alert (notify the prescriber).
        maple = facilities[MAPLE]
        refused_order = next(
            o
            for o in sorted(orders.values(), key=lambda o: o.pk)
            if o.facility_id == maple.pk
            and o.status == "active"
            and not o.is_prn
            and len(o.times) == 1
            and o.recurrence == "daily"
            and not o.medication.is_controlled
            and not o.hold_parameters.all()
            and o.resident.status == ResidentStatus.ACTIVE
        )
        recent = [d for d in doses if d.prescription_id == refused_order.pk]
        recent = [d for d in recent if d.due_at >= now - timedelta(days=6, hours=12)]
        forced_refusals = {d.pk for d in recent[0:5:2]}
        # A handful nobody documented: missed, with their alerts.
        pool = [d.pk for d in doses if d.pk not in forced_refusals]
        last_days = [d.pk for d in doses if d.due_at >= now - timedelta(days=3)]
        missed = set(rng.sample(pool, min(5, len(pool))))
        missed |= set(rng.sample(last_days, min(2, len(last_days))))
        amended = next(
            (
                d.pk
                for d in doses
                if d.due_at >= now - timedelta(days=4)
                and d.facility_id == maple.pk
                and d.pk not in missed | forced_refusals
                and not orders[d.prescription_id].medication.is_controlled
                and not orders[d.prescription_id].hold_parameters.all()
                and orders[d.prescription_id].route not in Route.injections()
                and shift_staff(maple, d.due_at, orders[d.prescription_id]).startswith("medtech")
            ),
            None,
        )

        for dose in doses:
            if dose.pk in missed:
                continue
            order = orders[dose.prescription_id]
            facility = by_pk[dose.facility_id]
            actor = shift_staff(facility, dose.due_at, order)
            details = {"dose": dose, "actor": actor, "status": "given"}
            roll = rng.random()
            if dose.pk in forced_refusals or (roll < 0.012 and dose.pk != amended):
                details.update(status="refused", reason=rng.choice(refusal_reasons))
                at = dose.due_at + timedelta(minutes=rng.randint(-10, 25))
            elif roll < 0.027 and dose.pk != amended:
                details["late_reason"] = rng.choice(late_reasons)
                at = dose.window_closes_at + timedelta(minutes=rng.randint(10, 80))
            else:
                at = dose.due_at + timedelta(minutes=rng.randint(-20, 35))
                at = min(
                    max(at, dose.window_opens_at + timedelta(minutes=2)), dose.window_closes_at
                )
            vitals = {}
            holding = details["status"] == "given" and rng.random() < 0.05
            for rule in order.hold_parameters.all():
                below = rule.comparator in ("lt", "le")
                step = Decimal(rng.randint(3, 12) if holding else -rng.randint(8, 40))
                vitals[rule.vital] = str(rule.threshold - step if below else rule.threshold + step)
            if vitals:
                details["vitals"] = vitals
            if details["status"] == "given" and not (holding and vitals):
                consumed[(order.resident_id, order.medication_id)] += order.dose_amount
            if order.medication.is_controlled:
                details["witness"] = witness_of[actor]
            add(at, "dose", **details)
            if dose.pk == amended:
                add(at + timedelta(minutes=20), "amend", dose=dose)

        # PRN doses: a few a week per order, never closer than the order allows.
        for order in sorted(orders.values(), key=lambda o: o.pk):
            if not (order.is_prn and order.status == "active"):
                continue
            if order.resident.status != ResidentStatus.ACTIVE:
                continue
            chance, reasons = prn_plan.get(order.medication.name, (0.05, ["As needed"]))
            facility = by_pk[order.facility_id]
            last = None
            for day in range(days, 0, -1):
                if rng.random() >= chance:
                    continue
                when = local(facility, now - timedelta(days=day)).replace(
                    hour=rng.randint(8, 20), minute=rng.randint(0, 59), second=0, microsecond=0
                )
                at = when.astimezone(UTC)
                # One dose a day at most; a once-a-day maximum needs a full day between doses.
                hours = float(order.prn_min_hours) if order.prn_max_per_24h > 1 else 24
                spacing = timedelta(hours=max(hours, 0) + 1)
                if at <= start or at >= cutoff or (last and at < last + spacing):
                    continue
                last = at
                actor = shift_staff(facility, at, order)
                details = {"order": order, "actor": actor, "reason": rng.choice(reasons)}
                if order.medication.is_controlled:
                    details["witness"] = witness_of[actor]
                if facility.prn_requires_nurse_approval and "nurse" not in actor:
                    details["approver"] = "cedarnurse"
                key = len(events)
                add(at, "prn", key=key, **details)
                consumed[(order.resident_id, order.medication_id)] += order.dose_amount
                # Follow-ups: a few forgotten, and some of the last two days' still due.
                forget = rng.random() < (0.3 if at >= now - timedelta(days=2) else 0.06)
                if not forget:
                    result = rng.choices(
                        ["effective", "partly", "not_effective"], weights=[75, 18, 7]
                    )[0]
                    add(
                        at + timedelta(minutes=rng.randint(55, 110)),
                        "followup",
                        key=key,
                        actor=actor,
                        result=result,
                        resident_id=order.resident_id,
                    )

        def amend(record, dose, moment) -> None:
            """A nurse marks a med tech's entry in error and records what really happened."""
            mar_services.amendment_create(
                actor=staff["nurse"],
                administration=record,
                kind="entered_in_error",
                reason="Charted as given, but the resident had refused it",
                changes={},
                now=moment,
            )
            mar_services.administration_record(
                actor=staff["nurse"],
                dose=dose,
                status=AdminStatus.REFUSED,
                idempotency_key=uuid.uuid4(),
                reason="Resident refused (first entry was in error)",
                late_reason="Corrected after an entry in error",
                now=moment + timedelta(minutes=1),
            )

        def run(kind, moment, details, prn_records, counts):
            actor = staff[details.get("actor", "nurse")]
            if kind == "dose":
                result = mar_services.administration_record(
                    actor=actor,
                    dose=details["dose"],
                    status=details["status"],
                    idempotency_key=uuid.uuid4(),
                    reason=details.get("reason", ""),
                    late_reason=details.get("late_reason", ""),
                    vitals=details.get("vitals"),
                    witness_username=details.get("witness", ""),
                    witness_secret=secret if details.get("witness") else "",
                    now=moment,
                )
                counts[result.administration.status] += 1
            elif kind == "amend":
                record = Administration.objects.get(dose=details["dose"], voided=False)
                with transaction.atomic():
                    amend(record, details["dose"], moment)
                counts["amended"] += 1
            elif kind == "prn":
                witness, approver = details.get("witness", ""), details.get("approver", "")
                prn_records[details["key"]] = mar_services.prn_give(
                    actor=actor,
                    prescription=details["order"],
                    idempotency_key=uuid.uuid4(),
                    prn_reason=details["reason"],
                    witness_username=witness,
                    witness_secret=secret if witness else "",
                    approver_username=approver,
                    approver_secret=secret if approver else "",
                    now=moment,
                ).administration
                counts["prn"] += 1
            elif kind == "followup" and details["key"] in prn_records:
                mar_services.prn_followup_record(
                    actor=actor,
                    administration=prn_records[details["key"]],
                    result=details["result"],
                    now=moment,
                )
                counts["followup"] += 1

        def resident_of(details) -> int:
            if "dose" in details:
                return details["dose"].resident_id
            return details["order"].resident_id if "order" in details else details["resident_id"]

        # Lanes of residents, each in time order, run by worker processes side by side (a record
        # is mostly Python's work). Inside a caller's transaction (a test), one lane, in here.
        parallel = not connection.in_atomic_block and sys.platform == "linux"
        lanes: list[list] = [[] for _ in range(min(4, os.cpu_count() or 1))] if parallel else [[]]
        parallel = len(lanes) > 1
        by_resident: dict[int, list] = {}
        for event in sorted(events, key=lambda e: (e[0], e[1])):
            by_resident.setdefault(resident_of(event[3]), []).append(event)
        for resident_events in sorted(by_resident.values(), key=len, reverse=True):
            min(lanes, key=len).extend(resident_events)

        def work(lane: list, counts: Counter, failures: Counter) -> None:
            prn_records: dict = {}
            for moment, _, kind, details in sorted(lane, key=lambda e: (e[0], e[1])):
                try:
                    run(kind, moment, details, prn_records, counts)
                except DomainError as error:
                    failures[f"{kind}: {error}"[:160]] += 1

        def worker(index: int, results) -> None:
            counts, failures, error = Counter(), Counter(), ""
            try:
                with connection.cursor() as cursor:
                    # Demo data: no need to wait for each commit to reach the disk.
                    cursor.execute("SET synchronous_commit TO OFF")
                work(lanes[index], counts, failures)
            except BaseException as exc:  # reported by the parent
                error = f"{type(exc).__name__}: {exc}"
            finally:
                connection.close()
                results.put((counts, failures, error))

        # Witness and approver passwords are checked once each: the same person at the cart
        # thousands of times would otherwise cost a quarter second of password hashing a dose.
        check_password = User.check_password
        checked: dict = {}

        def remembered(user, raw_password):
            key = (user.pk, user.password, raw_password)
            if key not in checked:
                checked[key] = check_password(user, raw_password)
            return checked[key]

        counts: list[Counter] = [Counter() for _ in lanes]
        failures: Counter = Counter()
        User.check_password = remembered
        try:
            # What those weeks used, delivered before they began: the ledger runs in order.
            with transaction.atomic():
                for (resident_id, medication_id), quantity in sorted(consumed.items()):
                    order = next(
                        o
                        for o in orders.values()
                        if o.resident_id == resident_id and o.medication_id == medication_id
                    )
                    facility = by_pk[order.facility_id]
                    stock_services.stock_receive(
                        actor=staff["nurse"] if facility.name == MAPLE else staff["cedarnurse"],
                        facility=facility,
                        resident=order.resident,
                        medication=order.medication,
                        quantity=quantity,
                        lot=f"L{rng.randint(10000, 99999)}",
                        expiry=(now + timedelta(days=rng.randint(60, 400))).date(),
                        rx_number=f"RX{rng.randint(100000, 999999)}",
                        now=start - timedelta(days=1),
                    )
            if parallel:
                # Each worker opens its own connection; none may inherit this one's socket.
                for username in sorted({*witness_of.values(), "cedarnurse"}):
                    staff[username].check_password(secret)  # remembered by the workers
                connections.close_all()
                context = multiprocessing.get_context("fork")
                results = context.Queue()
                workers = [
                    context.Process(target=worker, args=(index, results))
                    for index in range(len(lanes))
                ]
                for process in workers:
                    process.start()
                outcomes = [results.get() for _ in workers]
                for process in workers:
                    process.join()
                for index, (lane_counts, lane_failures, error) in enumerate(outcomes):
                    counts[index].update(lane_counts)
                    failures.update(lane_failures)
                    if error:
                        raise CommandError(f"Demo history failed: {error}")
            else:
                work(lanes[0], counts[0], failures)
            # The clock's sweeps over those weeks, as the beat ran them: what nobody documented
            # went overdue, then missed.
            sweep = start + timedelta(hours=2)
            while sweep < now:
                doses_mark_overdue(now=sweep)
                sweep += timedelta(hours=2)
            doses_mark_overdue(now=now)
            # Follow-up, refusal and supply alerts are raised once, after today's deliveries.
        finally:
            User.check_password = check_password
        total = sum(counts, Counter())
        for message, times in failures.most_common(5):
            self.stderr.write(f"History: {times} × {message}")
        self.stdout.write(
            self.style.SUCCESS(
                f"History: {sum(total[s] for s in AdminStatus.values)} doses documented "
                f"({total['given']} given, {total['refused']} refused, {total['held']} held), "
                f"{total['prn']} PRN doses, {total['followup']} follow-ups, "
                f"{total['amended']} amendment; {len(missed)} left undocumented."
            )
        )

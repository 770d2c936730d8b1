"""The medication catalog and the orders (prescriptions) written against it."""

import datetime
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Upper

from accounts.models import Facility
from core.audit import track
from core.schedule import DoseSchedule, describe
from core.words import count_of
from residents.models import Resident
from vitals.models import HOLD_VITAL_CHOICES, VITAL_UNITS, VitalSign


class ControlledSchedule(models.TextChoices):
    NONE = "", "Not controlled"
    II = "II", "Schedule II"
    III = "III", "Schedule III"
    IV = "IV", "Schedule IV"
    V = "V", "Schedule V"


class Route(models.TextChoices):
    ORAL = "oral", "By mouth"
    SUBLINGUAL = "sublingual", "Under the tongue"
    TOPICAL = "topical", "Topical"
    TRANSDERMAL = "transdermal", "Transdermal patch"
    SUBCUTANEOUS = "subcutaneous", "Subcutaneous injection"
    INTRAMUSCULAR = "intramuscular", "Intramuscular injection"
    INHALED = "inhaled", "Inhaled"
    OPHTHALMIC = "ophthalmic", "Eye"
    OTIC = "otic", "Ear"
    NASAL = "nasal", "Nasal"
    RECTAL = "rectal", "Rectal"
    ENTERAL = "enteral", "Feeding tube"

    @classmethod
    def injections(cls) -> set[str]:
        return {cls.SUBCUTANEOUS, cls.INTRAMUSCULAR}


class Form(models.TextChoices):
    TABLET = "tablet", "Tablet"
    CAPSULE = "capsule", "Capsule"
    LIQUID = "liquid", "Liquid"
    PATCH = "patch", "Patch"
    INJECTION = "injection", "Injection"
    INHALER = "inhaler", "Inhaler"
    DROPS = "drops", "Drops"
    CREAM = "cream", "Cream / ointment"
    SUPPOSITORY = "suppository", "Suppository"
    POWDER = "powder", "Powder"
    SPRAY = "spray", "Spray"
    OTHER = "other", "Other"


# What one dose of a form is counted in: the order form's dose unit starts from it.
DOSE_UNITS = {
    Form.TABLET: "tablet",
    Form.CAPSULE: "capsule",
    Form.LIQUID: "mL",
    Form.PATCH: "patch",
    Form.INJECTION: "mL",
    Form.INHALER: "puff",
    Form.DROPS: "drop",
    Form.CREAM: "application",
    Form.SUPPOSITORY: "suppository",
    Form.POWDER: "g",
    Form.SPRAY: "spray",
    Form.OTHER: "dose",
}


def dose_unit_for(form: str) -> str:
    """The unit a dose of this form is usually counted in (tablet, mL, puff, patch, ...)."""
    return DOSE_UNITS.get(form, "dose")


class HighAlert(models.TextChoices):
    """ISMP's high-alert medication classes (long-term care list): a dose of one that is late or
    missed ranks first in the supervisors' inbox."""

    NONE = "", "Not high-alert"
    ANTICOAGULANT = "anticoagulant", "Anticoagulant"
    INSULIN = "insulin", "Insulin"
    OPIOID = "opioid", "Opioid"
    HYPOGLYCEMIC = "hypoglycemic", "Oral hypoglycemic"
    OTHER = "other", "Other high-alert medication"


@track(exclude=["search"])
class Medication(models.Model):
    """A catalog entry, shared by every facility: entered by hand, or a product of the FDA's
    NDC directory (`import_ndc`), which then carries its product NDC and the FDA's product id,
    its labeler and every package NDC (MedicationPackage)."""

    name = models.CharField(max_length=255)  # the proprietary name (the one on the label)
    generic_name = models.CharField(max_length=500, blank=True)  # the non-proprietary name
    strength = models.CharField(max_length=255, help_text="e.g. 10 mg, 500 mg/5 mL")
    form = models.CharField(max_length=16, choices=Form.choices)
    # The FDA's own dosage form name ("TABLET, FILM COATED, EXTENDED RELEASE"): `form` is its
    # family, this says what a nurse must not confuse (extended release or not).
    form_detail = models.CharField(max_length=120, blank=True)
    default_route = models.CharField(max_length=16, choices=Route.choices, default=Route.ORAL)
    controlled_schedule = models.CharField(
        max_length=3, choices=ControlledSchedule.choices, default="", blank=True
    )
    ndc = models.CharField("NDC", max_length=20, blank=True)
    barcode = models.CharField(max_length=64, blank=True)
    is_psychotropic = models.BooleanField(default=False)
    is_time_critical = models.BooleanField(default=False)
    high_alert = models.CharField(
        "High-alert class", max_length=16, choices=HighAlert.choices, default="", blank=True
    )
    labeler = models.CharField(max_length=200, blank=True)
    # The FDA NDC directory's product NDC (labeler-product, "0002-1200"): what `import_ndc`
    # finds the entry by on every release. NULL for an entry made by hand.
    product_ndc = models.CharField("Product NDC", max_length=12, null=True, blank=True, unique=True)
    # The directory's PRODUCTID (product NDC + the label's SPL document id, which changes with
    # each version of the label): kept to trace the row, never a key.
    fda_product_id = models.CharField("FDA product id", max_length=100, blank=True)
    # What the order form's search reads, kept by the database: names and strength, upper case,
    # in one column with one trigram index (migration 0007), so a word is one indexed LIKE.
    search = models.GeneratedField(
        expression=Upper(
            Concat("name", Value(" "), "generic_name", Value(" "), "strength"),
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["name", "strength"]
        constraints = [
            # Entered by hand, a product is its name, strength and form; the FDA's directory
            # lists the same ones from many labelers, told apart by their product id.
            models.UniqueConstraint(
                fields=["name", "strength", "form"],
                condition=models.Q(product_ndc__isnull=True),
                name="medication_unique_product",
            ),
        ]
        indexes = [
            # An NDC's first digits (LIKE '0378-46%'): the search; and the exact NDC lookup.
            models.Index(fields=["ndc"], name="medication_ndc", opclasses=["varchar_pattern_ops"]),
            models.Index(
                fields=["product_ndc"],
                name="medication_product_ndc_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.strength} {self.get_form_display().lower()}"

    @property
    def is_controlled(self) -> bool:
        return bool(self.controlled_schedule)

    @property
    def dose_unit(self) -> str:
        """What one dose is counted in: a new order's dose unit starts from it."""
        return dose_unit_for(self.form)

    @property
    def ranks_first(self) -> bool:
        """A late dose of it is urgent: time-critical or of a high-alert class."""
        return self.is_time_critical or bool(self.high_alert)


class MedicationPackage(models.Model):
    """One package of a catalog entry, by its NDC (the FDA directory lists one or more per
    product). `ndc11` is the canonical 11 digits (5-4-2) every NDC form compares as."""

    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="packages")
    ndc11 = models.CharField("NDC (11 digits)", max_length=11, unique=True)
    ndc = models.CharField("NDC as printed", max_length=14)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["ndc11"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ndc11__regex=r"^[0-9]{11}$"), name="package_ndc11_digits"
            ),
        ]
        indexes = [
            # A typed NDC's first digits find their packages (LIKE '00093%').
            models.Index(
                fields=["ndc11"], name="package_ndc11_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"NDC {self.ndc}"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending verification"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    DISCONTINUED = "discontinued", "Discontinued"


class OrderSource(models.TextChoices):
    TYPED = "typed", "Entered by staff"
    PHARMACY = "pharmacy", "Sent by the pharmacy"


class Recurrence(models.TextChoices):
    DAILY = "daily", "Every day"
    WEEKDAYS = "weekdays", "On chosen weekdays"
    EVERY_N_DAYS = "every_n_days", "Every N days"
    MONTH_DAYS = "month_days", "On chosen days of the month"


# The clinical content of an order. Once written it never changes (a database trigger refuses):
# a change is a discontinue plus a new, linked order.
CLINICAL_FIELDS = [
    "resident",
    "medication",
    "dose_amount",
    "dose_unit",
    "route",
    "instructions",
    "indication",
    "prescriber",
    "start_date",
    "stop_date",
    "is_prn",
    "times",
    "recurrence",
    "weekdays",
    "every_n_days",
    "month_days",
    "window_minutes",
    "prn_min_hours",
    "prn_max_per_24h",
    "min_dose_spacing_minutes",
]


@track()
class Prescription(models.Model):
    """A medication order for one resident. Produces doses only while active and verified."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="orders")
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="orders")
    dose_amount = models.DecimalField(max_digits=8, decimal_places=3)
    dose_unit = models.CharField(max_length=20, default="tablet")
    route = models.CharField(max_length=16, choices=Route.choices)
    instructions = models.CharField(max_length=300, blank=True)
    indication = models.CharField(max_length=200, blank=True)
    prescriber = models.CharField(max_length=120)
    start_date = models.DateField()
    stop_date = models.DateField(null=True, blank=True)
    is_prn = models.BooleanField("PRN (as needed)", default=False)
    times = ArrayField(models.TimeField(), default=list, blank=True)
    recurrence = models.CharField(
        max_length=16, choices=Recurrence.choices, default=Recurrence.DAILY
    )
    weekdays = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    every_n_days = models.PositiveSmallIntegerField(default=1)
    month_days = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    window_minutes = models.PositiveSmallIntegerField()
    prn_min_hours = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    prn_max_per_24h = models.PositiveSmallIntegerField(null=True, blank=True)
    # Two doses given closer than this are refused (mar.rules.min_dose_spacing); empty: half the
    # shortest gap between the order's dose times.
    min_dose_spacing_minutes = models.PositiveSmallIntegerField(null=True, blank=True)

    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    # Since when the order has been producing doses (verification or the last resume).
    active_since = models.DateTimeField(null=True, blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    allergy_override_reason = models.CharField(max_length=300, blank=True)
    # Where the order came from: typed by staff, or a pharmacy's message (its control id, MSH-10).
    source = models.CharField(max_length=10, choices=OrderSource.choices, default=OrderSource.TYPED)
    source_message_id = models.CharField("Pharmacy message id", max_length=199, blank=True)

    class Meta:
        ordering = ["medication__name", "pk"]
        indexes = [
            models.Index(fields=["status", "is_prn"], name="order_generation_idx"),
            models.Index(fields=["resident", "status"], name="order_resident_idx"),
        ]
        constraints = [
            # What a scheduled dose references (mar.ScheduledDose: one foreign key checks that
            # the dose's order exists and that its resident and facility are the order's).
            models.UniqueConstraint(
                fields=["id", "resident", "facility"], name="order_resident_facility_key"
            ),
            models.CheckConstraint(
                condition=models.Q(dose_amount__gt=0), name="order_dose_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(stop_date__isnull=True)
                | models.Q(stop_date__gte=models.F("start_date")),
                name="order_stop_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(is_prn=True) | ~models.Q(times=[]),
                name="order_scheduled_has_times",
            ),
            models.CheckConstraint(
                condition=models.Q(is_prn=False)
                | (models.Q(prn_min_hours__gt=0) & models.Q(prn_max_per_24h__gt=0)),
                name="order_prn_has_limits",
            ),
            models.CheckConstraint(
                condition=models.Q(window_minutes__gte=5, window_minutes__lte=240),
                name="order_window_range",
            ),
        ]
        triggers = [
            pgtrigger.ReadOnly(name="order_clinical_fields_read_only", fields=CLINICAL_FIELDS),
            pgtrigger.Protect(name="order_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.medication} — {self.dose_text}"

    @property
    def dose_text(self) -> str:
        return f"{count_of(self.dose_amount, self.dose_unit)} {self.get_route_display().lower()}"

    def dose_schedule(self) -> DoseSchedule | None:
        """The order's schedule for `core.schedule.occurrences`; None for a PRN order."""
        if self.is_prn:
            return None
        return build_dose_schedule(
            times=self.times,
            start_date=self.start_date,
            stop_date=self.stop_date,
            recurrence=self.recurrence,
            weekdays=self.weekdays,
            every_n_days=self.every_n_days,
            month_days=self.month_days,
        )

    @property
    def schedule_text(self) -> str:
        if self.is_prn:
            hours = self.prn_min_hours.normalize() if self.prn_min_hours else "?"
            return f"PRN every {hours:f} h, max {self.prn_max_per_24h} in 24 h"
        return describe(self.dose_schedule())

    @property
    def is_controlled(self) -> bool:
        return self.medication.is_controlled


def build_dose_schedule(
    *,
    times: list[datetime.time],
    start_date: datetime.date,
    stop_date: datetime.date | None,
    recurrence: str,
    weekdays: list[int],
    every_n_days: int,
    month_days: list[int],
) -> DoseSchedule:
    """An order's stored schedule columns as the pure DoseSchedule the engine expands."""
    return DoseSchedule(
        times=tuple(sorted(times)),
        start=start_date,
        end=stop_date,
        weekdays=frozenset(weekdays) if recurrence == Recurrence.WEEKDAYS else None,
        every_n_days=every_n_days if recurrence == Recurrence.EVERY_N_DAYS else 1,
        month_days=frozenset(month_days) if recurrence == Recurrence.MONTH_DAYS else None,
    )


class Comparator(models.TextChoices):
    LT = "lt", "below"
    LE = "le", "at or below"
    GT = "gt", "above"
    GE = "ge", "at or above"


@track()
class HoldParameter(models.Model):
    """Hold the dose if the vital sign compares so: e.g. hold if systolic BP below 100."""

    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="hold_parameters"
    )
    vital = models.CharField(max_length=16, choices=HOLD_VITAL_CHOICES)
    comparator = models.CharField(max_length=2, choices=Comparator.choices)
    threshold = models.DecimalField(max_digits=6, decimal_places=1)

    class Meta:
        ordering = ["vital"]
        triggers = [
            pgtrigger.ReadOnly(
                name="hold_parameter_read_only",
                fields=["prescription", "vital", "comparator", "threshold"],
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Hold if {self.get_vital_display()} {self.get_comparator_display()} "
            f"{self.threshold.normalize():f} {VITAL_UNITS[VitalSign(self.vital)]}"
        )

    def triggers_on(self, reading: Decimal) -> bool:
        return {
            Comparator.LT: reading < self.threshold,
            Comparator.LE: reading <= self.threshold,
            Comparator.GT: reading > self.threshold,
            Comparator.GE: reading >= self.threshold,
        }[Comparator(self.comparator)]


@track()
class PrescriptionStatusChange(models.Model):
    """Verification, hold, resume and discontinuation of an order, with who, when and why."""

    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        before = f"{self.get_from_status_display()} → " if self.from_status else ""
        return f"{self.prescription}: {before}{self.get_to_status_display()}"


class DatedHoldState(models.TextChoices):
    PENDING = "pending", "Waiting for a nurse to verify"
    VERIFIED = "verified", "Verified"
    CANCELLED = "cancelled", "Cancelled"


@track()
class DatedHold(models.Model):
    """Hold an active order's doses between two instants (e.g. before a procedure), then carry
    on by itself. Placed by anyone on the floor, it stops doses only once a nurse verifies it;
    the order itself stays active (its status is never touched)."""

    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="dated_holds"
    )
    starts_at = models.DateTimeField("Hold from")
    ends_at = models.DateTimeField("Hold until")
    reason = models.CharField(max_length=300)
    state = models.CharField(
        max_length=10, choices=DatedHoldState.choices, default=DatedHoldState.PENDING
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(
                fields=["prescription", "starts_at"],
                name="dated_hold_verified_idx",
                condition=models.Q(state="verified"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="dated_hold_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="verified")
                | models.Q(verified_by__isnull=False, verified_at__isnull=False),
                name="dated_hold_verified_by_whom",
            ),
        ]
        triggers = [
            pgtrigger.ReadOnly(
                name="dated_hold_facts_read_only",
                fields=["prescription", "starts_at", "ends_at", "reason", "placed_by"],
            ),
            pgtrigger.Protect(name="dated_hold_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"Hold {self.prescription.medication}: {self.reason}"

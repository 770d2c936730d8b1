"""The vital signs a resident is measured for, and every reading taken of them."""

from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.db import models

from accounts.models import Facility
from core.audit import track
from residents.models import Resident


class VitalSign(models.TextChoices):
    SYSTOLIC_BP = "systolic_bp", "Systolic BP"
    DIASTOLIC_BP = "diastolic_bp", "Diastolic BP"
    PULSE = "pulse", "Pulse"
    TEMPERATURE = "temperature", "Temperature"
    RESPIRATIONS = "respirations", "Respirations"
    SPO2 = "spo2", "SpO2"
    BLOOD_GLUCOSE = "blood_glucose", "Blood glucose"
    PAIN = "pain", "Pain"
    WEIGHT = "weight", "Weight"


VITAL_UNITS = {
    VitalSign.SYSTOLIC_BP: "mmHg",
    VitalSign.DIASTOLIC_BP: "mmHg",
    VitalSign.PULSE: "/min",
    VitalSign.TEMPERATURE: "°F",
    VitalSign.RESPIRATIONS: "/min",
    VitalSign.SPO2: "%",
    VitalSign.BLOOD_GLUCOSE: "mg/dL",
    VitalSign.PAIN: "/10",
    VitalSign.WEIGHT: "lb",
}

# The signs a hold parameter may name, and so the ones the med pass asks for: taken at the cart
# just before a dose. Pain and weight are the flowsheet's (a weight is not taken at the cart).
HOLD_VITALS = (
    VitalSign.SYSTOLIC_BP,
    VitalSign.DIASTOLIC_BP,
    VitalSign.PULSE,
    VitalSign.TEMPERATURE,
    VitalSign.RESPIRATIONS,
    VitalSign.SPO2,
    VitalSign.BLOOD_GLUCOSE,
)
HOLD_VITAL_CHOICES = [(sign.value, sign.label) for sign in HOLD_VITALS]


class ReadingSource(models.TextChoices):
    """Why the reading was taken: the page or the work it was entered from."""

    MED_PASS = "med_pass", "Med pass"
    EVALUATION = "evaluation", "Nurse evaluation"
    MONITORING = "monitoring", "Monitoring"
    FLOWSHEET = "flowsheet", "Flowsheet"


@track()
class VitalReading(models.Model):
    """A vital sign taken on a resident, at the med pass or on its own. Append-only: a wrong
    reading stays, and the one taken again follows it."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="vitals")
    kind = models.CharField(max_length=16, choices=VitalSign.choices)
    value = models.DecimalField(max_digits=6, decimal_places=1)
    taken_at = models.DateTimeField()
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=16, choices=ReadingSource.choices)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [
            models.Index(
                fields=["resident", "kind", "taken_at"], name="vital_reading_resident_idx"
            ),
            # The flowsheet's period of every sign, and its table newest first, a page at a time.
            models.Index(fields=["resident", "taken_at"], name="vital_reading_time_idx"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="vital_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    @property
    def unit(self) -> str:
        return VITAL_UNITS[self.kind]


# What a reading may be at all (a typing slip is refused, not recorded): the widest values a
# living resident's reading can take with the units above.
PLAUSIBLE = {
    VitalSign.SYSTOLIC_BP: (Decimal("40"), Decimal("300")),
    VitalSign.DIASTOLIC_BP: (Decimal("20"), Decimal("200")),
    VitalSign.PULSE: (Decimal("20"), Decimal("250")),
    VitalSign.TEMPERATURE: (Decimal("85"), Decimal("110")),
    VitalSign.RESPIRATIONS: (Decimal("4"), Decimal("60")),
    VitalSign.SPO2: (Decimal("50"), Decimal("100")),
    VitalSign.BLOOD_GLUCOSE: (Decimal("10"), Decimal("900")),
    VitalSign.PAIN: (Decimal("0"), Decimal("10")),
    VitalSign.WEIGHT: (Decimal("50"), Decimal("700")),
}

# The range a facility starts with (its administrator changes it). Weight has none: a weight is
# judged by its loss over time (rules.weight_loss), not by a band.
DEFAULT_RANGES = {
    VitalSign.SYSTOLIC_BP: (Decimal("90"), Decimal("160")),
    VitalSign.DIASTOLIC_BP: (Decimal("50"), Decimal("100")),
    VitalSign.PULSE: (Decimal("50"), Decimal("110")),
    VitalSign.TEMPERATURE: (Decimal("96.0"), Decimal("100.3")),
    VitalSign.RESPIRATIONS: (Decimal("12"), Decimal("24")),
    VitalSign.SPO2: (Decimal("92"), Decimal("100")),
    VitalSign.BLOOD_GLUCOSE: (Decimal("70"), Decimal("200")),
    VitalSign.PAIN: (Decimal("0"), Decimal("4")),
    VitalSign.WEIGHT: (None, None),
}


class RangeBounds(models.Model):
    """A normal range: a reading below `low` or above `high` is an exception; a bound left
    empty is not checked."""

    kind = models.CharField(max_length=16, choices=VitalSign.choices)
    low = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    high = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)

    class Meta:
        abstract = True

    def contains(self, value: Decimal) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@track()
class VitalRange(RangeBounds):
    """A facility's normal range for one vital sign (its administrator edits it)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="vital_ranges")

    class Meta:
        ordering = ["facility", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "kind"], name="vital_range_unique"),
            models.CheckConstraint(
                condition=models.Q(low__isnull=True)
                | models.Q(high__isnull=True)
                | models.Q(low__lte=models.F("high")),
                name="vital_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} range"


@track()
class ResidentVitalRange(RangeBounds):
    """A resident's own range for one sign, set by a nurse (a resident whose usual SpO2 is 90):
    it replaces the facility's range for that resident."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="vital_ranges")
    note = models.CharField(max_length=300)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["resident", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["resident", "kind"], name="resident_range_unique"),
            models.CheckConstraint(
                condition=models.Q(low__isnull=True)
                | models.Q(high__isnull=True)
                | models.Q(low__lte=models.F("high")),
                name="resident_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} range of {self.resident}"


@track()
class VitalException(models.Model):
    """A reading outside the range that applied when it was taken (the bounds are kept as they
    were). Open until a nurse acknowledges it."""

    reading = models.OneToOneField(VitalReading, on_delete=models.PROTECT, related_name="exception")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="vital_exceptions"
    )
    low = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    high = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    # Whose range it was: the resident's own or the facility's.
    resident_range = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["facility", "-created_at"], name="vital_exception_facility_idx"),
            models.Index(fields=["resident", "-created_at"], name="vital_exception_resident_idx"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="vital_exception_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"Out of range: {self.reading}"


@track()
class ExceptionAcknowledgement(models.Model):
    """A nurse's acknowledgement of an exception, with what was done. Append-only: once made it
    is never edited (one per exception, the database's unique key decides a race)."""

    exception = models.OneToOneField(
        VitalException, on_delete=models.PROTECT, related_name="acknowledgement"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=300)

    class Meta:
        triggers = [
            pgtrigger.Protect(
                name="vital_ack_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"Acknowledged: {self.exception}"

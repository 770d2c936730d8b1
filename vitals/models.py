"""The vital signs a resident is measured for, and every reading taken of them."""

import pgtrigger
from django.conf import settings
from django.db import models

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
            models.Index(fields=["resident", "kind", "taken_at"], name="vital_reading_resident_idx")
        ]
        triggers = [
            pgtrigger.Protect(
                name="vital_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

"""Residents, their allergies, and where they are (present, on leave, in hospital, discharged)."""

import secrets
from datetime import date

from django.conf import settings
from django.db import models

from accounts.models import Facility, Unit
from core.audit import track


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    LOA = "loa", "Leave of absence"
    HOSPITAL = "hospital", "In hospital"
    DISCHARGED = "discharged", "Discharged"


# "Mary Smith is now …"
STATUS_WORDS = {
    ResidentStatus.ACTIVE: "active",
    ResidentStatus.LOA: "on leave of absence",
    ResidentStatus.HOSPITAL: "in hospital",
    ResidentStatus.DISCHARGED: "discharged",
}


class CodeStatus(models.TextChoices):
    FULL_CODE = "full_code", "Full code"
    DNR = "dnr", "DNR"
    DNR_CC = "dnr_cc", "DNR — comfort care"
    POLST = "polst", "POLST on file"
    UNKNOWN = "unknown", "Not recorded"


class AllergyStatus(models.TextChoices):
    NOT_RECORDED = "not_recorded", "Allergies not recorded"
    NKDA = "nkda", "No known drug allergies"
    RECORDED = "recorded", "Allergies recorded"


def new_wristband_code() -> str:
    return "R" + secrets.token_hex(5).upper()


def photo_path(instance: "Resident", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"residents/{instance.facility_id}/{secrets.token_hex(8)}.{extension}"


@track()
class Cart(models.Model):
    """A named med cart of a facility; the residents it serves point to it (`Resident.cart`)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="carts")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="cart_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


def display_name(first: str, preferred: str, last: str) -> str:
    """ "Margaret “Peggy” Lee": how a resident is named on every page."""
    quoted = f" “{preferred}”" if preferred else ""
    return f"{first}{quoted} {last}"


@track()
class Resident(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="residents")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="residents")
    room = models.CharField(max_length=20)
    # The med cart that serves the resident (None: no cart named yet).
    cart = models.ForeignKey(
        Cart, on_delete=models.SET_NULL, null=True, blank=True, related_name="residents"
    )
    first_name = models.CharField(max_length=60)
    last_name = models.CharField(max_length=60)
    preferred_name = models.CharField(max_length=60, blank=True)
    date_of_birth = models.DateField()
    photo = models.ImageField(upload_to=photo_path, blank=True)
    code_status = models.CharField(
        max_length=16, choices=CodeStatus.choices, default=CodeStatus.UNKNOWN
    )
    physician_name = models.CharField(max_length=120, blank=True)
    physician_phone = models.CharField(max_length=40, blank=True)
    pharmacy = models.CharField(max_length=120, blank=True)
    admission_date = models.DateField()
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE
    )
    # When the resident last became present (admission or return): doses are never generated
    # for the time before it.
    present_since = models.DateTimeField(null=True, blank=True)
    allergy_status = models.CharField(
        max_length=16, choices=AllergyStatus.choices, default=AllergyStatus.NOT_RECORDED
    )
    # What a wristband's barcode carries; the med pass scanner opens the resident with it.
    wristband_code = models.CharField(max_length=32, unique=True, default=new_wristband_code)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["facility", "status", "last_name"], name="resident_list_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.preferred_name, self.last_name)

    @property
    def is_present(self) -> bool:
        return self.status == ResidentStatus.ACTIVE

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class AllergySeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    UNKNOWN = "unknown", "Unknown"


@track()
class Allergy(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=16, choices=AllergySeverity.choices, default=AllergySeverity.UNKNOWN
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance


@track()
class ResidentStatusChange(models.Model):
    """One move between statuses (admission included): the resident's history of presence."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=ResidentStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ResidentStatus.choices)
    reason = models.CharField(max_length=300)
    effective_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_at", "-id"]
        indexes = [
            models.Index(fields=["resident", "effective_at"], name="status_change_resident_idx"),
        ]

    def __str__(self) -> str:
        before = f"{self.get_from_status_display()} → " if self.from_status else ""
        return f"{self.resident}: {before}{self.get_to_status_display()}"

    @property
    def status_words(self) -> str:
        """Where the resident is now, as a sentence says it: "on leave of absence"."""
        return STATUS_WORDS.get(self.to_status, self.get_to_status_display().lower())


class ShiftName(models.TextChoices):
    """The shifts of `core.shifts.DEFAULT_SHIFTS`."""

    DAY = "day", "Day"
    EVENING = "evening", "Evening"
    NIGHT = "night", "Night"


@track()
class ShiftAssignment(models.Model):
    """A resident given to a med tech for one shift ("my residents"), by a nurse or the med tech.

    One med tech per resident per shift: the database refuses a second.
    """

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    med_tech = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shift_assignments"
    )
    shift_day = models.DateField(help_text="The local day the shift starts on.")
    shift_name = models.CharField(max_length=10, choices=ShiftName.choices)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="shift_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "shift_day", "shift_name"],
                name="shift_assignment_one_med_tech",
            ),
        ]
        indexes = [
            models.Index(
                fields=["facility", "med_tech", "shift_day", "shift_name"],
                name="shift_assignment_mine_idx",
            ),
        ]

    def __str__(self) -> str:
        shift = self.get_shift_name_display().lower()
        return f"{self.resident} → {self.med_tech} ({self.shift_day:%Y-%m-%d} {shift} shift)"

"""Facilities and the people who work in them."""

import zoneinfo
from datetime import date, timedelta
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.audit import track
from core.shifts import DEFAULT_STARTS, ShiftPolicy
from core.time import current_stamp


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. America/New_York).")


# Password hashes and login stamps stay out of the audit trail.
@track(exclude=["password", "last_login", "pin"])
class User(AbstractUser):
    """A person who signs in. Roles live on Membership, per facility."""

    title = models.CharField(
        max_length=40, blank=True, help_text="Shown beside initials on the MAR, e.g. CMA, RN."
    )
    # A personal PIN (hashed like a password) for witnessing and approving on the med cart.
    pin = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def set_pin(self, pin: str) -> None:
        from django.contrib.auth.hashers import make_password

        self.pin = make_password(pin)

    def check_pin(self, pin: str) -> bool:
        from django.contrib.auth.hashers import check_password

        return bool(self.pin) and check_password(pin, self.pin)

    @property
    def initials(self) -> str:
        letters = (self.first_name[:1] + self.last_name[:1]).upper()
        return letters or self.username[:2].upper()


@track()
class Facility(models.Model):
    """A community with its own clock (timezone) and its own clinical policy."""

    name = models.CharField(max_length=120, unique=True)
    timezone = models.CharField(
        "time zone",
        max_length=64,
        default="America/New_York",
        validators=[validate_timezone],
        help_text="Every time staff read is this zone's wall clock.",
    )
    dose_window_minutes = models.PositiveSmallIntegerField(
        "minutes a dose may be given before or after its time",
        default=60,
        help_text="The normal window around the due time, 5 to 240 minutes.",
    )
    time_critical_window_minutes = models.PositiveSmallIntegerField(
        "minutes a time-critical dose may be given before or after its time",
        default=30,
        help_text="No longer than the normal window.",
    )
    missed_after_hours = models.PositiveSmallIntegerField(
        "hours before an overdue dose counts as missed",
        default=4,
        help_text="Counted from the close of the dose's window.",
    )
    missed_dose_review_hours = models.PositiveSmallIntegerField(
        "hours a missed dose stays open on its own",
        default=24,
        validators=[
            MinValueValidator(1, "At least 1 hour."),
            MaxValueValidator(720, "At most 720 hours (30 days)."),
        ],
        help_text=(
            "After this many hours a resident's unreviewed missed doses are gathered into one "
            "alert in the inbox."
        ),
    )
    prn_followup_minutes = models.PositiveSmallIntegerField(
        "minutes before a PRN follow-up is due",
        default=60,
        help_text="After a PRN dose; an alert is raised when it is not documented by then.",
    )
    prn_followup_earliest_minutes = models.PositiveSmallIntegerField(
        "minutes before a PRN follow-up may be documented",
        default=30,
        help_text="Before then its effect cannot be judged.",
    )
    reorder_days = models.PositiveSmallIntegerField(
        "days of supply left when stock is reordered", default=7
    )
    prn_requires_nurse_approval = models.BooleanField(
        "a nurse approves each PRN a med tech gives", default=False
    )
    medtechs_may_give_schedule_ii = models.BooleanField(
        "med techs may give schedule II drugs", default=True
    )
    idle_logout_minutes = models.PositiveSmallIntegerField(
        "minutes of inactivity before a workstation signs out",
        default=15,
        help_text="1 to 480 minutes.",
    )
    offline_max_hours = models.PositiveSmallIntegerField(
        "hours a med cart may record offline",
        default=8,
        db_default=8,  # rows written by code that predates the field (a migration's) get it too
        validators=[
            MinValueValidator(1, "At least 1 hour."),
            MaxValueValidator(24, "At most 24 hours."),
        ],
        help_text="1 to 24 hours. Longer without a connection, the cart stops recording and the "
        "downtime MAR is used.",
    )
    controlled_requires_witness = models.BooleanField(
        "a witness signs every controlled-drug dose",
        default=True,
        help_text="A second staff member witnesses every controlled-drug dose.",
    )
    medtechs_may_give_injections = models.BooleanField(
        "med techs may give injections", default=False
    )
    nurses_may_verify_own_orders = models.BooleanField(
        "nurses may verify orders they entered",
        default=False,
        help_text="Otherwise a second nurse verifies every order.",
    )
    # The three shifts, in local time: each ends where the next starts, the night at the next
    # day's start (core.shifts); in order, so together they cover the day. The database holds
    # the defaults too: a row written by code that predates the columns (an older migration's
    # model) gets the standard shifts.
    day_shift_starts = models.TimeField(
        "day shift starts",
        default=DEFAULT_STARTS[0],
        db_default=DEFAULT_STARTS[0],
        help_text="Local time, e.g. 07:00.",
    )
    evening_shift_starts = models.TimeField(
        "evening shift starts",
        default=DEFAULT_STARTS[1],
        db_default=DEFAULT_STARTS[1],
        help_text="After the day shift starts; the day shift ends then.",
    )
    night_shift_starts = models.TimeField(
        "night shift starts",
        default=DEFAULT_STARTS[2],
        db_default=DEFAULT_STARTS[2],
        help_text="After the evening shift starts, by 23:59; it ends when the next day's starts.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(evening_shift_starts__gt=models.F("day_shift_starts"))
                & models.Q(night_shift_starts__gt=models.F("evening_shift_starts")),
                name="facility_shifts_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(dose_window_minutes__gte=5, dose_window_minutes__lte=240),
                name="facility_dose_window_range",
            ),
            models.CheckConstraint(
                condition=models.Q(time_critical_window_minutes__gte=5)
                & models.Q(time_critical_window_minutes__lte=models.F("dose_window_minutes")),
                name="facility_time_critical_window_range",
            ),
            models.CheckConstraint(
                condition=models.Q(idle_logout_minutes__gte=1, idle_logout_minutes__lte=480),
                name="facility_idle_logout_range",
            ),
            models.CheckConstraint(
                condition=models.Q(offline_max_hours__gte=1, offline_max_hours__lte=24),
                name="facility_offline_max_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    missed_dose_review_hours__gte=1, missed_dose_review_hours__lte=720
                ),
                name="facility_missed_review_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def shift_starts(self) -> tuple:
        return (self.day_shift_starts, self.evening_shift_starts, self.night_shift_starts)

    @property
    def shifts(self) -> ShiftPolicy:
        """The facility's shift policy (its zone and shift start times) for `core.shifts`."""
        return ShiftPolicy(self.tz, self.shift_starts)

    def local_today(self) -> date:
        """Today's date on the facility's own clock (the day a med pass or report means)."""
        from django.utils import timezone

        return timezone.now().astimezone(self.tz).date()


@track()
class Unit(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="units")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="unit_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    MED_TECH = "med_tech", "Med tech"
    CAREGIVER = "caregiver", "Caregiver"  # documents care, never medications
    NURSE = "nurse", "Nurse"
    ADMIN = "admin", "Administrator"


@track()
class Membership(models.Model):
    """A user's role in one facility. A user may belong to several facilities."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["facility__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "facility"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.facility}"


class CertificationKind(models.TextChoices):
    MEDICATION_AIDE = "medication_aide", "Medication aide"
    CPR = "cpr", "CPR"
    FIRST_AID = "first_aid", "First aid"
    NURSE_LICENSE = "nurse_license", "Nurse license"


@track()
class Certification(models.Model):
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="certifications")
    kind = models.CharField(max_length=24, choices=CertificationKind.choices)
    number = models.CharField(max_length=60, blank=True)
    issued = models.DateField()
    expires = models.DateField()

    class Meta:
        ordering = ["expires"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires__gte=models.F("issued")),
                name="certification_expires_after_issued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.user})"

    def is_current(self, on: date) -> bool:
        return self.issued <= on <= self.expires

    def expires_within(self, on: date, days: int) -> bool:
        return on <= self.expires <= on + timedelta(days=days)


class SignoffFailure(models.Model):
    """A wrong password or PIN typed for a second person's sign-off (witness, approving nurse,
    incoming count): who typed it (the signed-in user), from which workstation, naming whom.

    The throttle counts these rows per typist and workstation address (accounts.services
    .staff_authenticate), so a wrong guess can lock only the one who types, never the colleague
    named. Kept in PostgreSQL, not a cache: nothing that records care may depend on Redis. Rows
    are only inserted; they are the trail of who tried which name from where.
    """

    # One key per refusal: the row is written inside the refused transaction and again after its
    # rollback (DomainError.settle); the key makes the second write a no-op when the first stayed.
    key = models.UUIDField(unique=True, editable=False)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    typist = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signoff_failures")
    address = models.GenericIPAddressField(null=True, blank=True)
    named_username = models.CharField(max_length=150)
    purpose = models.CharField(max_length=40, help_text="witness, approving nurse, …")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["typist", "address", "at"], name="signoff_failure_typist_at"),
        ]

    def __str__(self) -> str:
        named = self.named_username
        return f"{self.typist} typed a wrong sign-off for {named!r} at {current_stamp(self.at)}"


class StaffSession(AbstractBaseSession):
    """A browser's sign-in (Django's database session), with the signed-in user and the chosen
    facility beside its data, written with it: the statement that reads the session on every
    request then brings the membership, its user and facility too (`accounts.sessions`).

    Plain numbers, not foreign keys: they repeat what the session's signed data says, which
    decides; a session whose columns disagree with its data is read the slower way."""

    user_id = models.BigIntegerField(null=True)
    facility_id = models.BigIntegerField(null=True)

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore

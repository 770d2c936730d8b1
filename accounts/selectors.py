"""Reads about facilities and staff that pages and reports share."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet

from .models import Certification, Facility, Membership, User


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("facility")
        .order_by("facility__name")
    )


def membership_current(*, user: User, facility_id: int | None) -> Membership | None:
    """The membership for the chosen facility; else the only one; else None (pick first)."""
    if facility_id is not None:
        chosen = membership_list_for_user(user=user).filter(facility_id=facility_id).first()
        if chosen is not None:
            return chosen
    memberships = list(membership_list_for_user(user=user)[:2])
    return memberships[0] if len(memberships) == 1 else None


def staff_list(*, facility: Facility, query: str = "", role: str = "") -> QuerySet[Membership]:
    """The facility's staff with their certifications, for the staff page (constant queries)."""
    memberships = (
        Membership.objects.filter(facility=facility)
        .select_related("user")
        .prefetch_related(
            Prefetch("user__certifications", queryset=Certification.objects.order_by("kind"))
        )
        .order_by("-is_active", "user__last_name", "user__first_name", "user__username")
    )
    if query:
        memberships = memberships.filter(
            Q(user__first_name__icontains=query)
            | Q(user__last_name__icontains=query)
            | Q(user__username__icontains=query)
        )
    if role:
        memberships = memberships.filter(role=role)
    return memberships


def certification_expiring_list(
    *, facility: Facility, today: date, days: int = 30
) -> QuerySet[Certification]:
    """Certifications of the facility's active staff that expired or expire within `days`."""
    return (
        Certification.objects.filter(
            user__memberships__facility=facility,
            user__memberships__is_active=True,
            expires__lte=today + timedelta(days=days),
        )
        .select_related("user")
        .order_by("expires", "user__last_name")
    )


AIDE_NOTICE_DAYS = 30  # a med tech is told this many days before the certification expires


@dataclass(frozen=True)
class AideCertification:
    """A med tech's medication aide certification as of one day."""

    expires: date | None  # the latest expiry of a certification current that day; None: none

    @property
    def current(self) -> bool:
        return self.expires is not None

    def days_left(self, today: date) -> int | None:
        return (self.expires - today).days if self.expires is not None else None

    def expiring_soon(self, today: date) -> bool:
        return self.current and self.days_left(today) < AIDE_NOTICE_DAYS


def medication_aide_certification(*, user: User, today: date) -> AideCertification:
    """One query: the certification that lets the user record medications today, if any."""
    expires = (
        Certification.objects.filter(
            user=user, kind="medication_aide", issued__lte=today, expires__gte=today
        )
        .order_by("-expires")
        .values_list("expires", flat=True)
        .first()
    )
    return AideCertification(expires)


def medication_aide_current(*, user: User, today: date) -> bool:
    return medication_aide_certification(user=user, today=today).current


def membership_role(*, user: User, facility_id: int) -> str | None:
    """The user's role in the facility, or None when not an active member."""
    return (
        Membership.objects.filter(user=user, facility_id=facility_id, is_active=True)
        .values_list("role", flat=True)
        .first()
    )

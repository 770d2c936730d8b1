"""Reads about facilities and staff that pages and reports share."""

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


def medication_aide_current(*, user: User, today: date) -> bool:
    return Certification.objects.filter(
        user=user, kind="medication_aide", issued__lte=today, expires__gte=today
    ).exists()


def membership_role(*, user: User, facility_id: int) -> str | None:
    """The user's role in the facility, or None when not an active member."""
    return (
        Membership.objects.filter(user=user, facility_id=facility_id, is_active=True)
        .values_list("role", flat=True)
        .first()
    )

"""Reads about residents shared by pages and reports."""

from django.db.models import Count, Q, QuerySet

from accounts.models import Facility, User

from .models import Resident, ResidentStatus


def resident_list(
    *, facility: Facility, query: str = "", unit_id: int | None = None, status: str = ""
) -> QuerySet[Resident]:
    """Residents of the facility for the list page: searched by name or room, filtered."""
    residents = Resident.objects.filter(facility=facility).select_related("unit")
    if query:
        for word in query.split():
            residents = residents.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(preferred_name__icontains=word)
                | Q(room__iexact=word)
            )
    if unit_id:
        residents = residents.filter(unit_id=unit_id)
    if status:
        residents = residents.filter(status=status)
    return residents.order_by("last_name", "first_name", "pk")


def resident_profile(*, facility: Facility, pk: int) -> Resident:
    """One resident with everything the profile shows, in a fixed number of queries."""
    return (
        Resident.objects.filter(facility=facility)
        .select_related("unit", "facility")
        .prefetch_related("allergies", "status_changes__changed_by")
        .get(pk=pk)
    )


def resident_audit_trail(*, resident: Resident) -> list[dict]:
    """Every recorded change of the resident and of the rows that point at them, newest first.

    Each entry: when, who (a User or None for system work), what (model and label), the changes
    (field -> [before, after]) and the URL it came from.
    """
    from pghistory.models import Events

    events = list(Events.objects.references(resident).order_by("-pgh_created_at", "-pgh_id"))
    user_ids = {
        (event.pgh_context or {}).get("user")
        for event in events
        if (event.pgh_context or {}).get("user") is not None
    }
    users = User.objects.in_bulk(user_ids)
    trail = []
    for event in events:
        context = event.pgh_context or {}
        model_name = event.pgh_model.split(".")[-1].removesuffix("Event")
        trail.append(
            {
                "at": event.pgh_created_at,
                "user": users.get(context.get("user")),
                "url": context.get("url", ""),
                "model": model_name,
                "label": event.pgh_label,
                "diff": event.pgh_diff or {},
                "data": event.pgh_data,
            }
        )
    return trail


def resident_status_counts(*, facility) -> dict[str, int]:
    """How many residents are present, on leave and in hospital (one query)."""
    counts = dict(
        Resident.objects.filter(
            facility=facility,
            status__in=(ResidentStatus.ACTIVE, ResidentStatus.LOA, ResidentStatus.HOSPITAL),
        )
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {
        str(status): counts.get(status, 0)
        for status in (ResidentStatus.ACTIVE, ResidentStatus.LOA, ResidentStatus.HOSPITAL)
    }

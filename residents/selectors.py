"""Reads about residents shared by pages and reports."""

from django.db.models import Count, Q, QuerySet

from accounts.models import Facility

from .models import Resident, ResidentStatus


def resident_name_matches(word: str, prefix: str = "") -> Q:
    """A resident (through `prefix`, e.g. "resident__") whose names hold `word`."""
    return (
        Q(**{f"{prefix}first_name__icontains": word})
        | Q(**{f"{prefix}last_name__icontains": word})
        | Q(**{f"{prefix}preferred_name__icontains": word})
    )


def resident_list(
    *, facility: Facility, query: str = "", unit_id: int | None = None, status: str = ""
) -> QuerySet[Resident]:
    """Residents of the facility for the list page: searched by name or room, filtered."""
    residents = Resident.objects.filter(facility=facility).select_related("unit")
    if query:
        for word in query.split():
            residents = residents.filter(resident_name_matches(word) | Q(room__iexact=word))
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


def resident_audit_events(*, resident: Resident):
    """Every recorded change of the resident and of the rows that point at them (a queryset of
    pghistory events; `core.audit` filters, orders and reads them)."""
    from pghistory.models import Events

    return Events.objects.references(resident)


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

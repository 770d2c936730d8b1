"""Reads about orders that pages and reports share."""

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import Facility
from residents.models import Resident

from .models import HoldParameter, Medication, OrderStatus, Prescription


def _with_details(orders: QuerySet[Prescription]) -> QuerySet[Prescription]:
    return orders.select_related(
        "medication", "resident", "entered_by", "verified_by", "replaces"
    ).prefetch_related(Prefetch("hold_parameters", queryset=HoldParameter.objects.all()))


def order_list_for_resident(*, resident: Resident) -> dict[str, list[Prescription]]:
    """The resident's orders grouped for the orders page: active, pending, on hold, stopped."""
    groups: dict[str, list[Prescription]] = {status: [] for status in OrderStatus.values}
    for order in _with_details(Prescription.objects.filter(resident=resident)).order_by(
        "medication__name", "-pk"
    ):
        groups[order.status].append(order)
    return groups


def order_verification_queue(*, facility: Facility) -> QuerySet[Prescription]:
    return _with_details(
        Prescription.objects.filter(facility=facility, status=OrderStatus.PENDING)
    ).order_by("entered_at")


def order_detail(*, facility: Facility, pk: int) -> Prescription:
    return (
        _with_details(Prescription.objects.filter(facility=facility))
        .prefetch_related("status_changes__changed_by")
        .select_related("resident__unit")
        .get(pk=pk)
    )


def medication_list(*, query: str = "") -> QuerySet[Medication]:
    """The shared catalog for its list page, each entry with the number of orders that are not
    discontinued (`active_orders`, every facility's) and of all its orders (`all_orders`), in one
    query."""
    medications = Medication.objects.annotate(
        active_orders=Count("orders", filter=~Q(orders__status=OrderStatus.DISCONTINUED)),
        all_orders=Count("orders"),
    ).order_by("name", "strength", "form", "pk")
    if query:
        medications = medications.filter(
            Q(name__icontains=query) | Q(generic_name__icontains=query)
        )
    return medications

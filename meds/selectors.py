"""Reads about orders that pages and reports share."""

import datetime
from dataclasses import dataclass

from django.db.models import CharField, Count, F, Func, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Concat, LPad

from accounts.models import Facility
from core.schedule import occurrences
from core.time import local_stamp
from residents.models import Allergy, Resident

from .models import HoldParameter, Medication, OrderStatus, Prescription


def _with_details(orders: QuerySet[Prescription]) -> QuerySet[Prescription]:
    return orders.select_related(
        "medication", "resident", "entered_by", "verified_by", "replaces__medication"
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


def orders_waiting_count(*, facility: Facility) -> int:
    return Prescription.objects.filter(facility=facility, status=OrderStatus.PENDING).count()


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


@dataclass(frozen=True)
class OrderReview:
    """What a nurse reads before verifying an order: the order in full, the resident's
    allergies, and the first doses it will produce (local times)."""

    order: Prescription
    facts: list[tuple[str, str]]
    allergies: list[str]
    allergy_status: str  # "Allergies recorded", "No known drug allergies", "Allergies not recorded"
    allergy_override: str  # the reason recorded when the order was entered despite an allergy
    next_doses: list[datetime.datetime]
    warnings: list[str]  # high-alert, time-critical, controlled


NEXT_DOSES = 5
# Far enough for a weekly or monthly schedule to show its next doses.
LOOK_AHEAD = datetime.timedelta(days=62)


def order_review(*, facility: Facility, pk: int, now: datetime.datetime) -> OrderReview:
    """The verify step's page (raises Prescription.DoesNotExist outside the facility)."""
    order = (
        _with_details(Prescription.objects.filter(facility=facility))
        .select_related("resident__unit", "replaces__medication")
        .prefetch_related(Prefetch("resident__allergies", queryset=Allergy.objects.all()))
        .get(pk=pk)
    )
    tz = facility.tz
    medication = order.medication
    facts = [
        ("Medication", str(medication)),
        ("Dose and route", order.dose_text),
        ("Schedule", order.schedule_text),
    ]
    if order.is_prn:
        facts.append(("Given for", order.indication or "Not stated"))
    elif order.indication:
        facts.append(("Indication", order.indication))
    if order.instructions:
        facts.append(("Instructions", order.instructions))
    holds = [str(hold) for hold in order.hold_parameters.all()]
    facts.append(("Hold parameters", "; ".join(holds) if holds else "No hold parameters"))
    if not order.is_prn:
        facts.append(
            ("Time window", f"{order.window_minutes} minutes before and after each dose time")
        )
    if order.min_dose_spacing_minutes:
        facts.append(("Minimum spacing", f"{order.min_dose_spacing_minutes} minutes"))
    facts += [
        ("Starts", order.start_date.strftime("%Y-%m-%d")),
        ("Stops", order.stop_date.strftime("%Y-%m-%d") if order.stop_date else "No stop date"),
        ("Prescriber", order.prescriber),
        ("Entered", f"by {order.entered_by} at {local_stamp(order.entered_at, tz)}"),
    ]
    if order.replaces is not None:
        facts.append(
            (
                "Replaces",
                f"the {order.replaces.medication} order ({order.replaces.dose_text}, "
                f"{order.replaces.schedule_text}), {order.replaces.get_status_display().lower()}",
            )
        )
    warnings = []
    if medication.high_alert:
        warnings.append(f"High-alert medication: {medication.get_high_alert_display().lower()}.")
    if medication.is_time_critical:
        warnings.append("Time-critical medication: give within its shorter window.")
    if medication.is_controlled:
        warnings.append(f"Controlled substance, {medication.get_controlled_schedule_display()}.")
    resident = order.resident
    allergies = []
    for allergy in resident.allergies.all():
        words = allergy.substance
        if allergy.reaction:
            words += f" ({allergy.reaction}"
            if allergy.severity != "unknown":
                words += f", {allergy.get_severity_display().lower()}"
            words += ")"
        allergies.append(words)
    schedule = order.dose_schedule()
    next_doses = (
        [] if schedule is None else occurrences(schedule, tz, now, now + LOOK_AHEAD)[:NEXT_DOSES]
    )
    return OrderReview(
        order=order,
        facts=facts,
        allergies=allergies,
        allergy_status=resident.get_allergy_status_display(),
        allergy_override=order.allergy_override_reason,
        next_doses=next_doses,
        warnings=warnings,
    )


def _ndc_part(position: int, width: int) -> LPad:
    segment = Func(
        F("ndc"), Value("-"), Value(position), function="split_part", output_field=CharField()
    )
    return LPad(segment, width, Value("0"))


def medication_for_ndc(ndc: str) -> Medication | None:
    """The catalog entry whose NDC is `ndc` (11 digits, the canonical 5-4-2; anything but digits
    is ignored), or None. The catalog stores NDCs dashed as printed (4-4-2, 5-3-2, 5-4-1 or
    5-4-2); they compare as their 11 digits, computed in SQL."""
    digits = "".join(ch for ch in (ndc or "") if ch.isascii() and ch.isdigit())
    if len(digits) != 11:
        return None
    return (
        Medication.objects.exclude(ndc="")
        .annotate(ndc11=Concat(_ndc_part(1, 5), _ndc_part(2, 4), _ndc_part(3, 2)))
        .filter(ndc11=digits)
        .order_by("pk")
        .first()
    )

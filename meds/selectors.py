"""Reads about orders that pages and reports share."""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Case, Count, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Upper

from accounts.models import Facility
from core.schedule import occurrences
from core.time import local_stamp
from residents.models import Allergy, Resident

from .barcodes import ndc_11, ndc_readings
from .models import HoldParameter, Medication, MedicationPackage, OrderStatus, Prescription


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


# --- Finding a catalog entry ------------------------------------------------------------------

_DASHED_NDC = re.compile(r"(\d{4,5})[\s-]+(\d{3,4})[\s-]+(\d{1,2})")
# The printed shapes of a 10-digit NDC, and the 11-digit one (5-4-2).
_NDC_SHAPES = {(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)}


def ndc_candidates(text: str) -> tuple[str, ...]:
    """The 11-digit NDCs a typed NDC can stand for: one for a dashed NDC (4-4-2, 5-3-2, 5-4-1,
    5-4-2) or 11 bare digits; up to three for 10 bare digits (see meds.barcodes); none for
    anything else."""
    text = text.strip()
    match = _DASHED_NDC.fullmatch(text)
    if match:
        segments = match.groups()
        if tuple(len(s) for s in segments) not in _NDC_SHAPES:
            return ()
        return (ndc_11("-".join(segments)),)
    if text.isascii() and text.isdigit():
        if len(text) == 11:
            return (text,)
        if len(text) == 10:
            return ndc_readings(text)
    return ()


def _printed_forms(eleven: str) -> list[str]:
    """Every dashed NDC whose 11-digit form is `eleven`: the 5-4-2 form, and each 10-digit
    form whose padding zero it carries."""
    labeler, product, package = eleven[:5], eleven[5:9], eleven[9:]
    forms = [f"{labeler}-{product}-{package}"]
    if labeler[0] == "0":
        forms.append(f"{labeler[1:]}-{product}-{package}")
    if product[0] == "0":
        forms.append(f"{labeler}-{product[1:]}-{package}")
    if package[0] == "0":
        forms.append(f"{labeler}-{product}-{package[1:]}")
    return forms


def medication_for_ndc(ndc: str) -> Medication | None:
    """The catalog entry an NDC names, typed in any printed form (4-4-2, 5-3-2, 5-4-1 with
    dashes, 5-4-2 or 11 bare digits, 10 bare digits): by one of its packages' NDCs, or else by
    the entry's own NDC (entries made by hand and the demo's have only that). None when no
    entry has it, or when 10 bare digits could name two different entries."""
    candidates = ndc_candidates(ndc)
    if not candidates:
        return None
    found = {
        package.medication
        for package in MedicationPackage.objects.filter(ndc11__in=candidates).select_related(
            "medication"
        )
    }
    if not found:
        printed = [form for eleven in candidates for form in _printed_forms(eleven)]
        found = set(Medication.objects.filter(ndc__in=printed)[:2])
    return found.pop() if len(found) == 1 else None


SEARCH_RESULTS = 20
_NUMBER_UNIT = re.compile(r"(\d+(?:\.\d+)?)([a-z%]+)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_UNIT_APART = re.compile(r"(\d)\s+(mg|mcg|g|ml|units?|%)(?=\s|/|$)", re.IGNORECASE)


def _word_matches(word: str) -> Q:
    """What one word of a search must match. Every condition starts from the `search` column
    (names and strength, upper case, trigram-indexed), so each word is an index scan; a number
    must then stand as a number in the strength ("5" finds "5 mg", not "25 mg") or appear in a
    name. A word of digits (and dashes) is the start of an NDC instead."""
    digits = word.replace("-", "")
    if digits.isascii() and digits.isdigit() and len(digits) >= 4:
        return _ndc_matches(word)
    text = Q(search__contains=word.upper())
    number_unit = _NUMBER_UNIT.fullmatch(word)
    if number_unit:
        number, unit = number_unit.groups()
        return Q(search__contains=number) & (
            Q(strength__iregex=rf"(^|[^0-9.]){re.escape(number)}\s*{re.escape(unit)}") | text
        )
    if _NUMBER.fullmatch(word):
        return text & (
            Q(strength__iregex=rf"(^|[^0-9.]){re.escape(word)}($|[^0-9.])")
            | Q(name__contains=word)
            | Q(generic_name__contains=word)
        )
    return text


def _ndc_matches(word: str) -> Q:
    """Entries whose own NDC or product NDC starts as typed, or one of whose packages' 11
    digits start with what the typed NDC (or its start) stands for."""
    condition = Q(ndc__startswith=word) | Q(product_ndc__startswith=word)
    prefix = _ndc_prefix(word)
    if prefix:
        # Read first (a prefix index scan), so the catalog is then read by primary key.
        ids = list(
            MedicationPackage.objects.filter(ndc11__startswith=prefix)
            .values_list("medication_id", flat=True)
            .distinct()[:500]
        )
        condition |= Q(pk__in=ids)
    return condition


def _ndc_prefix(word: str) -> str:
    """The first digits of the 11-digit NDCs a typed NDC (or its start) can be: "0093-1048"
    (labeler-product) reads as 00093 1048; bare digits are taken as the 11 digits' start."""
    whole = ndc_candidates(word)
    if len(whole) == 1:
        return whole[0]
    segments = word.split("-")
    if len(segments) == 1:
        return word if len(word) >= 5 else ""
    if len(segments) == 2 and all(segments):
        labeler, product = segments
        if (len(labeler), len(product)) in {(4, 4), (5, 3), (5, 4)}:
            return labeler.zfill(5) + product.zfill(4)
    return ""


def medication_search(*, query: str, limit: int = SEARCH_RESULTS) -> list[Medication]:
    """Catalog entries matching every word of `query` (part of a name, a strength such as
    "10 mg" or "10mg", or an NDC in any printed form, whole or its first digits), those whose
    name starts with the first word first; at most `limit`, in one query. A whole NDC that
    names one entry (medication_for_ndc) finds it alone."""
    query = query.replace("\x00", "")  # PostgreSQL text cannot hold it; no name has it
    # "10 mg" is one strength, as "10mg" is.
    words = _UNIT_APART.sub(r"\1\2", query).split()[:6]
    if not words or len(query.strip()) < 2:
        return []
    if len(words) == 1 and ndc_candidates(words[0]):
        found = medication_for_ndc(words[0])
        if found is not None:
            return [found]
    condition = Q()
    for word in words:
        condition &= _word_matches(word)
    return list(
        Medication.objects.filter(condition)
        .annotate(
            starts=Case(
                When(name__istartswith=words[0], then=Value(0)),
                default=Value(1),
            )
        )
        .order_by("starts", Upper("name"), "strength", "form", "pk")[:limit]
    )


def medication_choices(*, query: str, chosen_id: int | None) -> dict:
    """The order form's medication search: what was typed, the entries it finds, and the one
    already chosen, kept first even when the words no longer find it (two queries at most)."""
    found = medication_search(query=query)
    results = found
    if chosen_id is not None and all(m.pk != chosen_id for m in found):
        chosen = Medication.objects.filter(pk=chosen_id).first()
        if chosen is None:
            chosen_id = None
        else:
            results = [chosen, *found]
    return {
        "query": query,
        "results": results,
        "found": len(found),
        "chosen_id": chosen_id,
        "limit": SEARCH_RESULTS,
    }
